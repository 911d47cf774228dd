"""The YAML front matter of a Markdown design document: its answers, notes, versions and review.

The front matter is what makes a document re-runnable: `guide run --answers design.md` reads it
back (through `bank.read_answers`) and writes the same document byte for byte. The dump is
deterministic (fields in model order, no sorting), multi-line text is written as literal blocks a
reviewer can edit, and strings a YAML 1.1 reader would turn into booleans are quoted.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from guide.bank import Bank, origin_version
from guide.model import AnswersFile, Review

# YAML 1.1 booleans, including the one-letter forms PyYAML itself does not resolve but other readers do.
_YAML11_BOOL = re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
# Line breaks YAML knows besides "\n"; in a plain or literal scalar they would come back as "\n" or vanish.
_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029]")
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


class _FrontMatterDumper(yaml.SafeDumper):
    pass


class _FastDumper(yaml.CSafeDumper):
    """libyaml's emitter: seven times faster, but it writes characters beyond U+FFFF (emoji) as escapes."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if _YAML11_BOOL.match(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    if _OTHER_BREAKS.search(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    # PyYAML falls back to a quoted style by itself when a literal block cannot hold the text exactly.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_FrontMatterDumper.add_representer(str, _represent_str)
_FastDumper.add_representer(str, _represent_str)


def document_answers(answers: AnswersFile, bank: Bank, date: str) -> AnswersFile:
    """The answers a document carries: stamped with its date and bank, with a review block to fill in.

    Answers from an older bank version remember it in `migrated_from`, so the re-run document keeps
    saying what changed (and `guide check` finds it current) until someone removes that line.
    """
    return answers.model_copy(update={
        "date": date,
        "bank_id": bank.meta.id,
        "bank_version": bank.meta.version,
        "bank_hash": bank.content_hash,
        "migrated_from": origin_version(answers, bank),
        "reviews": _stamped_reviews(answers, bank),
        "review": None,
    })


STAMP_KEYS = ("answers_hash", "bank_hash")


def _stamped_reviews(answers: AnswersFile, bank: Bank) -> list[Review]:
    """An older document's single review first, a blank one to fill in when there is none, and each decision
    stamped, the first time the document is run with it, with the answers and bank it was made on. A decision no
    reviewer is named for is no sign-off yet: it is stamped once a name makes it count."""
    reviews = [*([answers.review] if answers.review else []), *answers.reviews] or [Review()]
    made_on = {"answers_hash": answers.answers_hash(), "bank_hash": bank.content_hash}
    return [review.model_copy(update=made_on) if review.counted_decision != "pending" and review.answers_hash is None
            else review for review in reviews]


def front_matter_data(answers: AnswersFile) -> dict[str, Any]:
    """The answers file as plain data: unset fields left out, except the reviews, shown in full to fill in."""
    data = answers.model_dump(mode="json", by_alias=True)
    for key, value in list(data.items()):
        if key != "reviews" and (value is None or (key == "notes" and not value)):
            del data[key]
    # A review's hashes are guide's to fill in: an empty one is left out rather than offered to fill.
    data["reviews"] = [{key: value for key, value in review.items() if value is not None or key not in STAMP_KEYS}
                       for review in data["reviews"]]
    return data


def dump_yaml(data: Any, *, for_people: bool = True) -> str:
    """YAML that reads back as exactly `data`, any text included. The session file, written after every
    answer, takes the fast emitter (`for_people=False`) unless its text holds characters that emitter would
    write as ten-byte escapes: a person may open the file, and a note of emoji must stay within the limits."""
    fast = not for_people and not _beyond_basic_plane(data)
    return yaml.dump(data, Dumper=_FastDumper if fast else _FrontMatterDumper, sort_keys=False,
                     allow_unicode=True, default_flow_style=False, width=100)


def _beyond_basic_plane(data: Any) -> bool:
    if isinstance(data, str):
        return _ASTRAL.search(data) is not None
    if isinstance(data, dict):
        return any(_beyond_basic_plane(key) or _beyond_basic_plane(value) for key, value in data.items())
    if isinstance(data, list):
        return any(_beyond_basic_plane(item) for item in data)
    return False


def front_matter(answers: AnswersFile) -> str:
    return f"---\n{dump_yaml(front_matter_data(answers))}---\n\n"
