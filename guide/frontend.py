"""What the front ends share (the subcommands, plain mode, the app and its classroom server): the bank
they were given and the exit statuses. (Writing their output is `files.write_output`.)

It sits below all of them, so that none has to import another (or the CLI that starts it) to reach these.
"""

from __future__ import annotations

import argparse

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl+C


def load_bank_option(args: argparse.Namespace):
    from guide.bankfiles import BUILTIN_BANK
    from guide.load import load_bank

    return load_bank(args.bank or BUILTIN_BANK)
