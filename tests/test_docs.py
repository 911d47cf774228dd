"""The README and the documentation site: the README stays short with its two commands first, the site
builds with `mkdocs build --strict` (every internal link and anchor resolves), the command reference is
the parser's own, the screenshots come from the app, and every section of the old long README has a home.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
SETUP_COMMANDS = ("pip install -e . && guide run --case dr-screening", "pip install -e '.[test]' && python -m pytest")

# Each heading (or bold paragraph lead) of the README before it became a site, and the page and heading
# where that text lives now.
OLD_README_SECTIONS = (
    ("guide", "index.md", "guide"),
    ("What comes from the paper and what comes from this tool", "index.md",
     "What comes from the paper and what comes from this tool."),
    ("Set-up", "index.md", "Set-up"),
    ("A short tour", "user-guide/index.md", "Getting started"),
    ("The terminal walk-through", "user-guide/walkthrough.md", "The terminal walk-through"),
    ("Your work is saved after every answer", "user-guide/saving.md", "Saving and resuming"),
    ("guide --plain", "user-guide/plain-mode.md", "Plain mode and its line protocol"),
    ("How it decides", "how-it-decides.md", "How it decides"),
    ("The question bank is data", "authoring/index.md", "The question bank is data"),
    ("Precedents: the bank measured against published systems", "precedents.md",
     "Precedents: the bank measured against published systems"),
    ("Holdout", "precedents.md", "Calibration and holdout, bank by bank"),
    ("No answer decides alone", "precedents.md", "No answer decides alone"),
    ("In every design", "precedents.md", "In every design"),
    ("Design documents for review", "design-documents.md", "Design documents for review"),
    ("Authoring and teaching", "authoring/index.md", "Authoring banks"),
    ("guide lint", "authoring/index.md", "guide lint"),
    ("Schemas in the editor", "authoring/index.md", "Schemas in the editor"),
    ("Codebook and graphs", "authoring/index.md", "Codebook and graphs"),
    ("Own banks", "authoring/index.md", "Own banks"),
    ("Teaching", "teaching.md", "Teaching"),
    ("The app in a browser", "classroom-server.md", "The app in a browser"),
    ("Reliability and speed", "reliability.md", "Reliability"),
    ("Hostile and broken input", "reliability.md", "Hostile and broken input"),
    ("Where documents and sessions go", "reliability.md", "Where documents and sessions go"),
    ("Answers are what the screen shows", "reliability.md", "Answers are what the screen shows"),
    ("The bank cache", "reliability.md", "The bank cache"),
    ("Speed", "performance.md", "Speed"),
    ("Layout", "architecture.md", "Layout"),
)


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


# ---------------------------------------------------------------------------------------------
# The README


def test_readme_is_short_and_opens_with_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.encode()) <= 8 * 1024, "the README keeps what a newcomer needs first; the rest is in docs/"
    blocks = re.findall(r"```sh\n(.*?)\n```", text, re.DOTALL)
    assert tuple(blocks[:2]) == SETUP_COMMANDS, "the first two commands are the main job and the test suite"
    assert "IEEE Access 12:53277-53292, 2024, doi:10.1109/ACCESS.2024.3387702" in text
    assert "this tool's own operationalization" in text


def test_the_ci_runs_the_readmes_test_command():
    install, test = SETUP_COMMANDS[1].split(" && ")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").replace(" -q ", " ")  # quieter, same install
    assert install in ci and test in ci


def test_every_relative_link_of_the_readme_names_a_file():
    text = README.read_text(encoding="utf-8")
    targets = [target for target in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in target]
    assert "docs/images/walkthrough.svg" in targets, "the README shows the app"
    for target in targets:
        assert (ROOT / target.split("#")[0]).exists(), target


# ---------------------------------------------------------------------------------------------
# The site


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr  # --strict: a missing page or anchor is an error
    return target


def page_html(site: Path, page: str) -> str:
    built = site / (page.removesuffix("index.md") if page.endswith("index.md") else page.removesuffix(".md") + "/")
    return (built / "index.html").read_text(encoding="utf-8")


def visible_text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markup)).split())


def test_the_site_builds_strictly(site):
    assert (site / "index.html").is_file()
    assert (site / "reference" / "commands" / "index.html").is_file()


@pytest.mark.parametrize("old, page, heading", OLD_README_SECTIONS, ids=[old for old, _, _ in OLD_README_SECTIONS])
def test_every_section_of_the_old_readme_has_a_home(site, old, page, heading):
    markup = page_html(site, page)
    titles = {visible_text(title).removesuffix("¶").strip()
              for title in re.findall(r"<(?:h[1-4]|strong)[^>]*>(.*?)</(?:h[1-4]|strong)>", markup, re.DOTALL)}
    assert heading in titles, f"{page} has no heading {heading!r} for the old README's {old!r}"


def test_the_home_page_shows_the_readmes_setup(site):
    text = visible_text(page_html(site, "index.md"))
    for command in SETUP_COMMANDS:
        assert command in text


def test_every_picture_the_docs_show_is_an_export_of_the_app(tmp_path):
    shown = set(re.findall(r"images/([\w-]+)\.svg", README.read_text(encoding="utf-8")))
    for page in DOCS.rglob("*.md"):
        shown |= set(re.findall(r"images/([\w-]+)\.svg", page.read_text(encoding="utf-8")))
    done = run_script("scripts/screenshots.py", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    made = {path.stem for path in tmp_path.glob("*.svg")}
    assert shown <= made, f"pictures the script does not make: {shown - made}"
    committed = {path.stem for path in (DOCS / "images").glob("*.svg")}
    assert committed == made, "docs/images holds exactly what scripts/screenshots.py makes"
    for name in made:
        fresh, kept = (tmp_path / f"{name}.svg").read_text(), (DOCS / "images" / f"{name}.svg").read_text()
        # The window title is the first text of an export; the rest follows the screens as they change.
        title = re.search(r'class="terminal-[\w-]+-title"[^>]*>([^<]*)<', fresh)[1]
        assert title and title in kept, name


# ---------------------------------------------------------------------------------------------
# The command reference


def test_the_command_reference_is_the_parsers_own():
    done = run_script("scripts/command_reference.py", "--check")
    assert done.returncode == 0, done.stderr


def test_the_command_reference_names_every_command_and_option():
    from guide.cli import build_parser

    text = (DOCS / "reference" / "commands.md").read_text(encoding="utf-8")
    parser = build_parser()
    (commands,) = [action for action in parser._actions if hasattr(action, "choices") and action.dest == "command"]
    for name, subparser in commands.choices.items():
        section = text.split(f"\n## guide {name}\n", 1)[1].split("\n## ", 1)[0]
        for action in subparser._actions:
            for option in action.option_strings:
                assert f"`{option}" in section or f", {option}" in section, f"guide {name} {option}"
