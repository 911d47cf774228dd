"""`guide compare FILE --case NAME`: a student's design against a preset's reference, explained."""

from __future__ import annotations

import argparse
from pathlib import Path

from guide.commands import ANSWERS_HELP


def register(subparsers, common) -> None:
    from guide.commands.diff import add_output_options

    parser = subparsers.add_parser(
        "compare", parents=[common], help="explain how your answers differ from a preset's reference reading",
        description="Compare an answers file (or design document) with a preset case, for teaching: where the "
                    "answers differ and why the reference answered as it did, which element priorities and "
                    "method families change as a result and why that matters, and the case's points for "
                    "discussion.",
    )
    parser.add_argument("answers", metavar="FILE", type=Path, help="your " + ANSWERS_HELP)
    parser.add_argument("--case", metavar="NAME", required=True, help="the preset case to compare with (see `guide cases`)")
    add_output_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from guide.bank import read_answers
    from guide.commands.run import answers_source
    from guide.engine import evaluate
    from guide.files import write_output
    from guide.frontend import load_bank_option
    from guide.teaching import lesson_markdown, lesson_text, teach

    bank = load_bank_option(args)
    student = read_answers(args.answers, bank)
    reference_path = answers_source(argparse.Namespace(case=args.case, answers=None), bank)
    reference = read_answers(reference_path, bank)
    lesson = teach(bank, args.case, reference, evaluate(bank, reference), student, evaluate(bank, student))
    write_output((lesson_markdown if args.format == "md" else lesson_text)(lesson), args.out)
    return 0
