"""The design document as JSON: the full result plus the answers, review and versions that made it.

Its JSON Schema (`schemas/design-document.schema.json`) is generated from `DesignDocument` by
`guide.schemas` and checked for drift by a test, so other tools can rely on the shape.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field

from guide.bank import DESIGN_DOCUMENT, Bank, bank_change
from guide.model import AnswersFile, BankChange, Decision, Result
from guide.report.frontmatter import document_answers
from guide.report.text import rationales_note

FORMAT_VERSION = 1


class Derivation(BaseModel):
    """Which parts of the document come from the source paper and which are this tool's own operationalization:
    a reader of the JSON alone is told so, as the Markdown and HTML documents' "How this was derived" tells theirs."""

    framework: str = Field(description="the citation of the source the question bank operationalizes, with its DOI "
                                       "and free copies")
    from_the_paper: str | None = Field(description="what the source itself establishes, in the bank's words")
    from_this_tool: str = Field(description="what is the tool's own operationalization, not quoted from the source")
    rationales: str = Field(description="that every rationale and rule in the result is the tool's reasoning")


class DesignDocument(BaseModel):
    """Everything a design document says, as data."""

    document: Literal["guide-design-document"] = DESIGN_DOCUMENT
    format_version: Literal[1] = FORMAT_VERSION
    date: str
    derivation: Derivation
    answers_file: AnswersFile = Field(description="the answers, notes, review and bank versions the document carries; "
                                                  "the same data as the Markdown document's front matter")
    bank_change: BankChange | None = Field(description="set when the answers were made with another bank or bank version")
    review_decision: Decision = Field(description="the overall decision: approved only when every review in "
                                                  "answers_file.reviews (at least one, each naming its reviewer) approved these answers and bank")
    stale_approvals: list[int] = Field(description="positions in answers_file.reviews of approvals given to other "
                                                   "answers or another bank (their answers_hash or bank_hash differs)")
    result: Result


def design_document(result: Result, bank: Bank, answers: AnswersFile, date: str) -> DesignDocument:
    carried = document_answers(answers, bank, date)
    source = bank.meta.source
    derivation = Derivation(framework=f"{source.citation} {source.identifiers()}", from_the_paper=source.establishes,
                            from_this_tool=bank.meta.derivation_note,
                            rationales=rationales_note(f"{result.bank_id} {result.bank_version}"))
    return DesignDocument(date=date, derivation=derivation, answers_file=carried, bank_change=bank_change(answers, bank),
                          review_decision=carried.review_decision(),
                          stale_approvals=[position for position, _, _ in carried.stale_approvals()], result=result)


def render_json(result: Result, bank: Bank, answers: AnswersFile, date: str) -> str:
    # An older document's single `review` is carried in `reviews`; the empty field is not written.
    data = design_document(result, bank, answers, date).model_dump(mode="json", by_alias=True,
                                                                   exclude={"answers_file": {"review"}})
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
