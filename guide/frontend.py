"""What the front ends share (the subcommands, plain mode, the app and its classroom server): the bank
they were given, the exit statuses and the format an output file's name says. (Writing their output is
`files.write_output`.)

It sits below all of them, so that none has to import another (or the CLI that starts it) to reach these.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Iterable

from guide.source import shown_name, unprintable_in

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl+C
# What a front end says after the prompt of a question that takes several choices.
SEVERAL_CHOICES = "Select all that apply."


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


SUFFIX_OF_FORMAT = {"md": ".md", "json": ".json", "html": ".html", "text": ".txt", "mermaid": ".mmd", "dot": ".dot"}
# Names that say no format: the format is the one chosen (--format, the export's radio buttons).
SAYS_NO_FORMAT = ("", ".txt")


def named_format(path: Path) -> str | None:
    """The format `path`'s name says, or None when its suffix says none."""
    return FORMAT_OF_SUFFIX.get(path.suffix.lower())


# Why an output's name with a line break or an escape sequence is refused, as design names refuse them.
NOT_PRINTABLE = "the name holds a character that is not printable: give a name without control characters"


# A name such as x.md. is a typo: written as named, the file says no format and opens with nothing.
ENDS_IN_A_DOT = "the name ends in a dot, which says no format: drop the dot"


# The longest file name Linux's file systems take, in bytes of UTF-8 (NAME_MAX); a browser's download name too.
NAME_MAX_BYTES = 255
# What `fitting_format` refuses besides a suffix of no format or of another, in words for the commands' help.
REFUSED_NAMES = f"a name ending in / or in a dot, over {NAME_MAX_BYTES} bytes, or with a control character"
# A longer name is said by its start and end (its suffix), not whole: 300 characters filled a dialog.
SHOWN_NAME_MAX = 60


def fitting_format(typed: str, formats: Iterable[str], writer: str, *, suffix_required: bool = False) -> str | None:
    """The format the name `typed` says (None when it says none), checked against the `formats` that `writer`
    writes; a ValueError saying why the name does not fit: it names a folder (ends in /, which Path() would drop,
    so that `newdir/` became a file named newdir), it says another format (a file named .html holding Markdown
    opens as garbage), a suffix of no format (x.pdf), or, with `suffix_required`, none; it holds a control
    character (a line break, an escape sequence); it ends in a dot (`ENDS_IN_A_DOT`); or it is longer than a file
    system takes (the write failed with "File name too long", and a browser shortens a download's name its own way)."""
    if typed.endswith(("/", os.sep)):
        raise ValueError("ends in /: give a file name")
    if unprintable_in(typed):
        raise ValueError(NOT_PRINTABLE)
    path = Path(typed)
    if path.name.endswith(".") and path.name not in (".", ".."):  # "." and ".." name folders, refused elsewhere
        raise ValueError(ENDS_IN_A_DOT)
    size = len(os.fsencode(path.name))
    if size > NAME_MAX_BYTES:
        raise ValueError(f"the name is too long ({size} bytes; a file name takes at most {NAME_MAX_BYTES}): "
                         "give a shorter one")
    formats = tuple(formats)
    named = named_format(path)
    if named is not None and named not in formats:
        raise ValueError(f"the name says {FORMAT_NAMES[named]}, but {writer} writes {format_names(formats)}")
    suffix = path.suffix.lower()
    if named is None and (suffix_required or suffix not in SAYS_NO_FORMAT):
        not_this = f", not {suffix}" if suffix else ""
        raise ValueError(f"{writer} writes {format_names(formats)}: end the name in "
                         f"{or_list([SUFFIX_OF_FORMAT[format] for format in formats])}{not_this}")
    return named


def typed_name(typed: str) -> str:
    """The last part of a path as typed, for a message about its name: a trailing / kept (`newdir/`), and a
    character that is not printable as its escape; a long one by its start and end."""
    name = shown_name(Path(typed).name + ("/" if typed.endswith(("/", os.sep)) else ""))
    return name if len(name) <= SHOWN_NAME_MAX else f"{name[:SHOWN_NAME_MAX - 21]}…{name[-20:]}"


def format_names(formats: Iterable[str]) -> str:
    """Formats in words: "Markdown, HTML or JSON"."""
    return or_list([FORMAT_NAMES[format] for format in formats])


def or_list(words: list[str]) -> str:
    *others, last = words
    return f"{', '.join(others)} or {last}" if others else last


PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
# What a paste may carry: text, tabs and line breaks. Another control character (an escape above all) inside a
# paste is taken out, as terminals such as xterm do: Textual's reader, meeting an escape in a paste, took the
# rest of it as keys, so its line break was an Enter that answered and the text before the escape was lost.
# Both the app's terminal reader and the classroom server (for a browser's keys) filter with this.
PASTE_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class PasteFilter:
    """One tab's keyboard input with the control characters inside a bracketed paste taken out. A paste may be
    split over several messages: what could begin its end marker waits for the next message, to be recognized."""

    def __init__(self) -> None:
        self.pasting, self.held = False, ""

    def feed(self, data: str) -> str:
        data, self.held = self.held + data, ""
        passed = []
        while data:
            if not self.pasting:
                start = data.find(PASTE_START)
                if start < 0:
                    passed.append(data)
                    break
                passed.append(data[:start + len(PASTE_START)])
                data, self.pasting = data[start + len(PASTE_START):], True
                continue
            end = data.find(PASTE_END)
            if end < 0:
                keep = next((size for size in range(len(PASTE_END) - 1, 0, -1) if data.endswith(PASTE_END[:size])), 0)
                data, self.held = data[:len(data) - keep], data[len(data) - keep:]
                passed.append(PASTE_CONTROLS.sub("", data))
                break
            passed += [PASTE_CONTROLS.sub("", data[:end]), PASTE_END]
            data, self.pasting = data[end + len(PASTE_END):], False
        return "".join(passed)
