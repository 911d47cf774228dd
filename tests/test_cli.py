"""The command line as a user meets it: presets, documents, help and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from guide.session import Walk, save_session

from .conftest import CASES, FIXED_DATE, ROOT, run_guide
from .test_session import first_dropping_change, unsure

GOLDEN = Path(__file__).parent / "golden"
REQUIRED_SECTIONS = ("Summary", "Use case", "Element priorities", "Method families", "Evaluation plan",
                     "Open questions", "Answers", "Decision path", "How this was derived", "References")


def headings(markdown: str, level: int = 2) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [tokens[index + 1].content for index, token in enumerate(tokens)
            if token.type == "heading_open" and token.tag == f"h{level}"]


@pytest.mark.parametrize("case", CASES)
def test_preset_document_matches_reviewed_golden_copy(case):
    """The golden documents were read by eye before being committed; any change must be looked at again.

    Regenerate with GUIDE_UPDATE_GOLDEN=1 after reviewing the difference.
    """
    result = run_guide("run", "--case", case, "--date", FIXED_DATE)
    assert result.returncode == 0, result.stderr
    golden = GOLDEN / f"{case}.md"
    if os.environ.get("GUIDE_UPDATE_GOLDEN"):
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_preset_document_holds_every_section(case):
    document = (GOLDEN / f"{case}.md").read_text(encoding="utf-8")
    assert [section for section in REQUIRED_SECTIONS if section not in headings(document)] == []
    assert "this tool's reading" in document


def test_cases_lists_the_presets():
    result = run_guide("cases")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == sorted(CASES)


def test_out_writes_the_same_document(tmp_path):
    out = tmp_path / "design.md"
    result = run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == (GOLDEN / "dr-screening.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    (("run", "--case", "no-such-case"), "no case 'no-such-case' (known: brain-encoding, breast-cancer-detection, dr-screening)"),
    (("run", "--answers", "missing.yaml"), "missing.yaml: No such file or directory"),
    (("run", "--case", "dr-screening", "--out", "/nonexistent/dir/doc.md"), "the folder to write into does not exist"),
    (("run",), "one of the arguments --answers --case is required"),
    (("run", "--case", "dr-screening", "--format", "docx"), "invalid choice: 'docx'"),
    (("frobnicate",), "invalid choice: 'frobnicate'"),
])
def test_unusable_input_is_one_line_and_exit_2(args, message):
    result = run_guide(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_version_and_help():
    assert run_guide("--version").stdout.startswith("guide ")
    for command in ("run", "cases"):
        result = run_guide(command, "--help")
        assert result.returncode == 0 and "--bank" in result.stdout


def test_headless_run_never_imports_textual():
    code = ("import sys, io, contextlib; from guide.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): code = main(['run', '--case', 'dr-screening'])\n"
            "assert code == 0\n"
            "print(sorted(name for name in sys.modules if name.split('.')[0] in ('textual', 'rich')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_exported_document_gets_the_usual_permissions(tmp_path):
    """A teammate must be able to read a document written with --out, as with any file the user makes."""
    previous = os.umask(0o022)
    try:
        result = run_guide("run", "--case", "dr-screening", "--out", str(tmp_path / "design.md"))
    finally:
        os.umask(previous)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "design.md").stat().st_mode & 0o777 == 0o644
    assert [path.name for path in tmp_path.iterdir()] == ["design.md"]


def test_a_saved_session_gives_the_document_the_app_would_export(bank, tmp_path):
    """What the app saves after every answer can go straight to `guide run`: the answers on its path
    count, and what a changed answer set aside is listed as set aside, as in the app's results."""
    question_id, old, new, dropped = first_dropping_change(bank)
    walk = Walk(bank)
    walk.record(question_id, old)
    for follower in dropped:
        walk.record(follower, unsure(bank, follower))
    walk.answer(question_id, new)
    session = save_session(walk, tmp_path / "session.yaml")
    assert "set_aside:" in session.read_text()

    result = run_guide("run", "--answers", str(session), "--format", "json", "--date", FIXED_DATE)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["answers_file"]["answers"] == walk.answers.answers
    markdown = run_guide("run", "--answers", str(session), "--date", FIXED_DATE).stdout
    assert "Set aside" in headings(markdown, level=3)
    assert all(bank.questions[follower].prompt in markdown.split("### Set aside")[1] for follower in dropped)
