"""What the front ends share (the subcommands, plain mode, the app and its classroom server): the bank
they were given, the exit statuses and the format an output file's name says. (Writing their output is
`files.write_output`.)

It sits below all of them, so that none has to import another (or the CLI that starts it) to reach these.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Iterable

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl+C


def load_bank_option(args: argparse.Namespace):
    from guide.bankfiles import BUILTIN_BANK
    from guide.load import load_bank

    return load_bank(args.bank or BUILTIN_BANK)


# What a file's name says it holds, for the commands and the export that write one of several formats. Plain text
# has no suffix of its own (.txt often holds Markdown), so it is never inferred.
FORMAT_OF_SUFFIX = {".md": "md", ".markdown": "md", ".json": "json", ".html": "html", ".htm": "html",
                    ".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot"}
FORMAT_NAMES = {"md": "Markdown", "json": "JSON", "html": "HTML", "text": "plain text", "mermaid": "Mermaid",
                "dot": "Graphviz DOT"}


def named_format(path: Path) -> str | None:
    """The format `path`'s name says, or None when its suffix says none."""
    return FORMAT_OF_SUFFIX.get(path.suffix.lower())


def format_names(formats: Iterable[str]) -> str:
    """Formats in words: "Markdown, HTML or JSON"."""
    *others, last = [FORMAT_NAMES[format] for format in formats]
    return f"{', '.join(others)} or {last}" if others else last
