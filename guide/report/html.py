"""The design document as one self-contained HTML file, for reading on screen and printing to PDF.

The body is the Markdown document rendered by markdown-it-py with raw HTML off, so the HTML says
exactly what the Markdown says and bank or user text can only ever be text. Around it: a chart of
element priorities (inline SVG, labels escaped, levels written out, not only coloured), cards that
a printed page does not split, and a Content-Security-Policy that forbids scripts and every
external request. No fonts, images or styles are fetched: the file works offline.
"""

from __future__ import annotations

import re
from html import escape
from importlib.resources import files

from markdown_it import MarkdownIt
from markdown_it.token import Token

from guide.bank import Bank
from guide.model import AnswersFile, Result
from guide.report.markdown import APPENDIX_TITLE, document_title, markdown_document, threshold_text
from guide.source import REORDERING

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
SUMMARY_SECTION = "Summary"
REVIEW_SECTION = "Review"
# Sections whose subsections a printed page must not split; elsewhere (long answer tables) they may.
CARD_SECTIONS = ("Element evidence", "Method families")
SAFE_LINK_PREFIXES = ("https://", "http://", "#")


def _parser() -> MarkdownIt:
    # js-default: CommonMark with tables, raw HTML off. Links are limited to web and in-page targets.
    parser = MarkdownIt("js-default", {"html": False})
    parser.validateLink = lambda url: url.strip().lower().startswith(SAFE_LINK_PREFIXES)
    return parser


# Characters HTML does not allow in a document (NUL, the other controls but tab, line breaks and form feed,
# DEL and C1): browsers treat them inconsistently, so they are written as U+FFFD, as a browser shows NUL.
# So are the bidirectional overrides and isolates, which could show the window title in another order.
_NOT_HTML_TEXT = re.compile(f"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f{REORDERING}]")


def render_html(result: Result, bank: Bank, answers: AnswersFile, date: str) -> str:
    body_markdown = markdown_document(result, bank, answers, date, with_front_matter=False)
    parser = _parser()
    tokens = parser.parse(body_markdown)
    headings = _number_sections(tokens)
    summary_anchor = next((anchor for anchor, text in headings if text == SUMMARY_SECTION), "")
    tokens = _arrange(tokens, priority_chart(result, bank), how_to_review(summary_anchor))
    body = parser.renderer.render(tokens, parser.options, {})
    title = escape(document_title(result))
    nav = "".join(f'<li><a href="#{anchor}">{escape(text)}</a></li>' for anchor, text in headings)
    css = files("guide.report").joinpath("document.css").read_text(encoding="utf-8")
    return _NOT_HTML_TEXT.sub(
        "\ufffd",
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="guide {escape(result.tool_version)}">\n'
        f"<title>{title}</title>\n<style>\n{css}</style>\n</head>\n<body>\n"
        f'<nav aria-label="Sections"><ol>{nav}</ol></nav>\n'
        f"<main>\n{body}</main>\n</body>\n</html>\n"
    )


def _number_sections(tokens: list[Token]) -> list[tuple[str, str]]:
    """Give every second-level heading an anchor; returns (anchor, heading text) for the contents list."""
    headings = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            anchor = f"section-{len(headings) + 1}"
            token.attrSet("id", anchor)
            headings.append((anchor, _plain_text(tokens[index + 1])))
    return headings


def _plain_text(inline: Token) -> str:
    return "".join(child.content for child in inline.children or [] if child.type in ("text", "code_inline"))


def _html(content: str) -> Token:
    token = Token("html_block", "", 0)
    token.content = content + "\n"
    return token


def _arrange(tokens: list[Token], chart: str, review_help: str) -> list[Token]:
    """Wrap third-level sections (as cards where they must not split), add the chart, and open the Review section
    with how to review."""
    arranged: list[Token] = []
    section = ""
    in_card = False
    chart_placed = pointer_placed = False
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            if in_card:
                arranged.append(_html("</section>"))
                in_card = False
            if token.tag == "h2":
                section = _plain_text(tokens[index + 1])
                if section == APPENDIX_TITLE:
                    token.attrSet("class", "appendix")  # printed from a new page, after the body
            else:
                arranged.append(_html('<section class="card">' if section in CARD_SECTIONS else "<section>"))
                in_card = True
        if token.type == "table_open" and _header_is_empty(tokens, index):
            token.attrSet("class", "facts")
        arranged.append(token)
        if token.type == "heading_close" and token.tag == "h2" and section == REVIEW_SECTION:
            arranged.append(_html(review_help))
        if token.type == "table_close" and not section and not pointer_placed:
            arranged.append(_html(REVIEW_POINTER))  # under the header's facts, where a reviewer starts
            pointer_placed = True
        if token.type == "table_close" and section == SUMMARY_SECTION and not chart_placed:
            arranged.append(_html(chart))
            chart_placed = True
    if in_card:
        arranged.append(_html("</section>"))
    return arranged


def _header_is_empty(tokens: list[Token], table_open: int) -> bool:
    """A `| | |` table: a list of facts (name, value) rather than a table with column headings."""
    for token in tokens[table_open + 1:]:
        if token.type == "thead_close":
            return True
        if token.type == "inline" and token.content.strip():
            return False
    return False


REVIEW_POINTER = ('<aside class="review-pointer"><p>Asked to review this design? <a href="#how-to-review">How to '
                  'review it</a> is in the Review section, at the end of the body, before the appendix.</p></aside>')


def how_to_review(summary_anchor: str) -> str:
    """What a reviewer (a clinician, a scientist, a regulator) does with this file, without a terminal: read, check,
    reply to the author."""
    return f"""<aside class="how-to-review" aria-labelledby="how-to-review">
<h3 id="how-to-review">How to review this design</h3>
<ol>
<li><strong>Read the <a href="#{summary_anchor}">Summary</a> first:</strong> what matters most for this use, what
will be built, what is left out and what is still open. The appendix is there to look things up.</li>
<li><strong>Check</strong> that the answers describe the setting as you know it (who acts on the output, when, and
what happens when it is wrong), that the priorities match what its users need to trust or overrule the output,
and that the evaluation plan would convince you.</li>
<li><strong>Reply to the author</strong> by email or message with your name, role, the date, your decision
(approved, changes requested or rejected) and your comments. The author records it in this document; you need
not edit or install anything. Your approval covers the answers you read: if they change, it shows as stale and
you will be asked again.</li>
</ol>
</aside>"""


# ---------------------------------------------------------------------------------------------
# The priority chart.

CHART_WIDTH = 720
LABEL_WIDTH = 230
BAR_WIDTH = 340
ROW_HEIGHT = 34
TOP = 34


def priority_chart(result: Result, bank: Bank) -> str:
    """A horizontal bar per element: length is the score, dashed lines mark the level thresholds."""
    thresholds = [level for level in bank.meta.levels if level.min_score is not None]
    scale_max = max([element.score for element in result.elements] + [thresholds[0].min_score * 1.25, 1.0])
    scale_min = min([element.score for element in result.elements] + [0.0])

    def x(value: float) -> float:
        return LABEL_WIDTH + (value - scale_min) / (scale_max - scale_min) * BAR_WIDTH

    height = TOP + ROW_HEIGHT * len(result.elements) + 10
    level_rank = {level_id: rank for rank, level_id in enumerate(bank.level_ids)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="chart-title">',
        '<title id="chart-title">Element priorities: one bar per element, its length the score; '
        'each bar is labelled with its level and score.</title>',
    ]
    for level in thresholds:
        position = x(level.min_score)
        parts.append(f'<line class="threshold" x1="{position:.1f}" y1="{TOP - 8}" x2="{position:.1f}" '
                     f'y2="{height - 6}"/>')
        parts.append(f'<text class="threshold-label" x="{position:.1f}" y="{TOP - 14}" text-anchor="middle">'
                     f"{level.min_score:g}</text>")
    if scale_min < 0:
        parts.append(f'<line class="zero" x1="{x(0):.1f}" y1="{TOP - 4}" x2="{x(0):.1f}" y2="{height - 6}"/>')
    for row, element in enumerate(result.elements):
        top = TOP + row * ROW_HEIGHT
        start, end = sorted((x(0), x(element.score)))
        label = f"{bank.elements[element.id].name} ({element.short})"
        parts += [
            f'<text class="label" x="{LABEL_WIDTH - 10}" y="{top + 20}" text-anchor="end">{escape(label)}</text>',
            f'<rect class="bar level-{level_rank[element.level]}" x="{start:.1f}" y="{top + 6}" '
            f'width="{max(end - start, 1.5):.1f}" height="20" rx="2"/>',
            f'<text class="value" x="{max(end, x(0)) + 8:.1f}" y="{top + 20}">'
            f"{escape(element.level_label)} · {element.score:g}</text>",
        ]
    parts.append("</svg>")
    starts = ", ".join(threshold_text(level) for level in reversed(thresholds))
    caption = escape(f"Bar length is the element's score. Dashed lines mark each level's minimum score; the "
                     f"levels: {starts}. The same numbers are in the table above.")
    return f'<figure class="chart">\n{"".join(parts)}\n<figcaption>{caption}</figcaption>\n</figure>'
