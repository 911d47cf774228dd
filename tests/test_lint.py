"""`guide lint` on deliberately broken banks: what an instructor editing YAML is told, and where."""

from __future__ import annotations

import gc
import re
from pathlib import Path

import pytest

from guide.bankfiles import BUILTIN_BANK
from guide.lint import MIN_HELP_WORDS, lint_bank, lint_loaded_bank
from guide.load import load_bank
from guide.source import GuideError

from .conftest import run_guide

FINDING_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?:(?P<item>[^:]+): )?(?P<message>.+)$")


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture text not found in {path.name}: {old!r}"
    path.write_text(text.replace(old, new, 1))


def _line_of(path: Path, needle: str, after: str | None = None) -> int:
    lines = path.read_text().splitlines()
    start = next(number for number, line in enumerate(lines) if after in line) if after else 0
    return next(number for number, line in enumerate(lines[start:], start + 1) if needle in line)


def _question_block(path: Path, question_id: str) -> tuple[int, int]:
    """Character span of one question's block in a flow file."""
    text = path.read_text()
    start = text.index(f"  - id: {question_id}\n")
    end = text.find("\n  - id: ", start + 1)
    return start, len(text) if end == -1 else end + 1


def _findings(directory: Path) -> list[str]:
    """The findings that fail a lint (advice on rules only one precedent meets is tested with the precedents)."""
    return [str(finding) for finding in lint_bank(directory) if finding.severity != "advice"]


def _lint(directory: Path):
    result = run_guide("lint", str(directory))
    assert "Traceback" not in result.stderr
    return result


def test_builtin_bank_lints_clean():
    result = run_guide("lint")
    assert result.returncode == 0, result.stdout
    assert all(": advice: " in line for line in result.stdout.splitlines())
    assert "no findings" in result.stderr
    assert len(result.stderr.splitlines()) == 1, "the summary is one line, advice counted in it"


def test_a_bank_file_that_is_a_broken_link_is_said_to_be_one_by_lint_and_every_command(bank_copy):
    (bank_copy / "precedents" / "zz-dangling.yaml").symlink_to(bank_copy / "precedents" / "gone.yaml")
    said = "precedents/zz-dangling.yaml: a link to nothing: its target is missing, or the links loop"
    assert any(said in finding for finding in _findings(bank_copy))
    for command in (("precedents", "--bank", str(bank_copy), "--score"),
                    ("run", "--bank", str(bank_copy), "--case", "dr-screening")):
        result = run_guide(*command)
        assert result.returncode == 2 and said in result.stderr, command  # not a bank read from the cache without it


def test_one_paper_filed_twice_as_a_precedent_is_a_finding_at_its_reference(bank_copy):
    """A link or a copy under another name would count one published system twice in the score."""
    precedents = bank_copy / "precedents"
    (precedents / "zz-again.yaml").symlink_to(precedents / "aerts2014-radiomics.yaml")
    assert any(finding.startswith(f"{precedents / 'zz-again.yaml'}:") and "the same paper" in finding
               and "'aerts2014-radiomics'" in finding for finding in _findings(bank_copy))


def test_files_the_bank_would_not_read_are_reported(bank_copy):
    (bank_copy / "precedents" / "aerts2014-radiomics.yaml").rename(bank_copy / "precedents" / "aerts2014-radiomics.yml")
    (bank_copy / "cases" / "mycase.yml").write_text((bank_copy / "cases" / "dr-screening.yaml").read_text())
    findings = _findings(bank_copy)
    assert any("cases/mycase.yml: not read: the bank reads only files ending in .yaml (rename it to mycase.yaml)"
               in finding for finding in findings)
    assert any("precedents/aerts2014-radiomics.yml: not read" in finding for finding in findings)
    (bank_copy / "cases" / "mycase.yml").unlink()
    (bank_copy / "precedents" / "aerts2014-radiomics.yml").unlink()
    for path in (bank_copy / "precedents").iterdir():
        path.unlink()
    (bank_copy / "precedents").rmdir()
    (bank_copy / "precedents").write_text("not a folder\n")
    assert any("precedents: precedents must be a folder of .yaml files" in finding for finding in _findings(bank_copy))


def test_a_need_nothing_uses_is_reported_at_its_line(bank_copy):
    needs = bank_copy / "needs.yaml"
    needs.write_text(needs.read_text() + """
  - id: telepathy
    label: The users read minds
    available_when: {q: task, in: [detection]}
    unavailable_when: {q: task, in: [segmentation]}
    when_missing: penalize
    explain_missing: Without telepathy, nothing changes.
""")
    line = _line_of(needs, "- id: telepathy")
    assert f"{needs}:{line}: telepathy: no method family needs it and no evaluation item requires it, so it changes " \
           "nothing" in _findings(bank_copy)


def test_text_that_would_show_reordered_or_hide_a_character_is_a_finding_at_its_field(bank_copy):
    """A right-to-left override or a zero-width space in a prompt was accepted without comment, although titles
    and notes have them dropped."""
    flow = bank_copy / "flow" / "1-use-case.yaml"
    _replace(flow, "prompt: What does the model do?", "prompt: What does the \u202emodel do?")
    _replace(flow, "    help: >-\n", "    help: >-\n      Zero\u200bwidth.\n")
    result = _lint(bank_copy)
    assert result.returncode == 1
    prompt, help_text = _line_of(flow, "\u202e"), _line_of(flow, "help: >-")
    assert (f"{flow}:{prompt}: questions[0] (task).prompt: holds a right-to-left override (U+202E), which shows as "
            "nothing or changes the order the text shows in: remove it") in result.stdout.splitlines()
    assert (f"{flow}:{help_text}: questions[0] (task).help: holds a zero width space (U+200B), which shows as "
            "nothing or changes the order the text shows in: remove it") in result.stdout.splitlines()


def test_an_escape_that_yaml_turns_into_a_hidden_character_is_a_finding_too(bank_copy):
    """Lint reads a file's raw text for hidden characters before it parses the file: an escape in a double-quoted
    string (\\u202e, \\U0000200B) holds no such character in the raw text, yet the bank's text does."""
    flow = bank_copy / "flow" / "1-use-case.yaml"
    _replace(flow, "prompt: What does the model do?", 'prompt: "What does the \\u202emodel\\U0000200Bdo?"')
    findings = _findings(bank_copy)
    line = _line_of(flow, "prompt: \"What does")
    assert (f"{flow}:{line}: questions[0] (task).prompt: holds a right-to-left override (U+202E) and a zero width "
            "space (U+200B), which show as nothing or change the order the text shows in: remove them") in findings


def test_linting_leaves_nothing_for_the_cyclic_collector():
    """What lint builds is freed when it returns. Garbage in reference cycles would wait for the collector's
    next full pass, and in `guide serve` or the benchmark a later bank load freezes it for good; its
    searches' memos were 7 MiB of the peak on a 5,000-question bank."""
    bank = load_bank(BUILTIN_BANK, check=False)
    lint_loaded_bank(bank)  # networkx builds its decorators' code the first time each is called
    gc.collect()
    gc.disable()
    try:
        lint_loaded_bank(bank)
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_dir_argument_and_bank_option_agree(bank_copy):
    assert _lint(bank_copy).returncode == 0
    assert run_guide("lint", "--bank", str(bank_copy)).returncode == 0


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "missing", "bank directory not found"),
    (lambda tmp: (tmp / "file.yaml").write_text("x: 1\n") and tmp / "file.yaml",
     "not a directory; a bank is a folder of YAML files"),
    (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "not a question bank (no bank.yaml)"),
])
def test_unreadable_directory_is_exit_2(tmp_path, make, message):
    directory = make(tmp_path)
    result = _lint(directory)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == f"guide: {directory}: {message}"
    with pytest.raises(GuideError):
        lint_bank(directory)


@pytest.mark.parametrize("command", [["lint", "{}"], ["codebook", "{}"], ["--bank", "{}", "cases"],
                                     ["--bank", "{}", "graph"], ["--bank", "{}", "precedents"],
                                     ["--bank", "{}", "run", "--case", "x"], ["--bank", "{}", "--plain"]],
                         ids=lambda command: command[0] if command[0] != "--bank" else command[2])
def test_every_command_says_a_folder_without_bank_yaml_is_no_bank_in_one_wording(tmp_path, command):
    """codebook, cases, graph and run said "/x/bank.yaml: required bank file is missing" where lint said this."""
    result = run_guide(*[part.format(tmp_path) for part in command], stdin="")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"guide: {tmp_path}: not a question bank "
                                                                         "(no bank.yaml)\n")


def test_every_broken_file_is_reported_at_once_with_file_and_line(bank_copy):
    rules = bank_copy / "rules.yaml"
    methods = bank_copy / "methods.yaml"
    elements = bank_copy / "elements.yaml"
    _replace(rules, "    effects:\n", "    effect:\n")  # a typo in a key: the first rule
    _replace(methods, "    kind: ", "    kind: magic_", )
    lines = elements.read_text().splitlines()
    lines.insert(12, "  : [unclosed")
    elements.write_text("\n".join(lines) + "\n")
    (bank_copy / "needs.yaml").unlink()

    result = _lint(bank_copy)
    assert result.returncode == 1
    findings = result.stdout.splitlines()
    assert all(FINDING_LINE.match(line) for line in findings), findings
    by_file = {Path(FINDING_LINE.match(line)["file"]).name: line for line in findings}
    assert set(by_file) == {"rules.yaml", "methods.yaml", "elements.yaml", "needs.yaml"}
    assert by_file["rules.yaml"].startswith(f"{rules}:{_line_of(rules, '    effect:')}: rules[0]")
    assert "unknown key" in by_file["rules.yaml"]
    assert by_file["methods.yaml"].startswith(f"{methods}:{_line_of(methods, 'kind: magic_')}: methods[0]")
    assert re.match(rf"{re.escape(str(elements))}:1[23]: YAML: ", by_file["elements.yaml"]), "the file named once"
    assert "required bank file is missing" in by_file["needs.yaml"]
    assert "4 findings, 4 of which make the bank unusable" in result.stderr


def test_a_bad_id_and_a_weight_out_of_range_are_told_in_the_bank_authors_words(bank_copy):
    """Lint printed the validator's "String should match pattern '^[a-z0-9][a-z0-9_-]*$'" and "Input should be less
    than or equal to 5", and "1 of which make the bank unusable"."""
    _replace(bank_copy / "rules.yaml", "weight: 2\n", "weight: 6\n")
    result = _lint(bank_copy)
    assert result.returncode == 1
    assert "effects[0].weight: 6 is outside the range -5 to 5" in result.stdout
    assert "1 finding, 1 of which makes the bank unusable" in result.stderr
    _replace(bank_copy / "rules.yaml", "weight: 6\n", "weight: 2\n")
    _replace(bank_copy / "methods.yaml", "  - id: ", "  - id: Has Spaces-", )
    result = _lint(bank_copy)
    assert ".id: an id takes lowercase letters, digits, - and _ only, starting with a letter or digit" in result.stdout
    assert "should match pattern" not in result.stdout


def test_duplicate_ids_and_graph_errors_are_findings_not_crashes(bank_copy):
    flow = bank_copy / "flow" / "5-constraints.yaml"
    with flow.open("a") as stream:
        stream.write("  - id: orphan_question\n    stage: constraints\n    kind: text\n    prompt: Nobody asks this.\n"
                     "    help: It has no incoming route, so no walk ever reaches it or records its answer.\n"
                     "    next:\n      - goto: end\n")
    findings = _findings(bank_copy)
    assert findings == [f"{flow}:{_line_of(flow, '- id: orphan_question')}: orphan_question: "
                        "no path from the start question 'task' reaches this question"]
    rules = bank_copy / "rules.yaml"
    first_rule = re.search(r"  - id: (\S+)\n", rules.read_text())[1]
    with rules.open("a") as stream:
        stream.write(f"  - id: {first_rule}\n    when: {{q: task, in: [detection]}}\n    effects:\n"
                     "      - {element: localization, weight: 1, because: Twice.}\n")
    findings = _findings(bank_copy)
    assert len(findings) == 1 and f"duplicate rule id '{first_rule}'" in findings[0]


def test_a_routing_cycle_is_reported_at_the_goto_that_closes_it(bank_copy):
    """The branch that leads back is the one to change, so its line is named, not the first question's."""
    flow = bank_copy / "flow" / "2-users.yaml"
    _replace(flow, "goto: explanation_form", "goto: task")
    result = _lint(bank_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    [finding] = [line for line in result.stdout.splitlines() if "routing cycle" in line]
    assert finding.startswith(f"{flow}:{_line_of(flow, 'goto: task')}: consumers: routing cycle: task -> "), finding
    assert finding.endswith(" -> consumers -> task"), finding


def test_a_number_in_quotes_is_a_finding_not_a_number(bank_copy):
    rules = bank_copy / "rules.yaml"
    line = _line_of(rules, "weight: ")
    lines = rules.read_text().split("\n")
    lines[line - 1] = re.sub(r"weight: (-?\d+)", r'weight: "\1"', lines[line - 1])
    rules.write_text("\n".join(lines))
    result = _lint(bank_copy)
    assert result.returncode == 1
    assert re.match(rf"{re.escape(str(rules))}:{line}: rules\[0\] \([^)]+\)\.effects\[0\]\.weight: a number, not the text "
                    r"'-?\d+': write it without quotes$", result.stdout), result.stdout


def test_every_broken_field_of_a_file_is_listed_not_only_the_first(bank_copy):
    """Two weights out of range in one file, and an exponent YAML reads as text, are three findings."""
    rules = bank_copy / "rules.yaml"
    lines = rules.read_text().split("\n")
    broken = [index for index, line in enumerate(lines) if re.match(r"\s+weight: -?\d", line)][:2]
    for index in broken:
        lines[index] = re.sub(r"weight: -?[\d.]+", "weight: 9", lines[index])
    rules.write_text("\n".join(lines))
    needs = bank_copy / "needs.yaml"
    penalty_line = _line_of(needs, "penalty: ")
    text = needs.read_text().split("\n")
    text[penalty_line - 1] = re.sub(r"penalty: [\d.]+", "penalty: 1e308", text[penalty_line - 1])
    needs.write_text("\n".join(text))
    result = _lint(bank_copy)
    assert result.returncode == 1
    for index in broken:
        assert f"{rules}:{index + 1}: " in result.stdout and "9 is outside the range -5 to 5" in result.stdout, result.stdout
    assert (f"{needs}:{penalty_line}: " in result.stdout
            and "not the text '1e308': YAML reads it as text; write 1.0e+308" in result.stdout), result.stdout


def test_unused_choice_is_reported_at_its_line_and_unsure_is_not(bank_copy, bank):
    path = bank_copy / "flow" / "1-use-case.yaml"
    _replace(path, "      - id: detection\n",
             "      - id: tele_consultation\n        label: Tele-consultation\n"
             "        description: A remote specialist reviews the case with the model's output.\n"
             "      - id: detection\n")
    findings = _findings(bank_copy)
    line = _line_of(path, "- id: tele_consultation")
    assert findings == [f"{path}:{line}: task.tele_consultation: unused choice: no rule, need or routing condition "
                        "reads it, so picking it changes nothing (mark it `neutral: true` if that is the intent)"]
    assert all(".unsure:" not in finding for finding in findings)
    _replace(path, "        label: Tele-consultation\n", "        label: Tele-consultation\n        neutral: true\n")
    assert _findings(bank_copy) == []


def test_neutral_choice_that_a_rule_reads(bank_copy):
    path = bank_copy / "flow" / "1-use-case.yaml"
    _replace(path, "      - id: detection\n", "      - id: detection\n        neutral: true\n")
    findings = _findings(bank_copy)
    assert len(findings) == 1
    assert findings[0].startswith(f"{path}:{_line_of(path, '- id: detection')}: task.detection: marked neutral, but ")
    assert findings[0].endswith("reads it: remove `neutral: true` or the condition")


def _add_rule(bank_copy: Path, rule_id: str, condition: str) -> int:
    rules = bank_copy / "rules.yaml"
    with rules.open("a") as stream:
        stream.write(f"\n  - id: {rule_id}\n    when: {condition}\n    effects:\n"
                     "      - {element: localization, weight: 1, because: Never mind.}\n")
    return _line_of(rules, f"- id: {rule_id}")


def test_rule_that_can_never_fire(bank_copy):
    rules = bank_copy / "rules.yaml"
    both = _add_rule(bank_copy, "two-tasks-at-once",
                     "{all: [{q: task, in: [detection]}, {q: task, in: [segmentation]}]}")
    apart = _add_rule(bank_copy, "registration-and-encoding",
                      "{all: [{q: registration_landmarks, in: [anatomical_landmarks]}, "
                      "{q: encoding_responses, answered: true}]}")
    live = _add_rule(bank_copy, "detection-unless-segmentation",
                     "{all: [{q: task, in: [detection]}, {not: {q: task, in: [segmentation]}}]}")
    findings = _findings(bank_copy)
    assert findings == [
        f"{rules}:{both}: two-tasks-at-once: this rule can never fire: no answers along any one path make its "
        "condition hold (task is “Detection” and task is “Segmentation”)",
        f"{rules}:{apart}: registration-and-encoding: this rule can never fire: no answers along any one path make "
        "its condition hold (registration_landmarks is “Yes, named landmarks are checked” and encoding_responses "
        "is answered)",
    ]
    assert all(f":{live}:" not in finding for finding in findings)


def test_method_no_path_can_recommend(bank_copy, bank):
    needs = bank_copy / "needs.yaml"
    text = needs.read_text()
    start = text.index("  - id: retraining\n")
    end = text.index("\n  - id: ", start + 1)
    block = text[start:end]
    broken = re.sub(r"    available_when: .*\n",
                    "    available_when: {all: [{q: model_status, in: [new_model, existing_can_retrain]}, "
                    "{q: model_status, in: [frozen_black_box]}]}\n", block, count=1)
    needs.write_text(text[:start] + broken + text[end:])
    users = [method for method in bank.methods.values() if "retraining" in method.needs]
    assert users
    findings = _findings(bank_copy)
    methods = bank_copy / "methods.yaml"
    assert findings == [
        f"{methods}:{_line_of(methods, f'- id: {method.id}')}: {method.id}: no path can recommend this method "
        f"family: its need 'retraining' ({bank.needs['retraining'].label}) is never available for any answers"
        for method in users
    ]


def test_contradictory_routing_is_reported_but_chains_are_not(bank_copy):
    """goals routes to hypothesis_type before update_mechanism; that is fine while hypothesis_type passes
    the walk on to update_mechanism, and contradictory once it does not."""
    path = bank_copy / "flow" / "3-goals.yaml"
    assert _findings(bank_copy) == []
    start, end = _question_block(path, "hypothesis_type")
    text = path.read_text()
    block = text[start:end]
    block = block[: block.index("    next:\n")] + "    next:\n      - goto: regulatory_context\n\n"
    path.write_text(text[:start] + block + text[end:])
    findings = _findings(bank_copy)
    line = _line_of(path, "goto: update_mechanism", after="- id: goals")
    assert findings[0] == (
        f"{path}:{line - 1}: goals: contradictory routing: branches 1 (to 'hypothesis_type') and 2 "
        "(to 'update_mechanism') both hold when goals is “Continual learning and model updates” and "
        "“Scientific discovery”; the first wins, and 'update_mechanism' is then never asked")
    assert all("contradictory routing" in finding for finding in findings)


def test_branch_that_is_never_taken(bank_copy):
    path = bank_copy / "flow" / "1-use-case.yaml"
    _replace(path, "      - when: {q: task, in: [scientific_encoding]}\n",
             "      - when: {q: task, in: [registration]}\n        goto: modality\n"
             "      - when: {q: task, in: [scientific_encoding]}\n")
    line = _line_of(path, "goto: modality", after="- id: task") - 1
    assert _findings(bank_copy) == [
        f"{path}:{line}: task: routing branch 2 (to 'modality') is never taken: earlier branches catch every "
        "answer it matches"]


def test_thin_help_and_missing_choice_description(bank_copy, bank):
    path = bank_copy / "flow" / "1-use-case.yaml"
    text = path.read_text()
    start, end = _question_block(path, "task")
    block = re.sub(r"    help: >-\n(      .*\n)+", "    help: Pick one.\n", text[start:end], count=1)
    block = re.sub(r"(      - id: detection\n        label: .*\n(?:        output_is_explanation: .*\n)?)"
                   r"        description: >-\n(          .*\n)+", r"\1", block, count=1)
    path.write_text(text[:start] + block + text[end:])
    assert _findings(bank_copy) == [
        f"{path}:{_line_of(path, 'help: Pick one.')}: task: help text is too short (2 words; at least "
        f"{MIN_HELP_WORDS}): say why the question matters and how to tell the choices apart",
        f"{path}:{_line_of(path, '- id: detection')}: task.detection: choice has no description: say what picking "
        "it means, with an example",
    ]


def test_preset_that_no_longer_matches_the_bank(bank_copy, bank):
    """Renaming a choice breaks the rules that read it and the presets that answer with it."""
    case = bank_copy / "cases" / "dr-screening.yaml"
    value = re.search(r"\n  task: (\S+)\n", case.read_text())[1]
    for path in [bank_copy / "rules.yaml", bank_copy / "needs.yaml", *sorted((bank_copy / "flow").glob("*.yaml"))]:
        path.write_text(re.sub(rf"\b{value}\b", f"{value}_renamed", path.read_text()))
    findings = _findings(bank_copy)
    expected = (f"{case}:{_line_of(case, f'  task: {value}')}: answers.task: unknown choice '{value}' "
                f"(choices: {', '.join(choice.id.replace(value, value + '_renamed') for choice in bank.questions['task'].choices)})")
    assert expected in findings
    # Precedents that answer with the renamed choice are reported the same way, each at its own line.
    assert all(f"unknown choice '{value}'" in finding for finding in findings)
    assert any("/precedents/" in finding for finding in findings)


@pytest.mark.parametrize("skippable", [False, True])
def test_rule_that_needs_a_late_answer_and_an_earlier_question_unasked(tmp_path, skippable):
    """q3 unanswered routes to the end, so q8 is answered only on walks that skip q3: with a way
    around q3 the rule can fire, without one it never can, however far down the flow q8 is."""
    from bench.bankgen import bank_files, write_files

    files = bank_files(10, seed=3, extra_branches=0, text_share=0.0)
    flow = files["flow/01.yaml"]["questions"]  # type: ignore[index]
    flow[3]["next"] = [{"when": {"q": "q3", "in": ["c0"]}, "goto": "q4"}, {"goto": "end"}]
    if skippable:
        flow[2]["next"] = [{"when": {"q": "q2", "in": ["c0"]}, "goto": "q4"}, {"goto": "q3"}]
    files["rules.yaml"]["rules"].append({  # type: ignore[index]
        "id": "late-without-q3", "when": {"all": [{"q": "q8", "in": ["c0"]}, {"q": "q3", "answered": False}]},
        "effects": [{"element": "element0", "weight": 1, "because": "Test."}]})
    findings = _findings(write_files(tmp_path / "bank", files))
    dead = [finding for finding in findings if "late-without-q3: this rule can never fire" in finding]
    assert len(dead) == (0 if skippable else 1)
