"""Hostile text in answers, notes, titles and bank files stays text, in every place it is shown.

The same design is rendered twice: once with hostile strings (HTML and script, Markdown that
would add headings, links, raw HTML or comments, Rich/Textual markup, ANSI and OSC escape
sequences) and once with harmless strings of the same layout. The Markdown documents must have
the same structure; the HTML export must run nothing in a real browser; the app must show the
text literally.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from bench.bankgen import bank_files, write_files
from guide.bank import read_answers
from guide.engine import evaluate
from guide.load import load_bank
from guide.model import AnswersFile, Review
from guide.report import render
from guide.report.text import plain

from .conftest import FIXED_DATE, missing_tool, run_guide

# Each string carries a distinct word, so a test can find where it ended up.
HOSTILE = [
    "<script>window.__pwned = 'script'; alert('xss-script')</script> SCRIPTWORD",
    '<img src=x onerror="window.__pwned=\'img\';alert(1)"> IMGWORD',
    '<svg onload="alert(1)"><a xlink:href="javascript:alert(1)">x</a></svg> SVGWORD',
    '"><iframe src="javascript:alert(1)"></iframe><a href=javascript:alert(1)>IFRAMEWORD</a>',
    "[click me](javascript:alert(1)) <javascript:alert(1)> ![x](javascript:alert(1)) LINKWORD",
    "# Fake heading HEADINGWORD\n## Another heading\n---\n- a list\n> a quote\n```\ncode\n```",
    "<!-- an HTML comment COMMENTWORD --> <details open><summary>s</summary>d</details>",
    "\x1b[31mred ANSIWORD\x1b[0m \x1b]8;;http://evil.example\x07osc link\x1b]8;;\x07 \x1b]0;title\x07 \x1b[2J cleared",
    "[bold red]MARKUPWORD[/bold red] [@click=app.quit]quit[/] [link=http://evil.example]x[/link]",
    "| a | b |\n|---|---|\n| TABLEWORD | d |",
    "&lt;script&gt;alert(1)&lt;/script&gt; &#x3C;script&#x3E; ENTITYWORD",
    "<style>body { display: none }</style> STYLEWORD",
    "SETEXTWORD\n=====\n1. ordered\n2. list\n[ref]: javascript:alert(1)\n[ref]",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'> <base href=javascript:alert(1)//> METAWORD",
]
PARSER = MarkdownIt("commonmark", {"html": True}).enable("table")


def harmless(text: str) -> str:
    """A string of the same layout (lines, blank lines, word breaks) with nothing special in it."""
    return re.sub(r"[^\s]", "x", plain(text))


def hostile_answers(bank, strings: list[str]) -> AnswersFile:
    preset = read_answers(bank.cases()["dr-screening"], bank)
    notes = {question_id: strings[index % len(strings)] for index, question_id in enumerate(preset.answers)}
    answers = dict(preset.answers)
    answers["use_case_summary"] = "\n".join(strings[:5])
    answers["users_in_words"] = strings[5]
    return preset.model_copy(update={
        "title": strings[0].replace("\n", " ")[:300], "description": "\n\n".join(strings[1:4]),
        "notes": notes, "answers": answers,
        "reviews": [Review(reviewer=strings[8][:300], role=strings[6].replace("\n", " ")[:300], date="2026-01-15",
                           decision="changes-requested", comments="\n\n".join(strings)),
                    Review(reviewer=strings[7][:300], decision="approved", comments=strings[3])],
    })


def shape(markdown: str) -> list:
    """The structure of a document: block tokens and, inside each inline, every token but text."""
    body = markdown.split("\n---\n", 1)[1] if markdown.startswith("---\n") else markdown
    shaped = []
    for token in PARSER.parse(body):
        if token.type == "inline":
            shaped.append(tuple(child.type for child in token.children or [] if child.type not in ("text", "text_special")))
        else:
            shaped.append((token.type, token.tag, token.nesting))
    return shaped


def visible_text(markdown: str) -> str:
    body = markdown.split("\n---\n", 1)[1]
    return " ".join(child.content for token in PARSER.parse(body) if token.type == "inline"
                    for child in token.children or [] if child.type in ("text", "text_special"))


def hostile_bank(tmp_path: Path, strings: list[str]) -> Path:
    """A generated bank whose every free text (prompts, help, labels, rationales, names) is hostile."""
    files = bank_files(8, seed=11, text_share=0.2)
    cycle = itertools.cycle(strings)

    def fill(item: dict, *keys: str) -> None:
        for key in keys:
            if key in item:
                item[key] = next(cycle)[:300]

    fill(files["bank.yaml"], "title")
    for stage in files["bank.yaml"]["stages"]:
        fill(stage, "title")
    for question in files["flow/01.yaml"]["questions"]:
        fill(question, "prompt", "help")
        for choice in question.get("choices", []):
            fill(choice, "label")
            choice["description"] = next(cycle)
    for rule in files["rules.yaml"]["rules"]:
        for effect in rule["effects"]:
            fill(effect, "because")
    for method in files["methods.yaml"]["methods"]:
        fill(method, "name", "summary")
        for item in method["evaluation"]:
            fill(item, "text")
    for element in files["elements.yaml"]["elements"]:
        fill(element, "name")
    for reference in files["references.yaml"]["references"]:
        fill(reference, "citation")
    return write_files(tmp_path, files)


@pytest.fixture(scope="module")
def documents(bank) -> dict[str, str]:
    rendered = {}
    for name, strings in (("hostile", HOSTILE), ("clean", [harmless(text) for text in HOSTILE])):
        answers = hostile_answers(bank, strings)
        result = evaluate(bank, answers)
        rendered[name] = render("md", result, bank, answers, FIXED_DATE)
        rendered[name + ".html"] = render("html", result, bank, answers, FIXED_DATE)
    return rendered


def test_hostile_answers_leave_the_markdown_structure_unchanged(documents):
    assert shape(documents["hostile"]) == shape(documents["clean"])


def test_hostile_answers_show_as_the_typed_characters(documents):
    text = visible_text(documents["hostile"])
    for word in ("SCRIPTWORD", "MARKUPWORD", "ANSIWORD", "LINKWORD", "ENTITYWORD", "METAWORD"):
        assert word in text
    assert "<script>window.__pwned = 'script'; alert('xss-script')</script> SCRIPTWORD" in text
    assert "[bold red]MARKUPWORD[/bold red]" in text
    assert "\x1b" not in documents["hostile"] and "\x07" not in documents["hostile"]


def test_text_cannot_be_shown_in_another_order_than_it_reads(bank, tmp_path):
    """Bidirectional overrides and isolates (a 'Trojan source' title) are dropped wherever text is shown:
    the Markdown body, the HTML and its window title, and the terminal's compare. The Markdown's front
    matter keeps the answers as typed, so that the document re-runs to the same answers."""
    reordering = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    answers = read_answers(bank.cases()["dr-screening"], bank)
    answers = answers.model_copy(update={"title": "Approve \u202eREDRO\u202c now BIDIWORD",
                                         "answers": {**answers.answers, "users_in_words": "Graders \u2067BIDINOTE\u2069."}})
    result = evaluate(bank, answers)
    for form in ("md", "html"):
        document = render(form, result, bank, answers, FIXED_DATE)
        shown = document.split("\n---\n", 1)[1] if form == "md" else document  # the front matter keeps the data
        assert "BIDIWORD" in shown and "BIDINOTE" in shown
        assert not set(reordering) & set(shown), form
    path = tmp_path / "design.yaml"
    path.write_text(f"title: \"Approve \\u202eREDRO now\"\nanswers:\n  task: detection\n", encoding="utf-8")
    compared = run_guide("compare", str(path), "--case", "dr-screening")
    assert compared.returncode == 0, compared.stderr
    assert "REDRO" in compared.stdout and not set(reordering) & set(compared.stdout)


def test_hostile_bank_text_leaves_the_markdown_structure_unchanged(tmp_path):
    documents = []
    for name, strings in (("hostile", HOSTILE), ("clean", [harmless(text) for text in HOSTILE])):
        bank = load_bank(hostile_bank(tmp_path / name, strings))
        answers = read_answers(bank.cases()["case-0"], bank)
        documents.append(render("md", evaluate(bank, answers), bank, answers, FIXED_DATE))
    hostile, clean = documents
    assert shape(hostile) == shape(clean)
    assert "SCRIPTWORD" in visible_text(hostile) and "\x1b" not in hostile


# ---------------------------------------------------------------------------------------------
# The HTML export in a real browser.

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def browse(html_file: Path) -> dict:
    """Open a page in headless Chromium; report dialogs, console messages, requests and the DOM's risky parts."""
    from playwright import sync_api  # in the test extra

    if not Path(CHROMIUM).exists():
        missing_tool("Chromium is not installed (apt-get install -y chromium)")
    seen: dict = {"dialogs": [], "requests": [], "errors": []}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
            page.on("request", lambda request: seen["requests"].append(request.url))
            page.on("pageerror", lambda error: seen["errors"].append(str(error)))
            page.goto(html_file.as_uri())
            page.wait_for_timeout(300)
            seen.update(page.evaluate("""() => ({
                pwned: window.__pwned || null,
                scripts: document.querySelectorAll('script').length,
                frames: document.querySelectorAll('iframe, object, embed, frame, base, link[rel=import]').length,
                refresh: document.querySelectorAll('meta[http-equiv]').length,
                handlers: [...document.querySelectorAll('*')].flatMap(element =>
                    [...element.attributes].filter(attribute => attribute.name.startsWith('on')).map(a => a.name)),
                javascript_urls: [...document.querySelectorAll('[href], [src], [action], [xlink\\\\:href]')].filter(
                    element => [...element.attributes].some(a => /^\\s*javascript:/i.test(a.value))).length,
                text: document.body.innerText,
            })"""))
        finally:
            browser.close()
    return seen


@pytest.mark.parametrize("keep_csp", [True, False], ids=["as exported", "without its CSP"])
def test_html_export_runs_nothing_in_chromium(documents, tmp_path, keep_csp):
    """Nothing runs, with the page's Content-Security-Policy, and (escaping alone) without it."""
    html = documents["hostile.html"]
    if not keep_csp:
        html, removed = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        assert removed == 1
    page_file = tmp_path / "design.html"
    page_file.write_text(html, encoding="utf-8")
    seen = browse(page_file)
    assert seen["dialogs"] == [] and seen["pwned"] is None and seen["errors"] == []
    assert seen["scripts"] == 0 and seen["frames"] == 0 and seen["handlers"] == [] and seen["javascript_urls"] == 0
    # Only the document's own http-equiv metas (CSP); none came from the answers.
    assert seen["refresh"] == (1 if keep_csp else 0)
    assert [url for url in seen["requests"] if not url.startswith("file://")] == []
    assert "<script>window.__pwned = 'script'; alert('xss-script')</script> SCRIPTWORD" in seen["text"]


# ---------------------------------------------------------------------------------------------
# The terminal app.


def screen_texts(app) -> list[str]:
    from textual.widgets import OptionList, Static

    texts = [str(widget.render()) for widget in app.screen.query(Static)]
    for options in app.screen.query(OptionList):
        texts += [str(option.prompt) for option in options.options]
    return texts


@pytest.mark.usefixtures("guide_home")
async def test_the_app_shows_hostile_text_literally(tmp_path):
    from guide.session import Walk
    from guide.tui.app import GuideApp
    from guide.tui.results import ResultsScreen

    markup_and_escapes = f"{HOSTILE[8]} {HOSTILE[7]}"
    directory = hostile_bank(tmp_path / "bank", [markup_and_escapes])
    # A preset that cannot be read: its error message quotes the markup, and must show it as text.
    (directory / "cases" / "broken.yaml").write_text('answers:\n  "[@click=app.quit]MARKUPWORD[/]": c0\n')
    bank = load_bank(directory)
    preset = read_answers(bank.cases()["case-0"], bank)
    answers = preset.model_copy(update={"title": markup_and_escapes,
                                        "notes": {question: markup_and_escapes for question in preset.answers}})
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test(size=(160, 60)) as pilot:
        app.begin(Walk(bank, answers, bank.meta.start))
        await pilot.pause()
        shown = screen_texts(app)
        app.push_screen(ResultsScreen(app.walk))
        await pilot.pause()
        shown += screen_texts(app)
        app.open_preset("broken")
        await pilot.pause()
        raised = [note for note in app._notifications if "MARKUPWORD" in note.message]
        assert raised and all(not note.markup and "[@click=app.quit]MARKUPWORD[/]" in note.message for note in raised)
    text = "\n".join(shown)
    assert "MARKUPWORD" in text and "ANSIWORD" in text
    # Markup shows as typed, never as style or a clickable action; escapes never reach the terminal.
    # (Text wrapped for its width may break a line inside it.)
    for fragment in re.findall(r"MARKUPWORD.{0,40}", " ".join(text.split())):
        assert fragment.startswith("MARKUPWORD[/bold red] [@click=app.quit]quit[/]"), fragment
    assert "\x1b" not in text and "\x07" not in text


FORGED_NAME = "design\n::error file=x::forged \x1b[2J\x1b]0;title\x07\u202edm.md"
FORGED_SHOWN = "design\\n::error file=x::forged \\x1b[2J\\x1b]0;title\\x07\\u202edm.md"


def test_file_names_are_printed_escaped_by_check_and_diff(tmp_path):
    """A name with a line break or escapes cannot forge a CI log line or act on the terminal."""
    document = tmp_path / FORGED_NAME
    other = tmp_path / "other.md"
    for path, case in ((document, "dr-screening"), (other, "brain-encoding")):
        written = run_guide("run", "--case", case, "--date", FIXED_DATE)  # --out refuses such a name: made by hand
        assert written.returncode == 0
        path.write_text(written.stdout, encoding="utf-8")
    current = run_guide("check", str(document))
    assert (current.returncode, current.stderr) == (0, "")
    assert current.stdout.startswith(f"{tmp_path}/{FORGED_SHOWN}: current (bank ") and current.stdout.count("\n") == 1
    document.write_text(document.read_text().replace("title: Automated", "title: Manual", 1))
    stale = run_guide("check", str(document))
    assert stale.stdout.startswith(f"{tmp_path}/{FORGED_SHOWN}: stale:")
    assert stale.stdout.endswith(f" --out '{tmp_path}/{FORGED_SHOWN}'\n") and stale.returncode == 1
    missing = run_guide("check", str(tmp_path / ("gone" + FORGED_NAME)))
    assert missing.stderr == f"guide: {tmp_path}/gone{FORGED_SHOWN}: No such file or directory\n"
    for format in ("text", "md"):
        output = run_guide("diff", str(document), str(other), "--format", format)
        assert output.returncode == 1, output.stderr  # the designs differ
        assert format == "md" or f"{FORGED_SHOWN}: Manual diabetic" in output.stdout
        assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]", output.stdout), format


def test_html_holds_no_character_html_forbids(bank):
    """NUL and other controls in a note or an answer are U+FFFD in the HTML, as a browser shows NUL; the title
    drops them, as its heading does."""
    controls = "".join(map(chr, [*range(0x00, 0x09), 0x0b, *range(0x0e, 0x20), *range(0x7f, 0xa0)]))
    answers = hostile_answers(bank, [f"CONTROLWORD {controls} end"] * 9)
    html = render("html", evaluate(bank, answers), bank, answers, FIXED_DATE)
    assert "<title>Interpretability design: CONTROLWORD end</title>" in html
    assert not re.search("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]", html)


def test_a_title_reads_the_same_in_the_window_title_the_heading_and_the_markdown(tmp_path):
    """U+202E, ESC and BEL once showed as U+FFFD in the HTML <title> while the <h1> and Markdown dropped them."""
    answers = tmp_path / "answers.yaml"
    answers.write_text('title: "Knee \\u202eevil\\e done\\a bell"\nanswers:\n  task: detection\n', encoding="utf-8")
    html_path, markdown_path = tmp_path / "design.html", tmp_path / "design.md"
    for path in (html_path, markdown_path):
        assert run_guide("run", "--answers", str(answers), "--out", str(path)).returncode == 0
    html = html_path.read_text(encoding="utf-8")
    expected = "Interpretability design: Knee evil done bell"
    assert re.search(r"<title>(.*)</title>", html)[1] == re.search(r"<h1[^>]*>(.*)</h1>", html)[1] == expected
    assert f"\n# {expected}\n" in markdown_path.read_text(encoding="utf-8")


# Marks that show as nothing or turn text around, a control character and an escape sequence: every place a
# title is shown drops them all (`shown_title`), so no two places show it two ways.
UNSEEN_TITLE = "Knee\u202e \u200fOA\u200e\u2066 grading\u2069\u061c\u200b\x07\x1b[31m now\ufeff\u2060"
TITLE_SHOWN = "Knee OA grading now"


async def test_a_title_shows_the_same_in_the_library_the_designs_listing_plain_mode_and_the_document(bank, guide_home):
    """U+200F showed raw in the app's library, which dropped U+202E; `guide designs` escaped U+202E and controls
    but printed U+200F raw."""
    from guide.session import Walk, save_session
    from guide.state import designs_dir
    from guide.tui.app import GuideApp

    walk = Walk(bank, AnswersFile(title=UNSEEN_TITLE, answers={"task": "detection"}))
    designs_dir().mkdir(parents=True)
    save_session(walk, designs_dir() / "knee.yaml")
    listed = run_guide("designs", "--format", "md")
    assert listed.returncode == 0, listed.stderr
    assert f"| knee | {TITLE_SHOWN} | unfinished" in listed.stdout
    columns = run_guide("designs").stdout.splitlines()[3]
    assert columns.startswith("knee  ") and columns.split("  ")[1].strip() == TITLE_SHOWN
    refused = run_guide("--plain", stdin="")  # no terminal: it names the latest design and stops
    assert f"the latest “{TITLE_SHOWN}”" in refused.stderr
    document = run_guide("run", "--answers", str(designs_dir() / "knee.yaml"))
    assert f"\n# Interpretability design: {TITLE_SHOWN}\n" in document.stdout
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert any(text.startswith(TITLE_SHOWN + "  unfinished") for text in screen_texts(app)), screen_texts(app)


async def test_a_title_with_markup_shows_as_typed_in_the_command_palette(bank, guide_home):
    """The palette reads its entries as markup: a design titled with "[/b]" ended the app as it listed it."""
    from textual.command import CommandPalette
    from textual.widgets import OptionList

    from guide.session import Walk, save_session
    from guide.state import designs_dir
    from guide.tui.app import GuideApp
    from guide.tui.question import QuestionScreen

    title = "Knee [/b] MARKUPWORD [@click=app.quit]quit[/]"
    designs_dir().mkdir(parents=True)
    save_session(Walk(bank, AnswersFile(title=title, answers={"task": "detection"})), designs_dir() / "knee.yaml")
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("slash", *"markupword")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        hits = app.screen.query_one(OptionList)
        for _ in range(50):  # the palette searches in a worker of its own
            if hits.option_count:
                break
            await pilot.pause()
        assert [str(hits.get_option_at_index(index).prompt).splitlines()[0] for index in range(hits.option_count)] == \
            [f"Resume design: {title}"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.walk.answers.title == title


def test_the_designs_listing_lines_its_columns_up_under_wide_characters(bank, guide_home):
    """A title in Chinese or with an emoji takes two terminal columns a character: counted as one, every column
    after it stood out of line."""
    from guide.session import Walk, save_session
    from guide.state import designs_dir

    designs_dir().mkdir(parents=True)
    for name, title in (("wide", "膝关节骨关节炎分级 🦴"), ("narrow", "Knee grading")):
        save_session(Walk(bank, AnswersFile(title=title, answers={"task": "detection"})), designs_dir() / f"{name}.yaml")
    listed = run_guide("designs")
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if line.startswith(("wide ", "narrow "))]
    from rich.cells import cell_len
    assert len({cell_len(row[:row.index("unfinished")]) for row in rows}) == 1, rows
