"""HTML and JSON design documents: same content as the Markdown, inert, self-contained, schema-valid."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from markdown_it import MarkdownIt

from guide.bank import read_answers
from guide.engine import evaluate
from guide.load import load_bank
from guide.model import UNCOVERED_LABEL, AnswersFile
from guide.report import FORMATS, render
from guide.schemas import SCHEMA_DIR

from .conftest import CARDIAC_SEGMENTATION, CASES, FIXED_DATE, missing_tool, run_guide
from .test_roundtrip import make_document


class Page(HTMLParser):
    """Collects tags, attributes and the visible text of selected parts of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.text: dict[str, list[str]] = {"main": [], "figure": [], "svg-text": [], "aside": []}

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop() == tag:
                break

    def handle_data(self, data):
        if "aside" in self.open:  # the review instructions: the HTML's own, not the Markdown's
            self.text["aside"].append(data)
        elif "figure" in self.open:
            self.text["figure"].append(data)
            if "text" in self.open:
                self.text["svg-text"].append(data)
        elif "main" in self.open:
            self.text["main"].append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def words(parts: list[str]) -> str:
    return " ".join(" ".join(parts).split())


def body_of(markdown: str) -> str:
    return markdown.split("\n---\n", 1)[1]


@pytest.mark.parametrize("case", CASES)
def test_html_says_what_the_markdown_says(bank, case):
    markdown = make_document(bank, bank.cases()[case])
    page = parse(make_document(bank, bank.cases()[case], "html"))
    expected = parse("<main>" + MarkdownIt("commonmark").enable("table").render(body_of(markdown)) + "</main>")
    assert words(page.text["main"]) == words(expected.text["main"])
    assert words(page.text["main"])  # not vacuous


def test_html_tells_a_clinician_how_to_review_without_a_terminal(tmp_path):
    html_path = tmp_path / "design.html"
    result = run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--format", "html", "--out", str(html_path))
    assert result.returncode == 0, result.stderr
    html = html_path.read_text(encoding="utf-8")
    page = parse(html)
    instructions = words(page.text["aside"])
    # Where to start, what to check and how to answer, in words that need no tool.
    assert "Asked to review this design? How to review it is in the Review section" in instructions
    assert "Read the Summary first" in instructions
    assert "Check that the answers describe the setting as you know it" in instructions
    assert "clinical" not in instructions  # the reviewer may be a scientist: nothing presumes a clinic
    assert ("Reply to the author by email or message with your name, role, the date, your decision (approved, "
            "changes requested or rejected) and your comments") in instructions
    assert "terminal" not in instructions and "guide run" not in instructions and "front matter" not in instructions
    summary = re.search(r'<h2 id="(section-\d+)">Summary</h2>', html).group(1)
    links = {attributes["href"] for tag, attributes in page.tags if tag == "a"}
    assert f"#{summary}" in links and "#how-to-review" in links
    # The instructions open the Review section, above its table of reviews.
    assert html.index(">Review</h2>") < html.index('id="how-to-review"') < html.index("Overall decision:")


def test_json_carries_every_review_and_the_overall_decision(tmp_path):
    design = tmp_path / "design.md"
    assert run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", str(design)).returncode == 0
    text = design.read_text(encoding="utf-8")
    start = text.index("reviews:\n")
    design.write_text(text[:start] + "reviews:\n- reviewer: A\n  decision: approved\n  answers_hash: 0abc0abc0abc\n"
                      "- reviewer: B\n  role: radiologist\n  decision: approved\n" + text[text.index("\n---\n", start) + 1:],
                      encoding="utf-8")
    result = run_guide("run", "--answers", str(design), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [review["reviewer"] for review in data["answers_file"]["reviews"]] == ["A", "B"]
    assert data["answers_file"]["reviews"][1]["role"] == "radiologist"
    assert data["answers_file"]["reviews"][1]["answers_hash"] != "0abc0abc0abc"  # stamped by this run
    assert (data["review_decision"], data["stale_approvals"]) == ("pending", [0])
    schema = json.loads((SCHEMA_DIR / "design-document.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)


@pytest.mark.parametrize("case", CASES)
def test_html_is_self_contained_and_runs_nothing(bank, case):
    html = make_document(bank, bank.cases()[case], "html")
    page = parse(html)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "iframe", "object", "embed", "link", "img", "base", "form", "frame", "audio", "video"}
    for tag, attributes in page.tags:
        assert not [name for name in attributes if name.startswith("on")], tag
        for name in ("src", "href", "xlink:href", "action", "srcset"):
            value = attributes.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    assert "url(" not in html and "@import" not in html
    csp = [attributes["content"] for tag, attributes in page.tags
           if tag == "meta" and attributes.get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0].startswith("default-src 'none'; style-src 'unsafe-inline'; img-src data:")
    # The policy must come before anything it governs.
    assert html.index("Content-Security-Policy") < html.index("<style>")


def test_html_chart_shows_every_element_with_its_level_in_words(bank):
    answers = read_answers(bank.cases()["dr-screening"], bank)
    result = evaluate(bank, answers)
    page = parse(make_document(bank, bank.cases()["dr-screening"], "html"))
    chart = page.text["svg-text"]
    for element in result.elements:
        assert f"{element.name} ({element.short})" in chart
        assert f"{element.level_label} · {element.score:g}" in chart
    bars = [attributes for tag, attributes in page.tags if tag == "rect"]
    assert len(bars) == len(result.elements)


def test_html_print_layout_keeps_method_cards_whole(bank):
    html = make_document(bank, bank.cases()["breast-cancer-detection"], "html")
    page = parse(html)
    cards = [attributes for tag, attributes in page.tags if tag == "section" and attributes.get("class") == "card"]
    answers = read_answers(bank.cases()["breast-cancer-detection"], bank)
    result = evaluate(bank, answers)
    assert len(cards) >= len(result.elements) + len(result.complementary)
    assert re.search(r"\.card\s*\{[^}]*break-inside:\s*avoid", html)
    assert "@media print" in html
    assert [attributes for tag, attributes in page.tags if tag == "h2" and attributes.get("class") == "appendix"]
    assert re.search(r"h2\.appendix\s*\{[^}]*break-before:\s*page", html)


HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)> [click](javascript:alert(3)) " \
          "<a href='javascript:alert(4)'>x</a> ]]></text><script>alert(5)</script> https://example.org javascript:alert(6)"


def hostile_answers(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.yaml"
    text = json.dumps({
        "title": HOSTILE[:300], "description": HOSTILE, "reading": HOSTILE,
        "answers": {"task": "detection", "use_case_summary": HOSTILE},
        "notes": {"task": HOSTILE},
        "reviews": [{"reviewer": "<b>Eve</b>", "role": HOSTILE[:300], "decision": "rejected",
                     "comments": HOSTILE + "\n</style><script>x</script>"}],
    })
    path.write_text(text, encoding="utf-8")
    return path


def test_hostile_user_and_bank_text_stays_text(bank_copy, tmp_path):
    elements = bank_copy / "elements.yaml"
    text = elements.read_text(encoding="utf-8")
    elements.write_text(text.replace("name: Localization", "name: 'Localization </text><script>alert(7)</script> &amp;'"),
                        encoding="utf-8")
    hostile_bank = load_bank(bank_copy)
    html = make_document(hostile_bank, hostile_answers(tmp_path), "html")
    page = parse(html)
    assert "script" not in {tag for tag, _ in page.tags}
    assert "<b>" not in html and "<img" not in html
    assert not [attributes for tag, attributes in page.tags if tag == "a" and not attributes["href"].startswith("#")]
    assert "javascript:" not in " ".join(str(value) for _, attributes in page.tags for value in attributes.values())
    # The text is still there, for a reviewer to read.
    assert "Localization </text><script>alert(7)</script> &amp; (L)" in page.text["svg-text"]
    assert HOSTILE.split(" [click]")[0] in words(page.text["main"])


@pytest.mark.parametrize("case", CASES)
def test_json_validates_against_the_committed_schema_and_holds_the_full_result(bank, case):
    data = json.loads(make_document(bank, bank.cases()[case], "json"))
    schema = json.loads((SCHEMA_DIR / "design-document.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    answers = read_answers(bank.cases()[case], bank)
    assert data["result"] == evaluate(bank, answers).model_dump(mode="json")
    assert data["answers_file"]["answers"] == answers.answers
    assert (data["date"], data["answers_file"]["bank_version"]) == (FIXED_DATE, bank.meta.version)
    assert data["bank_change"] is None


def test_json_tells_a_reviewer_what_is_the_papers_and_what_is_the_tools(bank):
    """A reviewer given only the JSON must be told, as the Markdown's "How this was derived" tells its reader,
    which framework this is and that the rules and rationales are the tool's operationalization, not the paper's."""
    data = json.loads(make_document(bank, bank.cases()["dr-screening"], "json"))
    markdown = make_document(bank, bank.cases()["dr-screening"], "md")
    derivation = data["derivation"]
    assert derivation["framework"].startswith(bank.meta.source.citation)
    assert "doi:10.1109/ACCESS.2024.3387702" in derivation["framework"]
    assert derivation["from_this_tool"] == bank.meta.derivation_note
    assert "not a quotation of the paper" in derivation["rationales"]
    assert derivation["rationales"].replace(bank.meta.id, f"`{bank.meta.id}`") in markdown


def test_the_committed_schema_rejects_a_document_missing_its_result(bank):
    data = json.loads(make_document(bank, bank.cases()["dr-screening"], "json"))
    del data["result"]["elements"]
    schema = json.loads((SCHEMA_DIR / "design-document.schema.json").read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(data)


def test_run_offers_every_format_on_the_command_line(tmp_path):
    assert FORMATS == ("md", "html", "json")
    for format in FORMATS:
        out = tmp_path / f"design.{format}"
        result = run_guide("run", "--case", "brain-encoding", "--date", FIXED_DATE, "--format", format, "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert out.stat().st_size > 10_000
    assert json.loads((tmp_path / "design.json").read_text(encoding="utf-8"))["document"] == "guide-design-document"
    assert (tmp_path / "design.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--no-pdf-header-footer")
CARD_HEADING = re.compile(r"^\s*\d+\. .+: (fits the constraints|depends on a need not yet met)\s*$")


def printed_pages(html: str, tmp_path: Path) -> list[str]:
    """The text of each page of the HTML document printed to PDF by headless Chromium."""
    pdftotext = shutil.which("pdftotext")
    if not CHROMIUM.exists() or pdftotext is None:
        missing_tool("needs Chromium and pdftotext (apt-get install -y chromium poppler-utils)")
    page = tmp_path / "design.html"
    page.write_text(html, encoding="utf-8")
    pdf = tmp_path / "design.pdf"
    subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                    f"--print-to-pdf={pdf}", page.as_uri()], capture_output=True, timeout=120, check=True)
    return subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, timeout=60,
                          check=True).stdout.split("\f")


def test_printed_to_pdf_no_method_card_is_split_across_pages(bank, tmp_path):
    pages = printed_pages(make_document(bank, bank.cases()["breast-cancer-detection"], "html"), tmp_path)
    assert len(pages) > 5
    cards_started = [sum(bool(CARD_HEADING.match(line)) for line in text.splitlines()) for text in pages]
    cards_ended = [" ".join(text.split()).count("Representative methods:") for text in pages]  # across a wrap
    # A card split over two pages would start on one page and end on the next.
    assert cards_started == cards_ended
    answers = read_answers(bank.cases()["breast-cancer-detection"], bank)
    assert sum(cards_started) >= len(evaluate(bank, answers).complementary)
    assert sum(cards_started) > 0


CONTENT_SECURITY_POLICY = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')
WIDTH_PROBE = ("<script>window.addEventListener('load', () => document.body.setAttribute('data-width',"
               " document.documentElement.scrollWidth + ' ' + window.innerWidth))</script>")


def rendered_width(html: str, tmp_path: Path, window: str) -> tuple[int, int]:
    """The page's scroll width and the window's width, as headless Chromium lays the document out."""
    if not CHROMIUM.exists():
        missing_tool("needs Chromium (apt-get install -y chromium)")
    page = tmp_path / "design.html"
    # The document forbids scripts; the probe that measures it needs one.
    page.write_text(CONTENT_SECURITY_POLICY.sub("", html).replace("</body>", WIDTH_PROBE + "</body>"),
                    encoding="utf-8")
    dom = subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                          f"--window-size={window}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    page_width, window_width = re.search(r'data-width="(\d+) (\d+)"', dom).groups()
    return int(page_width), int(window_width)


@pytest.mark.parametrize("case", CASES)
def test_a_presets_html_document_never_scrolls_sideways(bank, tmp_path, case):
    """A reference URL (XProtoNet's) or a long word wraps inside the page instead of widening it."""
    page_width, window_width = rendered_width(make_document(bank, bank.cases()[case], "html"), tmp_path, "1200,1600")
    assert page_width <= window_width


LONG_LINK = ("https://contoso.sharepoint.com/:w:/r/sites/Research/_layouts/15/Doc.aspx?sourcedoc=%7B1A2B3C4D5E6F7A8B9C0D"
             "1E2F3A4B5C6D%7D&file=ScreeningProtocolVersionThreeFinalApprovedByTheEthicsCommittee.docx&action=default"
             "&mobileredirect=true")


def test_a_long_link_in_an_answer_or_a_note_is_printed_whole_and_never_widens_the_page(bank, tmp_path):
    """A table cell kept a long unbroken word whole (`overflow-wrap: break-word` does not narrow a table's
    columns): the Answers table ran off the printed page, and the end of a protocol's link was not on the paper."""
    answers = tmp_path / "linked.yaml"
    answers.write_text(json.dumps({"title": "Knee", "answers": {"task": "detection", "use_case_summary": LONG_LINK},
                                   "notes": {"task": f"See {LONG_LINK}"}}), encoding="utf-8")
    html = make_document(bank, answers, "html")
    printed = "".join("".join(printed_pages(html, tmp_path)).split())
    assert printed.count(LONG_LINK) == unescape(html).count(LONG_LINK) >= 2, "the link is cut"
    page_width, window_width = rendered_width(html, tmp_path, "1200,1600")
    assert page_width <= window_width


@pytest.mark.parametrize("case", CASES)
def test_a_presets_document_body_prints_in_eight_pages_with_the_trace_after_it(bank, tmp_path, case):
    pages = printed_pages(make_document(bank, bank.cases()[case], "html"), tmp_path)
    appendix = next(number for number, text in enumerate(pages, start=1)
                    if "Appendix: the full trace" in text.splitlines())
    assert appendix <= 9, f"the body runs to page {appendix - 1}"
    assert "Summary" in pages[0] and "References" in "".join(pages[appendix - 1:])


@pytest.mark.parametrize("case", CASES)
def test_a_familys_why_names_each_answer_once(bank, case):
    """Two rules that fired on the same answers are one cause in the card, their weights summed."""
    document = make_document(bank, bank.cases()[case], "md")
    for line in (line for line in document.splitlines() if line.startswith("Why: ")):
        answers = re.findall(r"\*([^*]+)\* [+\u2212-]", line)
        assert len(answers) == len(set(answers)), line


def test_a_familys_why_cites_only_the_choices_its_rules_fired_on(bank):
    """The brain-encoding answers tick two forms; the rule for marked regions fired on one of them."""
    document = make_document(bank, bank.cases()["brain-encoding"], "md")
    card = document.split("Gradient / attribution maps: fits the constraints", 1)[1].split("\n### ", 1)[0]
    why = next(line for line in card.splitlines() if line.startswith("Why: "))
    assert "*Marked regions* +1.5" in why
    assert "*Marked regions; Images of what would change*" not in document  # nor in the family evidence


def test_a_risk_that_moves_one_element_through_two_rules_reads_as_one_move(bank_copy):
    rules = bank_copy / "rules.yaml"
    rules.write_text(rules.read_text() + """
  - id: high-stakes-again
    when: {q: error_stakes, in: [high_stakes]}
    effects:
      - element: model_transparency
        weight: 1
        because: A second reason, for the test.
""")
    bank = load_bank(bank_copy)
    document = make_document(bank, bank.cases()["dr-screening"], "md")
    [line] = [line for line in document.splitlines() if "*Serious or irreversible harm*: moves" in line]
    assert line.count("Model transparency (T)") == 1 and "Model transparency (T) +3" in line, line


def test_an_element_no_buildable_family_serves_points_to_sections_the_document_has(bank):
    """With no element Essential the design is built for the Important ones (the bagnets study's setting leaves
    Physical attribution uncovered, with no family to name); the entry names the document's own sections."""
    answers = bank.precedents["ilanchezian2021-gender-bagnets"].answers_file()
    result = evaluate(bank, answers, with_precedents=False)
    assert result.uncovered == ["physical_attribution"] and not result.poor_fits
    document = render("md", result, bank, answers, FIXED_DATE)
    uncovered = document.split(f"**{UNCOVERED_LABEL}**", 1)[1]
    entry = next(line for line in uncovered.splitlines() if line.startswith("- Physical attribution (P): "))
    assert entry.endswith("(see *Method families* and *Open questions*).")
    assert "\n## Method families\n" in document and "\n## Open questions\n" in document
    assert "the open questions (under" not in document


def test_an_elements_card_keeps_its_score_evidence_apart_from_the_confidence_in_its_priority(bank):
    """"Confidence medium (1.00)" beside "confidence high (0.93)" read as a contradiction: the number is how much of
    the score's evidence is known, the label whether the priority holds, which one open answer can shake while the
    element's own score stays (the leading element's score moves)."""
    answers = read_answers(bank.cases()["dr-screening"], bank)
    answers = answers.model_copy(update={"answers": {**answers.answers, "downstream_action": "unsure"}})
    document = render("md", evaluate(bank, answers), bank, answers, FIXED_DATE)
    card = document.split("### Localization (L): Essential", 1)[1]
    assert card.split("\n\n")[2] == ("Score 11 (100% of its evidence known); confidence in its priority: medium, "
                                      "as one open answer could make it important to essential.")
    assert not re.search(r"confidence (high|medium|low) \(\d\.\d\d\)", document)


def test_an_open_question_lists_the_elements_it_affects_apart_from_what_it_decides(bank):
    """"Affects: Localization (L), Physical attribution (P), the output, its explanation or the alignment rests on
    named anatomical points" put a need among the elements."""
    answers = read_answers(bank.cases()["dr-screening"], bank)
    unsure = answers.revised(answers={**answers.answers, "finding_extent": "unsure"})
    document = render("md", evaluate(bank, unsure), bank, unsure, FIXED_DATE)
    line = next(line for line in document.splitlines() if line.startswith(f"- **{bank.questions['finding_extent'].prompt}"))
    assert line.endswith("(unsure). Affects: Localization (L), Physical attribution (P). Decides whether: "
                         f"{bank.needs['named_points_matter'].label.lower()}.")


def test_a_segmenters_document_leads_with_the_family_that_draws_its_contours(bank):
    """The segment-first family is what the design is built on, the uncertainty family checks its output: the
    design lists it first and says why, though it ranks second, in the Markdown and in the HTML."""
    answers = AnswersFile(title="Cardiac MR segmentation", answers=CARDIAC_SEGMENTATION)
    result = evaluate(bank, answers)
    document = render("md", result, bank, answers, FIXED_DATE)
    built = document.split("**What will be built:**", 1)[1].split("**Deliberately not done:**", 1)[0]
    assert built.index("**Segment- or detect-first pipelines** (by design, ranked 2") \
        < built.index("**Uncertainty for deferral** (post hoc or by design, ranked 1")
    assert result.output_family_note in built
    # The family cards are the ranking, in rank order.
    families = document.split("## Method families", 1)[1]
    assert families.index("### 1. Uncertainty for deferral") < families.index("### 2. Segment- or detect-first pipelines")
    html = words(parse(render("html", result, bank, answers, FIXED_DATE)).text["main"])
    assert result.output_family_note in html


def test_a_design_that_draws_no_map_says_why_its_faithfulness_tests_are_absent(bank):
    """A reviewer looking for randomization or deletion tests in a segmenter's plan, where no family draws a map,
    reads that they are not planned and why, in the Markdown and in the HTML; the tests themselves are absent."""
    answers = AnswersFile(title="Cardiac MR segmentation", answers=CARDIAC_SEGMENTATION)
    result = evaluate(bank, answers)
    document = render("md", result, bank, answers, FIXED_DATE)
    plan = document.split("## Evaluation plan", 1)[1].split("\n## ", 1)[0]
    localization = plan.split("### Localization (L)", 1)[1].split("\n### ", 1)[0]
    assert "- *Not planned: faithfulness tests of a map (randomization, deletion or insertion), as this design builds " \
           "no family they test (Gradient / attribution maps," in localization
    assert "Faithfulness:" not in document and "randomization sanity checks" not in document
    html = words(parse(render("html", result, bank, answers, FIXED_DATE)).text["main"])
    assert "Not planned: faithfulness tests of a map" in html


def test_the_summary_names_a_few_open_questions_and_counts_the_rest(bank, tmp_path):
    """An early design (two answers) ran every one of its 30-odd open questions into one sentence of the Summary,
    "... Select all that apply.; What is ...", the same list the Open questions section gives in full."""
    answers = tmp_path / "early.yaml"
    answers.write_text(json.dumps({"title": "Early", "answers": {"task": "detection", "modality": "ct"}}),
                       encoding="utf-8")
    result = evaluate(bank, read_answers(answers, bank))
    document = make_document(bank, answers, "md")
    (line,) = [line for line in document.splitlines() if line.startswith("**Open questions:**")]
    first = result.open_questions[0].prompt
    assert first in line and f"and {len(result.open_questions) - 3} more" in line
    assert result.open_questions[3].prompt not in line
    assert ".;" not in line
