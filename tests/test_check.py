"""`guide check` in a team's CI: 0 current, 1 stale (with what differs), 2 unusable input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import FIXED_DATE, run_guide
from .test_roundtrip import TWO_REVIEWERS, run_document, with_reviews


@pytest.fixture
def design(tmp_path: Path) -> Path:
    path = tmp_path / "design.md"
    result = run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", str(path))
    assert result.returncode == 0, result.stderr
    return path


def test_a_fresh_document_is_current(design):
    result = run_guide("check", str(design))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"{design}: current (bank wang2024-mlmi")


def test_a_document_with_windows_line_endings_is_still_current(design):
    design.write_bytes(design.read_bytes().replace(b"\n", b"\r\n"))
    assert run_guide("check", str(design)).returncode == 0


def test_an_answer_edited_in_the_front_matter_makes_the_document_stale(design):
    design.write_text(design.read_text(encoding="utf-8").replace("model_role: triage", "model_role: autonomous"),
                      encoding="utf-8")
    result = run_guide("check", str(design))
    assert result.returncode == 1
    assert f"{design}: stale" in result.stdout
    assert "Summary (" in result.stdout and "Element evidence (" in result.stdout
    assert "+| Model transparency (T) | Important | medium | 7 |" in result.stdout
    assert f"update it with: guide run --answers {design} --out {design}" in result.stdout
    fixed = run_guide("run", "--answers", str(design), "--out", str(design))
    assert fixed.returncode == 0
    assert run_guide("check", str(design)).returncode == 0


def test_an_approval_records_what_it_approved_and_goes_stale_when_the_answers_change(design):
    path = design
    path.write_text(with_reviews(path.read_text(encoding="utf-8"), TWO_REVIEWERS.format(second="approved")),
                    encoding="utf-8")
    approved = run_document(path)
    hashes = re.findall(r"\n  answers_hash: (\w+)\n  bank_hash: (\w+)\n", approved)
    assert len(hashes) == 2 and len(set(hashes)) == 1  # both stamped at the run after they were recorded
    assert "Overall decision: **approved**" in approved
    # An answer changed after the approvals: the document no longer carries them, and check says so.
    path.write_text(approved.replace("  model_role: triage\n", "  model_role: autonomous\n"), encoding="utf-8")
    edited = run_guide("check", str(path))
    assert edited.returncode == 1
    assert ("  approvals that no longer match: Dr. Ada O'Neill (2026-02-01): approved other answers (stale); "
            "Sam Lee (2026-02-03): approved other answers (stale)") in edited.stdout
    rerun_document = run_document(path)
    assert "Overall decision: **pending**" in rerun_document
    assert "| Dr. Ada O'Neill | radiologist | 2026-02-01 | **approved other answers (stale)** |" in rerun_document
    assert run_document(path) == rerun_document  # still reproducible, and still not approved
    still = run_guide("check", str(path))
    assert still.returncode == 1
    assert still.stdout.startswith(f"{path}: stale: approvals no longer match its answers.\n")
    assert "Sam Lee (2026-02-03): approved other answers (stale)" in still.stdout
    # Both reviewers approve again: their new decisions, without the old hashes, are stamped afresh.
    path.write_text(re.sub(r"  answers_hash: \w+\n  bank_hash: \w+\n", "", rerun_document), encoding="utf-8")
    reapproved = run_document(path)
    assert "Overall decision: **approved**" in reapproved and "(stale)" not in reapproved
    assert run_guide("check", str(path)).returncode == 0


def test_a_hand_edited_body_is_stale(design):
    design.write_text(design.read_text(encoding="utf-8").replace("## Summary", "## Summary\n\nWe decided otherwise."),
                      encoding="utf-8")
    result = run_guide("check", str(design))
    assert result.returncode == 1
    assert "sections that differ: Summary (2 lines)" in result.stdout and "    -We decided otherwise." in result.stdout
    # The bank is the one it was made with: the answers or the text were edited, and updating loses a hand edit.
    assert "its answers now produce a different document" not in result.stdout
    assert "its text was edited by hand" in result.stdout
    assert "a line marked - that was written by hand is lost" in result.stdout


def test_a_changed_bank_makes_the_document_stale_and_says_how(design, bank, bank_copy):
    rules = bank_copy / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert "weight: 2\n" in text
    rules.write_text(text.replace("weight: 2\n", "weight: 3\n", 1), encoding="utf-8")
    result = run_guide("check", "--bank", str(bank_copy), str(design))
    assert result.returncode == 1
    assert f"content hash {bank.content_hash} → " in result.stdout


def test_several_documents_exit_with_the_worst_status(design, tmp_path):
    stale = tmp_path / "stale.md"
    stale.write_text(design.read_text(encoding="utf-8").replace("| Date | 2026-01-15 |", "| Date | yesterday |"),
                     encoding="utf-8")
    result = run_guide("check", str(design), str(stale))
    assert result.returncode == 1
    assert [line.split(": ")[1].split()[0] for line in result.stdout.splitlines() if not line.startswith(" ")] == [
        "current", "stale"]
    missing = run_guide("check", str(design), str(tmp_path / "missing.md"))
    assert missing.returncode == 2
    assert "current" in missing.stdout and "missing.md" in missing.stderr


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("answers.yaml", "answers:\n  task: detection\n", "(.json); this is not a design document"),
    ("plain.md", "# Notes\n\nNo front matter here.\n", "no YAML front matter with answers"),
    ("broken.md", "---\ntitle: x\nanswers:\n  task: [unclosed\n---\n# x\n", "YAML"),
    ("unclosed.md", "---\ntitle: x\nanswers:\n  task: detection\n\n# x\n", ":1: the front matter that opens here is not closed"),
    ("unknown.md", "---\ntitle: x\nanswers:\n  nosuchquestion: yes\n---\n# x\n", "unknown question 'nosuchquestion'"),
    ("design.html", "<!DOCTYPE html>", "an HTML document does not"),
    ("answers.json", '{"answers": {"task": "detection"}}', "not a design document: `guide run --format json` writes one"),
    ("design.json", '{"document": "guide-design-document",\n "answers_file": {"answers": {"task": 1}}}',
     ":2: answers_file.answers.task: "),
    ("number.json", '{"document": "guide-design-document",\n "answers_file": 5}',
     ": answers_file: expected a mapping of keys to values, found a number"),
    ("list.md", "---\n- a\n---\n# x\n", "expected a mapping of keys to values, found a list"),
    ("cut.json", "{\n", ":1: JSON: the text ends before the document does"),
    ("comma.json", '{"document": "guide-design-document",\n "answers_file": }\n', ":2: JSON: Expecting value"),
])
def test_unusable_input_is_a_one_line_error_with_exit_2(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = run_guide("check", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"guide: {path}") and result.stderr.count("\n") == 1
    assert problem in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["documents", "design.md"])
def test_a_folder_is_said_to_be_a_folder(tmp_path, name):
    """`guide check adv/` said "this is not a design document"; a folder named .md said "Is a directory"."""
    folder = tmp_path / name
    folder.mkdir()
    result = run_guide("check", f"{folder}/")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"guide: {folder}: is a folder, not a design document: give the documents in it, as in "
                             f"`guide check {folder}/*.md`\n")


def test_unknown_question_error_names_its_line(tmp_path):
    path = tmp_path / "unknown.md"
    path.write_text("---\ntitle: x\nanswers:\n  nosuchquestion: 'yes'\n---\n# x\n", encoding="utf-8")
    assert run_guide("check", str(path)).stderr.startswith(f"guide: {path}:4: answers.nosuchquestion:")


def test_a_document_of_an_older_bank_version_is_stale_and_names_the_migration(design, bank_copy):
    from .test_roundtrip import migrated_bank

    new_bank = migrated_bank(bank_copy)
    result = run_guide("check", "--bank", str(new_bank), str(design))
    assert result.returncode == 1
    assert "version 2.1.0 → 2.2.0" in result.stdout
    assert "renamed model_role → role_of_model; removed other_constraints" in result.stdout
    assert run_guide("run", "--bank", str(new_bank), "--answers", str(design), "--out", str(design)).returncode == 0
    assert run_guide("check", "--bank", str(new_bank), str(design)).returncode == 0


@pytest.mark.parametrize("name", ["design.md", "answers.yaml"])
def test_answers_from_a_newer_bank_version_are_refused_not_called_stale(design, tmp_path, name):
    """A re-run here would stamp them with the older version: no command offers that downgrade."""
    path = tmp_path / name
    text = design.read_text(encoding="utf-8").replace("bank_version: 2.1.0", "bank_version: 9.0.0")
    path.write_text(text if name.endswith(".md") else text.split("---\n")[1], encoding="utf-8")
    line = text.split("---\n")[1].splitlines().index("bank_version: 9.0.0") + (2 if name.endswith(".md") else 1)
    expected = (f"guide: {path}:{line}: bank_version: made with bank version 9.0.0, newer than this guide's bank "
                "(version 2.1.0): open it with a guide whose bank is version 9.0.0 or later\n")
    commands = [["run", "--answers", str(path), "--out", str(tmp_path / "out.md")]]
    if name.endswith(".md"):
        commands.append(["check", str(path)])
    for command in commands:
        result = run_guide(*command)
        assert (result.returncode, result.stdout, result.stderr) == (2, "", expected), command
    assert not (tmp_path / "out.md").exists() and "9.0.0" in path.read_text(encoding="utf-8")


def test_a_json_document_is_checked_the_same_way(tmp_path):
    path = tmp_path / "design.json"
    assert run_guide("run", "--case", "brain-encoding", "--format", "json", "--date", FIXED_DATE,
                     "--out", str(path)).returncode == 0
    assert run_guide("check", str(path)).returncode == 0
    path.write_text(path.read_text(encoding="utf-8").replace('"scientific_discovery"', '"education"'), encoding="utf-8")
    result = run_guide("check", str(path))
    assert result.returncode == 1
    assert "parts that differ: " in result.stdout and "result.elements" in result.stdout
    assert f"update it with: guide run --answers {path} --format json --out {path}" in result.stdout
    assert run_guide("run", "--answers", str(path), "--format", "json", "--out", str(path)).returncode == 0
    assert run_guide("check", str(path)).returncode == 0
