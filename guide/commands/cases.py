"""`guide cases`: the preset cases of a bank."""

from __future__ import annotations

import argparse


def register(subparsers, common) -> None:
    parser = subparsers.add_parser("cases", parents=[common], help="list the preset cases",
                                   description="List the preset cases of the bank, with their titles.")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from guide.bank import read_answers
    from guide.frontend import load_bank_option
    from guide.report.text import plain

    bank = load_bank_option(args)
    cases = bank.cases()
    if not cases:
        print("This bank has no preset cases.")
        return 0
    width = max(map(len, cases))
    for name, path in cases.items():
        answers = read_answers(path, bank)
        print(f"{name:<{width}}  {' '.join(plain(answers.title).split())}")
    return 0
