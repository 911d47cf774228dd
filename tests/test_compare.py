"""`guide compare`: a student's answers against a preset, explained for teaching."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from guide.bank import read_answers
from guide.engine import evaluate
from guide.report.text import md

from .conftest import run_guide

CASE = "dr-screening"


def _student(tmp_path: Path, bank, **changes: str) -> Path:
    """The preset with some answers changed, as a student might have answered."""
    text = bank.cases()[CASE].read_text(encoding="utf-8")
    text = re.sub(r"^title: .*$", "title: A student's screening design", text, count=1, flags=re.MULTILINE)
    for question, value in changes.items():
        text, count = re.subn(rf"^  {question}: .*$", f"  {question}: {value}", text, count=1, flags=re.MULTILINE)
        assert count == 1, question
    path = tmp_path / "student.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_compare_explains_a_changed_answer_and_why_it_matters(tmp_path, bank):
    reference = read_answers(bank.cases()[CASE], bank)
    assert reference.answers["model_role"] != "confident_cases_only" and reference.notes.get("model_role")
    student_path = _student(tmp_path, bank, model_role="confident_cases_only")
    theirs = evaluate(bank, reference)
    yours = evaluate(bank, read_answers(student_path, bank))

    result = run_guide("compare", str(student_path), "--case", CASE)
    assert result.returncode == 0, result.stderr
    text = _flat(result.stdout)
    question = bank.questions["model_role"]
    assert f"{question.prompt} (model_role)" in text
    assert f"The reference: {question.choice(reference.answers['model_role']).label}." in text
    assert f"You: {question.choice('confident_cases_only').label}." in text
    # Why the reference answered as it did: its note on the question.
    assert f"Why the reference answered so: {_flat(reference.notes['model_role'])}" in text
    # What the difference moved: the rationale of every rule that fired on one side only.
    fired = lambda result: {(item.rule, item.target): item for owner in [*result.elements, *result.methods]
                            for item in owner.evidence if "model_role" in item.answers}
    only_yours = [item for key, item in fired(yours).items() if key not in fired(theirs)]
    only_theirs = [item for key, item in fired(theirs).items() if key not in fired(yours)]
    assert only_yours and only_theirs
    for item in only_yours:
        assert _flat(item.because) in text
    # Each element that changed level, with the bank's teaching text on why that element matters.
    moved = [(before, after) for before, after in zip(theirs.elements, yours.elements) if before.level != after.level]
    assert moved
    for before, after in moved:
        assert (f"{after.name} ({after.short}): the reference {before.level_label.lower()}, "
                f"you {after.level_label.lower()}") in text
        assert _flat(bank.elements[after.id].teaching) in text
    # Localization keeps its score but is held below essential by actionability's lead: the lesson says so.
    localization = next(element for element in yours.elements if element.id == "localization")
    essential, top = bank.meta.levels[0], max(element.score for element in yours.elements)
    assert localization.held_below and localization.score == next(
        element.score for element in theirs.elements if element.id == "localization")
    assert localization.held_below_level == essential.id, "the result names the level it was held below"
    assert (f"You rank localization lower than the reference (score {localization.score:g} → {localization.score:g}; "
            f"held below essential: {essential.min_share_of_top:.0%} of A's {top:g} is "
            f"{essential.min_share_of_top * top:g})") in text
    # The preset's instructor notes, for discussion.
    for item in [*reference.instructor_notes.discuss, *reference.instructor_notes.common_mistakes]:
        assert _flat(item) in text


def test_compare_explains_a_family_filtered_out_by_a_missing_need(tmp_path, bank):
    reference = read_answers(bank.cases()[CASE], bank)
    theirs = evaluate(bank, reference)
    needing = [method for method in theirs.complementary if "retraining" in bank.methods[method].needs]
    assert needing, "the reference combination should hold a family that needs retraining"
    student_path = _student(tmp_path, bank, model_status="frozen_black_box")
    result = run_guide("compare", str(student_path), "--case", CASE)
    assert result.returncode == 0, result.stderr
    text = _flat(result.stdout)
    for method in needing:
        assert (f"{bank.methods[method].name} is in the reference combination, not in yours: in your design it is "
                f"filtered out, because “{bank.needs['retraining'].label}” is missing.") in text
    assert _flat(bank.needs["retraining"].explain_missing) in text


def test_compare_with_the_reference_itself_says_so(bank):
    result = run_guide("compare", str(bank.cases()[CASE]), "--case", CASE)
    assert result.returncode == 0
    assert "Your answers lead to the same priorities and the same ranking as the reference." in result.stdout
    assert "Your answers match the reference" in result.stdout


def test_compare_markdown_is_structured_and_escapes_bank_text(tmp_path, bank_copy):
    case = bank_copy / "cases" / f"{CASE}.yaml"
    text = case.read_text(encoding="utf-8")
    text = text.replace("  discuss:\n", "  discuss:\n    - \"<b>Bold</b> claim | # not a heading\"\n", 1)
    case.write_text(text, encoding="utf-8")
    student = tmp_path / "student.yaml"
    student.write_text(re.sub(r"^  model_role: .*$", "  model_role: confident_cases_only", text, count=1, flags=re.MULTILINE))
    out = tmp_path / "lesson.md"
    result = run_guide("compare", str(student), "--case", CASE, "--bank", str(bank_copy), "--format", "md",
                       "--out", str(out))
    assert result.returncode == 0, result.stderr
    lesson = out.read_text(encoding="utf-8")
    assert "<b>" not in lesson
    assert f"- {md('<b>Bold</b> claim | # not a heading')}" in lesson
    tokens = MarkdownIt("commonmark").parse(lesson)
    headings = [(token.tag, tokens[index + 1].content) for index, token in enumerate(tokens)
                if token.type == "heading_open"]
    assert headings[0][0] == "h1"
    assert [title for tag, title in headings if tag == "h2"] == [
        "Where your answers differ", "Element priorities that differ", "Method families", "For discussion"]


def test_a_mostly_unanswered_design_is_said_to_be_so_first_and_gets_no_advice_on_choices_it_did_not_make(tmp_path):
    """With 1 answer given, compare said "You rank localization lower than the reference (score 10 -> 3): your
    design may leave out evidence ..." as if the 38 missing answers were choices."""
    student = tmp_path / "student.yaml"
    student.write_text("title: Only the task\nanswers:\n  task: diagnosis_classification\n", encoding="utf-8")
    result = run_guide("compare", str(student), "--precedent", "ribli2018-mammography-frcnn", "--format", "md")
    assert result.returncode == 0, result.stderr
    lesson = " ".join(result.stdout.split())
    said_first = ("Most of your questions are unanswered (39 of the 40 on your walk), so this comparison mostly shows "
                  "what those missing answers leave out, not choices you made.")
    assert said_first in lesson and lesson.index(said_first) < lesson.index("In short:")
    assert "may leave out evidence" not in lesson and "would spend effort" not in lesson
    assert re.search(r"You rank localization lower than the reference \(score [\d.]+ → [\d.]+\), mostly because of "
                     r"the questions left unanswered\.", lesson)


def test_a_heading_longer_than_the_page_wraps_and_its_underline_spans_it(tmp_path, bank_copy):
    """The heading carries the reference's title, which may be long: it wraps at the text's width like the
    paragraphs, and its underline is as long as its longest line, never shorter than the words it marks."""
    case = bank_copy / "cases" / f"{CASE}.yaml"
    long_title = "Automated diabetic retinopathy screening in community clinics " * 3
    case.write_text(re.sub(r"^title: .*$", f"title: {long_title.strip()}", case.read_text(encoding="utf-8"),
                           count=1, flags=re.MULTILINE), encoding="utf-8")
    result = run_guide("compare", str(case), "--case", CASE, "--bank", str(bank_copy))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    underline = next(index for index, line in enumerate(lines) if line and set(line) == {"="})
    heading = lines[:underline]
    assert len(heading) > 1 and " ".join(heading).endswith(long_title.strip())
    assert max(len(line) for line in heading) <= 100
    assert len(lines[underline]) == max(len(line) for line in heading)


@pytest.mark.parametrize("args, message", [
    (("--case", "no-such-case"), "no case 'no-such-case'"),
    ((), "one of the arguments --case --precedent is required"),
    (("--precedent", "ribli2018-mammography"), "no precedent 'ribli2018-mammography' (did you mean "
                                               "ribli2018-mammography-frcnn?)"),
    (("--case", CASE, "--precedent", "ribli2018-mammography-frcnn"), "not allowed with argument --case"),
])
def test_compare_usage_errors_are_one_line(bank, args, message):
    result = run_guide("compare", str(bank.cases()[CASE]), *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_compare_bad_student_file_names_file_and_line(tmp_path, bank):
    path = _student(tmp_path, bank, model_role="pilot_in_command")
    result = run_guide("compare", str(path), "--case", CASE)
    assert result.returncode == 2
    line = next(number for number, text in enumerate(path.read_text().splitlines(), 1) if "pilot_in_command" in text)
    assert result.stderr.startswith(f"guide: {path}:{line}: answers.model_role: unknown choice 'pilot_in_command'")


def test_compare_with_a_published_system_gives_the_papers_reasons_and_what_its_authors_built(bank):
    """A student compares a design with a precedent: each differing answer comes with the paper's basis, and
    the lesson ends with the family the authors built, ranked on both settings; never a sentence ending '..'."""
    precedent = bank.precedents["ribli2018-mammography-frcnn"]
    result = run_guide("compare", str(bank.cases()["breast-cancer-detection"]), "--precedent",
                       "ribli2018-mammography-frcnn", "--format", "md")
    assert result.returncode == 0, result.stderr
    text = _flat(result.stdout)
    assert "Reference: the published system 'ribli2018-mammography-frcnn'" in text
    assert _flat(md(precedent.reference.citation())) in text
    assert f"Why the reference answered so: {_flat(md(precedent.basis['explanation_form']))}" in text
    built = text.split("## What its authors built")[1]
    ranks = evaluate(bank, precedent.answers_file()), evaluate(bank, read_answers(bank.cases()["breast-cancer-detection"], bank))
    theirs, yours = ({method.id: method.rank for method in side.methods} for side in ranks)
    assert (f"- {md(bank.methods['detect_first_pipelines'].name)}: ranked #{theirs['detect_first_pipelines']} on the "
            f"paper's setting by this tool, #{yours['detect_first_pipelines']} on yours.") in built
    assert ".." not in result.stdout.replace("...", "")


def test_compare_says_which_families_an_answer_changes_through_what_they_need(tmp_path, bank):
    """No rule reads "may the explanation shape the model?", but it decides a need of the families that build their
    explanation into the model: the lesson says so instead of calling the answer inert."""
    student = _student(tmp_path, bank, explanation_priority="accuracy_first")
    result = run_guide("compare", str(student), "--case", CASE)
    assert result.returncode == 0, result.stderr
    text = _flat(result.stdout)
    section = text.split("(explanation_priority)", 1)[1].split("Element priorities", 1)[0]
    assert ("It decides what the families need: \u201cThe model's design may follow what the explanation needs\u201d is "
            "met for the reference and ruled out for you, which changes how these families fit: ") in section
    assert "Concept bottleneck models" in section and "Interpretable encoding readouts" not in section
    assert "No rule reads this answer differently on its own" not in section


def _student_file(tmp_path: Path, bank, **answers) -> Path:
    """The preset with some answers replaced (any kind of answer, a multi-line text too)."""
    data = yaml.safe_load(bank.cases()[CASE].read_text(encoding="utf-8"))
    data["answers"].update(answers)
    path = tmp_path / "student.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_compare_names_the_plan_items_a_students_own_words_mark_as_conflicts(tmp_path, bank):
    """"We cannot retrain the model and there are no masks." moves no score, but the plan marks every item that
    assumes masks as a possible conflict: compare names them instead of calling the answer inert."""
    student = _student_file(tmp_path, bank,
                            other_constraints="We cannot retrain the model and there are no masks.")
    result = run_guide("compare", str(student), "--case", CASE)
    assert result.returncode == 0, result.stderr
    section = _flat(result.stdout).split("(other_constraints)", 1)[1].split("Element priorities", 1)[0]
    assert "No rule reads this answer differently on its own" not in section
    marked = [step for step in evaluate(bank, read_answers(student, bank)).acceptance
              if "region_annotations" in step.conflicting_needs]
    assert marked
    assert ("Your own words (\u201cno masks\u201d) doubt that \u201cPixel masks or boxes of the findings or structures "
            "exist or can be made\u201d, which your answers say holds.") in section
    assert f"Localization: {marked[0].measure[:40]}" in section
    assert "Your own words (\u201ccannot retrain\u201d) doubt" in section


def test_compare_names_the_confidence_an_unsure_answer_costs(tmp_path, bank):
    """Unsure of the inputs: every element keeps its level, but the engine's open question affects Localization and
    Model transparency, whose scores are less known than the reference's: compare says so, with the numbers."""
    student = _student_file(tmp_path, bank, inputs=["unsure"])
    mine = evaluate(bank, read_answers(student, bank))
    affected = next(question.affects for question in mine.open_questions if question.question == "inputs")
    assert "localization" in affected
    localization = next(element for element in mine.elements if element.id == "localization")
    assert localization.confidence < 1
    result = run_guide("compare", str(student), "--case", CASE)
    assert result.returncode == 0, result.stderr
    text = _flat(result.stdout)
    assert "every element keeps its priority (2 are less certain, through your open answers)" in text
    section = text.split("(inputs)", 1)[1].split("Element priorities", 1)[0]
    assert "No rule reads this answer differently on its own" not in section
    assert (f"Localization (L): score {localization.confidence:.0%} known (the reference: 100%), confidence in its "
            f"priority {localization.confidence_label} (the reference: high)") in section


def test_compare_what_if_and_diff_print_the_same_under_any_hash_seed(tmp_path, bank):
    """A detection design against the screening preset: the task decides several needs at once, and their lines
    once came in the order of a set, so two runs of the same command differed (seeds 0 and 4 showed it)."""
    student = _student(tmp_path, bank, task="detection")
    commands = [("compare", str(student), "--case", CASE), ("compare", str(student), "--case", CASE, "--format", "md"),
                ("what-if", str(student), "--set", "task=unsure"), ("diff", str(bank.cases()[CASE]), str(student)),
                ("what-if", str(student), "--set", "task=unsure", "--format", "md")]
    for command in commands:
        runs = [run_guide(*command, env={"PYTHONHASHSEED": seed}) for seed in ("0", "4")]
        assert runs[0].stdout and not runs[0].stderr, command  # diff exits 1 when the designs differ
        assert runs[0].stdout == runs[1].stdout, command


def test_compare_credits_a_rule_to_the_answer_it_fired_through_and_names_no_empty_list_of_families(tmp_path, bank):
    """Many new sites raise physical attribution when the task or the action makes the output a measurement. A
    diagnosis whose size decides the action fires it through the action: the changed task did not move it. And a
    detection task decides needs no family carries: the lesson says so rather than end on an empty list."""
    student = _student_file(tmp_path, bank, task="diagnosis_classification",
                            downstream_action=["refer_or_recall", "size_threshold_decides"])
    result = run_guide("compare", str(student), "--case", CASE)
    assert result.returncode == 0, result.stderr
    text = _flat(result.stdout)
    because = _flat(next(effect.because for effect in bank.rules["many-new-sites-physical-output"].effects))
    task, action = (re.split("·{5,}", text.split(f"({question})", 1)[1])[1] for question in ("task", "downstream_action"))
    assert because not in task
    assert f"For you, this raised Physical attribution (+1): {because}" in action
    detection = run_guide("compare", str(_student(tmp_path, bank, task="detection")), "--case", CASE)
    assert "fit: ." not in _flat(detection.stdout)
    assert ("It decides a condition of the plan: \u201cA decision is computed from the detected or segmented findings\u201d "
            "is met for the reference and ruled out for you; no family needs it, only the checks of the plan that "
            "assume it.") in _flat(detection.stdout)


def test_a_family_entering_or_leaving_the_combination_has_its_ranks_said_once(bank):
    """"Concept bottleneck models is in your combination ... ranks #5 rather than #1" was followed by "Concept
    bottleneck models: ranked #5 for the reference, #1 for you": the same fact twice."""
    result = run_guide("compare", str(bank.cases()["breast-cancer-detection"]), "--case", CASE, "--format", "md")
    assert result.returncode == 0, result.stderr
    entering_or_leaving = re.findall(r"^- (.+) is in (?:your|the reference) combination, not in", result.stdout, re.M)
    assert len(entering_or_leaving) >= 2
    for name in entering_or_leaving:
        assert f"- {name}: ranked" not in result.stdout
    assert re.search(r"^- .+: ranked #\d+ for the reference, #\d+ for you\.$", result.stdout, re.M)


def test_an_answer_given_alike_is_said_apart_from_the_answers_that_differ(tmp_path, bank):
    """The summary counts 2 answers differing; "Where your answers differ" listed a third, explanation_priority,
    answered alike but off the student's walk. It is said under its own heading, as guide diff does."""
    student = _student(tmp_path, bank, model_status="frozen_black_box\n  white_box_access: query_only")
    result = run_guide("compare", str(student), "--case", CASE, "--format", "md")
    assert result.returncode == 0, result.stderr
    assert "In short: 2 answers differ," in _flat(result.stdout)
    differ, rest = result.stdout.split("## Where your answers differ\n", 1)[1].split("\n## ", 1)
    listed = lambda section: re.findall(r"^### .*\((\w+)\)$", section.replace("\\_", "_"), flags=re.MULTILINE)
    assert sorted(listed(differ)) == ["model_status", "white_box_access"]
    alike = rest.split("\n## ", 1)[0]
    assert alike.startswith("Answered alike, but counted on one walk only\n")
    assert listed(alike) == ["explanation_priority"]


def test_a_family_out_of_one_combination_at_the_same_rank_is_said_to_be_and_what_takes_its_place_is_named(bank):
    """"Local-evidence glass-box CNNs is in the reference combination, not in yours: in your design it ranks #3
    rather than #3: other families cover the same top priorities better there." The same rank was given as the
    reason and the families meant went unnamed. Now the rank is said to be the same, and the families of your
    combination that serve what it would have served are named, with those elements."""
    result = run_guide("compare", str(bank.cases()["dr-screening"]), "--precedent", "abdulaal2024-sae-rad",
                       "--format", "md")
    assert result.returncode == 0, result.stderr
    assert not re.search(r"ranks (#\d+) rather than \1\b", result.stdout)
    theirs = evaluate(bank, bank.precedents["abdulaal2024-sae-rad"].answers_file())
    yours = evaluate(bank, read_answers(bank.cases()["dr-screening"], bank))
    family = bank.methods["local_evidence_cnn"]
    same, reference_rank = (next(method.rank for method in side.methods if method.id == family.id)
                            for side in (yours, theirs))
    assert same == reference_rank and family.id in theirs.complementary and family.id not in yours.complementary
    line = _flat(next(line for line in result.stdout.splitlines() if line.startswith(f"- {md(family.name)} is in")))
    localization = bank.elements["localization"].name.lower()
    segment_first = md(bank.methods["detect_first_pipelines"].name)
    assert f"it ranks #{same} on both sides" in line
    assert f"your combination serves {localization} through {segment_first}" in line, line
