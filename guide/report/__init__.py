"""Design-document writers. Each takes the engine's result and the bank and returns text."""

from __future__ import annotations

from datetime import date as _date

from guide.bank import Bank
from guide.model import AnswersFile, Result

FORMATS = ("md", "html", "json")
# What a browser is told a downloaded document is: the chosen format, whatever the file is called.
MEDIA_TYPES = {"md": "text/markdown", "html": "text/html", "json": "application/json"}


def render(format: str, result: Result, bank: Bank, answers: AnswersFile, date: str) -> str:
    if format == "html":
        from guide.report.html import render_html

        return render_html(result, bank, answers, date)
    if format == "json":
        from guide.report.jsondoc import render_json

        return render_json(result, bank, answers, date)
    from guide.report.markdown import markdown_document

    return markdown_document(result, bank, answers, date)


def document_date(answers: AnswersFile, override: str | None = None) -> str:
    """The date a document carries: given on the command line, kept from the answers, or today."""
    return override or answers.date or _date.today().isoformat()
