"""`guide compare FILE --case NAME | --precedent ID`: a student's design against a preset's reference or a
published system's setting, explained."""

from __future__ import annotations

import argparse
import difflib

from guide.commands import ANSWERS_HELP, input_path
from guide.source import GuideError


def register(subparsers, common) -> None:
    from guide.commands.diff import add_report_output_options

    parser = subparsers.add_parser(
        "compare", parents=[common], help="explain how your answers differ from a preset's or a published system's",
        description="Compare an answers file (or design document) with a preset case or a published system's "
                    "setting, for teaching: where the answers differ and why the reference answered as it did (the "
                    "preset's notes, or the paper's basis), which element priorities and method families change "
                    "as a result and why that matters, the case's points for discussion, and for a published "
                    "system what its authors built.",
    )
    parser.add_argument("answers", metavar="FILE", type=input_path, help="your " + ANSWERS_HELP)
    reference = parser.add_mutually_exclusive_group(required=True)
    reference.add_argument("--case", metavar="NAME", help="the preset case to compare with (see `guide cases`)")
    reference.add_argument("--precedent", metavar="ID",
                           help="the published system to compare with (see `guide precedents`)")
    add_report_output_options(parser)
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
    built = None
    if args.precedent is not None:
        precedent = bank.precedents.get(args.precedent)
        if precedent is None:
            close = difflib.get_close_matches(args.precedent, list(bank.precedents), n=3)
            raise GuideError("--precedent", None, None, f"no precedent '{args.precedent}'"
                             + (f" (did you mean {', '.join(close)}?)" if close else " (see guide precedents)"))
        reference = precedent.answers_file().revised(
            notes=precedent.basis, reading=f"{precedent.summary} ({precedent.reference.citation()})")
        name, built = f"the published system '{args.precedent}', its setting as this bank reads the paper", precedent.built
    else:
        reference = read_answers(answers_source(argparse.Namespace(case=args.case, answers=None), bank), bank)
        name = f"the preset case '{args.case}'"
    lesson = teach(bank, name, reference, evaluate(bank, reference), student, evaluate(bank, student), built)
    write_output((lesson_markdown if args.format == "md" else lesson_text)(lesson), args.out)
    return 0
