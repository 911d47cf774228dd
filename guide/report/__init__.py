"""Design-document writers. Each takes the engine's result and the bank and returns text."""

from __future__ import annotations

from datetime import date as _date

from guide.bank import Bank
from guide.model import AnswersFile, Result

FORMATS = ("md",)


def render(format: str, result: Result, bank: Bank, answers: AnswersFile, date: str) -> str:
    from guide.report.markdown import render_markdown

    return render_markdown(result, bank, date, reading=answers.reading, description=answers.description)


def document_date(answers: AnswersFile, override: str | None = None) -> str:
    """The date a document carries: given on the command line, kept from the answers, or today."""
    return override or answers.date or _date.today().isoformat()
