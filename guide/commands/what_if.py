"""`guide what-if`: what hypothetical answers would change, and how sensitive each element is."""

from __future__ import annotations

import argparse

from guide.commands import ANSWERS_HELP, input_path
from guide.source import GuideError


def register(subparsers, common) -> None:
    from guide.commands.diff import add_report_output_options

    parser = subparsers.add_parser(
        "what-if", parents=[common], help="see what changing answers would change",
        description="Compare a design with the same design under hypothetical answers (--set), or list for "
                    "each element which single answer changes would move its level (--sensitivity).",
        epilog="Examples: guide what-if design.md --set model_role=autonomous; "
               "guide what-if --case dr-screening --set goals=safety,trust_calibration; "
               "guide what-if design.md --sensitivity --format md",
    )
    parser.add_argument("answers", metavar="FILE", type=input_path, nargs="?",
                        help=ANSWERS_HELP)
    parser.add_argument("--case", metavar="NAME", help="a preset case of the bank instead of FILE")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--set", metavar="QUESTION=VALUE", action="append", dest="assignments",
                        help="a hypothetical answer; repeat for several; several choices of a multiple-choice "
                             "question are separated by commas (goals=safety,trust_calibration)")
    action.add_argument("--sensitivity", action="store_true",
                        help="for each element, the single answer changes that would move its level")
    add_report_output_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from guide.bank import read_answers
    from guide.commands.run import answers_source
    from guide.diff import (compare, comparison_markdown, comparison_text, hypothetical, sensitivity,
                            sensitivity_markdown, sensitivity_text)
    from guide.engine import evaluate
    from guide.files import write_output
    from guide.frontend import load_bank_option

    if (args.answers is None) == (args.case is None):
        raise GuideError("what-if", None, None, "give either FILE or --case NAME")
    bank = load_bank_option(args)
    answers = read_answers(answers_source(args, bank), bank)
    result = evaluate(bank, answers)
    if args.sensitivity:
        report = sensitivity(bank, answers, result)
        write_output(sensitivity_markdown(report) if args.format == "md" else sensitivity_text(report), args.out)
        return 0
    changed = evaluate(bank, hypothetical(bank, answers, args.assignments))
    comparison = compare(bank, result, changed)
    render = comparison_markdown if args.format == "md" else comparison_text
    write_output(render(comparison, "As answered", "What if"), args.out)
    return 0
