"""`guide lint`: check a question bank and list every finding, one line each."""

from __future__ import annotations

import argparse
import sys

from guide.commands import input_path


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "lint", parents=[common], help="check a question bank and list every problem",
        description="Check a question bank: every check of the loader and the decision graph, plus unused "
                    "choices, rules that can never fire, method families no path can recommend, routing "
                    "branches that hold at once, thin help text, precedent answers off their walk, and (as advice "
                    "that never fails the check) rules whose condition only one calibration precedent meets. Prints one "
                    "`file:line: id: message` line per finding (`file:line: message` for one about a whole file) on stdout and a one-line summary on stderr, also when "
                    "clean (as `guide schema --check` does). Exit status: 0 clean, 1 findings, 2 the directory "
                    "cannot be read as a bank.",
    )
    parser.add_argument("directory", metavar="DIR", type=input_path, nargs="?", default=None,
                        help="bank directory (default: --bank, else the built-in bank)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from guide.bankfiles import BUILTIN_BANK
    from guide.files import write_output
    from guide.frontend import EXIT_FINDINGS, EXIT_OK
    from guide.lint import lint_bank

    directory = args.directory or args.bank or BUILTIN_BANK
    findings = lint_bank(directory)
    write_output("".join(f"{finding}\n" for finding in findings), None)
    advice = sum(finding.severity == "advice" for finding in findings)
    counted = len(findings) - advice
    unusable = sum(finding.severity == "error" for finding in findings)
    summary = f"{counted} finding{'s' if counted != 1 else ''}" if counted else "no findings"
    if unusable:
        summary += f", {unusable} of which make{'s' if unusable == 1 else ''} the bank unusable"
    if advice:
        summary += f" ({advice} piece{'s' if advice != 1 else ''} of advice, which never fail the check)"
    print(f"{directory}: {summary}", file=sys.stderr)  # one line, as the help says
    if not counted:
        return EXIT_OK
    return EXIT_FINDINGS
