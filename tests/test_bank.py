"""Loading the question bank: what an instructor editing YAML sees when something is wrong."""

from __future__ import annotations

import gc
import re
from pathlib import Path

import pytest

from guide.bank import read_answers
from guide.graph import check_bank
from guide.lint import lint_loaded_bank
from guide.load import load_bank
from guide.model import UNSURE
from guide.source import GuideError

from .conftest import run_guide


def test_builtin_bank_is_complete(bank):
    assert len(bank.questions) >= 25
    assert set(bank.elements) == {"localization", "visual_recognizability", "physical_attribution",
                                  "model_transparency", "actionability"}
    assert len(bank.methods) == 25
    kinds = {question.kind for question in bank.questions.values()}
    assert kinds == {"single", "multiple", "text"}
    for question in bank.questions.values():
        assert question.help.strip()
        if question.kind != "text":
            assert question.choice(UNSURE) is not None, question.id
    assert [finding for finding in check_bank(bank) if finding.severity == "error"] == []


def test_every_stage_of_the_flow_has_questions(bank):
    stages = {question.stage for question in bank.questions.values()}
    assert stages == {stage.id for stage in bank.meta.stages}


def _replace(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"fixture text not found in {path.name}: {old!r}"
    path.write_text(text.replace(old, new, count))


def _line_of(path: Path, needle: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_unknown_key_names_file_line_and_field(bank_copy):
    rules = bank_copy / "rules.yaml"
    first_rule_line = _line_of(rules, "- id:")
    _replace(rules, "- id:", "- colour: red\n    id:")
    with pytest.raises(GuideError) as caught:
        load_bank(bank_copy)
    message = str(caught.value)
    assert message.startswith(f"{rules}:{first_rule_line}: rules[0]")
    assert "colour" in message and "unknown key" in message


def test_yaml_syntax_error_names_the_line(bank_copy):
    path = bank_copy / "elements.yaml"
    lines = path.read_text().splitlines()
    lines.insert(10, "  : [unclosed")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(GuideError) as caught:
        load_bank(bank_copy)
    assert re.match(rf"{re.escape(str(path))}:1[01]: YAML: ", str(caught.value))


def test_duplicate_question_id_points_at_the_second_definition(bank_copy, bank):
    flow = sorted((bank_copy / "flow").glob("*.yaml"))[-1]
    second = [question for question in bank.questions.values() if str(bank.where(f"question:{question.id}").file).endswith(flow.name)][1]
    _replace(flow, f"- id: {second.id}\n", f"- id: {bank.meta.start}\n")
    with pytest.raises(GuideError) as caught:
        load_bank(bank_copy)
    assert f"duplicate question id '{bank.meta.start}'" in str(caught.value)
    assert str(caught.value).startswith(f"{flow}:{_line_of(flow, f'- id: {bank.meta.start}')}:")


def test_dangling_goto_is_an_error(bank_copy, bank):
    question = bank.questions[bank.meta.start]
    path = Path(bank.where(f"question:{question.id}").file.replace(str(bank.directory), str(bank_copy)))
    _replace(path, f"goto: {question.next[-1].goto}", "goto: nowhere_at_all")
    with pytest.raises(GuideError, match="unknown question 'nowhere_at_all'"):
        load_bank(bank_copy)


def _refused(bank_copy: Path, path: Path, old: str, new: str, message: str) -> None:
    """The copied bank, with `old` replaced by `new` in `path`, is refused with an error matching `message`."""
    _replace(path, old, new)
    with pytest.raises(GuideError, match=message):
        load_bank(bank_copy)


def test_an_evaluation_check_must_require_a_known_need_that_says_what_to_do_without_it(bank_copy):
    elements = bank_copy / "elements.yaml"
    _refused(bank_copy, elements, "requires: [region_annotations]", "requires: [crystal_ball]",
             r"elements\.yaml:\d+.*requires unknown need 'crystal_ball'")
    _refused(bank_copy, elements, "requires: [crystal_ball]", "requires: [white_box]",
             "requires need 'white_box', which says nothing in `evaluate_without`")


def test_a_plan_item_is_about_known_families(bank_copy):
    _refused(bank_copy, bank_copy / "elements.yaml", "families: [attribution_maps, perturbation, vit_attention]",
             "families: [crystal_ball]", r"elements\.yaml:\d+.*about unknown method family 'crystal_ball'")


def test_a_familys_own_evaluation_item_takes_no_about(bank_copy):
    sanity_checks = "          Run model- and data-randomization sanity checks before showing any map to a user.\n"
    _refused(bank_copy, bank_copy / "methods.yaml", sanity_checks,
             sanity_checks + "        about: {families: [perturbation], named: sanity checks}\n",
             r"methods\.yaml:\d+.*own evaluation item .* takes no `about`")


def test_a_task_names_a_known_output_family(bank_copy):
    use_case = bank_copy / "flow" / "1-use-case.yaml"
    _replace(use_case, "output_family: detect_first_pipelines", "output_family: crystal_ball")
    # Told at the output_family line, not at the question's `id:` line.
    with pytest.raises(GuideError, match=rf"1-use-case\.yaml:{_line_of(use_case, 'output_family: crystal_ball')}: "
                                         "task: choice 'detection' names unknown output_family 'crystal_ball'"):
        load_bank(bank_copy)


def test_routing_cycle_is_an_error(bank_copy, bank):
    path = bank.meta.start
    # Send the last question of a flow file back to the start question.
    last_file = sorted((bank_copy / "flow").glob("*.yaml"))[-1]
    text = last_file.read_text()
    last_goto = text.rindex("goto: end")
    last_file.write_text(text[:last_goto] + f"goto: {path}" + text[last_goto + len("goto: end"):])
    with pytest.raises(GuideError, match="routing cycle"):
        load_bank(bank_copy)


def test_unreachable_question_is_an_error(bank_copy):
    flow = sorted((bank_copy / "flow").glob("*.yaml"))[-1]
    with flow.open("a") as stream:
        stream.write(
            "  - id: orphan_question\n    stage: constraints\n    kind: text\n    prompt: Nobody asks this.\n"
            "    help: It has no incoming route.\n    next:\n      - goto: end\n"
        )
    with pytest.raises(GuideError, match="orphan_question.*no path from the start"):
        load_bank(bank_copy)


def test_element_that_nothing_raises_is_an_error(bank_copy):
    elements = bank_copy / "elements.yaml"
    text = elements.read_text()
    # A sixth element with no rule pointing at it.
    block = text[text.index("  - id: actionability"):]
    elements.write_text(text + block.replace("id: actionability", "id: sixth_sense").replace("short: A", "short: S"))
    with pytest.raises(GuideError, match="sixth_sense: no answer can ever raise this element"):
        load_bank(bank_copy)


def test_yaml_booleans_stay_strings_and_python_tags_never_run(tmp_path, bank):
    start = bank.questions[bank.meta.start]
    answers = tmp_path / "answers.yaml"
    answers.write_text(f"answers:\n  {start.id}: no\n")
    with pytest.raises(GuideError, match="unknown choice 'no'"):
        read_answers(answers, bank)
    marker = tmp_path / "pwned"
    answers.write_text(f"answers: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(GuideError, match=r"answers.yaml:1: YAML: tags such as !!python/object are not allowed"):
        read_answers(answers, bank)
    assert not marker.exists()


def test_answers_file_errors_name_line_and_field(tmp_path, bank):
    start = bank.questions[bank.meta.start]
    path = tmp_path / "mine.yaml"
    path.write_text(f"title: Mine\nanswers:\n  {start.id}: {start.choices[0].id}\n  not_a_question: x\n")
    with pytest.raises(GuideError) as caught:
        read_answers(path, bank)
    assert str(caught.value) == f"{path}:4: answers.not_a_question: unknown question 'not_a_question'"


def test_cli_reports_bad_bank_in_one_line_with_exit_2(bank_copy):
    (bank_copy / "methods.yaml").write_text("methods:\n  - id: Not An Id\n")
    result = run_guide("run", "--case", "dr-screening", "--bank", str(bank_copy))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"guide: {bank_copy / 'methods.yaml'}:2: methods[0]")


def test_a_process_that_loads_many_banks_keeps_none_of_their_garbage(bank_copy, monkeypatch):
    """Loading freezes what exists out of the collector's scans; garbage left by earlier work (lint's
    closures, say) must be collected first, or a server, a benchmark or this test run would keep it."""
    monkeypatch.setenv("GUIDE_NO_CACHE", "1")

    def load_and_lint() -> None:
        lint_loaded_bank(load_bank(bank_copy, check=False))

    load_and_lint()
    load_and_lint()
    frozen = gc.get_freeze_count()
    for _ in range(3):
        load_and_lint()
    # Each round leaves about 29,000 objects of lint's garbage behind when it is frozen with the next
    # bank; collected first, what stays frozen grows by a few dozen objects a round.
    assert gc.get_freeze_count() - frozen < 1000


def test_a_loaded_bank_keeps_its_files_lines_but_not_their_parsed_data(bank_copy, monkeypatch):
    """The parsed YAML is as large again as the models built from it (a third of a 5,000-question bank's
    memory); only its line numbers are read after loading, for lint's findings."""
    monkeypatch.setenv("GUIDE_NO_CACHE", "1")
    loaded = load_bank(bank_copy, check=False)
    assert loaded.documents and all(document.data is None for document in loaded.documents.values())
    flow = next(document for name, document in loaded.documents.items() if name.startswith("flow/"))
    assert flow.line_of(("questions", 0, "help")) > 1


def test_every_explanation_form_moves_the_elements_by_the_same_two_points(bank):
    """One yardstick for the forms (docs/precedents.md): an asked form is one answer, and it weighs the same
    whichever element it points at: 2 for one element, 1 each for two. Measurements in physical units and a
    readable model had 3, and sentences 1, with no reason recorded and no calibration system moved by it."""
    from guide.model import AnswerIn

    forms = {question.id for question in bank.questions.values() if question.names_the_explanation}
    totals = {rule.id: sum(effect.weight for effect in rule.effects if effect.element)
              for rule in bank.rules.values() if isinstance(rule.when, AnswerIn) and rule.when.q in forms}
    assert len(totals) >= 10
    assert {rule_id: total for rule_id, total in totals.items() if total not in (0, 2)} == {}
