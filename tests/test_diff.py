"""diff, what-if and sensitivity on the presets: the changes a designer would expect, and only true ones."""

from __future__ import annotations

import pytest
import yaml
from markdown_it import MarkdownIt

from guide.bank import read_answers
from guide.diff import (compare, comparison_markdown, comparison_text, hypothetical, parse_assignment, sensitivity,
                        sensitivity_markdown)
from guide.engine import evaluate
from guide.model import AnswersFile
from guide.source import GuideError

from .conftest import CASES, FIXED_DATE, run_guide


def preset(bank, case: str) -> AnswersFile:
    return read_answers(bank.cases()[case], bank)


def levels(result) -> dict[str, str]:
    return {element.id: element.level for element in result.elements}


def test_what_if_autonomous_raises_actionability_in_breast_cancer_detection(bank):
    # Outputs no one reviews must tell their users what to do: actionability rises to lead with localization.
    answers = preset(bank, "breast-cancer-detection")
    comparison = compare(bank, evaluate(bank, answers), evaluate(bank, hypothetical(bank, answers, ["model_role=autonomous"])))
    moved = {change.element: change for change in comparison.moved_elements}
    assert moved["actionability"].direction == "up"
    assert [change.question for change in comparison.answers][0] == "model_role"
    assert comparison.answers[0].before == "second_reader" and comparison.answers[0].after == "autonomous"


@pytest.mark.parametrize(("first", "second"), [(a, b) for a in CASES for b in CASES if a != b])
def test_comparison_reports_exactly_the_level_and_rank_changes_between_presets(bank, first, second):
    before, after = evaluate(bank, preset(bank, first)), evaluate(bank, preset(bank, second))
    comparison = compare(bank, before, after)
    expected_moves = {element: (levels(before)[element], level) for element, level in levels(after).items()
                      if levels(before)[element] != level}
    assert {change.element: (change.before, change.after) for change in comparison.moved_elements} == expected_moves
    ranks = {method.id: (method.rank, method.status) for method in before.methods}
    assert {change.method for change in comparison.methods} == {
        method.id for method in after.methods if ranks[method.id] != (method.rank, method.status)}
    assert "task" in {change.question for change in comparison.answers}
    assert not comparison.identical


def test_dr_screening_to_brain_encoding_reads_as_the_framework_says(bank):
    """Physical attribution is low for screening and matters for an encoding model (measured responses)."""
    comparison = compare(bank, evaluate(bank, preset(bank, "dr-screening")), evaluate(bank, preset(bank, "brain-encoding")))
    by_element = {change.element: change for change in comparison.elements}
    assert by_element["physical_attribution"].direction == "up"
    task = next(change for change in comparison.answers if change.question == "task")
    assert (task.before, task.after) == ("screening_triage", "scientific_encoding")
    text = comparison_text(comparison)
    assert "What does the model do? (task): Screening or triage → Scientific encoding model" in text


def test_a_design_compared_with_itself_has_no_differences(bank):
    result = evaluate(bank, preset(bank, "breast-cancer-detection"))
    comparison = compare(bank, result, result)
    assert comparison.identical
    assert comparison_text(comparison).startswith("No differences")


def test_comparison_markdown_is_escaped_and_well_formed(bank):
    answers = preset(bank, "dr-screening").model_copy(update={"title": "<script>x</script> *bold* [a](javascript:y)"})
    changed = hypothetical(bank, answers, ["goals=safety,trust_calibration,education"])
    markdown = comparison_markdown(compare(bank, evaluate(bank, answers), evaluate(bank, changed)))
    html = MarkdownIt("commonmark").render(markdown)
    assert "<script>" not in html and "href" not in html and "<em>bold" not in html
    assert "&lt;script&gt;x&lt;/script&gt; *bold* [a](javascript:y)" in html
    assert "Safety; Trust calibration; Equitable use → Safety; Trust calibration; Education" in markdown


@pytest.mark.parametrize("case", CASES)
def test_every_sensitivity_move_really_moves_the_level(bank, case):
    answers = preset(bank, case)
    result = evaluate(bank, answers)
    report = sensitivity(bank, answers, result)
    assert [element.element for element in report.elements] == [element.id for element in result.elements]
    total = 0
    for element in report.elements:
        for move in element.moves:
            changed = AnswersFile(answers={**answers.answers, move.question: move.value})
            assert levels(evaluate(bank, changed))[element.element] == move.level != element.level
            total += 1
    assert total > 0


def test_sensitivity_finds_the_autonomy_lever_for_transparency(bank):
    answers = preset(bank, "brain-encoding")
    report = sensitivity(bank, answers, evaluate(bank, answers))
    transparency = next(element for element in report.elements if element.element == "model_transparency")
    assert any(move.question == "model_role" and move.value == "autonomous" and move.direction == "up"
               for move in transparency.moves)
    assert "`model_role`" in sensitivity_markdown(report)


def test_multiple_choice_values_are_given_with_commas(bank):
    assert parse_assignment(bank, "goals=safety, trust_calibration") == ("goals", ["safety", "trust_calibration"])
    assert parse_assignment(bank, "model_role=autonomous") == ("model_role", "autonomous")
    assert parse_assignment(bank, "use_case_summary=A model, with commas") == ("use_case_summary", "A model, with commas")


@pytest.mark.parametrize(("assignment", "message"), [
    ("goals=safety,nonsense", "--set: goals: unknown choice 'nonsense' (choices: "),
    ("model_rol=autonomous", "--set: model_rol: unknown question 'model_rol' (did you mean model_role?)"),
    ("model_role=triage,autonomous", "--set: model_role: takes one choice, got 2"),
    ("goals=unsure,safety", "--set: goals: 'unsure' cannot be combined with other choices"),
    ("model_role", "--set: 'model_role' is not QUESTION=VALUE"),
    ("model_role=", "--set: model_role: needs a value after '='"),
])
def test_bad_set_values_are_one_line_errors(bank, assignment, message):
    with pytest.raises(GuideError) as error:
        hypothetical(bank, preset(bank, "dr-screening"), [assignment])
    assert str(error.value).startswith(message)


def test_what_if_and_diff_on_the_command_line(tmp_path):
    design = tmp_path / "dr.md"
    assert run_guide("run", "--case", "dr-screening", "--date", FIXED_DATE, "--out", str(design)).returncode == 0
    what_if = run_guide("what-if", str(design), "--set", "model_role=autonomous")
    assert what_if.returncode == 0, what_if.stderr
    # Transparency rises with autonomy, but stays below the share of actionability that essential asks for.
    assert "Model transparency (T) stays important (score 4 → 7)" in what_if.stdout
    as_markdown = run_guide("what-if", "--case", "dr-screening", "--set", "model_role=autonomous", "--format", "md")
    assert as_markdown.returncode == 0 and "## Comparison" in as_markdown.stdout

    autonomous = tmp_path / "autonomous.md"
    autonomous.write_text(design.read_text(encoding="utf-8").replace("model_role: triage", "model_role: autonomous"),
                          encoding="utf-8")
    diff = run_guide("diff", str(design), str(autonomous))
    assert diff.returncode == 1, diff.stderr  # they differ, as `diff` says it
    assert diff.stdout.splitlines()[:2] == ["dr.md: Automated diabetic retinopathy screening",
                                            "autonomous.md: Automated diabetic retinopathy screening"]
    assert "(model_role): Triage → Autonomous" in diff.stdout
    assert "Model transparency (T) stays important (score 4 → 7)" in diff.stdout

    bad = run_guide("what-if", str(design), "--set", "goals=safety,nonsense")
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.count("\n") == 1
    assert "unknown choice 'nonsense'" in bad.stderr
    twice = run_guide("what-if", str(design), "--set", "goals=safety,safety")
    assert (twice.returncode, twice.stdout, twice.stderr) == (2, "", "guide: --set: goals: choice 'safety' is given twice\n")

    sensitivity_run = run_guide("what-if", str(design), "--sensitivity")
    assert sensitivity_run.returncode == 0
    assert "Model transparency (T), now important:" in sensitivity_run.stdout


def test_a_level_that_moves_with_its_score_unchanged_gives_the_share_that_holds_it_below(bank, tmp_path):
    """Localization keeps 11 when the model keeps only confident cases, yet drops to important: actionability
    rises to 19 and essential asks for 60% of the leading score. what-if and diff say so, in both directions."""
    essential = bank.meta.levels[0]
    after = evaluate(bank, hypothetical(bank, preset(bank, "dr-screening"), ["model_role=confident_cases_only"]))
    top = max(element.score for element in after.elements)
    held = (f"held below essential: {essential.min_share_of_top:.0%} of A's {top:g} is "
            f"{essential.min_share_of_top * top:g}")
    what_if = run_guide("what-if", "--case", "dr-screening", "--set", "model_role=confident_cases_only")
    assert what_if.returncode == 0, what_if.stderr
    assert f"Localization (L): Essential → Important (down; score 11 → 11; {held})" in what_if.stdout
    as_markdown = run_guide("what-if", "--case", "dr-screening", "--set", "model_role=confident_cases_only",
                            "--format", "md")
    assert f"- **Localization (L): Essential → Important (down; score 11 → 11; {held})**" in as_markdown.stdout
    confident = tmp_path / "confident.yaml"
    confident.write_text(bank.cases()["dr-screening"].read_text(encoding="utf-8").replace(
        "model_role: triage", "model_role: confident_cases_only"), encoding="utf-8")
    diff = run_guide("diff", str(confident), str(bank.cases()["dr-screening"]))
    assert f"Localization (L): Important → Essential (up; score 11 → 11; was {held})" in diff.stdout


def test_an_answer_given_alike_is_not_listed_as_differing_when_only_the_walk_passes_it_by():
    """explanation_priority was listed under "Answers that differ (3)" as "Yes ... -> Yes ... (answered, but off this
    walk, so not counted)": the answer is the same; that one walk no longer counts it is said apart."""
    what_if = run_guide("what-if", "--case", "dr-screening", "--set", "model_status=frozen_black_box",
                        "--set", "white_box_access=query_only")
    assert what_if.returncode == 0, what_if.stderr
    differ, alike = what_if.stdout.split("\n\n")[1:3]
    assert differ.startswith("Answers that differ (2):\n")
    assert "(model_status)" in differ and "(white_box_access)" in differ and "explanation_priority" not in differ
    assert alike == ("Answered alike, but counted in one design only (1):\n  - May the model's architecture, labels or "
                     "pipeline be chosen for the sake of its explanation? (explanation_priority): Yes: the explanation "
                     "may shape the model (counted in “As answered”; off the walk of “What if”, so not counted "
                     "there)")


def test_a_question_left_unanswered_that_only_one_walk_asks_is_a_difference_not_an_answer_given_alike():
    """Unsure of the task, the walk asks label_granularity, which the preset never reached: it was listed under
    "Answered alike" with a blank answer. Unanswered is not answered alike: it is a question the other walk adds."""
    what_if = run_guide("what-if", "--case", "breast-cancer-detection", "--set", "task=unsure")
    assert what_if.returncode == 0, what_if.stderr
    differ, alike = what_if.stdout.split("\n\n")[1:3]
    assert ("At what granularity are the training labels given? (label_granularity): not asked → not answered"
            in differ)
    # The preset's answer to output_classes, asked of a detector only, is off the unsure walk: counted in one design.
    assert alike.startswith("Answered alike, but counted in one design only (2):\n") and "label_granularity" not in alike
    assert "(output_classes)" in alike
    assert "):  (counted in" not in what_if.stdout


def test_diff_shows_the_notes_that_differ_and_exits_like_diff(bank, tmp_path):
    """0 when the designs are the same, 1 when they differ (a note alone is a difference), 2 on bad input."""
    before = tmp_path / "before.yaml"
    before.write_bytes(bank.cases()["breast-cancer-detection"].read_bytes())
    design = yaml.safe_load(before.read_text(encoding="utf-8"))
    design["notes"]["data_size"] = "Counted with the registry: 3,100 positives."
    removed = design["notes"].pop("subgroup_disparity")
    after = tmp_path / "after.yaml"
    after.write_text(yaml.safe_dump(design, allow_unicode=True), encoding="utf-8")

    same = run_guide("diff", str(before), str(before))
    assert (same.returncode, same.stderr) == (0, "")
    assert same.stdout.startswith("No differences")

    notes = run_guide("diff", str(before), str(after))
    assert (notes.returncode, notes.stderr) == (1, "")
    data_size, subgroups = bank.questions["data_size"].prompt, bank.questions["subgroup_disparity"].prompt
    assert "Notes that differ (2):" in notes.stdout
    assert (f"  - {data_size} (data_size): “Many examinations, but cancers are rare: a few thousand positives.” → "
            "“Counted with the registry: 3,100 positives.”") in notes.stdout
    assert f"  - {subgroups} (subgroup_disparity): “{removed}” → no note" in notes.stdout

    markdown = run_guide("diff", str(before), str(after), "--format", "md")
    assert markdown.returncode == 1 and "### Notes that differ" in markdown.stdout
    assert "“Counted with the registry: 3,100 positives.”" in markdown.stdout

    missing = run_guide("diff", str(before), str(tmp_path / "missing.yaml"))
    assert missing.returncode == 2 and missing.stdout == "" and missing.stderr.count("\n") == 1


def test_an_empty_list_of_choices_is_no_answer_not_unsure_and_no_difference(tmp_path):
    """`goals: []` (nothing ticked, as a file can say) was told as an Unsure answer in the document's open
    questions, and `guide diff` against the same file without it said "not answered → not answered", exit 1."""
    without = tmp_path / "without.yaml"
    without.write_text("answers: {task: detection}\n")
    empty = tmp_path / "empty.yaml"
    empty.write_text("answers: {task: detection, goals: []}\n")
    compared = run_guide("diff", str(without), str(empty))
    assert (compared.returncode, compared.stderr) == (0, ""), compared.stdout
    document = run_guide("run", "--answers", str(empty)).stdout
    assert "What should interpretability achieve in this project?** (unanswered)" in document
