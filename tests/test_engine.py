"""The engine: what a model designer relies on when reading priorities and recommendations."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from guide.bank import read_answers
from guide.engine import (NOT_PROPOSED, applicable_caveats, design_families, evaluate, precedent_values, ranked_families,
                          ranking, route, score, setting_shared, setting_unshared)
from guide.load import load_bank
from guide.model import UNSURE, AnswersFile
from guide.report.markdown import markdown_document

from .conftest import CARDIAC_SEGMENTATION, CASES, FIXED_DATE


@pytest.fixture(scope="module")
def presets(bank) -> dict[str, AnswersFile]:
    return {name: read_answers(path, bank) for name, path in bank.cases().items()}


def levels(result) -> dict[str, str]:
    return {element.id: element.level for element in result.elements}


def scores(result) -> dict[str, float]:
    return {element.id: element.score for element in result.elements}


def with_answers(answers: AnswersFile, **changes) -> AnswersFile:
    return answers.model_copy(update={"answers": {**answers.answers, **changes}})


def test_presets_exist_and_are_labelled_as_this_tools_reading(presets):
    assert set(CASES) <= set(presets)
    for name in CASES:
        assert "not the paper" in presets[name].reading.lower() or "this tool" in presets[name].reading.lower()


def test_presets_give_different_sensible_priorities(bank, presets):
    dr, breast, brain = (evaluate(bank, presets[name]) for name in CASES)
    order = bank.level_ids  # highest first
    assert levels(dr)["localization"] == "essential"
    assert levels(dr)["actionability"] == "essential"
    assert levels(breast)["visual_recognizability"] == "essential"
    assert levels(brain)["visual_recognizability"] == "essential"
    # Physical attribution matters more for an encoding model of brain responses than for screening.
    assert order.index(levels(brain)["physical_attribution"]) < order.index(levels(dr)["physical_attribution"])
    # Breast cancer detection asks more of transparency than screening does (recall and biopsy decisions).
    assert scores(breast)["model_transparency"] > scores(dr)["model_transparency"]
    assert len({tuple(scores(result).values()) for result in (dr, breast, brain)}) == 3
    assert len({result.methods[0].id for result in (dr, breast, brain)}) == 3


def test_same_answers_same_result_byte_for_byte(bank, presets):
    first = evaluate(bank, presets["dr-screening"]).model_dump_json()
    assert evaluate(bank, presets["dr-screening"]).model_dump_json() == first


def test_every_recommendation_is_traced_to_answers_on_the_path(bank, presets):
    for answers in presets.values():
        result = evaluate(bank, answers)
        for element in result.elements:
            assert (element.score != 0) == bool(element.evidence)
            assert element.score == pytest.approx(sum(item.weight for item in element.evidence))
            for item in element.evidence:
                assert item.answers and set(item.answers) <= set(result.path)
                assert item.because.strip()
        for method in result.methods:
            if method.rank is not None:
                assert method.why, method.id


def test_routing_depends_on_the_task(bank):
    registration = route(bank, {"task": "registration"})
    screening = route(bank, {"task": "screening_triage"})
    assert "registration_landmarks" in registration and "registration_landmarks" not in screening
    assert registration[0] == screening[0] == bank.meta.start
    assert registration[-1] == screening[-1] == "other_constraints"


def test_essential_is_kept_for_the_elements_that_lead_the_design(bank, presets):
    """Scores add up with every answer: an element past essential's minimum but far behind the leading one is
    important, and its evidence says why, so that a fully answered project does not call everything essential."""
    share = bank.meta.levels[0].min_share_of_top
    for name in CASES:
        result = evaluate(bank, presets[name])
        top = max(element.score for element in result.elements)
        for element in result.elements:
            leads = element.score >= max(6, share * top)
            assert (element.level == "essential") == leads, (name, element.id)
            assert bool(element.held_below) == (element.score >= 6 and not leads), (name, element.id)
    screening = {element.id: element for element in evaluate(bank, presets["dr-screening"]).elements}
    recognizability = screening["visual_recognizability"]
    assert recognizability.score >= 6 and recognizability.level == "important"
    assert recognizability.held_below == ("The score reaches essential's minimum (6) but not 60% of the leading "
                                          f"element's score ({0.6 * screening['actionability'].score:g} of "
                                          f"{screening['actionability'].score:g}).")


def test_unsure_lowers_confidence_and_becomes_an_open_question(bank, presets):
    answers = presets["brain-encoding"]
    sure = evaluate(bank, answers)
    doubtful = evaluate(bank, with_answers(answers, model_role=UNSURE))
    before = next(element for element in sure.elements if element.id == "model_transparency")
    after = next(element for element in doubtful.elements if element.id == "model_transparency")
    assert after.confidence < before.confidence
    assert "model_role" in after.uncertain_questions
    # An autonomous role would make transparency essential: the document must say the level could change.
    assert after.level_range[1] == "essential"
    assert any(alt.question == "model_role" and alt.choice == "autonomous" for alt in after.alternatives)
    open_question = next(item for item in doubtful.open_questions if item.question == "model_role")
    assert open_question.reason == "unsure" and "model_transparency" in open_question.affects


def test_an_open_question_affects_every_element_whose_level_it_could_change(bank, presets):
    """Unsure of the action after a referral, the dr-screening design could hold Localization at Important though
    no answer moves its own score (the leading element's score moves): the open question names it too."""
    result = evaluate(bank, with_answers(presets["dr-screening"], downstream_action=UNSURE))
    localization = next(element for element in result.elements if element.id == "localization")
    assert localization.level_range == ["important", "essential"] and localization.confidence == 1.0
    affects = next(item for item in result.open_questions if item.question == "downstream_action").affects
    assert "localization" in affects
    for element in result.elements:
        for alternative in element.alternatives:
            assert element.id in next(item.affects for item in result.open_questions
                                      if item.question == alternative.question)


def test_missing_answers_are_open_questions_not_guesses(bank):
    result = evaluate(bank, AnswersFile(answers={"task": "screening_triage"}))
    unanswered = {item.question for item in result.open_questions if item.reason == "unanswered"}
    assert "modality" in unanswered and "model_status" in unanswered
    assert all(need.status == "unknown" for need in result.needs if need.id in ("retraining", "white_box"))


def test_a_frozen_black_box_gets_no_by_design_family(bank, presets):
    answers = with_answers(presets["breast-cancer-detection"], model_status="frozen_black_box",
                           white_box_access="query_only")
    result = evaluate(bank, answers)
    ranked = [method for method in result.methods if method.rank is not None]
    assert ranked and all(bank.methods[method.id].kind != "by_design" for method in ranked)
    assert ranked[0].id not in {"concept_bottleneck", "prototypes"}
    excluded = {method.id: method for method in result.methods if method.rank is None}
    assert "retraining" in excluded["concept_bottleneck"].unmet_needs
    assert "white_box" in excluded["attribution_maps"].unmet_needs
    assert not (set(result.complementary) & set(excluded))


def test_what_the_answers_say_cannot_be_built_ranks_after_everything_that_can(bank, presets):
    """A standard network explained afterwards: the families that would replace it are options only if
    that decision changes, so each follows every family the project can build as its answers stand."""
    answers = with_answers(presets["dr-screening"], explanation_priority="accuracy_first")
    ranked = [method for method in evaluate(bank, answers).methods if method.rank is not None]
    blocked = [method for method in ranked if method.unmet_needs]
    assert {"local_evidence_cnn", "prototypes"} <= {method.id for method in blocked}
    assert max(method.rank for method in ranked if not method.unmet_needs) < min(method.rank for method in blocked)


def test_the_design_to_build_holds_only_families_the_answers_allow(bank, presets):
    """Families that need what the answers rule out are options if that changes, never part of the design."""
    answers = with_answers(presets["dr-screening"], explanation_priority="accuracy_first")
    result = evaluate(bank, answers)
    status = {method.id: method.status for method in result.methods}
    assert result.complementary and all(status[method_id] not in ("needs_change", "excluded")
                                        for method_id in result.complementary)
    assert status["local_evidence_cnn"] == "needs_change"
    # Chosen in rank order: response synthesis, which a clinical screening model ranks near the bottom, does not
    # displace the maps and counterfactuals ranked above it for covering two elements at once.
    rank = {method.id: method.rank for method in result.methods}
    assert [rank[method_id] for method_id in result.complementary] == sorted(rank[method_id] for method_id in result.complementary)
    assert "feature_visualization" not in result.complementary


def test_a_standard_model_explained_afterwards_is_held_to_faithfulness_not_interventions(bank, presets):
    answers = with_answers(presets["dr-screening"], explanation_priority="accuracy_first")
    [transparency] = [item for item in evaluate(bank, answers).acceptance if item.element == "model_transparency"]
    assert transparency.conflicting_needs == ["readable_model_for_a_decision"]
    assert "model randomization test" in transparency.measure and transparency.conflict is None
    [as_designed] = [item for item in evaluate(bank, presets["dr-screening"]).acceptance
                     if item.element == "model_transparency"]
    assert transparency.replaces == [as_designed.measure]
    assert as_designed.conflict is None and not as_designed.replaces


def test_a_standard_detector_is_held_to_its_documented_behaviour_not_to_tests_of_maps_it_does_not_have(bank, presets):
    """A detector's boxes are the output: no map explains them, so there is no map to randomize or delete."""
    answers = with_answers(presets["breast-cancer-detection"], explanation_priority="accuracy_first")
    [transparency] = [item for item in evaluate(bank, answers).acceptance if item.element == "model_transparency"]
    assert transparency.conflicting_needs == ["readable_model_for_a_map"]
    assert "catalogue of its failures" in transparency.measure
    assert "randomization" not in transparency.measure + transparency.threshold


def test_a_segmenter_is_not_told_about_a_second_stage_it_does_not_have(bank, presets):
    answers = with_answers(presets["dr-screening"], task="segmentation")
    result = evaluate(bank, answers)
    [propagation] = [step for step in result.evaluation if "first-stage errors propagate" in step.text]
    assert propagation.conflicting_needs == ["decision_after_stage"]
    staged = [step for step in result.evaluation if step.source == "detect_first_pipelines"]
    assert all(step.conflict for step in staged if "end to end" in step.text), \
        "no end-to-end network makes a segmenter's contours' decision: there is none"
    assert "first stage on its own" in propagation.conflict
    assert not applicable_caveats(bank, "detect_first_pipelines", result.needs)
    assert applicable_caveats(bank, "detect_first_pipelines", evaluate(bank, presets["dr-screening"]).needs)
    by_size = evaluate(bank, with_answers(answers, downstream_action=["size_threshold_decides"]))
    [propagation] = [step for step in by_size.evaluation if "first-stage errors propagate" in step.text]
    assert propagation.conflict is None, "a category computed from the measured size is a second stage"
    assert applicable_caveats(bank, "detect_first_pipelines", by_size.needs)


def test_a_detectors_boxes_are_judged_as_the_output_not_as_a_map_explaining_one(bank, presets):
    def localization(answers):
        return [item for item in evaluate(bank, answers).acceptance if item.element == "localization"]

    # The pointing game assumes a map that explains an output: the boxes are judged as the output instead.
    [as_the_output] = localization(presets["breast-cancer-detection"])
    assert as_the_output.conflicting_needs == ["map_explains_an_output"]
    assert "FROC" in as_the_output.measure and "Dice" in as_the_output.measure and as_the_output.conflict is None
    classifier = localization(with_answers(presets["breast-cancer-detection"], task="diagnosis_classification"))
    assert [item.measure for item in classifier] == as_the_output.replaces
    assert [(item.conflict, item.replaces) for item in classifier] == [(None, [])]


def test_a_replacement_measure_carries_its_own_threshold_sample_and_judge_never_the_replaced_ones(bank, bank_copy):
    """The boxes a detector outputs are judged as the output (FROC, Dice): the threshold, the sample and the judge
    of the map measures it replaces (marks of each finding, agreement with them) do not belong under it; where
    the bank proposes none, the plan asks the reviewers to agree on one."""
    answers = read_answers(bank.cases()["breast-cancer-detection"], bank)
    [as_the_output] = [item for item in evaluate(bank, answers).acceptance if item.element == "localization"]
    need = bank.needs["map_explains_an_output"]
    assert (as_the_output.threshold, as_the_output.sample, as_the_output.judge) == (
        need.evaluate_without_threshold, need.evaluate_without_sample, need.evaluate_without_judge)
    replaced = [item for item in bank.elements["localization"].acceptance if item.measure in as_the_output.replaces]
    assert replaced and all(item.threshold != as_the_output.threshold and item.sample != as_the_output.sample
                            and item.judge != as_the_output.judge for item in replaced)
    needs = bank_copy / "needs.yaml"
    text = needs.read_text(encoding="utf-8")
    block = text[text.index("  - id: map_explains_an_output\n"):]
    block = block[:block.index("\n  - id: ")]
    needs.write_text(text.replace(block, re.sub(r"\n    evaluate_without_(threshold|sample|judge): >-(\n      .*)+", "",
                                                block)), encoding="utf-8")
    copied = load_bank(bank_copy)
    [unproposed] = [item for item in evaluate(copied, read_answers(copied.cases()["breast-cancer-detection"], copied))
                    .acceptance if item.element == "localization"]
    assert (unproposed.threshold, unproposed.sample, unproposed.judge) == (NOT_PROPOSED,) * 3


def test_a_developers_audit_is_judged_by_what_the_developers_fix_not_by_clinical_decisions(bank, presets):
    answers = with_answers(presets["dr-screening"], consumers=["ml_developer"],
                           explanation_form=["training_examples", "failing_groups"])
    [action] = [item for item in evaluate(bank, answers).acceptance if item.element == "actionability"]
    assert action.conflicting_needs == ["clinicians_see_explanations"]
    assert "flipped labels" in action.measure
    [clinical] = [item for item in evaluate(bank, presets["dr-screening"]).acceptance if item.element == "actionability"]
    assert clinical.conflict is None and action.replaces == [clinical.measure]


def test_landmark_detection_waits_for_named_points_to_matter(bank, presets):
    """Focal lesions and no alignment step: detecting landmarks would explain a measurement nobody asked for."""
    lesions = {method.id: method for method in evaluate(bank, presets["dr-screening"]).methods}
    assert lesions["landmark_detection"].unmet_needs == ["named_points_matter"]
    points = evaluate(bank, with_answers(presets["dr-screening"], finding_extent="point_landmarks"))
    assert "named_points_matter" not in next(method for method in points.methods
                                             if method.id == "landmark_detection").unmet_needs


def test_contours_on_anatomy_do_not_call_for_a_landmark_detector(bank, presets):
    """A segmentation whose users check contours: only named anatomical points make landmarks matter."""
    contours = with_answers(presets["dr-screening"], task="segmentation", finding_extent="delineated_structure",
                            explanation_form=["overlays_on_anatomy"])
    methods = {method.id: method for method in evaluate(bank, contours).methods}
    assert methods["landmark_detection"].unmet_needs == ["named_points_matter"]
    named = evaluate(bank, with_answers(contours, explanation_form=["named_landmarks"]))
    assert "named_points_matter" not in next(method for method in named.methods
                                             if method.id == "landmark_detection").unmet_needs


def test_a_flag_shown_to_no_one_as_evidence_is_checked_by_developers_not_in_a_user_study(bank, presets):
    """A triage device whose users see only a flag: what users recognize cannot be studied; where the model looks
    can still be checked against the reference."""
    flag_only = evaluate(bank, with_answers(presets["dr-screening"], explanation_form=["confidence_flag"]))
    [recognized] = [item for item in flag_only.acceptance if item.element == "visual_recognizability"]
    assert recognized.conflicting_needs == ["users_shown_the_evidence"]
    assert "reference location" in recognized.measure and "recognize a finding" in recognized.replaces[0]
    shown = evaluate(bank, presets["dr-screening"])
    [study] = [item for item in shown.acceptance if item.element == "visual_recognizability"]
    assert study.conflict is None and "recognize a finding" in study.measure

    def recognizability_rules(result):
        return {item.rule for element in result.elements if element.id == "visual_recognizability"
                for item in element.evidence}

    assert "no-evidence-shown-to-users" in recognizability_rules(flag_only) - recognizability_rules(shown)


def test_a_flag_that_refers_is_measured_as_a_rule_out_and_one_that_reorders_as_a_queue(bank, presets):
    """A screening flag that refers cases to a specialist decides who is never seen by one; a worklist flag only
    moves cases up the queue, and every case is still read."""

    def checks(**answers):
        return " ".join(check.text for check in evaluate(bank, with_answers(presets["dr-screening"],
                                                                             **answers)).answer_checks)

    referral = checks(model_role="triage", referral_pathway="refer_to_specialist")
    assert "sensitivity for the disease that must be referred" in referral and "is not a negative" not in referral
    queue = checks(model_role="triage", referral_pathway="worklist_prioritization")
    assert "is not a negative" in queue and "must be referred" not in queue


def test_a_ct_flag_reports_no_physical_quantity(bank, presets):
    """Hounsfield units raise physical attribution only where something is reported in them."""
    flag = with_answers(presets["dr-screening"], modality="ct")
    volume = with_answers(flag, task="segmentation")
    assert scores(evaluate(bank, flag))["physical_attribution"] == scores(evaluate(bank, presets["dr-screening"]))[
        "physical_attribution"]
    rules = {item.rule for element in evaluate(bank, volume).elements if element.id == "physical_attribution"
             for item in element.evidence}
    assert "quantitative-modality" in rules


def test_a_large_finding_in_one_place_is_shown_but_not_sent_to_a_patch_scorer(bank, presets):
    """A pneumothorax screener: where the evidence lies matters as for a small lesion, but a model that scores
    small patches is the screening fit only for small lesions."""
    def outcome(extent):
        result = evaluate(bank, with_answers(presets["dr-screening"], finding_extent=extent))
        return scores(result)["localization"], {method.id: method for method in result.methods}

    lesion_localization, lesion = outcome("focal")
    region_localization, region = outcome("localized_region")
    assert region_localization == lesion_localization
    assert region["local_evidence_cnn"].score == pytest.approx(lesion["local_evidence_cnn"].score - 2)
    def rules(method):
        return {item.rule for item in method.evidence}

    assert "screening-focal-lesions-glass-box" in rules(lesion["local_evidence_cnn"]) - rules(region["local_evidence_cnn"])
    assert "image-labels-for-focal-disease" in rules(region["local_evidence_cnn"])
    assert "localized-regions-must-be-shown" in rules(region["detect_first_pipelines"])


def test_a_size_threshold_that_decides_an_intervention_raises_physical_attribution(bank, presets):
    """A mass recalled and biopsied by its measured size: the size must be checkable in real units, and, with many
    new sites ahead, keep its meaning across them (which a detector's marks alone did not ask)."""
    answers = presets["breast-cancer-detection"]
    by_size = with_answers(answers, downstream_action=[*answers.answers["downstream_action"], "size_threshold_decides"])
    before, after = evaluate(bank, answers), evaluate(bank, by_size)
    assert scores(after)["physical_attribution"] == scores(before)["physical_attribution"] + 2 + 1
    assert levels(before)["physical_attribution"] == "optional" and levels(after)["physical_attribution"] == "important"


def test_anatomy_a_tool_segments_without_annotation_counts_as_masks(bank, presets):
    """Regional volumes from an automatic brain segmenter are the usual interpretable baseline of a brain-age
    model: answering that no one can annotate must not rule out what those outlines make possible."""
    def needs(region_annotations):
        answers = with_answers(presets["dr-screening"], region_annotations=region_annotations)
        return {need.id: need.status for need in evaluate(bank, answers).needs}

    assert needs("not_feasible")["region_annotations"] == "unavailable"
    assert needs("automatic_anatomy")["region_annotations"] == "available"


def test_missing_concept_labels_are_stated_and_cost_rank(bank, presets):
    answers = presets["breast-cancer-detection"]
    with_labels = evaluate(bank, answers)
    without = evaluate(bank, with_answers(answers, concept_annotations="not_feasible"))
    before = next(method for method in with_labels.methods if method.id == "concept_bottleneck")
    after = next(method for method in without.methods if method.id == "concept_bottleneck")
    assert after.unmet_needs == ["concept_labels"] and after.status == "needs_change"
    assert after.score < before.score and after.rank > before.rank
    assert any("concept" in reason.lower() for reason in after.why)


def test_an_unknown_soft_need_costs_half_its_penalty_and_says_so(bank, bank_copy, presets):
    answers = with_answers(presets["breast-cancer-detection"], concept_annotations=UNSURE)
    meta = bank_copy / "bank.yaml"
    meta.write_text(meta.read_text().replace("unknown_need_share: 0.5", "unknown_need_share: 0"))

    def concept_bottleneck(in_bank):
        return next(method for method in evaluate(in_bank, answers).methods if method.id == "concept_bottleneck")

    costed, free = concept_bottleneck(bank), concept_bottleneck(load_bank(bank_copy))
    assert costed.unknown_needs == ["concept_labels"] and costed.status == "conditional"
    assert costed.score == pytest.approx(free.score - bank.needs["concept_labels"].penalty / 2)
    assert any("leave unknown" in reason and "50% of what its absence costs" in reason for reason in costed.why)
    assert not any("leave unknown" in reason for reason in free.why)


def test_a_plan_check_the_answers_rule_out_is_marked_with_what_to_do_instead(bank, presets):
    answers = presets["dr-screening"]
    fitting = evaluate(bank, answers).evaluation
    assert [step.text for step in fitting if step.conflict] == []
    without_masks = evaluate(bank, with_answers(answers, region_annotations="not_feasible"))
    ruled_out = without_masks.evaluation
    masks_check = next(step for step in ruled_out if step.source == "element" and "pointing game" in step.text)
    assert masks_check.conflicting_needs == ["region_annotations"]
    assert "which the answers rule out" in masks_check.conflict
    # What to do instead is said once, under the acceptance measure read first, and pointed to after.
    masks_measure = next(item for item in without_masks.acceptance if "pointing game" in "".join(item.replaces))
    assert bank.needs["region_annotations"].evaluate_without == masks_measure.measure
    assert bank.needs["region_annotations"].evaluate_without not in masks_check.conflict
    assert "acceptance measures, above" in masks_check.conflict
    # The faithfulness check needs no annotations, where the design builds a map for it to test.
    with_maps = evaluate(bank, with_answers(answers, region_annotations="not_feasible",
                                            explanation_priority="accuracy_first")).evaluation
    faithfulness = next(step for step in with_maps if step.source == "element" and "sanity checks" in step.text)
    assert faithfulness.conflict is None
    # A family that needs the masks is no longer part of the design, so none of its own checks is planned.
    assert "detect_first_pipelines" in evaluate(bank, answers).complementary
    assert "detect_first_pipelines" not in without_masks.complementary
    assert not [step for step in ruled_out
                if step.source != "element" and "region_annotations" in bank.methods[step.source].needs]


def test_an_encoding_model_is_not_handed_designs_built_on_findings_or_anatomy_in_its_images(bank, presets):
    """An encoding model's images are stimuli: nothing in them is a finding to delineate or a landmark to
    locate. Families and checks that presume one are ruled out there, with the reason; a clinical task keeps them."""
    presumes_findings = ("detect_first_pipelines", "landmark_detection")
    encoding = evaluate(bank, presets["brain-encoding"])
    excluded = {method.id: method for method in encoding.methods if method.status == "excluded"}
    assert set(presumes_findings) <= set(excluded)
    assert not set(presumes_findings) & set(encoding.complementary)
    pointing_game = next(step for step in encoding.acceptance if "pointing game" in "".join(step.replaces))
    assert pointing_game.conflicting_needs == ["findings_to_delineate"]
    assert bank.needs["findings_to_delineate"].evaluate_without == pointing_game.measure
    clinical = evaluate(bank, presets["dr-screening"])
    assert all(method.status != "excluded" for method in clinical.methods if method.id in presumes_findings)
    assert all(step.conflict is None and not step.replaces for step in clinical.acceptance)


def test_an_acceptance_study_of_clinical_decisions_is_marked_when_no_clinical_action_follows(bank, presets):
    research = evaluate(bank, presets["brain-encoding"])
    decisions = next(step for step in research.acceptance if step.element == "actionability")
    assert decisions.conflicting_needs == ["clinical_action", "clinicians_see_explanations"]  # scientists read it
    assert bank.needs["clinical_action"].evaluate_without in decisions.measure and decisions.replaces
    also_clinical = with_answers(presets["brain-encoding"], downstream_action=["no_clinical_action", "refer_or_recall"],
                                 consumers=["scientist", "acting_physician"])
    assert all(step.conflict is None and not step.replaces for step in evaluate(bank, also_clinical).acceptance
               if step.element == "actionability")


def test_free_text_that_says_a_need_is_missing_marks_the_plan_but_changes_no_score(bank, presets):
    """Words are read for the phrases the bank lists, as whole words; they flag what depends on the need and
    leave every score to the chosen answers, since free text can be read more than one way."""
    answers = presets["dr-screening"]
    plain = evaluate(bank, answers)
    worded = evaluate(bank, with_answers(answers, other_constraints="We have NO  masks, and the vendor\u2019s "
                                                                    "model is locked after clearance."))
    said = {need.id: [item.phrase for item in need.said_missing] for need in worded.needs if need.said_missing}
    assert said == {"region_annotations": ["no masks"], "retraining": ["model is locked"]}
    assert [method.score for method in worded.methods] == [method.score for method in plain.methods]
    assert [element.score for element in worded.elements] == [element.score for element in plain.elements]
    masks_measure = next(item for item in worded.acceptance if "pointing game" in item.measure)
    assert masks_measure.conflicting_needs == ["region_annotations"]
    assert "Your own words (\u201cno masks\u201d)" in masks_measure.conflict
    assert bank.needs["region_annotations"].evaluate_without in masks_measure.conflict
    assert [step.text for step in plain.evaluation if step.conflict] == []
    for text in ("We can retrain the model, and piano masks are no object.", "No masking of the reports."):
        unrelated = evaluate(bank, with_answers(answers, other_constraints=text))
        assert [need.id for need in unrelated.needs if need.said_missing] == []


def test_evidence_cites_the_choices_a_rule_fired_on_not_every_choice_ticked(bank, presets):
    answers = with_answers(presets["dr-screening"], goals=["trust_calibration", "safety", "education"])
    result = evaluate(bank, answers)
    evidence = [item for element in result.elements for item in element.evidence if item.rule == "goal-safety"]
    assert evidence and all(item.answer_text.endswith(" — Safety") for item in evidence)
    goals = bank.questions["goals"]
    assert all(goals.choice("trust_calibration").label not in item.answer_text for item in evidence)


def test_answers_off_the_path_are_set_aside_not_counted(bank, presets):
    answers = presets["dr-screening"]
    extra = with_answers(answers, registration_landmarks="anatomical_landmarks")
    result = evaluate(bank, extra)
    assert [record.question for record in result.set_aside] == ["registration_landmarks"]
    assert levels(result) == levels(evaluate(bank, answers))
    assert "registration_landmarks" not in result.path


def test_complementary_set_covers_every_essential_element(bank, presets):
    for answers in presets.values():
        result = evaluate(bank, answers)
        essential = {element.id for element in result.elements if element.level == "essential"}
        strong_enough = {"strong", "moderate"}
        covered = {element for method_id in result.complementary
                   for method in result.methods if method.id == method_id
                   for element, strength in method.covers.items() if strength in strong_enough}
        assert essential - covered == set(result.uncovered)
        # The family that produces the output itself is presented first; else the top-ranked family opens.
        assert result.complementary[0] == (result.output_family or next(m.id for m in result.methods if m.rank == 1))


def test_the_design_leaves_a_top_element_uncovered_only_when_no_fair_buildable_family_serves_it(bank, presets):
    """Over the presets and every published system's setting: an element reported as not covered has no family
    the project can build that serves it and fits it fairly (a size limit filled by lower elements once hid
    one); where a buildable family serves it but scores under the floor, that family is named."""
    strong_enough = {"strong", "moderate"}
    settings = [*presets.values(), *(precedent.answers_file() for precedent in bank.precedents.values())]
    for answers in settings:
        result = evaluate(bank, answers, with_precedents=False)
        levels = {element.id: element.level for element in result.elements}
        top = {element for element, level in levels.items() if level == bank.level_ids[0]} or \
            {element for element, level in levels.items() if level == bank.level_ids[1]}
        buildable = [method for method in result.methods
                     if method.status not in ("excluded", "needs_change") and method.score > 0]
        floor = bank.meta.cover_min_share * next(method.score for method in result.methods
                                                 if method.id == result.opening) if result.opening else 0
        best_serving = {}
        for method in buildable:  # in rank order
            for element, grade in method.covers.items():
                if grade in strong_enough:
                    best_serving.setdefault(element, method)
        fair = {element for element, method in best_serving.items() if method.score >= floor}
        assert set(result.uncovered) == top - fair, answers.title
        assert result.poor_fits == {element: best_serving[element].id for element in result.uncovered
                                    if element in best_serving}, answers.title


def test_a_family_far_below_the_opening_one_is_named_not_built(bank):
    """An audit of an existing chest X-ray model: transparency leads, but the only family the project can build
    that serves it (an emerging post hoc family) scores a fraction of the audit family that opens the design."""
    audit = bank.precedents["oakdenrayner2020-hidden-stratification"].answers_file()
    result = evaluate(bank, audit, with_precedents=False)
    assert "mechanistic" not in result.complementary
    assert result.poor_fits == {"model_transparency": "mechanistic"}
    document = markdown_document(result, bank, audit, FIXED_DATE)
    assert "- Model transparency (T): Mechanistic interpretability serves it but ranks" in document


def test_families_far_below_the_opening_one_are_not_called_close_alternatives(bank_copy):
    """A family the combination would not build for an element, as fitting far worse (under cover_min_share of
    the opening family), is listed as next-ranked, far below the first, not as a close alternative."""
    settings = bank_copy / "bank.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("cover_min_share: 0.33", "cover_min_share: 0.9"),
                        encoding="utf-8")
    bank = load_bank(bank_copy)
    answers = read_answers(bank.cases()["dr-screening"], bank)
    result = evaluate(bank, answers)
    opening = next(method for method in result.methods if method.id == result.complementary[0])
    next_ranked = next(method for method in result.methods if method.id not in result.complementary)
    assert next_ranked.score < 0.9 * opening.score
    document = markdown_document(result, bank, answers, FIXED_DATE)
    assert "### Close alternatives" not in document
    section = document.split("### Next-ranked families, far below the first (under 90% of its score)\n\n")[1]
    assert section.startswith(f"- **{next_ranked.rank}. {next_ranked.name}**")


def test_the_design_gives_the_explanation_forms_its_users_asked_to_see_when_there_is_room(bank, presets):
    """Radiologists who asked to compare with similar cases get a family that shows them, not only families
    that cover the elements."""
    answers = presets["breast-cancer-detection"]
    assert "similar_cases" in answers.answers["explanation_form"]
    result = evaluate(bank, answers)
    shows_similar_cases = {method.id for method in result.methods for item in method.evidence
                           if item.rule == "form-similar-cases" and item.weight > 0}
    assert shows_similar_cases & set(result.complementary)
    assert len(result.complementary) <= bank.meta.form_families_up_to


def test_a_design_builds_one_family_that_replaces_the_model_and_names_the_others_as_alternatives(bank, presets):
    """Mammographers asked for named findings and similar cases: a concept bottleneck and a prototype network each
    compute the output in place of a standard network, so they are alternatives for one model, not a combination.
    The design builds one; the other is listed among the other families as an alternative to it, and the form goes
    to a family that can stand beside it. Across every preset and precedent setting, no design holds two."""
    replacing = {method_id for method_id, family in bank.methods.items() if family.replaces_model}
    assert {"concept_bottleneck", "prototypes"} <= replacing and "detect_first_pipelines" not in replacing
    answers = presets["breast-cancer-detection"]
    result = evaluate(bank, answers)
    built = set(result.complementary) & replacing
    assert len(built) == 1
    document = " ".join(markdown_document(result, bank, answers, FIXED_DATE).split())
    other = ({"concept_bottleneck", "prototypes"} - built).pop()
    ranked = document.split("### Other families, ranked")[1].split("###")[0]
    kept = built.pop()
    assert f"{bank.methods[other].name} (by design, 7.9, an alternative to {bank.methods[kept].name}, not an " \
           "addition" in ranked
    # The relation is the result's, so the JSON document and the app say it as the Markdown does.
    by_id = {method.id: method for method in result.methods}
    assert by_id[other].alternative_to == [kept] and not by_id[kept].alternative_to
    settings = [*presets.values(), *(precedent.answers_file() for precedent in bank.precedents.values())]
    assert all(len(set(evaluate(bank, setting, with_precedents=False).complementary) & replacing) <= 1
               for setting in settings)


def test_the_design_s_cost_against_a_standard_network_is_asked_once_by_the_family_that_carries_it(bank, presets):
    """A mammography design with a concept bottleneck: what the design costs against a standard network is asked
    once, among that family's checks, with the threshold agreed in advance; model transparency's measure and
    checks no longer ask it again in other words."""
    result = evaluate(bank, presets["breast-cancer-detection"])
    # A detector's staged comparison is kept only as a conflict (no decision follows its boxes): not asked.
    texts = [" ".join(text.split()) for text in [*(step.text for step in result.evaluation if not step.conflict),
                                                 *(f"{item.measure} {item.threshold}" for item in result.acceptance)]]
    asking = [text for text in texts if "accepts in advance" in text]
    assert "concept_bottleneck" in result.complementary and len(asking) == 1
    assert asking[0].startswith("The design's cost against a standard network (accuracy, calibration, subgroups)")
    assert not any("unconstrained baseline" in text or "cost of transparency" in text for text in texts)


def test_a_goal_of_catching_bad_outputs_brings_what_flags_them_into_the_design(bank):
    """A segmenter whose users look at its contours, with quality control of its outputs as a goal: its contours
    cover the elements, but the design also builds the family that flags the contours to check (uncertainty),
    as it would for a form the users asked to see; without that goal it does not."""
    contours = {**CARDIAC_SEGMENTATION, "explanation_form": ["overlays_on_anatomy"]}
    checked = evaluate(bank, AnswersFile(title="Segmentation with quality control", answers=contours))
    assert checked.complementary[0] == "detect_first_pipelines" and "uncertainty_deferral" in checked.complementary
    unchecked = evaluate(bank, AnswersFile(title="Segmentation", answers={**contours, "goals": ["safety"]}))
    assert "uncertainty_deferral" not in unchecked.complementary


def test_labels_from_tissue_or_a_reference_for_some_cases_bring_a_check_for_verification_bias(bank, presets):
    """Biopsy exists only for the lesions someone chose to sample, and a reference test (gated CT) or follow-up
    given to some cases only is the same bias: the plan says so, with how to score the rest and a checked
    reference; a reference every case has brings no such check."""
    def verification_checks(answers):
        return [check for check in evaluate(bank, answers).answer_checks if "verification bias" in check.text]

    answers = presets["breast-cancer-detection"]
    [check] = verification_checks(with_answers(answers, reference_standard="histopathology_or_biopsy"))
    assert check.references == ["begg1983"] and "follow-up" in check.text
    measured = with_answers(answers, reference_standard="physical_measurement", reference_coverage="every_case")
    assert not verification_checks(measured)
    assert len(verification_checks(with_answers(measured, reference_coverage="some_cases"))) == 1


def test_discovering_a_diffuse_effect_raises_the_families_that_separate_it_from_normal_variation(bank):
    """Scientists separating disease from normal ageing in brain MRI (a calibration precedent): separate factors
    and images with the effect removed are raised; the same setting without a discovery goal is not."""
    answers = dict(bank.precedents["ouyang2022-disentangle-aging-severity"].answers_file().answers)
    boosts = score(bank, answers).method_boosts
    assert "disentangled" in ranked_families(bank, answers)[:3]
    without = score(bank, {**answers, "goals": ["trust_calibration"]}).method_boosts
    assert boosts["disentangled"] - without["disentangled"] == 1
    assert boosts["counterfactuals"] - without["counterfactuals"] == 1


def test_readers_as_the_reference_bring_a_check_against_a_stronger_one(bank, presets):
    """Graders of the same photographs are the reference in diabetic retinopathy screening: a lesion they all miss
    counts against a model that finds it, so the plan asks for a sample checked against a stronger reference; with
    tissue as the reference it does not."""
    def asks(answers: AnswersFile) -> bool:
        return any("Readers of these same images are the reference" in check.text
                   for check in evaluate(bank, answers).answer_checks)
    answers = presets["dr-screening"]
    assert answers.answers["reference_standard"] == "expert_consensus" and asks(answers)
    assert asks(with_answers(answers, reference_standard="single_reader"))
    assert not asks(with_answers(answers, reference_standard="histopathology_or_biopsy"))


def test_families_for_asked_forms_join_only_up_to_the_banks_limit(bank, presets):
    """Every explanation form asked for: the forms add families until the design has `form_families_up_to`, and
    no further; the families covering the top elements are there whatever the limit."""
    import dataclasses

    question = next(question for question in bank.questions.values() if question.names_the_explanation)
    answers = presets["breast-cancer-detection"]
    every_form = answers.model_copy(update={"answers": {**answers.answers, question.id: [
        choice.id for choice in question.choices if choice.id != UNSURE]}})

    def design(limit: int) -> list[str]:
        limited = dataclasses.replace(bank, meta=bank.meta.model_copy(update={"form_families_up_to": limit}))
        return evaluate(limited, every_form).complementary
    covering = design(1)
    assert covering and len(design(2)) == max(2, len(covering))
    roomy = design(10)
    assert len(roomy) > len(design(3)) >= 3 and set(covering) <= set(roomy)


def test_evaluation_plan_covers_each_prioritized_element(bank, presets):
    result = evaluate(bank, presets["brain-encoding"])
    planned = {step.element for step in result.evaluation}
    prioritized = {element.id for element in result.elements if element.level != "not_needed"}
    assert planned == prioritized


def test_a_named_shortcut_calls_for_checks_whatever_families_are_built(bank, presets):
    """A suspected shortcut brings a stratified check and an intervention test into the plan, traced to the
    answer that calls for them, in every document and on the results screen's plan; without the suspicion,
    neither."""
    from guide.report.markdown import markdown_document
    from guide.tui.results import plan

    answers = presets["breast-cancer-detection"]
    suspected = evaluate(bank, answers.revised(answers={**answers.answers, "shortcut_risk": "known_shortcuts"}))
    checks = [check for check in suspected.answer_checks if check.rule == "shortcut-risk"]
    assert len(checks) == 2 and "with and without each suspected shortcut" in " ".join(checks[0].text.split())
    assert checks[0].answers == ["shortcut_risk"] and "Known shortcuts" in checks[0].answer_text
    document = markdown_document(suspected, bank, answers, "2026-01-01")
    section = document.split("### What your answers call for, whatever families are built", 1)[1].split("\n### ", 1)[0]
    assert "rule `shortcut-risk`" in section and " ".join(checks[1].text.split()) in " ".join(section.split())
    assert "with and without each suspected shortcut" in " ".join(plan(bank, suspected).plain.split())
    unlikely = evaluate(bank, answers.revised(answers={**answers.answers, "shortcut_risk": "shortcuts_unlikely"}))
    assert not [check for check in unlikely.answer_checks if check.rule == "shortcut-risk"]
    assert "rule `shortcut-risk`" not in markdown_document(unlikely, bank, answers, "2026-01-01")


def _check_texts(result) -> str:
    return " ".join(" ".join(check.text.split()) for check in result.answer_checks)


def test_a_detector_does_not_let_an_accuracy_first_team_build_a_new_readable_stage(bank, presets):
    """A detect-first pipeline is a detector's standard model; an additive model on its findings is a second
    stage built for the explanation, which an accuracy-first team has not agreed to."""
    answers = with_answers(presets["breast-cancer-detection"], explanation_priority="accuracy_first")
    methods = {method.id: method for method in evaluate(bank, answers).methods}
    assert methods["detect_first_pipelines"].unmet_needs == []
    assert "model_shaped_by_explanation" in methods["measured_feature_models"].unmet_needs


def test_transparency_raised_to_judge_behaviour_asks_for_a_documented_account_not_called_transparency(bank, presets):
    """Auditors judge behaviour across cases: the plan asks for it stratified, with failure modes and shortcut
    tests, says it is not transparency, and a standard network's transparency measure says the same."""
    audited = with_answers(presets["dr-screening"], explanation_priority="accuracy_first",
                           consumers=["auditor_regulator"])
    result = evaluate(bank, audited)
    checks = _check_texts(result)
    assert "performance stratified by site, device and subgroup" in checks and "failure modes" in checks
    assert "does not make the model transparent" in checks
    [transparency] = [item for item in result.acceptance if item.element == "model_transparency"]
    assert "is not achieved" in transparency.measure and "documented account" in transparency.measure
    assert transparency.replaces
    clinical = with_answers(presets["dr-screening"], goals=["safety"], regulatory_context=["no_formal_oversight"])
    assert "failure modes" not in _check_texts(evaluate(bank, clinical))


def test_a_treatment_choice_or_new_sites_raise_physical_attribution_only_for_a_physical_output(bank, presets):
    """A drug chosen on a classifier's output rests on no size in real units; radiotherapy contours do."""
    def physical_rules(**changes) -> set[str]:
        result = evaluate(bank, with_answers(presets["dr-screening"], downstream_action=["treatment_choice"],
                                             **changes))
        [physical] = [element for element in result.elements if element.id == "physical_attribution"]
        return {item.rule for item in physical.evidence}
    classifier, segmenter = physical_rules(task="diagnosis_classification"), physical_rules(task="segmentation")
    assert {"treatment-depends-on-measures", "many-new-sites-physical-output"} <= segmenter
    assert not {"treatment-depends-on-measures", "many-new-sites-physical-output", "many-new-sites"} & classifier


def test_images_from_several_sites_call_for_a_site_probe_and_one_site_left_out(bank, presets):
    shifted = evaluate(bank, presets["dr-screening"])
    [check] = [check for check in shifted.answer_checks if "leave" in check.text or "left out" in check.text]
    assert "predicts the hospital, scanner or view" in " ".join(check.text.split())
    assert check.references == ["zech2018"] and "pmed.1002683" in bank.references["zech2018"].link
    one_site = with_answers(presets["dr-screening"], site_shift="single_site", shortcut_sources=["burned_in_text_markers"])
    assert "left out" not in _check_texts(evaluate(bank, one_site))


def test_a_measurement_on_radiographs_calls_for_magnification_and_positioning(bank, presets):
    measured = dict(task="quantification", downstream_action=["measurement_reported"])
    radiograph = evaluate(bank, with_answers(presets["dr-screening"], modality="radiograph", **measured))
    assert "calibrate magnification" in _check_texts(radiograph) and "positioning" in _check_texts(radiograph)
    ct = evaluate(bank, with_answers(presets["dr-screening"], modality="ct", **measured))
    assert "calibrate magnification" not in _check_texts(ct)


def test_a_caveat_about_what_the_answers_rule_out_is_left_out(bank, presets):
    """Comparing attribution maps with experts' marks of findings means nothing for an encoding model, which has
    no findings to delineate: the family's details leave that caveat out there; a clinical design keeps it."""
    from guide.engine import applicable_caveats
    from guide.tui.results import method_detail

    caveat = next(item for item in bank.methods["attribution_maps"].caveats if "findings_to_delineate" in item.requires)
    first_words = " ".join(caveat.text.split()[:6])
    for case, shown in (("brain-encoding", False), ("dr-screening", True)):
        result = evaluate(bank, presets[case])
        assert (caveat in applicable_caveats(bank, "attribution_maps", result.needs)) is shown
        family = next(method for method in result.methods if method.id == "attribution_maps")
        assert (first_words in " ".join(method_detail(bank, result, family).plain.split())) is shown, case


def test_a_system_listed_as_like_yours_does_what_your_model_does_or_reads_the_same_images(bank, presets):
    """Generic answers (a specialist centre, a CNN, full data access) once made a whole-slide MIL classifier the
    nearest system to a retinal OCT segmenter: a system is listed only when it shares the task or the modality."""
    settings = [*presets.values(), *(precedent.answers_file() for precedent in bank.precedents.values())]
    for answers in settings:
        for match in evaluate(bank, answers).precedents:
            assert {"task", "modality"} & set(match.matched), (answers.title, match.id)


def test_published_systems_like_yours_say_what_of_your_setting_each_shares(bank, presets):
    """A segmenter whose listed systems all share only its modality is told so, with whether the bank holds any
    system that shares its task; each system says whether it shares the task, the modality, or both."""
    answers = with_answers(presets["dr-screening"], task="segmentation")
    result = evaluate(bank, answers)
    assert result.precedents and all(match.shares == ["modality"] for match in result.precedents)
    segmenters = {precedent_id for precedent_id in bank.precedents
                  if precedent_values(bank, precedent_id).get("task") == "segmentation"}
    assert segmenters and not segmenters & {match.id for match in result.precedents}
    these = "These share your modality only."
    assert setting_unshared(bank, result) == (f"None of the systems listed shares your task (Segmentation): the "
                                              f"{len(segmenters)} systems in this bank that do are less similar "
                                              f"overall. {these}")
    without = replace(bank, precedents={precedent_id: precedent for precedent_id, precedent in bank.precedents.items()
                                        if precedent_id not in segmenters})
    assert setting_unshared(without, result) == f"No system in this bank shares your task (Segmentation). {these}"
    document = markdown_document(result, bank, answers, FIXED_DATE).split("## Published systems like yours")[1]
    assert f"**{setting_unshared(bank, result)}**" in document
    assert document.count("% similar; same modality, different task)\n") == len(result.precedents)
    screening = evaluate(bank, presets["dr-screening"])
    assert setting_unshared(bank, screening) is None
    assert {setting_shared(bank, screening, match) for match in screening.precedents} <= {
        "same task and modality", "same task, different modality", "same modality, different task"}


def test_the_check_of_an_explanation_computed_afterwards_is_planned_only_when_one_is_built(bank, presets):
    """A standard model explained afterwards, at high stakes, must have its post hoc explanations tested against the
    model; a design that builds none (a segmenter whose contours are the output, with uncertainty) is not asked to."""
    settings = [*presets.values(), *(precedent.answers_file() for precedent in bank.precedents.values())]
    asked = []
    for answers in settings:
        changed = with_answers(answers, explanation_priority="accuracy_first", error_stakes="high_stakes")
        if "explained-afterwards-at-high-stakes" not in score(bank, changed.answers).fired:
            continue  # the walk does not ask whether the explanation may shape the model
        result = evaluate(bank, changed, with_precedents=False)
        # The design's families: the combination and the top-ranked family, whose checks the plan lists too.
        builds_post_hoc = any(bank.methods[method].kind == "post_hoc"
                              for method in design_families(result.methods, result.complementary))
        planned = any(check.rule == "explained-afterwards-at-high-stakes" for check in result.answer_checks)
        asked.append(planned)
        assert planned == builds_post_hoc, answers.title
    assert True in asked and False in asked


def test_a_rule_cites_only_the_answers_it_fired_through_never_a_question_off_the_walk(bank, presets):
    """Site signatures are tested when many new sites are met, or when shortcuts may come from the site. With
    shortcuts unlikely, the walk never asks where they could come from: the check's trigger read "Where could
    shortcuts come from? — not answered" beside the answer that did fire it."""
    answers = presets["breast-cancer-detection"]
    result = evaluate(bank, answers.revised(answers={**answers.answers, "shortcut_risk": "shortcuts_unlikely"}))
    assert "shortcut_sources" not in result.path
    (check,) = {item.rule: item for item in result.answer_checks if item.rule == "site-signature-tested"}.values()
    assert check.answers == ["site_shift"]
    assert check.answer_text == (f"{bank.questions['site_shift'].prompt} — "
                                 f"{bank.questions['site_shift'].choice('many_new_sites').label}")


def test_an_index_read_on_a_reference_scale_is_judged_against_its_readers_not_as_a_physical_measurement(bank, presets):
    """A bone age is read against atlas plates: no phantom or magnification gives its reference, the readers do."""
    bone_age = with_answers(presets["dr-screening"], task="quantification", modality="radiograph",
                            reference_standard="expert_consensus", finding_extent="mixed", physical_model="no_model",
                            error_direction="not_yes_no", downstream_action=["measurement_reported"])
    fired = score(bank, bone_age.answers).fired
    assert "quantification-physical-units" not in fired and "radiograph-measurement-calibrated" not in fired
    checks = {check.rule for check in evaluate(bank, bone_age).answer_checks}
    assert {"quantification-index-on-a-reference-scale", "quantified-output-judged-as-a-distance"} <= checks
    # A volume from a delineated structure is measured in physical units, on a radiograph too.
    volume = with_answers(bone_age, finding_extent="delineated_structure")
    fired = score(bank, volume.answers).fired
    assert "quantification-physical-units" in fired and "radiograph-measurement-calibrated" in fired
    assert "quantification-index-on-a-reference-scale" not in {check.rule for check in evaluate(bank, volume).answer_checks}


def test_a_detector_on_video_is_judged_over_time_not_frame_by_frame(bank, presets):
    """A lesion in a video is found once or missed, and a live procedure leaves no study without marks to defer."""
    def video_checks(dimensionality):
        result = evaluate(bank, with_answers(presets["breast-cancer-detection"], dimensionality=dimensionality))
        return [check.text for check in result.answer_checks if check.rule == "video-detection-judged-over-time"]

    [check] = video_checks("time_series")
    assert "sensitivity per lesion" in check and "first detection" in check and "per minute" in check
    assert not video_checks("image_2d")


def test_contours_on_the_anatomy_are_judged_by_what_their_users_edit_not_by_findings_they_would_cite(bank, presets):
    def recognizability(answers):
        return [item for item in evaluate(bank, answers).acceptance if item.element == "visual_recognizability"]

    contours = with_answers(presets["dr-screening"], task="segmentation", explanation_form=["overlays_on_anatomy"],
                            consumers=["specialist_reader"])
    [edited] = recognizability(contours)
    assert edited.conflicting_needs == ["findings_shown_to_name"]
    assert "accepted without edits" in edited.measure and "finding they know" in edited.replaces[0]
    named = recognizability(with_answers(contours, explanation_form=["overlays_on_anatomy", "named_findings"]))
    assert all(not item.replaces for item in named)


def test_a_detectors_own_boxes_are_the_marked_regions_asked_for_not_a_reason_to_rank_maps(bank, presets):
    """Asking for marked regions raises maps of what drove a classifier; a detector's boxes already are them."""
    def raised_by_the_form(answers):
        return {method.id for method in evaluate(bank, answers).methods
                if sum(item.weight for item in method.evidence
                       if item.rule in ("form-marked-regions", "marked-regions-are-the-output")) > 0}

    detector = with_answers(presets["breast-cancer-detection"], explanation_form=["marked_regions"])
    assert raised_by_the_form(detector) == {"detect_first_pipelines"}
    classifier = with_answers(detector, task="diagnosis_classification")
    assert {"attribution_maps", "perturbation"} <= raised_by_the_form(classifier)


def test_a_flag_a_number_or_a_reconstruction_leaves_no_constraint_open_that_its_path_cannot_settle(bank, presets):
    """Users shown only a flag and a number see no contours, and a reconstruction's path never asks where its
    evidence lies: neither should be told a constraint is still unknown."""
    def need_status(answers, need_id):
        return next(need.status for need in evaluate(bank, answers).needs if need.id == need_id)

    flag_only = with_answers(presets["dr-screening"], explanation_form=["confidence_flag", "physical_measurements"],
                             consumers=["specialist_reader"], goals=["clinical_concepts_check"])
    assert need_status(flag_only, "findings_shown_to_name") == "available"
    [recognized] = [item for item in evaluate(bank, flag_only).acceptance if item.element == "visual_recognizability"]
    assert recognized.conflicting_needs == ["users_shown_the_evidence"]
    reconstruction = with_answers(presets["dr-screening"], task="reconstruction_generation", modality="mri",
                                  dimensionality="volume_3d")
    assert need_status(reconstruction, "named_points_matter") == "unavailable"


def test_a_reconstruction_is_not_given_patch_prototype_or_concept_classifiers_and_marks_where_it_may_be_wrong(
        bank, presets):
    """An image-to-image network has no class for patches, tiles, prototypes or concepts to add up to; the regions
    its reader asks to see marked are where the image may be wrong."""
    reconstruction = with_answers(presets["dr-screening"], task="reconstruction_generation", modality="mri",
                                  dimensionality="volume_3d", explanation_form=["marked_regions"],
                                  physical_model="established_model")
    result = evaluate(bank, reconstruction)
    status = {method.id: method.status for method in result.methods}
    for family in ("local_evidence_cnn", "attention_models", "prototypes", "concept_bottleneck"):
        assert status[family] == "excluded"
    assert "uncertainty_deferral" in result.complementary
    assert not {"attribution_maps", "perturbation"} & set(result.complementary)
    [marked] = [item for item in result.acceptance if item.element == "localization" and item.replaces]
    assert "departs from a reference acquisition" in marked.measure
    classifier = evaluate(bank, with_answers(reconstruction, task="diagnosis_classification"))
    assert {method.id: method.status for method in classifier.methods}["local_evidence_cnn"] != "excluded"


def test_a_count_or_a_measure_from_a_detector_is_judged_as_a_distance(bank, presets):
    """A mitotic count sets a score: its errors are distances, and the ones across a score boundary count most."""
    def distance_checks(answers):
        return [check for check in evaluate(bank, answers).answer_checks
                if check.rule == "quantified-output-judged-as-a-distance"]

    counter = with_answers(presets["breast-cancer-detection"], error_direction="not_yes_no",
                           downstream_action=["measurement_reported"])
    [check] = distance_checks(counter)
    assert "count" in check.text and "limits of agreement" in check.text
    assert not distance_checks(with_answers(counter, downstream_action=["invasive_procedure"]))


def test_a_report_generator_is_not_lowered_for_text_nobody_has_time_to_read(bank, presets):
    """On a fast worklist a rationale beside the output goes unread; a drafted report is the output, read anyway."""
    def rationale_evidence(answers):
        [method] = [method for method in evaluate(bank, answers).methods if method.id == "textual_rationales"]
        return sum(item.weight for item in method.evidence if item.weight < 0)

    fast = with_answers(presets["dr-screening"], time_per_case="under_a_minute", paired_reports="reports_paired")
    assert rationale_evidence(fast) < 0
    assert rationale_evidence(with_answers(fast, task="report_generation")) == 0


def test_a_report_generator_and_a_reconstruction_are_judged_by_the_errors_readers_find(bank, presets):
    """A draft report is judged by its clinically significant errors, a reconstruction by the findings it loses or
    adds, not by text overlap or image metrics alone."""
    def checks(**changes):
        return {check.rule: check.text for check in evaluate(bank, with_answers(presets["dr-screening"],
                                                                                 **changes)).answer_checks}

    report = checks(task="report_generation", modality="radiograph", paired_reports="reports_paired")
    assert "not in the image" in report["generated-text-must-be-checkable"]
    image = checks(task="reconstruction_generation", modality="mri", dimensionality="volume_3d")
    assert "lost, added" in image["reconstruction-tied-to-measurement"]
    assert "perturbation" in image["reconstruction-tied-to-measurement"]


def test_uncertainty_says_what_it_means_for_a_value_a_reconstruction_and_a_drafted_report(bank, presets):
    """Uncertainty is often the first family for these outputs; its text must not speak only of classifiers,
    segmentations and detectors."""
    family = bank.methods["uncertainty_deferral"]
    assert "interval" in family.summary and "reconstruction" in family.summary and "report" in family.summary
    reconstruction = with_answers(presets["dr-screening"], task="reconstruction_generation", modality="mri",
                                  dimensionality="volume_3d", explanation_form=["confidence_flag"])
    plan = [step.text for step in evaluate(bank, reconstruction).evaluation if step.source == "uncertainty_deferral"]
    assert any("reference acquisition" in text and "statements marked unsure" in text for text in plan)


def test_a_detector_on_whole_slides_is_not_offered_attention_pooling_for_a_slide_label_it_lacks(bank, presets):
    """Attention MIL pools tiles into a slide-level output; a mitosis detector marks each figure itself."""
    def attention_raised(task):
        answers = with_answers(presets["dr-screening"], task=task, modality="histopathology_wsi",
                               dimensionality="gigapixel")
        [method] = [method for method in evaluate(bank, answers).methods if method.id == "attention_models"]
        return sum(item.weight for item in method.evidence if item.weight > 0)

    assert attention_raised("diagnosis_classification") >= 2
    assert attention_raised("detection") < 2


def test_a_shortcut_spread_over_the_image_does_not_raise_heatmaps(bank, presets):
    """A protocol or a demographic proxy is found by comparing strata, not on a map; markers and devices are."""
    def maps_raised(sources):
        answers = with_answers(presets["dr-screening"], shortcut_risk="plausible_shortcuts", shortcut_sources=sources)
        [method] = [method for method in evaluate(bank, answers).methods if method.id == "attribution_maps"]
        return any(item.weight > 0 and "shortcut" in item.because for item in method.evidence)

    assert not maps_raised(["acquisition_protocol", "patient_demographics_proxy"])
    assert maps_raised(["acquisition_protocol", "devices_treatment"])
    assert maps_raised([UNSURE])


def test_the_family_that_produces_a_segmenters_output_is_presented_first_and_the_ranking_is_unchanged(bank, bank_copy):
    """A segmenter's contours are what its users look at: the family that produces them opens the design, ahead of
    the uncertainty that checks them, even where that family ranks higher; the ranking scored against published
    systems does not move. Which family produces an output is the bank's data (the task choice's output_family)."""
    answers = AnswersFile(title="Cardiac MR segmentation", answers=CARDIAC_SEGMENTATION)
    result = evaluate(bank, answers, with_precedents=False)
    ranked = [method.id for method in result.methods if method.rank is not None]
    assert ranked[:2] == ["uncertainty_deferral", "detect_first_pipelines"]
    assert ranked == ranking(bank, answers.answers)[1]
    assert result.opening == "uncertainty_deferral"
    assert (result.output_family, result.complementary) == ("detect_first_pipelines",
                                                            ["detect_first_pipelines", "uncertainty_deferral"])
    assert result.output_family_note.startswith("Segment- or detect-first pipelines: listed first, though ranked 2, as it "
                                                "produces the output itself (Segmentation)")
    # A classifier's output is not its explanation: the combination stays in rank order.
    classifier = evaluate(bank, with_answers(answers, task="diagnosis_classification"), with_precedents=False)
    assert (classifier.output_family, classifier.output_family_note) == (None, None)
    ranks = {method.id: method.rank for method in classifier.methods}
    assert classifier.complementary == sorted(classifier.complementary, key=ranks.__getitem__)
    use_case = bank_copy / "flow" / "1-use-case.yaml"
    use_case.write_text(use_case.read_text().replace("        output_family: detect_first_pipelines\n", ""))
    unmarked = evaluate(load_bank(bank_copy), answers, with_precedents=False)
    assert (unmarked.output_family, unmarked.complementary) == (None, ["uncertainty_deferral", "detect_first_pipelines"])


def test_faithfulness_tests_of_a_map_are_planned_only_where_the_design_builds_a_map(bank, presets):
    """Randomization and deletion tests judge a map drawn over the model's input: a design that draws none (a
    segmenter with its uncertainty, a detect-first screening design) is not asked for them, and its plan says they
    are absent and why; a design with a map family keeps them, whatever the task."""
    [faithfulness] = [item for item in bank.elements["localization"].acceptance if item.about]
    [check] = [item for item in bank.elements["localization"].evaluation if item.about]
    map_families = set(faithfulness.about.families)
    settings = [*presets.values(), *(precedent.answers_file() for precedent in bank.precedents.values()),
                AnswersFile(title="Cardiac MR segmentation", answers=CARDIAC_SEGMENTATION),
                with_answers(presets["dr-screening"], explanation_priority="accuracy_first")]
    seen = set()
    for answers in settings:
        result = evaluate(bank, answers, with_precedents=False)
        if levels(result)["localization"] not in bank.level_ids[:2]:
            continue
        builds_a_map = bool(map_families & set(design_families(result.methods, result.complementary)))
        planned = (any(step.measure == faithfulness.measure for step in result.acceptance),
                   any(step.text == check.text for step in result.evaluation))
        absent = {(item.kind, item.named) for item in result.left_out if item.element == "localization"}
        assert planned == (builds_a_map, builds_a_map), answers.title
        assert absent == (set() if builds_a_map else {("measure", faithfulness.about.named),
                                                      ("check", check.about.named)}), answers.title
        seen.add(builds_a_map)
    assert seen == {True, False}
    # The segmenter's contours are judged as the output in place of the pointing game alone.
    [as_the_output] = [step for step in evaluate(bank, settings[-2], with_precedents=False).acceptance
                       if step.element == "localization"]
    assert as_the_output.conflicting_needs == ["map_explains_an_output"] and len(as_the_output.replaces) == 1


def test_measures_of_physical_quantities_name_counts_slides_and_physical_parameters(bank, presets):
    """A count that sets a treatment is one of its quantities, a count on slides is checked against a panel's count
    rather than a phantom, and a physics-based model's readable intermediate is a physical parameter."""
    counted = evaluate(bank, with_answers(presets["breast-cancer-detection"], modality="histopathology_wsi",
                                          downstream_action=["measurement_reported", "treatment_choice"]))
    [physical] = [element for element in counted.elements if element.id == "physical_attribution"]
    [treatment] = [item for item in physical.evidence if item.rule == "treatment-depends-on-measures"]
    assert "counts" in treatment.because
    [measure] = [item for item in counted.acceptance if item.element == "physical_attribution"]
    assert "a panel's count" in measure.sample
    [transparency] = [item for item in counted.acceptance if item.element == "model_transparency"]
    assert "physical parameter" in transparency.measure


def test_a_case_of_several_inputs_is_checked_for_what_each_input_moves(bank, presets):
    """A map over one image cannot say how much came from another sequence, a prior study or the records."""

    def checks(inputs):
        return " ".join(check.text for check in evaluate(bank, with_answers(presets["breast-cancer-detection"],
                                                                             inputs=inputs)).answer_checks)

    for inputs in (["several_sequences_or_modalities"], ["prior_studies"], ["clinical_records"]):
        assert "withhold or replace each input" in checks(inputs)
    assert "withhold or replace each input" not in checks(["single_image"])


def test_a_map_pointing_at_a_finding_is_judged_against_one_pointing_at_the_centre(bank, presets):
    """A nodule or a lesion in the middle of a crop is hit by a map that always points at the centre."""
    [pointing] = [item for item in evaluate(bank, presets["dr-screening"]).acceptance
                  if item.element == "localization" and "pointing game" in item.measure]
    assert "points at the centre" in pointing.threshold


def test_a_pet_measure_is_checked_across_reconstructions_uptake_times_and_thresholds(bank, presets):
    """A metabolic tumour volume moves with the reconstruction, the uptake time and the threshold that draws it."""
    volume = evaluate(bank, with_answers(presets["breast-cancer-detection"], modality="pet", task="segmentation",
                                         downstream_action=["size_threshold_decides"]))
    checks = " ".join(check.text for check in volume.answer_checks) + " ".join(step.text for step in volume.evaluation)
    assert "uptake time in PET" in checks and "threshold that draws a metabolic volume" in checks


def test_concept_attribution_says_its_scores_are_over_a_class_not_the_case_a_reader_has_open(bank):
    """A radiologist who asked for named findings per lesion gets TCAV second: its scores describe a class."""
    assert "not a reader with one case open" in bank.methods["concept_attribution"].summary


def test_a_detectors_own_class_per_box_is_the_named_finding_asked_for_not_a_reason_to_score_concepts(bank, presets):
    """A class per box in the users' lexicon (a caries depth, a Lung-RADS category) names the finding in the case
    at hand: concept scores over many images, which score a class, are not raised for that form."""
    def raised_by_the_form(answers):
        return {method.id for method in evaluate(bank, answers).methods
                if sum(item.weight for item in method.evidence
                       if item.rule in ("form-named-findings", "named-findings-are-the-output")) > 0}

    detector = with_answers(presets["breast-cancer-detection"], explanation_form=["marked_regions", "named_findings"],
                            explanation_priority="accuracy_first", output_classes="lexicon_classes")
    assert "detect_first_pipelines" in raised_by_the_form(detector)
    assert not {"concept_attribution", "language_concepts"} & raised_by_the_form(detector)
    assert "concept_attribution" not in evaluate(bank, detector).complementary
    names_elsewhere = with_answers(detector, output_classes="place_only")
    assert {"concept_attribution", "language_concepts"} <= raised_by_the_form(names_elsewhere)


def test_a_value_computed_from_contours_its_users_check_is_localized_by_the_contours_not_a_pointing_game(
        bank, presets):
    """A calcium score or an ejection fraction computed from contours the readers check: localization is measured on
    those contours (lesions found, look-alikes wrongly segmented), as for a segmenter, not by a map's pointing game."""
    def localization_measure(answers):
        return next(item.measure for item in evaluate(bank, answers).acceptance if item.element == "localization")

    contours = with_answers(presets["dr-screening"], task="quantification",
                            explanation_form=["overlays_on_anatomy", "physical_measurements"])
    assert "per-lesion sensitivity" in localization_measure(contours)
    assert "pointing game" in localization_measure(with_answers(contours, explanation_form=["physical_measurements"]))


def test_patients_shown_the_marks_before_a_treatment_bring_a_check_of_what_they_are_told_and_treatment_rates(
        bank, presets):
    """A dentist shows the marked radiograph to justify a filling: a false mark becomes a treatment, so the plan
    asks what patients are told and how treatment rates change with the marks; a patient told a referral, or a
    treatment the patient never sees the marks for, brings no such check."""
    def asks(answers):
        return any("treatment rates with and without the marks" in check.text
                   for check in evaluate(bank, answers).answer_checks)

    shown = with_answers(presets["dr-screening"], consumers=["specialist_reader", "patient"],
                         downstream_action=["treatment_choice"])
    assert asks(shown) and asks(with_answers(shown, downstream_action=["invasive_procedure"]))
    assert not asks(with_answers(shown, downstream_action=["refer_or_recall"]))
    assert not asks(with_answers(shown, consumers=["specialist_reader"]))


def test_a_detectors_localization_threshold_sets_the_operating_point_for_the_worse_error(bank, presets):
    """A dentist who fears a filling for a false mark more than a missed lesion: the detector's localization is
    judged at a false-positive rate agreed in advance and kept low, not at any sensitivity per false positive."""
    detector = with_answers(presets["breast-cancer-detection"], error_direction="false_positives_worse")
    [threshold] = [item.threshold for item in evaluate(bank, detector).acceptance if item.element == "localization"]
    assert "agreed in advance" in threshold and "false marks are the worse error" in threshold
