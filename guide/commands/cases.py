"""`guide cases`: the preset cases of a bank."""

from __future__ import annotations

import argparse


def register(subparsers, common) -> None:
    parser = subparsers.add_parser("cases", parents=[common], help="list the preset cases",
                                   description="List the preset cases of the bank, with their titles.")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from guide.bank import read_answers
    from guide.files import write_output
    from guide.frontend import load_bank_option
    from guide.report.text import plain

    bank = load_bank_option(args)
    cases = bank.cases()
    if not cases:
        print("This bank has no preset cases.")
        return 0
    width = max(map(len, cases))
    titles = {name: " ".join(plain(read_answers(path, bank).title).split()) for name, path in cases.items()}
    write_output("".join(f"{name:<{width}}  {title}\n" for name, title in titles.items()), None)
    return 0
