"""An instructor's own small bank, written from scratch, used end to end with --bank.

Nothing in it comes from the built-in bank: other element names, one stage, three questions, one
need, two method families. Every command must work from the bank's data alone.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from .conftest import FIXED_DATE, ROOT, run_guide

FILES = {
    "bank.yaml": """
        id: course-mini
        title: A two-element course bank
        version: "0.1"
        description: A deliberately small bank for a one-hour seminar on explaining image models.
        source:
          citation: Course notes for the seminar on explaining image models, week three.
          doi: 10.0000/seminar.week3
        derivation_note: Every question and rule here was written by the course team for the seminar.
        start: purpose
        stages:
          - id: basics
            title: Basics
            description: What the model is for, and what the team can change.
        levels:
          - {id: essential, label: Essential, min_score: 5, weight: 3, description: Without it the design fails., prioritized: true}
          - {id: important, label: Important, min_score: 3, weight: 2, description: Plan for it., prioritized: true}
          - {id: optional, label: Optional, min_score: 1, weight: 1, description: Nice to have.}
          - {id: not_needed, label: Not needed, weight: 0, description: Nothing calls for it.}
        strengths:
          - {id: strong, label: strong, value: 1.0}
          - {id: weak, label: weak, value: 0.3}
    """,
    "elements.yaml": """
        elements:
          - id: whereabouts
            short: W
            name: Whereabouts
            question: Where in the image is the evidence?
            definition: The regions of the image that the output depends on.
            examples: [a heatmap over the lesion]
            teaching: Students confuse a plausible map with a faithful one; test maps, do not trust them.
            evaluation:
              - text: Check maps against lesion masks on a held-out subset.
          - id: workings
            short: K
            name: Workings
            question: How does the model compute its output?
            definition: The computation of the model, readable for every input.
            examples: [a linear head over named features]
            teaching: A transparent model exposes its mechanism; a post hoc story about one output does not.
            evaluation:
              - text: Ask an auditor to predict outputs from the readable parts alone.
    """,
    "methods.yaml": """
        methods:
          - id: heatmaps
            name: Heatmaps
            kind: post_hoc
            summary: Maps of how much each pixel moved the output.
            representatives: [{name: Occlusion maps}]
            serves: [{element: whereabouts, strength: strong}]
            evaluation: [{text: Run a randomization sanity check.}]
          - id: glass_box
            name: Glass-box heads
            kind: by_design
            summary: A final layer whose weights can be read as the decision rule.
            representatives: [{name: Linear head over named features}]
            serves: [{element: workings, strength: strong}, {element: whereabouts, strength: weak}]
            needs: [retraining]
            evaluation: [{text: Compare accuracy with the black-box baseline.}]
    """,
    "needs.yaml": """
        needs:
          - id: retraining
            label: The model can be retrained
            available_when: {q: can_retrain, in: [retrain_possible]}
            unavailable_when: {q: can_retrain, in: [frozen_model]}
            when_missing: exclude
            explain_missing: A frozen model cannot be given a readable head.
    """,
    "references.yaml": "references: []\n",
    "rules.yaml": """
        rules:
          - id: detection-needs-whereabouts
            when: {q: purpose, in: [detect]}
            effects:
              - element: whereabouts
                weight: 5
                because: A detector's output is a place, so its evidence must be shown where it lies.
          - id: certification-needs-workings
            when: {q: purpose, in: [certify]}
            effects:
              - element: workings
                weight: 5
                because: A certifier must see how the model decides, not one story per case.
              - method: glass_box
                weight: 1
                because: A readable head is what certification can inspect.
    """,
    "flow/1-basics.yaml": """
        questions:
          - id: purpose
            stage: basics
            kind: single
            prompt: What is the model for?
            help: >-
              The purpose decides which element matters: a detector must show where, a model under
              certification must show how it works.
            choices:
              - {id: detect, label: Detecting findings, description: It marks where findings are.}
              - {id: certify, label: Passing certification, description: An auditor must approve it.}
              - {id: describe, label: Describing images, description: It writes what it sees., neutral: true}
            next:
              - goto: can_retrain
          - id: can_retrain
            stage: basics
            kind: single
            prompt: Can the model be retrained?
            help: >-
              A model that can be retrained can be given an interpretable design; a frozen one can
              only be explained after the fact.
            choices:
              - {id: retrain_possible, label: It can be retrained, description: The team owns the training code.}
              - {id: frozen_model, label: It is frozen, description: A vendor ships it as a black box.}
            next:
              - goto: remarks
          - id: remarks
            stage: basics
            kind: text
            prompt: Anything else the reviewers should know?
            help: >-
              Write down constraints that the questions did not cover, in a sentence or two, so that
              reviewers of the design document can weigh them.
            next:
              - goto: end
    """,
    "cases/seminar.yaml": """
        title: The seminar's detector
        reading: The course team's reading of the week-three example.
        answers:
          purpose: detect
          can_retrain: retrain_possible
          remarks: Runs on the ward's laptops.
        notes:
          purpose: The example marks nodules, so it is a detector.
        instructor_notes:
          discuss: [Why does a detector need whereabouts before workings?]
          common_mistakes: [Calling a heatmap an explanation of how the model works.]
    """,
}


@pytest.fixture
def mini_bank(tmp_path: Path) -> Path:
    root = tmp_path / "mini-bank"
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


def _ok(*args: str) -> str:
    result = run_guide(*args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_lint_is_clean_and_cases_are_listed(mini_bank):
    result = run_guide("lint", str(mini_bank))
    assert (result.returncode, result.stdout) == (0, "")
    assert _ok("cases", "--bank", str(mini_bank)).split() == ["seminar", "The", "seminar's", "detector"]


def test_run_uses_the_custom_elements_and_methods(mini_bank):
    document = _ok("run", "--bank", str(mini_bank), "--case", "seminar", "--date", FIXED_DATE)
    assert "The seminar's detector" in document
    assert "Whereabouts" in document and "Workings" in document
    assert "A detector's output is a place" in document
    assert "Heatmaps" in document
    assert "Localization" not in document  # nothing leaks in from the built-in bank


def test_codebook_and_graph_describe_the_custom_bank(mini_bank):
    codebook = _ok("codebook", "--bank", str(mini_bank))
    assert codebook.startswith("# Codebook: A two-element course bank")
    assert "### `purpose`: What is the model for?" in codebook
    assert "Raises Whereabouts +5 (rule `detection-needs-whereabouts`)" in codebook
    assert "Neutral by design" in codebook
    assert "Tells the tool the project lacks: The model can be retrained, so Glass-box heads is filtered out" in codebook
    assert _ok("codebook", str(mini_bank)) == codebook

    diagram = _ok("graph", "--bank", str(mini_bank))
    for node in ("q_purpose", "q_can_retrain", "q_remarks", "r_detection_needs_whereabouts", "e_whereabouts",
                 "m_glass_box", "n_retraining"):
        assert f"  {node}[" in diagram or f"    {node}[" in diagram
    walk = _ok("graph", "--bank", str(mini_bank), "--case", "seminar", "--format", "dot")
    assert '"r:detection-needs-whereabouts" -> "e:whereabouts" [label="+5", penwidth=2];' in walk
    assert "certification-needs-workings" not in walk


def test_compare_against_the_custom_preset(mini_bank, tmp_path):
    student = tmp_path / "student.yaml"
    student.write_text("title: A student\nanswers:\n  purpose: certify\n  can_retrain: frozen_model\n")
    lesson = " ".join(_ok("compare", str(student), "--case", "seminar", "--bank", str(mini_bank)).split())
    assert "The reference: Detecting findings." in lesson and "You: Passing certification." in lesson
    assert "Why the reference answered so: The example marks nodules, so it is a detector." in lesson
    assert "Whereabouts (W): the reference essential, you not needed" in lesson
    assert "Students confuse a plausible map with a faithful one" in lesson
    assert "Why does a detector need whereabouts before workings?" in lesson


def test_a_broken_custom_bank_is_reported_by_every_command(mini_bank):
    rules = mini_bank / "rules.yaml"
    rules.write_text(rules.read_text().replace("element: workings", "element: workingz"))
    line = next(number for number, text in enumerate(rules.read_text().splitlines(), 1) if "element: workingz" in text)
    expected = f"{rules}:{line}: certification-needs-workings: effect on unknown element 'workingz'"
    lint = run_guide("lint", str(mini_bank))
    assert lint.returncode == 1 and expected in lint.stdout.splitlines()
    for command in (("run", "--case", "seminar"), ("codebook",), ("graph",), ("cases",)):
        result = run_guide(*command, "--bank", str(mini_bank))
        assert result.returncode == 2
        assert result.stderr.strip() == f"guide: {expected}"


# ---------------------------------------------------------------------------------------------
# The tutorial: every command in docs/tutorial-own-bank.md, run as written, in order.

TUTORIAL = ROOT / "docs" / "tutorial-own-bank.md"


def _tutorial_steps() -> list[tuple[str, str | None]]:
    """(shell block, expected output block or None), in document order."""
    fences = [token for token in MarkdownIt("commonmark").parse(TUTORIAL.read_text(encoding="utf-8"))
              if token.type == "fence"]
    steps = []
    for index, fence in enumerate(fences):
        if fence.info == "sh":
            following = fences[index + 1] if index + 1 < len(fences) else None
            steps.append((fence.content, following.content if following and following.info == "text" else None))
    return steps


def test_tutorial_commands_work_as_written(tmp_path, guide_home):
    """Run from a copy of the checkout's bank, with `guide` on PATH as after `pip install -e .`."""
    shutil.copytree(ROOT / "questions", tmp_path / "questions")
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    steps = _tutorial_steps()
    assert len(steps) >= 6
    for script, expected in steps:
        status = re.match(r"# exit status: (\d+)", script)
        result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=environment, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == (int(status[1]) if status else 0), (script, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        printed = [line.strip() for line in (result.stdout + result.stderr).splitlines()]
        for line in (expected or "").splitlines():
            if line.strip():
                assert line.strip() in printed, (script, line, result.stdout, result.stderr)
    # The copied bank's editor links resolve to the schemas written beside it.
    copied = sorted((tmp_path / "mycourse" / "bank").rglob("*.yaml"))
    assert len(copied) > 10
    for path in copied:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        target = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert target and (path.parent / target[1]).is_file(), path


def test_a_renamed_risk_stage_keeps_its_section_because_the_bank_names_its_role(bank_copy):
    """Which stage holds the risks is bank data (`document_role`), not the id the built-in bank gives it: an
    instructor who renames the stage keeps the document's section on what each risk moved."""
    for path in [bank_copy / "bank.yaml", *(bank_copy / "flow").glob("*.yaml")]:
        path.write_text(re.sub(r"\b(id|stage): risks\b", r"\1: hazards", path.read_text(encoding="utf-8")),
                        encoding="utf-8")
    assert run_guide("lint", str(bank_copy)).returncode == 0
    document = run_guide("run", "--bank", str(bank_copy), "--case", "dr-screening", "--date", FIXED_DATE).stdout
    assert "**Risks named in the answers, and how each moved the priorities and the ranking:**" in document
    assert "Your constraints in your own words" in document


def test_two_stages_with_one_document_role_are_refused_at_the_field(bank_copy):
    meta = bank_copy / "bank.yaml"
    text = meta.read_text(encoding="utf-8")
    meta.write_text(text.replace("    document_role: constraints", "    document_role: risks"), encoding="utf-8")
    line = next(number for number, row in enumerate(text.splitlines(), 1) if row.startswith("stages:"))
    result = run_guide("run", "--bank", str(bank_copy), "--case", "dr-screening")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and f"bank.yaml:{line}: stages: " in result.stderr
    assert "more than one stage has document_role 'risks'" in result.stderr


def test_which_levels_are_priorities_is_the_banks_to_say(bank_copy):
    """`prioritized` on a level, not its place in the list: a course that makes optional elements priorities too
    gets their acceptance criteria planned and no longer lists them as deliberately not done."""
    from guide.bank import read_answers
    from guide.engine import evaluate
    from guide.load import load_bank

    def optional_elements(bank_dir):
        bank = load_bank(bank_dir)
        result = evaluate(bank, read_answers(bank.cases()["dr-screening"], bank))
        optional = {element.id for element in result.elements if element.level == "optional"}
        return optional, {step.element for step in result.acceptance}
    optional, planned = optional_elements(bank_copy)
    assert optional and not optional & planned
    before = run_guide("run", "--bank", str(bank_copy), "--case", "dr-screening").stdout
    assert "is optional." in before.split("**Deliberately not done:**")[1].split("\n\n**")[0]
    meta = bank_copy / "bank.yaml"
    text = meta.read_text(encoding="utf-8")
    meta.write_text(text.replace("    description: Worth having where it comes cheaply.\n",
                                 "    description: Worth having where it comes cheaply.\n    prioritized: true\n"),
                    encoding="utf-8")
    optional, planned = optional_elements(bank_copy)
    assert optional and optional <= planned
    document = run_guide("run", "--bank", str(bank_copy), "--case", "dr-screening").stdout
    not_done = document.split("**Deliberately not done:**")[1].split("\n\n**")[0]
    assert "is optional." not in not_done


def test_a_bank_without_a_prioritized_level_is_refused_in_one_line(bank_copy):
    meta = bank_copy / "bank.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("    prioritized: true\n", ""), encoding="utf-8")
    result = run_guide("run", "--bank", str(bank_copy), "--case", "dr-screening")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "bank.yaml:" in result.stderr and "no level is prioritized" in result.stderr
