"""A Markdown design document carries its answers: re-running it reproduces it byte for byte."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guide.bank import bank_change, front_matter as split_front_matter, read_answers
from guide.engine import evaluate
from guide.load import load_bank
from guide.model import AnswersFile, Review
from guide.report import document_date, render
from guide.report.frontmatter import document_answers, front_matter
from guide.source import GuideError

from .conftest import CASES, FIXED_DATE, run_guide


def make_document(bank, path: Path, format: str = "md", date: str | None = FIXED_DATE) -> str:
    answers = read_answers(path, bank)
    return render(format, evaluate(bank, answers), bank, answers, document_date(answers, date))


def rerun(bank, document: str, tmp_path: Path, name: str = "design.md", date: str | None = None) -> str:
    path = tmp_path / name
    path.write_text(document, encoding="utf-8")
    return make_document(bank, path, date=date)


@pytest.mark.parametrize("case", CASES)
def test_rerunning_a_preset_document_reproduces_it_byte_for_byte(bank, case, tmp_path):
    first = make_document(bank, bank.cases()[case])
    second = rerun(bank, first, tmp_path)
    assert second == first
    assert rerun(bank, second, tmp_path, "again.md") == first


def test_the_command_line_round_trip(tmp_path):
    design = tmp_path / "design.md"
    assert run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", str(design)).returncode == 0
    again = run_guide("run", "--answers", str(design))
    assert again.returncode == 0, again.stderr
    assert again.stdout == design.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_a_json_document_carries_its_answers_too(bank, case, tmp_path):
    as_json = tmp_path / "design.json"
    as_json.write_text(make_document(bank, bank.cases()[case], "json"), encoding="utf-8")
    assert make_document(bank, as_json) == make_document(bank, bank.cases()[case])
    assert make_document(bank, as_json, "json") == as_json.read_text(encoding="utf-8")


def test_json_with_escaped_characters_beyond_the_basic_plane_reads_back(bank, tmp_path):
    """`python -m json.tool` and `json.dumps` write an emoji as a surrogate pair ("\\ud83d\\ude00"); a
    backslash before one (an even run of them) is text and stays text."""
    title = "Screening 😀 \\ud83d\\ude00 and \\\\😀"
    answers = read_answers(bank.cases()["dr-screening"], bank).model_copy(update={"title": title})
    escaped = tmp_path / "design.json"
    escaped.write_text(json.dumps(json.loads(render("json", evaluate(bank, answers), bank, answers, FIXED_DATE)),
                                  indent=4), encoding="ascii")
    assert "\\ud83d\\ude00" in escaped.read_text(encoding="ascii")
    assert read_answers(escaped, bank).title == title
    reformatted = run_guide("run", "--answers", str(escaped), "--format", "json")
    assert reformatted.returncode == 0, reformatted.stderr
    assert json.loads(reformatted.stdout)["answers_file"]["title"] == title


def test_front_matter_holds_everything_the_answers_file_has(bank):
    document = make_document(bank, bank.cases()["dr-screening"])
    text, _ = split_front_matter(document, Path("design.md"))
    data = yaml.safe_load(text)  # a plain YAML 1.1 reader, as other tools would use
    original = read_answers(bank.cases()["dr-screening"], bank)
    assert data["answers"] == original.answers
    assert data["notes"] == original.notes
    assert data["title"] == original.title
    assert (data["date"], data["bank_id"], data["bank_version"], data["bank_hash"]) == (
        FIXED_DATE, bank.meta.id, bank.meta.version, bank.content_hash)
    assert data["reviews"] == [{"reviewer": None, "role": None, "date": None, "decision": "pending", "comments": None}]


def test_date_comes_from_the_front_matter_unless_overridden(bank, tmp_path):
    first = make_document(bank, bank.cases()["brain-encoding"], date="2025-03-04")
    assert "date: '2025-03-04'" in first
    assert rerun(bank, first, tmp_path) == first
    moved = rerun(bank, first, tmp_path, date="2026-06-30")
    assert "date: '2026-06-30'" in moved and "| Date | 2026-06-30 |" in moved


def test_editing_an_answer_in_the_front_matter_updates_the_document(bank, tmp_path):
    first = make_document(bank, bank.cases()["dr-screening"])
    assert "  model_role: triage\n" in first
    edited = first.replace("  model_role: triage\n", "  model_role: autonomous\n")
    updated = rerun(bank, edited, tmp_path)
    assert updated != first
    # The instructor notes of this preset say so: an autonomous screening model raises model transparency.
    assert "| Model transparency (T) | Important | medium | 7 |" in updated
    assert "| Model transparency (T) | Important | high | 4 |" in first
    assert rerun(bank, updated, tmp_path, "again.md") == updated


OLD_REVIEW = """review:
  reviewer: Dr. Ada O'Neill
  date: '2026-02-01'
  decision: changes-requested
  comments: |-
    Localization is right, but:
    ---
    - the evaluation plan needs a reader study
    <script>alert(1)</script> *not emphasis*
"""


def with_reviews(document: str, reviews: str) -> str:
    """The document with its front matter's `reviews` block replaced, as an author records replies."""
    start = document.index("reviews:\n")
    end = document.index("\n---\n", start)
    return document[:start] + reviews + document[end + 1:]


def run_document(path: Path, *options: str) -> str:
    """`guide run --answers` on a document, written back in place, as its author re-runs it."""
    result = run_guide("run", "--answers", str(path), *options, "--out", str(path))
    assert result.returncode == 0, result.stderr
    return path.read_text(encoding="utf-8")


def test_an_older_single_review_is_carried_into_the_list_of_reviews(bank, tmp_path):
    path = tmp_path / "design.md"
    path.write_text(with_reviews(make_document(bank, bank.cases()["breast-cancer-detection"]), OLD_REVIEW),
                    encoding="utf-8")
    again = run_document(path)
    data = yaml.safe_load(split_front_matter(again, Path("design.md"))[0])
    assert "review" not in data
    assert [(review["reviewer"], review["decision"]) for review in data["reviews"]] == [
        ("Dr. Ada O'Neill", "changes-requested")]
    assert data["reviews"][0]["comments"] == ("Localization is right, but:\n---\n- the evaluation plan needs a reader "
                                              "study\n<script>alert(1)</script> *not emphasis*")
    assert run_document(path) == again  # the list it now writes re-runs to itself
    assert "| Dr. Ada O'Neill |  | 2026-02-01 | **changes requested** |" in again
    assert "> \\<script\\>alert(1)\\</script\\> \\*not emphasis\\*" in again
    html = make_document(bank, path, "html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    answers_file = json.loads(make_document(bank, path, "json"))["answers_file"]
    assert answers_file["reviews"][0]["decision"] == "changes-requested" and "review" not in answers_file


TWO_REVIEWERS = """reviews:
- reviewer: Dr. Ada O'Neill
  role: radiologist
  date: '2026-02-01'
  decision: approved
- reviewer: Sam Lee
  role: clinical lead
  date: '2026-02-03'
  decision: {second}
  comments: |-
    Fine,
    once the reader study is planned.
"""


@pytest.mark.parametrize(("second", "overall"), [("approved", "approved"), ("pending", "pending"),
                                                 ("changes-requested", "changes requested"), ("rejected", "rejected")])
def test_every_reviewer_signs_off_and_the_overall_decision_follows(tmp_path, second, overall):
    path = tmp_path / "design.md"
    assert run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", str(path)).returncode == 0
    path.write_text(with_reviews(path.read_text(encoding="utf-8"), TWO_REVIEWERS.format(second=second)),
                    encoding="utf-8")
    document = run_document(path)
    assert f"Overall decision: **{overall}**" in document
    assert "| Reviewer | Role | Date | Decision |" in document
    assert "| Dr. Ada O'Neill | radiologist | 2026-02-01 | **approved** |" in document
    assert f"| Sam Lee | clinical lead | 2026-02-03 | **{second.replace('-', ' ')}** |" in document
    assert "Comments from Sam Lee:\n\n> Fine,\\\n> once the reader study is planned." in document
    assert run_document(path) == document
    assert run_guide("check", str(path)).returncode == 0


def test_a_blank_review_left_in_the_list_keeps_the_design_pending(bank, tmp_path):
    # The blank review a new document offers is a reviewer still to be named, not an approval.
    path = tmp_path / "design.md"
    document = make_document(bank, bank.cases()["dr-screening"])
    path.write_text(document.replace("reviews:\n", "reviews:\n- reviewer: Dr. Ada O'Neill\n  decision: approved\n", 1),
                    encoding="utf-8")
    again = run_document(path)
    assert "Overall decision: **pending**" in again and "| *not named yet* |  | *not reviewed yet* | **pending** |" in again


@pytest.mark.parametrize("reviewer", ["", "- reviewer: ' '\n  ", "- reviewer: ''\n  ", "- reviewer:\n  "])
def test_an_approval_from_no_one_named_keeps_the_design_pending_and_says_why(tmp_path, reviewer):
    """`reviewer: ''` was refused ("String should have at least 1 character") where `reviewer:` left empty was
    "not named yet": both are no one named. Such a decision is no sign-off, so it is not stamped with the answers
    it was made on (nor called stale) until a name makes it count."""
    path = tmp_path / "design.md"
    assert run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", str(path)).returncode == 0
    entry = f"{reviewer}decision: approved\n" if reviewer else "- decision: approved\n"
    path.write_text(with_reviews(path.read_text(encoding="utf-8"), f"reviews:\n{entry}"), encoding="utf-8")
    document = run_document(path)
    assert "Overall decision: **pending**" in document
    assert "**approved (not counted: no reviewer named)** |" in document
    assert "A review without a reviewer's name does not count toward the decision" in document
    assert json.loads(run_guide("run", "--answers", str(path), "--format", "json").stdout)["review_decision"] == "pending"
    assert run_guide("check", str(path)).returncode == 0  # current, and what it says is pending
    assert "answers_hash" not in document and "stale" not in document
    path.write_text(document.replace("- reviewer: null\n", "- reviewer: Sam Lee\n", 1), encoding="utf-8")
    stamped = run_document(path)
    assert "Overall decision: **approved**" in stamped and "answers_hash:" in stamped


@pytest.mark.parametrize(("written", "shown"), [("Approved", "approved"), ("Changes requested", "changes requested"),
                                                ("REJECTED", "rejected"), ("changes_requested", "changes requested")])
def test_a_decision_is_read_whatever_its_case_or_dashes(tmp_path, written, shown):
    path = tmp_path / "design.md"
    assert run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", str(path)).returncode == 0
    path.write_text(with_reviews(path.read_text(encoding="utf-8"),
                                 f"reviews:\n- reviewer: Sam Lee\n  decision: {written}\n"), encoding="utf-8")
    assert f"| Sam Lee |  | *not dated* | **{shown}** |" in run_document(path)


def test_an_approval_with_another_bank_is_stale(bank, bank_copy, tmp_path):
    path = tmp_path / "design.md"
    path.write_text(with_reviews(make_document(bank, bank.cases()["dr-screening"]),
                                 TWO_REVIEWERS.format(second="approved")), encoding="utf-8")
    run_document(path)
    rules = bank_copy / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("weight: 2\n", "weight: 3\n", 1), encoding="utf-8")
    document = run_document(path, "--bank", str(bank_copy))
    assert "| Sam Lee | clinical lead | 2026-02-03 | **approved with another question bank (stale)** |" in document
    assert "Overall decision: **pending**" in document


def test_strings_yaml_1_1_reads_as_booleans_stay_strings(bank, tmp_path):
    answers = AnswersFile(title="no", answers={"task": "detection", "use_case_summary": "yes"}, notes={"task": "off"})
    text = front_matter(document_answers(answers, bank, FIXED_DATE))
    data = yaml.safe_load(text.strip().strip("-"))
    assert data["title"] == "no" and data["answers"]["use_case_summary"] == "yes" and data["notes"]["task"] == "off"


# Any text a user can type survives the front matter exactly (control characters and all).
typed_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=120)
TRICKY_PIECES = ["\n", "\n---\n", "---", "...", "  ", "#", ": ", "- ", "'", '"', "|", ">", "\r", "\r\n", "\x85",
                 "\u2028", "\ufeff", "\t", "\x00", "\x1b[31m", "no", "2026-01-01", "&a", "*a", "!!python/object"]
line_text = st.lists(st.characters(blacklist_categories=("Cs",)) | st.sampled_from(TRICKY_PIECES),
                     min_size=1, max_size=40).map("".join)


@functools.cache
def builtin_bank():
    return load_bank()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=typed_text.filter(lambda text: len(text) <= 300), note=line_text, comments=line_text,
       summary=line_text.filter(str.strip))
def test_any_text_survives_the_front_matter(tmp_path, title, note, comments, summary):
    bank = builtin_bank()
    answers = AnswersFile(title=title, answers={"task": "detection", "use_case_summary": summary},
                          notes={"task": note}, reviews=[Review(reviewer="R", role=title[:300], comments=comments)])
    carried = document_answers(answers, bank, FIXED_DATE)
    path = tmp_path / "design.md"
    path.write_text(front_matter(carried) + "# body\n", encoding="utf-8", newline="")
    assert read_answers(path, bank) == carried


def test_a_document_of_the_current_bank_reports_no_bank_change(bank):
    answers = read_answers(bank.cases()["dr-screening"], bank)
    assert bank_change(document_answers(answers, bank, FIXED_DATE), bank) is None


# ---------------------------------------------------------------------------------------------
# Bank versions and migrations.


def migrated_bank(directory: Path, *, with_migration: bool = True) -> Path:
    """Version 2.2.0 of the bank: `model_role` renamed to `role_of_model`, `other_constraints` removed."""
    for path in directory.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        if path.parent.name != "cases":
            path.write_text(text.replace("model_role", "role_of_model"), encoding="utf-8")
    flow = directory / "flow" / "5-constraints.yaml"
    data = yaml.safe_load(flow.read_text(encoding="utf-8"))
    data["questions"] = [question for question in data["questions"] if question["id"] != "other_constraints"]
    for question in data["questions"]:
        for branch in question["next"]:
            if branch["goto"] == "other_constraints":
                branch["goto"] = "end"
    flow.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    meta = directory / "bank.yaml"
    migration = ('migrations:\n  - from_version: "2.1.0"\n    renamed: {model_role: role_of_model}\n'
                 '    removed: [other_constraints]\n    note: The role question was renamed; free-text '
                 'constraints moved to notes.\n') if with_migration else "migrations:\n"
    text = meta.read_text(encoding="utf-8").replace('version: "2.1.0"', 'version: "2.2.0"')
    meta.write_text(text.replace("migrations:\n", migration, 1), encoding="utf-8")
    return directory


def test_a_document_made_with_an_older_bank_is_migrated_and_says_what_changed(bank, bank_copy, tmp_path):
    old = make_document(bank, bank.cases()["dr-screening"])
    assert "  other_constraints: " in old and "  model_role: triage" in old
    new_bank = load_bank(migrated_bank(bank_copy))
    assert new_bank.meta.version == "2.2.0"
    path = tmp_path / "old.md"
    path.write_text(old, encoding="utf-8")
    answers = read_answers(path, new_bank)
    assert answers.answers["role_of_model"] == "triage"
    assert "model_role" not in answers.answers and "other_constraints" not in answers.answers
    assert answers.notes["role_of_model"].startswith("Read here as triage")

    migrated = make_document(new_bank, path)
    assert "## Question bank changed" in migrated
    assert "made with version 2.1.0 of the question bank; this document uses version 2.2.0" in migrated
    assert "- `model_role` is now `role_of_model`" in migrated
    assert "- `other_constraints` was removed" in migrated
    assert "The role question was renamed" in migrated
    assert "  role_of_model: triage\n" in migrated and "bank_version: 2.2.0\n" in migrated
    assert "other_constraints" not in split_front_matter(migrated, Path("design.md"))[0]
    # The body is the old design read with the new bank: same priorities, families and plan, since only names
    # changed (up to the removed question's free text, which the plan quotes).
    def body(document: str) -> str:
        summary_to_plan_end = document.split("## Summary")[1].split("\n## Published systems like yours")[0]
        return summary_to_plan_end.split("\n\nYour constraints in your own words")[0].rstrip()

    assert body(migrated).replace("role_of_model", "model_role") == body(old)
    assert "Your constraints in your own words" in old and "Your constraints in your own words" not in migrated

    # The migrated document is a fixed point that keeps the note until `migrated_from` is deleted.
    assert "migrated_from: 2.1.0\n" in migrated
    assert rerun(new_bank, migrated, tmp_path, "again.md") == migrated
    settled = rerun(new_bank, migrated.replace("migrated_from: 2.1.0\n", ""), tmp_path, "settled.md")
    assert "## Question bank changed" not in settled and "migrated_from" not in settled
    assert rerun(new_bank, settled, tmp_path, "settled-again.md") == settled
    data = json.loads(make_document(new_bank, path, "json"))
    assert data["bank_change"]["renamed"] == {"model_role": "role_of_model"}
    assert data["bank_change"]["from_version"] == "2.1.0" and data["bank_change"]["to_version"] == "2.2.0"


def test_without_a_migration_an_answer_to_a_renamed_question_is_a_clear_error(bank, bank_copy, tmp_path):
    path = tmp_path / "old.md"
    path.write_text(make_document(bank, bank.cases()["dr-screening"]), encoding="utf-8")
    new_bank = migrated_bank(bank_copy, with_migration=False)
    result = run_guide("run", "--bank", str(new_bank), "--answers", str(path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "unknown question 'model_role'" in result.stderr
    assert "made with bank version 2.1.0; this bank is version 2.2.0 and lists no migration" in result.stderr
    assert f"{path}:" in result.stderr and "Traceback" not in result.stderr


def test_a_2_0_answer_of_landmarks_or_overlays_is_carried_over_as_named_landmarks(tmp_path):
    """Bank 2.1 split "Landmarks or overlays on anatomy" in two; an old answer keeps the result it had (named
    landmarks), and the re-run document says so and tells when to answer again."""
    path = tmp_path / "old.yaml"
    path.write_text("bank_id: wang2024-mlmi\nbank_version: \"2.0.0\"\nanswers:\n  task: registration\n"
                    "  explanation_form: [landmarks_overlays, physical_measurements]\n", encoding="utf-8")
    result = run_guide("run", "--answers", str(path))
    assert result.returncode == 0, result.stderr
    assert "  - named_landmarks\n  - physical_measurements\n" in result.stdout
    assert "- `explanation_form`: the choice `landmarks_overlays` is now `named_landmarks`" in result.stdout
    assert "if users check contours or an atlas, answer it again" in result.stdout


def test_a_renamed_question_given_under_both_names_is_an_error(bank, bank_copy, tmp_path):
    new_bank = load_bank(migrated_bank(bank_copy))
    path = tmp_path / "both.yaml"
    path.write_text('bank_version: "2.1.0"\nanswers:\n  model_role: triage\n  role_of_model: autonomous\n',
                    encoding="utf-8")
    with pytest.raises(GuideError) as error:
        read_answers(path, new_bank)
    assert str(error.value) == (f"{path}:3: answers.model_role: 'model_role' was renamed to 'role_of_model', "
                                "which is also given")

