"""`guide diff A B`: how two designs differ, from their answers to their recommendations."""

from __future__ import annotations

import argparse
from guide.commands import ANSWERS_HELP, add_output_options, input_path


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "diff", parents=[common], help="compare two answers files or design documents",
        description="Compare two answers files or Markdown design documents: which answers differ, and how "
                    "the element levels, the method ranking and the recommended combination change as a "
                    "result; notes that differ too. Both are evaluated with the same (current) bank. Exit "
                    "status, as diff's: 0 the same, 1 different, 2 an input that cannot be used.",
    )
    parser.add_argument("before", metavar="A", type=input_path, help=ANSWERS_HELP)
    parser.add_argument("after", metavar="B", type=input_path, help=ANSWERS_HELP)
    add_report_output_options(parser)
    parser.set_defaults(handler=run)


def add_report_output_options(parser: argparse.ArgumentParser, *, json: bool = False) -> None:
    """--format (text for the terminal, Markdown, and JSON where the command offers it) and --out."""
    add_output_options(parser, ("text", "md", "json") if json else ("text", "md"), "text",
                       "plain language for the terminal, Markdown" + (" or JSON" if json else ""))


def run(args: argparse.Namespace) -> int:
    from guide.bank import read_answers
    from guide.diff import compare, comparison_markdown, comparison_text
    from guide.engine import evaluate
    from guide.files import write_output
    from guide.frontend import EXIT_FINDINGS, EXIT_OK, load_bank_option
    from guide.source import shown_name

    bank = load_bank_option(args)
    before = evaluate(bank, read_answers(args.before, bank))
    after = evaluate(bank, read_answers(args.after, bank))
    comparison = compare(bank, before, after)
    names = (shown_name(args.before.name), shown_name(args.after.name))
    render = comparison_markdown if args.format == "md" else comparison_text
    write_output(render(comparison, *names), args.out)
    return EXIT_FINDINGS if comparison.differs else EXIT_OK
