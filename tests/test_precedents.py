"""Precedents: published systems the bank is scored against and shows as evidence in every design."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from guide.bankfiles import BUILTIN_BANK
from guide.calibration import scorecard
from guide.engine import evaluate, precedent_similarities, precedent_values
from guide.load import load_bank
from guide.model import AnswersFile, PaperReference, Precedent

from tests.conftest import CASES, FIXED_DATE, run_guide


def test_the_corpus_has_the_spread_the_scores_need(bank):
    precedents = bank.precedents.values()
    assert len(bank.precedents) >= 40
    assert {item.split for item in precedents} == {"calibration", "holdout"}
    built = [family for item in precedents for family in item.built]
    assert {family: built.count(family) for family in bank.methods if built.count(family) < 2} == {}
    modalities = {item.answers.get("modality") for item in precedents} - {None, "unsure", "other_modality"}
    assert len(modalities) >= 10
    tasks = {item.answers.get("task") for item in precedents}
    assert {choice.id for choice in bank.questions["task"].choices} - {"unsure"} <= tasks


def test_every_precedent_cites_a_resolvable_paper_and_answers_on_its_own_walk(bank):
    for precedent_id, precedent in bank.precedents.items():
        assert precedent.reference.identifier().startswith(("doi:10.", "arXiv:", "https://")), precedent_id
        assert set(precedent_values(bank, precedent_id)) == set(precedent.answers), precedent_id


def test_scoring_meets_the_targets_the_bank_declares():
    result = run_guide("precedents", "--score", "--format", "json")
    assert result.returncode == 0, result.stderr
    cards = {card["split"]: card for card in json.loads(result.stdout)}
    targets = load_bank(BUILTIN_BANK).meta.precedent_targets
    assert cards["all"]["family_hit_at_3"] >= targets.family_hit_at_3
    assert cards["all"]["element_hit_at_2"] >= targets.element_hit_at_2
    assert cards["holdout"]["family_hit_at_3"] >= targets.holdout_family_hit_at_3
    assert cards["holdout"]["element_hit_at_2"] >= targets.holdout_element_hit_at_2
    assert cards["calibration"]["count"] + cards["holdout"]["count"] == cards["all"]["count"]


HOLDOUT_GOAL_MISSED = ("precedents written blind, before any rule changed, brought the holdout's family hit@3 to 84.4% "
                       "(27 of 32) in the seventh review's round, 83.3% (30 of 36) in the eighth's, 81.6% (31 of 38) in "
                       "the ninth's and 82.5% (33 of 40) in the tenth's; no rule is tuned "
                       "to win it back (docs/precedents.md reports the miss). Strict: once the goal is met again, this "
                       "mark goes.")


@pytest.mark.parametrize("split", ["all", pytest.param("holdout", marks=pytest.mark.xfail(strict=True,
                                                                                          reason=HOLDOUT_GOAL_MISSED))])
def test_the_built_in_bank_meets_the_goal_on_the_whole_corpus_and_on_the_holdout(bank, split):
    """The family its authors built in the top 3, and an element it serves in the top 2, for at least 85% of all
    precedents and of the held-out ones. Issue 11's goal for the whole corpus was 90%; four precedents written
    blind for the sixth review brought it to 88.5% before any rule changed, and no rule was tuned to win it
    back (docs/precedents.md reports the miss). Calibration alone is not held to it. The regressions of the
    bank's own rules are caught by the floors it declares (above), which follow what it meets."""
    card = scorecard(bank, split)
    assert card.share("hit3") >= 0.85, (split, card.measured("hit3"))
    assert card.share("element_hit") >= 0.85, (split, card.measured("element_hit"))


def test_a_score_below_the_declared_target_exits_1(bank_copy):
    meta = bank_copy / "bank.yaml"
    meta.write_text(re.sub(r"holdout_family_hit_at_3: [0-9.]+", "holdout_family_hit_at_3: 1.0", meta.read_text()))
    result = run_guide("precedents", "--bank", str(bank_copy), "--score", "--split", "holdout")
    assert result.returncode == 1
    assert "holdout: family hit@3" in result.stderr and "below the bank's target 100%" in result.stderr


def test_a_share_just_under_a_target_never_reads_as_meeting_it(bank_copy):
    """With the whole corpus at, say, 60 of 67 (89.6%), a target of 90% is missed, and the words must say so
    rather than round the share up to 90%."""
    bank = load_bank(bank_copy)
    card = scorecard(bank, "all")
    hits = sum(item.hit3 for item in card.precedents)
    share = hits / card.count
    just_above = round(share + 0.0005, 4)  # a target that a share rounded to whole percents would seem to meet
    meta = bank_copy / "bank.yaml"
    meta.write_text(re.sub(r"\bfamily_hit_at_3: [0-9.]+", f"family_hit_at_3: {just_above}", meta.read_text(), count=1))
    result = run_guide("precedents", "--bank", str(bank_copy), "--score", "--split", "all")
    assert result.returncode == 1
    assert f"all: family hit@3 {share:.1%} ({hits} of {card.count}) is below" in result.stderr
    assert f"hit@3 {share:.1%} ({hits} of {card.count})" in result.stdout


def test_a_split_with_no_precedents_fails_the_declared_targets_instead_of_passing_unchecked(bank_copy):
    for path in (bank_copy / "precedents").glob("*.yaml"):
        if "split: holdout" in path.read_text():
            path.unlink()
    result = run_guide("precedents", "--bank", str(bank_copy), "--score")
    assert result.returncode == 1
    assert "holdout: no precedents to score" in result.stderr
    assert "calibration" not in result.stderr  # the splits that have precedents still meet their targets


def test_a_misspelt_answer_in_a_precedent_is_reported_at_its_line_as_unknown_and_a_stray_basis_at_its_own(bank_copy):
    path = bank_copy / "precedents" / "abdulaal2024-sae-rad.yaml"
    text = path.read_text()
    path.write_text(text.replace("\n  task: report_generation\n", "\n  tsak: report_generation\n", 1))
    lines = path.read_text().splitlines()
    answer_line = lines.index("  tsak: report_generation") + 1
    basis_line = next(number for number, line in enumerate(lines, 1) if line.startswith("  task: ") and number > answer_line)
    result = run_guide("lint", str(bank_copy))
    assert f"{path}:{answer_line}: abdulaal2024-sae-rad.answers.tsak: unknown question 'tsak'" in result.stdout
    assert f"{path}:{basis_line}: abdulaal2024-sae-rad.basis.task: a basis for 'task', which is not answered" in result.stdout
    assert "every answer needs a basis" not in result.stdout


def test_only_the_explanation_form_may_put_a_family_first_on_its_own(bank_copy):
    rules = bank_copy / "rules.yaml"
    rules.write_text(rules.read_text() + """
  - id: users-who-ask-for-similar-cases
    when: {q: explanation_form, in: [similar_cases]}
    effects:
      - method: case_retrieval
        weight: 5
        because: The user asked for similar archive cases.
""")
    asked = run_guide("precedents", "--bank", str(bank_copy), "--score", "--split", "calibration")
    assert "first on its own" not in asked.stderr
    rules.write_text(rules.read_text() + """
  - id: teaching-always-counterfactuals
    when: {q: goals, in: [education]}
    effects:
      - method: counterfactuals
        weight: 5
        because: A rule that outweighs everything else.
""")
    result = run_guide("precedents", "--bank", str(bank_copy), "--score", "--split", "calibration")
    assert result.returncode == 1
    assert "answering goals = education puts counterfactuals first on its own" in result.stderr
    assert "explanation_form" not in result.stderr
    # A choice whose output is itself the explanation (a detector's boxes) names the form as the user would.
    goals = bank_copy / "flow" / "3-goals.yaml"
    goals.write_text(goals.read_text().replace("      - id: education\n", "      - id: education\n"
                                               "        output_is_explanation: true\n", 1))
    exempt = run_guide("precedents", "--bank", str(bank_copy), "--score", "--split", "calibration")
    assert exempt.returncode == 0, exempt.stderr


def test_the_score_table_reports_ranks_and_the_per_family_table():
    result = run_guide("precedents", "--score", "--format", "md")
    assert result.returncode == 0, result.stderr
    assert "| `leibig2017-mc-dropout-dr-referral` | calibration | uncertainty_deferral | #" in result.stdout
    assert "| family | built by | in top 3 when built | in top 3 when not built |" in result.stdout


def test_a_scored_family_rank_is_the_engines_rank(bank):
    card = scorecard(bank, "holdout")
    item = card.precedents[0]
    result = evaluate(bank, AnswersFile(answers=bank.precedents[item.id].answers))
    ranked = [method.id for method in result.methods if method.rank is not None]
    assert item.top_families == ranked[:3]
    assert item.family_rank == min((ranked.index(family) + 1 for family in item.built if family in ranked), default=None)


@pytest.mark.parametrize("case", CASES)
def test_the_systems_that_built_a_family_come_nearest_to_the_users_setting_first(bank, case):
    """A document shows the first few systems that built each family: they must be the apt ones, not the
    first in the alphabet."""
    from guide.bank import read_answers

    answers = read_answers(bank.cases()[case], bank)
    result = evaluate(bank, answers)
    closeness = {precedent_id: value for precedent_id, (value, _) in precedent_similarities(bank, answers.answers).items()}
    listed = [method.built_by for method in result.methods if len(method.built_by) > 1]
    assert listed
    for built_by in listed:
        assert [closeness[item] for item in built_by] == sorted((closeness[item] for item in built_by), reverse=True)
    assert any([closeness[item] for item in built_by] != [closeness[item] for item in sorted(built_by)]
               for built_by in listed), "the order differs from the bank's somewhere"


def test_the_task_and_the_modality_weigh_more_in_finding_the_nearest_systems(bank):
    """A mammography detector's nearest systems share its task or its modality, the nearest both: with every
    answer counting once, a lung CT screening system (neither) came third on generic answers (2D, large data,
    full access)."""
    from guide.bank import read_answers

    answers = read_answers(bank.cases()["breast-cancer-detection"], bank)
    nearest = [bank.precedents[match.id].answers for match in evaluate(bank, answers).precedents]
    shared = [(found["task"] == "detection", found["modality"] == "mammography") for found in nearest]
    assert shared[0] == (True, True)
    assert all(any(pair) for pair in shared), shared
    assert bank.meta.similarity_weights == {"task": 3, "modality": 3}
    unweighted = dataclasses.replace(bank, meta=bank.meta.model_copy(update={"similarity_weights": {}}))

    def lead_over_generic_matches(scored_bank) -> float:
        """How far the nearest system sharing the task or the modality is ahead of the nearest sharing neither."""
        scores = precedent_similarities(scored_bank, answers.answers)

        def shares_task_or_modality(precedent_id: str) -> bool:
            found = bank.precedents[precedent_id].answers
            return found["task"] == "detection" or found["modality"] == "mammography"

        best = {same: max(score for precedent_id, (score, _) in scores.items()
                          if shares_task_or_modality(precedent_id) == same)
                for same in (True, False)}
        return best[True] - best[False]

    assert lead_over_generic_matches(bank) > lead_over_generic_matches(unweighted) + 0.05


@pytest.mark.parametrize("case", CASES)
def test_every_preset_document_shows_its_nearest_published_systems(case):
    markdown = run_guide("run", "--case", case, "--date", FIXED_DATE)
    assert markdown.returncode == 0, markdown.stderr
    section = markdown.stdout.split("## Published systems like yours", 1)[1].split("\n## ", 1)[0]
    assert section.count("\n### ") == 3
    assert "Agreeing answers:" in section
    references = markdown.stdout.split("\n## References\n", 1)[1].splitlines()
    for number in re.findall(r"- Paper: [^\n]* \[(\d+)\]\.", section):  # each cited in full, with its identifier
        cited = next(line for line in references if line.startswith(f"{number}. "))
        assert "doi:10." in cited or "arXiv:" in cited
    assert len(re.findall(r"- Paper: ", section)) == 3
    assert "Published systems that built it (nearest first):" in markdown.stdout
    data = json.loads(run_guide("run", "--case", case, "--format", "json", "--date", FIXED_DATE).stdout)
    nearest = data["result"]["precedents"]
    assert len(nearest) == 3 and nearest[0]["similarity"] >= nearest[-1]["similarity"] > 0
    assert all(match["matched"] and len(match["agreeing"]) == len(match["matched"]) for match in nearest)
    html = run_guide("run", "--case", case, "--format", "html", "--date", FIXED_DATE).stdout
    assert "Published systems like yours" in html


def test_precedents_never_change_a_score(bank):
    answers = AnswersFile(answers=bank.precedents["leibig2017-mc-dropout-dr-referral"].answers)
    with_precedents = evaluate(bank, answers)
    without = evaluate(_without_precedents(bank), answers)
    assert with_precedents.precedents and not without.precedents
    assert [(element.id, element.score) for element in with_precedents.elements] == \
           [(element.id, element.score) for element in without.elements]
    assert [(method.id, method.score, method.rank) for method in with_precedents.methods] == \
           [(method.id, method.score, method.rank) for method in without.methods]


def _without_precedents(bank):
    import copy

    stripped = copy.copy(bank)
    stripped.__dict__["precedents"] = {}
    return stripped


def test_a_precedent_naming_an_unknown_family_is_an_error_with_its_line(bank_copy):
    path = bank_copy / "precedents" / "leibig2017-mc-dropout-dr-referral.yaml"
    path.write_text(path.read_text().replace("built: [uncertainty_deferral]", "built: [crystal_ball]"))
    result = run_guide("run", "--bank", str(bank_copy), "--case", "dr-screening")
    assert result.returncode == 2
    line = next(number for number, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("built:"))
    assert result.stderr.strip() == (f"guide: {path}:{line}: leibig2017-mc-dropout-dr-referral.built: built names "
                                     "unknown method family 'crystal_ball'")


def test_an_answer_without_a_basis_is_an_error_that_names_the_file(bank_copy):
    path = bank_copy / "precedents" / "leibig2017-mc-dropout-dr-referral.yaml"
    path.write_text(re.sub(r"\n  modality: .*", "", path.read_text().split("\nbasis:")[0], count=0)
                    + "\nbasis:" + path.read_text().split("\nbasis:")[1].replace("\n  modality:", "\n  modality_gone:"))
    result = run_guide("precedents", "--bank", str(bank_copy))
    assert result.returncode == 2
    assert str(path) in result.stderr and "basis" in result.stderr and "Traceback" not in result.stderr


def test_a_choice_a_precedent_gives_must_exist(bank_copy):
    path = bank_copy / "precedents" / "leibig2017-mc-dropout-dr-referral.yaml"
    path.write_text(path.read_text().replace("  modality: fundus_photo", "  modality: crystal"))
    result = run_guide("lint", str(bank_copy))
    assert result.returncode == 1
    assert "leibig2017-mc-dropout-dr-referral.answers.modality: unknown choice 'crystal'" in result.stdout


def test_lint_advises_on_a_rule_only_one_precedent_meets_without_failing(bank_copy):
    rules = bank_copy / "rules.yaml"
    rules.write_text(rules.read_text() + """
  - id: only-for-a-cephalometric-atlas
    when:
      all:
        - {q: finding_extent, in: [point_landmarks]}
        - {q: modality, in: [ct, pet, quantitative_mri]}
        - not: {q: task, in: [quantification]}
    effects:
      - element: localization
        weight: 1
        because: A rule written for one published system.
""")
    result = run_guide("lint", str(bank_copy))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "only-for-a-cephalometric-atlas" not in result.stdout  # no precedent meets it: nothing to say
    rules.write_text(rules.read_text().replace("        - {q: modality, in: [ct, pet, quantitative_mri]}\n"
                                               "        - not: {q: task, in: [quantification]}\n",
                                               "        - {q: data_size, in: [small_data]}\n"
                                               "        - {q: task, in: [quantification]}\n"))
    # Met by one precedent, held out: advice to change a rule never names a holdout precedent.
    result = run_guide("lint", str(bank_copy))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "only-for-a-cephalometric-atlas" not in result.stdout
    assert "lindner2016-cephalometric-landmarks" not in result.stdout
    precedent = bank_copy / "precedents" / "lindner2016-cephalometric-landmarks.yaml"
    precedent.write_text(precedent.read_text().replace("\nsplit: holdout\n", "\nsplit: calibration\n"))
    result = run_guide("lint", str(bank_copy))
    assert result.returncode == 0, result.stdout + result.stderr
    assert ("only-for-a-cephalometric-atlas: advice: only one calibration precedent (lindner2016-cephalometric-landmarks) "
            "meets this rule's condition") in result.stdout
    assert "no findings" in result.stderr and "of advice, which never fail the check" in result.stderr


def test_a_reference_needs_an_identifier():
    with pytest.raises(ValueError, match="a doi, an arxiv id or a url"):
        PaperReference(authors="A", title="T", year=2020, venue="V")
    reference = PaperReference(authors="Lu MY, et al.", title="Title.", year=2021, venue="Nat", doi="10.1000/x")
    assert reference.citation() == "Lu MY, et al. Title. Nat, 2021. doi:10.1000/x"


def test_a_1_0_answers_file_migrates_to_2_0(tmp_path):
    old = tmp_path / "old.yaml"
    old.write_text("bank_id: wang2024-mlmi\nbank_version: '1.0.0'\nanswers:\n  task: diagnosis_classification\n"
                   "  goals: [accountability_regulation]\n  regulatory_pathway: medical_device_certification\n"
                   "  user_correction: correct_at_use_time\n")
    result = run_guide("run", "--answers", str(old), "--format", "json", "--date", FIXED_DATE)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    given = {record["question"]: record["value"] for record in data["result"]["answers"]}
    assert given["regulatory_context"] == "medical_device_certification"
    assert given["user_correction"] == "correct_concepts"
    assert data["bank_change"]["renamed_choices"] == {"user_correction": {"correct_at_use_time": "correct_concepts"}}
    markdown = run_guide("run", "--answers", str(old), "--date", FIXED_DATE).stdout
    assert "- `user_correction`: the choice `correct_at_use_time` is now `correct_concepts`" in markdown


def test_precedent_schema_matches_a_precedent_file(bank):
    import jsonschema  # in the test extra
    import yaml

    schema = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "precedent.schema.json").read_text())
    for path in sorted((BUILTIN_BANK / "precedents").glob("*.yaml"))[:5]:
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    assert Precedent.model_json_schema()["required"]


def listing_at_a_terminal(columns: int) -> str:
    """`guide precedents` with a pseudo-terminal of `columns` columns on its standard output, as a person sees it."""
    import os
    import pty
    import subprocess
    import sys

    from tests.conftest import ROOT

    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "guide", "precedents"], stdout=terminal,
                                   stderr=subprocess.PIPE, cwd=ROOT, env={**os.environ, "COLUMNS": str(columns)})
        os.close(terminal)
        output = b""
        while chunk := _read_or_end(controller):
            output += chunk
        process.wait(timeout=120)
    finally:
        os.close(controller)
    return output.decode().replace("\r\n", "\n")


def _read_or_end(descriptor: int) -> bytes:
    import os

    try:
        return os.read(descriptor, 65536)
    except OSError:  # EIO: the other end closed
        return b""


@pytest.mark.parametrize("columns", [80, 160])
def test_the_listing_fits_the_terminal_and_says_what_its_columns_are(bank, columns):
    """At 80 columns the lines were ~150 characters, with no header and the split column unexplained."""
    shown = listing_at_a_terminal(columns)
    lines = shown.rstrip("\n").split("\n")
    assert max(map(len, lines)) < columns
    flat = " ".join(shown.split())
    assert "split: the bank's rules are tuned on calibration precedents only; holdout ones only measure it" in flat
    for key, item in bank.precedents.items():
        assert key in flat and " ".join(item.title.split()) in flat
    if columns == 160:
        assert lines[0].split() == ["precedent", "split", "title", "[built:", "the", "method", "families", "its",
                                    "authors", "built]"]


def test_the_listing_in_a_file_or_a_pipe_is_one_line_per_precedent(bank):
    listed = run_guide("precedents")
    lines = listed.stdout.rstrip("\n").split("\n")
    assert lines[0].startswith("precedent ") and lines[-1].startswith("split: ")
    assert [line.split()[0] for line in lines[1:-1]] == list(bank.precedents)
    # The families by the names the app and documents give them (the listing showed `detect_first_pipelines`).
    for line, item in zip(lines[1:-1], bank.precedents.values()):
        assert line.endswith(f"[built: {', '.join(bank.methods[method].name for method in item.built)}]")
    table = run_guide("precedents", "--format", "md").stdout
    assert "| Segment- or detect-first pipelines |" in table and "detect_first_pipelines" not in table


@pytest.mark.parametrize("form", ["text", "md", "json"])
def test_scores_withhold_every_holdout_precedents_row_unless_asked(bank, form):
    """The holdout is scored, never looked into: a row (its rank, its top families) is what a rule could be tuned
    to, so the score table shows its totals only, and the per-family table counts calibration precedents only."""
    holdout = [key for key, precedent in bank.precedents.items() if precedent.split == "holdout"]
    calibration = [key for key in bank.precedents if key not in holdout]
    shown = run_guide("precedents", "--score", "--format", form)
    assert not [key for key in holdout if key in shown.stdout]
    assert all(key in shown.stdout for key in calibration)
    totals = {"text": f"holdout: {len(holdout)} precedents", "md": f"| holdout | {len(holdout)} |",
              "json": f'"count": {len(holdout)}'}
    assert totals[form] in shown.stdout
    if form == "json":
        cards = {card["split"]: card for card in json.loads(shown.stdout)}
        assert cards["holdout"]["precedents"] == [] and cards["holdout"]["rows_withheld"] == len(holdout)
        assert sum(row["built"] + row["not_built"] for row in cards["all"]["families"]) == len(calibration) * len(bank.methods)
    audited = run_guide("precedents", "--score", "--show-holdout", "--format", form)
    assert all(key in audited.stdout for key in holdout)
