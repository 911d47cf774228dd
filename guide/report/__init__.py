"""Design-document writers. Each takes the engine's result and the bank and returns text."""

from __future__ import annotations

from datetime import date as _date
from pathlib import Path
from typing import TYPE_CHECKING

from guide.source import MAX_FILE_BYTES, GuideError

if TYPE_CHECKING:  # `guide.report.text` is imported by the app's start screen, which paints before the models load
    from guide.bank import Bank
    from guide.model import AnswersFile, Result

FORMATS = ("md", "html", "json")
# What a browser is told a downloaded document is: the chosen format, whatever the file is called.
MEDIA_TYPES = {"md": "text/markdown", "html": "text/html", "json": "application/json"}


def render(format: str, result: Result, bank: Bank, answers: AnswersFile, date: str,
           where: str | Path = "the design document") -> str:
    """The document in `format`. A Markdown or JSON document is an answers file too, so one larger than guide
    reads back is a GuideError naming `where` (the file it was going to), not a file nobody can load."""
    if format == "html":
        from guide.report.html import render_html

        return render_html(result, bank, answers, date)
    if format == "json":
        from guide.report.jsondoc import render_json

        text = render_json(result, bank, answers, date)
    else:
        from guide.report.markdown import markdown_document

        text = markdown_document(result, bank, answers, date)
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise GuideError(where, None, None, f"the document would be {size:,} bytes, over the {MAX_FILE_BYTES:,} "
                                            "guide reads back; shorten the longest answers or notes, or export HTML")
    return text


def document_date(answers: AnswersFile, override: str | None = None) -> str:
    """The date a document carries: given on the command line, kept from the answers, or today."""
    return override or answers.date or _date.today().isoformat()
