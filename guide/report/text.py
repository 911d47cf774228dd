"""Making any text safe to place in a Markdown document: inert, one structure, no surprises."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from guide.source import REORDERING

if TYPE_CHECKING:
    from guide.bank import Bank
    from guide.model import ElementResult

# Control characters, and what could show a title reversed to its reviewer.
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{REORDERING}]")
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>|~]|&(?=#?\w+;))")
_BLOCK_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)](\s|$)))")


def plain(text: str) -> str:
    """Text with terminal escape sequences, control characters and bidirectional overrides removed (newlines
    kept)."""
    return _CONTROL.sub("", _ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")))


def inert(text: str | None) -> str:
    """Bank or user text as one line without escape sequences or control characters."""
    return " ".join(plain(text or "").split())


# Characters that show as nothing yet change how a title reads or which way it runs: the direction marks (LRM,
# RLM, the Arabic letter mark), the zero-width space, the word joiner and the byte order mark. ZWJ and ZWNJ stay:
# they spell words in some scripts.
UNSEEN = "\u061c\u200b\u200e\u200f\u2060\ufeff"  # a character class's inside
_UNSEEN_IN_TITLE = re.compile(f"[{UNSEEN}]")


def shorten(text: str, width: int) -> str:
    """`text` in at most `width` characters: where it is longer, cut after a whole word, with an ellipsis."""
    if len(text) <= width:
        return text
    cut = text[: max(0, width - 1)]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


def shown_title(title: str) -> str:
    """A title as every place shows it (the app, plain mode, `guide designs`, the document's heading): one line,
    with escape sequences, control characters, direction overrides, isolates and marks, and zero-width spaces
    dropped, so that two places never show one title two ways."""
    return inert(_UNSEEN_IN_TITLE.sub("", title))


def md(text: str) -> str:
    """One line of inline Markdown that renders as exactly the given characters."""
    flat = _INLINE_SPECIAL.sub(r"\\\1", inert(text))
    # A leading '#', '>', '-', '1.' would start a heading, quote or list even inside a list item.
    match = _BLOCK_START.match(flat)
    if match and match.group(2).isdigit():
        return flat[: match.end()] + "\\" + flat[match.end():]
    return _BLOCK_START.sub(r"\1\\\2", flat, count=1)


def md_block(text: str, prefix: str = "") -> str:
    """Multi-line text as escaped lines, each starting with `prefix` (for example '> ')."""
    lines = [md(line) for line in plain(text).strip().split("\n")]
    return "\n".join(f"{prefix}{line}".rstrip() if line else prefix.rstrip() for line in lines)


def counted(number: int, noun: str) -> str:
    """`1 open question`, `2 open questions`."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


NUMBER_NAMES = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def number_name(number: int) -> str:
    """`five` for 5, as prose writes small counts; digits past twelve."""
    return NUMBER_NAMES[number] if 0 <= number < len(NUMBER_NAMES) else str(number)


def sentence(text: str) -> str:
    """`text` ended with a full stop, unless it already ends a sentence (a typed answer often does)."""
    return text if text.rstrip().endswith((".", "!", "?", "…")) else text + "."


def signed(weight: float) -> str:
    """A weight with its sign and a true minus: `+3`, `−1.5`."""
    return f"{weight:+g}".replace("-", "−")


def level_label(bank: Bank, level_id: str) -> str:
    """A level's label, as the bank gives it ("Essential")."""
    return bank.level(level_id).label


def level_range_labels(bank: Bank, element: ElementResult) -> tuple[str, str]:
    """The labels of the levels one open answer could take the element between, lowest first."""
    low, high = element.level_range
    return level_label(bank, low), level_label(bank, high)


def level_range_text(bank: Bank, element: ElementResult) -> str:
    """The levels one open answer could take the element between, lowest first, in a sentence ("important to
    essential")."""
    low, high = level_range_labels(bank, element)
    return f"{low.lower()} to {high.lower()}"


def rationales_note(bank: str) -> str:
    """What a document says of its rationales, `bank` naming the question bank (id and version) as the format
    shows it."""
    return (f"Every rationale in this document is the tool's reasoning, written in the question bank ({bank}), not "
            "a quotation of the paper. A reviewer may disagree with a rule; the rule's id is given next to each piece "
            "of evidence so it can be found and changed.")
