"""The YAML front matter of a Markdown design document: its answers, notes, versions and review.

The front matter is what makes a document re-runnable: `guide run --answers design.md` reads it
back (through `bank.read_answers`) and writes the same document byte for byte. The dump is
deterministic (fields in model order, no sorting), multi-line text is written as literal blocks a
reviewer can edit, and strings a YAML 1.1 reader would turn into booleans are quoted.
"""

from __future__ import annotations

from typing import Any

from guide.bank import Bank, origin_version
from guide.model import AnswersFile, Review
from guide.yamlfile import dump_yaml


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


def front_matter(answers: AnswersFile) -> str:
    return f"---\n{dump_yaml(front_matter_data(answers))}---\n\n"
