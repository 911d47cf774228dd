"""What the front ends share (the subcommands, plain mode, the app and its classroom server): the bank
they were given, output written whole, and exit statuses.

It sits below all of them, so that none has to import another (or the CLI that starts it) to reach these.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from guide.files import write_atomically
from guide.source import GuideError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def load_bank_option(args: argparse.Namespace):
    from guide.bank import BUILTIN_BANK
    from guide.load import load_bank

    return load_bank(args.bank or BUILTIN_BANK)


def write_output(text: str, out: Path | None) -> None:
    """Write to stdout, or atomically to `out` so a failed write never leaves half a document."""
    if out is None:
        sys.stdout.write(text)
        return
    out = Path(out)
    if not out.parent.is_dir():
        raise GuideError(out, None, None, "the folder to write into does not exist")
    try:
        write_atomically(out, text)
    except OSError as error:
        raise GuideError(out, None, None, error.strerror or "cannot be written") from None
