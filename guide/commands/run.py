"""`guide run`: answers in, design document out."""

from __future__ import annotations

import argparse
from pathlib import Path

from guide.commands import ANSWERS_HELP, add_output_options, input_path
from guide.source import GuideError


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "run", parents=[common], help="write the design document for an answers file or a preset case",
        description="Evaluate an answers file (or a preset case) and write the design document.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--answers", metavar="FILE", type=input_path, help=ANSWERS_HELP)
    source.add_argument("--case", metavar="NAME", help="a preset case of the bank (see `guide cases`)")
    add_output_options(parser, _formats(), "md", "document format")
    parser.add_argument("--date", metavar="YYYY-MM-DD", type=calendar_date,
                        help="date to print in the document (default: the answers file's date, else today)")
    parser.set_defaults(handler=run)


def calendar_date(text: str) -> str:
    """A --date value: a calendar day as answers files carry one, so the document it stamps reads back."""
    from guide.model import calendar_day

    try:
        return calendar_day(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _formats() -> tuple[str, ...]:
    from guide.report import FORMATS

    return FORMATS


def answers_source(args: argparse.Namespace, bank) -> Path:
    """The answers file named by --answers or --case."""
    if args.case is None:
        return args.answers
    cases = bank.cases()
    if args.case not in cases:
        known = ", ".join(cases) or "none"
        raise GuideError(bank.directory / "cases", None, "--case", f"no case '{args.case}' (known: {known})")
    return cases[args.case]


def run(args: argparse.Namespace) -> int:
    from guide.bank import read_answers
    from guide.engine import evaluate
    from guide.files import write_output
    from guide.frontend import load_bank_option
    from guide.report import document_date, render

    bank = load_bank_option(args)
    answers = read_answers(answers_source(args, bank), bank)
    result = evaluate(bank, answers)
    write_output(render(args.format, result, bank, answers, document_date(answers, args.date), args.out or "standard output"),
                 args.out, updating=updated_document(args))
    return 0


def updated_document(args: argparse.Namespace) -> Path | None:
    """The design document --answers names when it is written again in its own format (the update `guide
    check` suggests), which --out may then replace: the new document carries everything the old one held."""
    from guide.bank import DOCUMENT_FORMAT_OF_SUFFIX

    if args.answers is not None and DOCUMENT_FORMAT_OF_SUFFIX.get(args.answers.suffix.lower()) == args.format:
        return args.answers
    return None
