"""Reading YAML files safely, with line numbers for every error.

Bank files, answers files and document front matter all pass through `guide.yamlfile.read_yaml`, so
there is one place that decides what a hostile or malformed file can do: nothing but fail with a
one-line `file:line: field: problem` message. This module holds what needs neither PyYAML nor
pydantic to import (the errors, the documents and their lines), so that the app's start screen,
which reads no YAML, is painted before either is imported; validation imports pydantic when it runs.
"""

from __future__ import annotations

import difflib
import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

MAX_FILE_BYTES = 2 * 1024 * 1024

Model = TypeVar("Model", bound="BaseModel")


class GuideError(Exception):
    """Unusable input: one line naming the file, the line and the field."""

    def __init__(self, file: str | Path, line: int | None, field: str | None, problem: str) -> None:
        self.file, self.line, self.field, self.problem = str(file), line, field, problem
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{shown_name(self.file)}:{self.line}" if self.line else shown_name(self.file)
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {one_line(self.problem)}"


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


# The bidirectional embeddings, overrides and isolates (a character class's inside): they can make text display
# in another order than it reads. Arabic and Hebrew need none of them.
REORDERING = "\u202a-\u202e\u2066-\u2069"
# What would act on a terminal or split a log line instead of showing: C0 and C1 controls, DEL, the
# Unicode line and paragraph separators and the bidirectional overrides.
_UNPRINTABLE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{REORDERING}]")


def _escaped(match: re.Match) -> str:
    return match[0].encode("unicode_escape").decode("ascii")


def unprintable_in(name: str) -> bool:
    """Whether a name holds a character `shown_name` shows as its escape (a control character, a line separator, a
    bidi override); bytes that are not UTF-8 (surrogate escapes) are a name's own and do not count."""
    return _UNPRINTABLE.search(name) is not None


def shown_name(name: str | Path) -> str:
    """A file name (or other text given to the tool) as it can be printed: each byte that is not UTF-8 as
    \\xNN and each character that is not printable as its escape (\\n, \\x1b, \\u202e), so it cannot
    forge a line of a CI log or move the cursor."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return _UNPRINTABLE.sub(_escaped, text)


# Characters a message would show as nothing, or as a plain space, though they make a value differ from the
# one it looks like (a zero-width space inside a choice id, a no-break space after it).
_INVISIBLE = re.compile(f"[\u00a0\u200b-\u200f\u2060-\u2065\ufeff{REORDERING}]")


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace and control characters so a message stays one inert line; invisible characters are
    shown as their escapes."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f]+", " ", str(text)).strip()
    text = _INVISIBLE.sub(_escaped, text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Where each part of a document is, without its nodes (each node with its two marks costs several times
# the data it describes: at 5,000 questions, the nodes kept for line numbers were two thirds of a loaded
# bank). A scalar is its 1-based line; a list is (its line, [its items]); a mapping is (its line,
# {key: what the key holds}), the first of a duplicated key kept. A mapping's value is found at its key's
# line, so what a key holds takes the key's line: a scalar is that line alone.
Lines = int | tuple[int, list] | tuple[int, dict]


@dataclass(frozen=True)
class YamlDocument:
    path: str
    data: Any
    lines: Lines | None

    def line_of(self, loc: tuple[str | int, ...]) -> int:
        """The 1-based line of the deepest part that `loc` reaches."""
        return _reach(self.lines, loc)[1]

    def item_lines(self, loc: tuple[str | int, ...], count: int) -> list[int]:
        """`[line_of((*loc, 0)), ..., line_of((*loc, count - 1))]`, finding `loc` once."""
        lines, line = _reach(self.lines, loc)
        items = lines[1] if isinstance(lines, tuple) and isinstance(lines[1], list) else []
        return [_line(items[index]) if index < len(items) else line for index in range(count)]

    def part(self, key: str) -> YamlDocument:
        """What the top mapping holds under `key`, with its lines (the whole document's where there is no key)."""
        return YamlDocument(self.path, self.data.get(key), _reach(self.lines, (key,))[0])


# Each file read so far, by (device, inode): its name as given and as an absolute path (the folder we are
# in may change). An output must never replace one of them (`read_as`).
_READ: dict[tuple[int, int], tuple[str, str]] = {}


def read_as(info: os.stat_result) -> str | None:
    """The name this process read the file `info` describes by, or None when it read no such file.

    The name is looked up again, so a file that only took over the inode of one read and since replaced
    (a session saved atomically frees its old inode) is not mistaken for it."""
    given, absolute = _READ.get((info.st_dev, info.st_ino), ("", ""))
    try:
        return given if absolute and os.path.samestat(os.stat(absolute), info) else None
    except OSError:
        return None


def read_limited(path: str | Path, expected: str = "a file", *, link_refused: str | None = None) -> bytes:
    """The bytes of a regular file the tool reads, never more than MAX_FILE_BYTES; any failure is a
    GuideError naming `path` (a folder, a FIFO or a device is not `expected`). With `link_refused`, a
    symbolic link is not followed: the error says where it points, then why (`link_refused`).

    Opened without blocking, so a FIFO is refused instead of waiting forever for a writer. A file larger
    than the limit is refused by its size before it is read, or after MAX_FILE_BYTES + 1 bytes when it
    grows meanwhile, so a huge file costs no more than the limit."""
    try:
        no_link = os.O_NOFOLLOW if link_refused else 0  # refused as it is opened: a check before could be raced
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | no_link)
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):  # looked at before open(), which refuses a folder as "Is a directory"
            os.close(descriptor)
            raise GuideError(path, None, None, f"is {_kind_of_file(info)}, not {expected}")
        with open(descriptor, "rb") as stream:
            _READ[info.st_dev, info.st_ino] = (str(path), os.path.abspath(path))
            if info.st_size > MAX_FILE_BYTES:
                raise GuideError(path, None, None, f"file is {info.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        if link_refused and error.errno == errno.ELOOP and os.path.islink(path):
            raise GuideError(path, None, None, f"is a link to {shown_name(os.readlink(path))}; {link_refused}") from None
        raise GuideError(path, None, None, error.strerror or "cannot be read") from None
    if len(raw) > MAX_FILE_BYTES:
        raise GuideError(path, None, None, f"file is over the limit of {MAX_FILE_BYTES:,} bytes")
    return raw


def _kind_of_file(info: os.stat_result) -> str:
    """What a file that is not a regular file is, in a few words."""
    if stat.S_ISDIR(info.st_mode):
        return "a folder"
    if stat.S_ISFIFO(info.st_mode):
        return "a FIFO"
    if stat.S_ISSOCK(info.st_mode):
        return "a socket"
    return "a device"


def decode(path: str | Path, raw: bytes) -> str:
    if b"\x00" in raw:
        raise GuideError(path, None, None, "binary file (contains NUL bytes); expected text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise GuideError(path, line, None, "not UTF-8 text") from None


def kind_of(value: object) -> str:
    """What a parsed YAML or JSON value is, in the words a file's author uses."""
    if value is None:
        return "nothing: it is empty"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "a mapping"


def validate(document: YamlDocument, model: type[Model]) -> Model:
    """Validate a parsed document against a model; the first error names its line and field."""
    model_or_errors = validate_all(document, model)
    if isinstance(model_or_errors, list):
        raise model_or_errors[0]
    return model_or_errors


def validate_all(document: YamlDocument, model: type[Model]) -> Model | list[GuideError]:
    """The validated model, or every problem in the document, each naming its line and field (lint lists
    them all; one broken field should not hide the next)."""
    # Imported here: the app paints its start screen before anything needs pydantic (tens of milliseconds).
    from pydantic import ValidationError

    if not isinstance(document.data, dict):
        return [GuideError(document.path, 1, None, f"expected a mapping of keys to values, found {kind_of(document.data)}")]
    try:
        return model.model_validate(document.data)
    except ValidationError as error:
        return errors_at(document, error)


IDENTIFIER_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
MAPPING_KEY = "[key]"  # the last part of where pydantic found a mapping's key invalid
IDENTIFIER_WORDS = "lowercase letters, digits, - and _ only, starting with a letter or digit"

# What a value of these types looks like in a file; quoted, it is text, and the models take no text for them.
_UNQUOTED = {"int_type": "a whole number", "float_type": "a number", "bool_type": "true or false"}


def errors_at(document: YamlDocument, error: ValidationError) -> list[GuideError]:
    """One GuideError for each problem pydantic found, in its order, each at most once."""
    errors = error.errors(include_url=False)
    found: dict[tuple[int | None, str], GuideError] = {}
    for item in errors:
        # A misspelt key is both missing and unknown; the unknown one is where the typo is, so it speaks for both.
        if item["type"] == "missing" and any(other["type"] == "extra_forbidden" and other["loc"][:-1] == item["loc"][:-1]
                                             for other in errors):
            continue
        # A list where text or a list is taken (an answer): its items tell what is wrong, not "not text".
        if _is_union_member(str(item["loc"][-1])) and isinstance(item["input"], list) and any(
                len(other["loc"]) > len(item["loc"]) and other["loc"][:len(item["loc"]) - 1] == item["loc"][:-1]
                for other in errors):
            continue
        loc = tuple(item["loc"])
        if loc[-1:] == (MAPPING_KEY,):  # a key that is not text: its own line, under the mapping's name
            line, field = document.line_of((*loc[:-2], str(loc[-2]))), describe_loc(document.data, loc[:-2])
        else:
            line, field = document.line_of(loc), describe_loc(document.data, loc)
        problem = GuideError(document.path, line, field, _message(item, errors))
        found.setdefault((problem.line, problem.field or ""), problem)
    return list(found.values())


def first_problem(error: ValidationError) -> tuple[str, str]:
    """The first problem a validation found: where (`answers.use_case_summary`) and what, in the words a file's
    problems are told in."""
    errors = error.errors(include_url=False)
    return describe_loc(None, tuple(errors[0]["loc"])), _message(errors[0], errors)


def _message(item: dict, errors: list[dict]) -> str:
    found = kind_of(item["input"])
    if item["loc"][-1:] == (MAPPING_KEY,):
        return f"a key here is text (an id), and {item['input']!r} is {found}: write it in quotes if it is meant"
    # A container of the wrong kind, told in a file author's words (pydantic's name "dictionary or instance of
    # Review"); where it is one member of a union (a rule's condition), pydantic's words name the members better.
    in_union = bool(item["loc"]) and _is_union_member(str(item["loc"][-1]))
    if item["type"] in ("dict_type", "model_type") and not in_union:
        return f"a mapping of keys to values expected, found {found}"
    if item["type"] == "list_type" and not in_union:
        return f"a list expected, found {found}"
    if item["type"] == "extra_forbidden":
        missing = [str(other["loc"][-1]) for other in errors
                   if other["type"] == "missing" and other["loc"][:-1] == item["loc"][:-1]]
        close = difflib.get_close_matches(str(item["loc"][-1]), missing, n=1)
        return "unknown key (not allowed here)" + (f"; did you mean '{close[0]}'?" if close else "")
    if item["type"] == "missing":
        return "required key is missing"
    if item["type"] == "string_type" and (expected := _expected(item, errors)):
        if not isinstance(item["input"], (bool, int, float)):
            return f"{expected} expected, found {kind_of(item['input'])}"
        # `answers_hash: 000000000000` is the number 0 to YAML, `task: True` true or false.
        read_as = _UNQUOTED["bool_type" if isinstance(item["input"], bool) else "float_type"]
        key = next(part for part in reversed(item["loc"]) if not _is_union_member(str(part)))
        as_written = f", as {key}: '...'" if isinstance(key, str) else ""
        return f"{expected} expected, but YAML reads what is written here as {read_as}: write it in quotes{as_written}"
    if item["type"] in _UNQUOTED and isinstance(item["input"], str):
        written = _as_yaml_number(item["input"])
        if written:  # YAML reads 1e308 (no dot in it) as text, quoted or not
            return f"{_UNQUOTED[item['type']]}, not the text {item['input']!r}: YAML reads it as text; write {written}"
        return f"{_UNQUOTED[item['type']]}, not the text {item['input']!r}: write it without quotes"
    if item["type"] == "string_pattern_mismatch" and item["ctx"]["pattern"] == IDENTIFIER_PATTERN:
        return f"an id takes {IDENTIFIER_WORDS}"
    if item["type"] == "string_unicode":  # bytes that are not UTF-8 (a title given on the command line)
        return "not UTF-8 text"
    if item["type"] == "string_too_long":
        limit = item["ctx"]["max_length"]
        return f"at most {limit:,} characters are taken, and this has {len(item['input']):,}"
    if item["type"] == "string_too_short" and item["ctx"]["min_length"] == 1:
        return "must not be empty"
    if item["type"] == "too_short":  # a list
        least, held = item["ctx"]["min_length"], item["ctx"]["actual_length"]
        needed = "at least 1 item is needed" if least == 1 else f"at least {least} items are needed"
        return f"{needed}, and this holds {held or 'none'}"
    return item["msg"].removeprefix("Value error, ")


def _expected(item: dict, errors: list[dict]) -> str | None:
    """What a string_type error's place takes, in a file author's words: "text", or "text or a list" for a union
    of text and a list of texts (an answer); None for a union with other members (a rule's condition), whose
    members pydantic's words name better."""
    *within, last = item["loc"]
    if not isinstance(last, str) or not _is_union_member(last):
        return "text"
    members = {other["loc"][len(within)] for other in errors
               if len(other["loc"]) > len(within) and tuple(other["loc"][:len(within)]) == tuple(within)}
    if not all(member in ("str", "constrained-str") or member.startswith("list[") for member in members):
        return None
    return "text or a list" if any(member.startswith("list[") for member in members) else "text"


def _is_union_member(part: str) -> bool:
    # Union-member tags pydantic inserts into locations (`constrained-str`, `list[str]`, `AnswerIn`):
    # no field of a model has a capital, a bracket or a dash in its name.
    return part[:1].isupper() or "[" in part or "-" in part or part == "str"


def _as_yaml_number(text: str) -> str | None:
    """A number with an exponent written as YAML reads it as a number (a dot in it, a signed exponent), or None
    when `text` is no such number."""
    match = re.fullmatch(r"\s*([-+]?[0-9]+(?:\.[0-9]*)?)[eE]([-+]?)([0-9]+)\s*", text)
    if not match:
        return None
    mantissa, sign, exponent = match.groups()
    return f"{mantissa if '.' in mantissa else mantissa + '.0'}e{sign or '+'}{exponent}"


def describe_loc(data: Any, loc: tuple[str | int, ...]) -> str:
    """`rules[3] (focal-lesions).effects[0].weight`: the path to a field, with item ids for orientation."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(data, list) and 0 <= part < len(data):
                data = data[part]
                if isinstance(data, dict) and isinstance(data.get("id"), str):
                    label += f" ({one_line(data['id'], 60)})"
            parts.append(label)
        elif isinstance(data, dict) and part in data:
            parts.append(("." if parts else "") + str(part))
            data = data[part]
        elif isinstance(data, dict) and part.rstrip("_") in data:
            parts.append(("." if parts else "") + part.rstrip("_"))
            data = data[part.rstrip("_")]
        elif _is_union_member(part):
            continue
        else:
            parts.append(("." if parts else "") + str(part))
            data = None
    return "".join(parts)


def _line(lines: Lines) -> int:
    return lines if isinstance(lines, int) else lines[0]


def _reach(lines: Lines | None, loc: tuple[str | int, ...]) -> tuple[Lines | None, int]:
    """The deepest part that `loc` reaches and its 1-based line (a mapping value's is its key's)."""
    if lines is None:
        return None, 1
    line = _line(lines)
    for part in loc:
        inside = lines[1] if isinstance(lines, tuple) else None
        if isinstance(inside, list) and isinstance(part, int) and 0 <= part < len(inside):
            lines = inside[part]
            line = _line(lines)
        elif isinstance(inside, dict) and isinstance(part, str):
            held = inside.get(part) or inside.get(part.rstrip("_"))
            if held is not None:
                lines, line = held, _line(held)
    return lines, line

