"""Answers -> path -> element priorities -> method ranking -> evaluation plan. Pure functions.

Nothing here reads files, prints, or knows about Textual: the same answers and bank always give
the same `Result`, field for field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import AbstractSet, Callable, Iterable, Literal, Mapping

from guide import __version__
from guide.bank import Bank
from guide.model import (
    END,
    UNSURE,
    AboutFamilies,
    AcceptanceCriterion,
    AcceptanceStep,
    AllOf,
    Alternative,
    AnswerCheck,
    Answered,
    AnswerIn,
    AnswerRecord,
    AnswersFile,
    AnswerValue,
    AnyOf,
    Caveat,
    Condition,
    ElementResult,
    EvaluationItem,
    EvaluationStep,
    EvidenceItem,
    LeftOutItem,
    Level,
    MethodResult,
    NeedStatus,
    OpenQuestion,
    PrecedentMatch,
    Question,
    Result,
    SaidMissing,
    condition_questions,
)

Values = Mapping[str, AnswerValue]
# A measure that replaces one the answers rule out, where the bank proposes no threshold or sample for it.
NOT_PROPOSED = "None proposed; agree on one with the reviewers."


def chosen(value: AnswerValue | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def is_usable(question: Question, value: AnswerValue | None) -> bool:
    """An answer that carries information: given, non-empty, and not 'unsure'."""
    if question.kind == "text":
        return isinstance(value, str) and bool(value.strip())
    picked = chosen(value)
    return bool(picked) and UNSURE not in picked


def holds(condition: Condition, values: Values, bank: Bank) -> bool:
    if isinstance(condition, AnswerIn):
        return any(choice in condition.in_ for choice in chosen(values.get(condition.q)))
    if isinstance(condition, Answered):
        question = bank.questions[condition.q]
        return is_usable(question, values.get(condition.q)) == condition.answered
    if isinstance(condition, AllOf):
        return all(holds(part, values, bank) for part in condition.all)
    if isinstance(condition, AnyOf):
        return any(holds(part, values, bank) for part in condition.any)
    return not holds(condition.not_, values, bank)


def route(bank: Bank, values: Values) -> list[str]:
    """The questions asked, in order; only answers to questions already asked steer the walk."""
    path: list[str] = []
    asked: dict[str, AnswerValue] = {}
    current = bank.meta.start
    while current != END and current not in asked and current in bank.questions:
        path.append(current)
        if current in values:
            asked[current] = values[current]
        else:
            asked[current] = []
        question = bank.questions[current]
        current = next((branch.goto for branch in question.next
                        if branch.when is None or holds(branch.when, asked, bank)), END)
    return path


@dataclass(frozen=True)
class Scored:
    """The numbers behind a result: which rules fired and what they added up to."""

    path: list[str]
    values: dict[str, AnswerValue]
    fired: list[str]
    element_scores: dict[str, float]
    method_boosts: dict[str, float]

    @property
    def top(self) -> float:
        """The highest element score, which levels asking for a share of it are measured against."""
        return max(self.element_scores.values())

    def level(self, bank: Bank, element_id: str) -> str:
        return level_of(bank, self.element_scores[element_id], self.top)


def score(bank: Bank, values: Values) -> Scored:
    path = route(bank, values)
    on_path = {question_id: values[question_id] for question_id in path if question_id in values}
    return _totals(bank, path, on_path, [rule.id for rule in bank.rules.values() if holds(rule.when, on_path, bank)])


def _totals(bank: Bank, path: list[str], on_path: dict[str, AnswerValue], fired: list[str]) -> Scored:
    """Sum the effects of the fired rules, always in bank order, so equal inputs give equal floats."""
    element_scores = dict.fromkeys(bank.elements, 0.0)
    method_boosts = dict.fromkeys(bank.methods, 0.0)
    for rule_id in fired:
        for effect in bank.rules[rule_id].effects:
            totals = element_scores if effect.element else method_boosts
            totals[effect.target] += effect.weight
    return Scored(path, on_path, fired, element_scores, method_boosts)


def level_of(bank: Bank, value: float, top: float) -> str:
    """The highest level whose minimum the score reaches, and, where the level asks for it, whose share of
    `top` (the highest element score) it reaches too."""
    return next(level.id for level in bank.meta.levels if _reaches(level, value, top))


def _reaches(level: Level, value: float, top: float) -> bool:
    return level.min_score is None or (value >= level.min_score and
                                       (level.min_share_of_top is None or value >= level.min_share_of_top * top))


def _held_level(bank: Bank, value: float, top: float, level_id: str) -> Level | None:
    """The level above `level_id` whose minimum the score reaches but whose share of `top` it does not."""
    above = bank.meta.levels[:bank.level_ids.index(level_id)]
    return next((level for level in above if value >= level.min_score and not _reaches(level, value, top)), None)


def _held_below(held: Level, top: float) -> str:
    """Why the score, which reaches the minimum of the level `held`, is not at that level."""
    return (f"The score reaches {held.label.lower()}'s minimum ({held.min_score:g}) but not "
            f"{held.min_share_of_top:.0%} of the leading element's score ({held.min_share_of_top * top:g} of {top:g}).")


# ---------------------------------------------------------------------------------------------
# Single changes: the machinery behind confidence, open questions and sensitivity.


@dataclass(frozen=True)
class Change:
    question: str
    value: AnswerValue
    label: str
    scored: Scored


def alternative_values(question: Question, current: AnswerValue | None) -> list[tuple[AnswerValue, str]]:
    """Every answer one step away from `current`: another choice, or one choice toggled."""
    options = [choice for choice in question.choices if choice.id != UNSURE]
    if question.kind == "single":
        return [(choice.id, choice.label) for choice in options if chosen(current) != [choice.id]]
    if question.kind != "multiple":
        return []
    picked = chosen(current)
    if not picked or UNSURE in picked:
        return [([choice.id], choice.label) for choice in options]
    changes: list[tuple[AnswerValue, str]] = []
    for choice in options:
        if choice.id in picked:
            rest = [item for item in picked if item != choice.id]
            if rest:
                changes.append((rest, f"without “{choice.label}”"))
        else:
            changes.append(([*picked, choice.id], f"also “{choice.label}”"))
    return changes


def single_changes(bank: Bank, values: Values, question_ids: list[str], base: Scored | None = None) -> list[Change]:
    """Every answer one step away from `values` on the given questions, scored. `base` is
    `score(bank, values)` when the caller has it already."""
    # Most changes keep the path; then only the rules that read the changed question can flip, and
    # the rest keep their outcome from the unchanged answers.
    base = base or score(bank, values)
    base_fired = set(base.fired)
    readers: dict[str, set[str]] = {}
    for rule in bank.rules.values():
        for question_id in condition_questions(rule.when):
            readers.setdefault(question_id, set()).add(rule.id)
    steering = {question_id for question in bank.questions.values() for branch in question.next
                if branch.when is not None for question_id in condition_questions(branch.when)}
    changes = []
    for question_id in question_ids:
        question = bank.questions[question_id]
        affected = readers.get(question_id, set())
        for value, label in alternative_values(question, values.get(question_id)):
            changed = {**values, question_id: value}
            path = route(bank, changed) if question_id in steering else base.path
            if path == base.path:
                on_path = {other: changed[other] for other in path if other in changed}
                fired = [rule.id for rule in bank.rules.values()
                         if (holds(rule.when, on_path, bank) if rule.id in affected else rule.id in base_fired)]
                scored = _totals(bank, path, on_path, fired)
            else:
                scored = score(bank, changed)
            changes.append(Change(question_id, value, label, scored))
    return changes


# ---------------------------------------------------------------------------------------------
# The result.


def element_results(bank: Bank, values: dict[str, AnswerValue]) -> list[ElementResult]:
    """Each element's score, level and the evidence behind it: what the walk-through shows after every
    answer. Confidence needs every alternative answer scored, which only `evaluate` does; here it is
    not assessed (reported as if no answer were uncertain)."""
    scored = score(bank, values)
    return [_element_result(bank, scored, element_id, []) for element_id in bank.elements]


def evaluate(bank: Bank, answers: AnswersFile, *, with_precedents: bool = True) -> Result:
    """The whole result; `with_precedents=False` leaves out the nearest published systems, which only
    readers need (scoring the bank against those same systems does not)."""
    values = dict(answers.answers)
    scored = score(bank, values)
    uncertain = [question_id for question_id in scored.path
                 if bank.questions[question_id].kind != "text"
                 and not is_usable(bank.questions[question_id], values.get(question_id))]
    changes = single_changes(bank, values, uncertain, scored)
    elements = [_element_result(bank, scored, element_id, changes) for element_id in bank.elements]
    levels = {element.id: element.level for element in elements}
    needs = _need_statuses(bank, scored.values)
    by_id = {need.id: need for need in needs}
    similarities = precedent_similarities(bank, scored.values) if with_precedents else {}
    methods = _rank_methods(bank, scored, levels, by_id,
                            closeness={precedent_id: value for precedent_id, (value, _) in similarities.items()})
    complementary, uncovered, poor_fits, opening = _complementary(bank, scored, methods, elements)
    output = _output_family(bank, scored, methods, complementary)
    if output:
        complementary = [output[0], *(method_id for method_id in complementary if method_id != output[0])]
    methods = _with_alternatives(bank, methods, complementary)
    design = design_families(methods, complementary)
    acceptance, measures_left_out = _acceptance(bank, elements, by_id, design)
    evaluation, checks_left_out = _evaluation_plan(bank, elements, design, by_id, acceptance)
    answer_checks, answer_checks_left_out = _answer_checks(bank, scored, by_id, design)
    return Result(
        tool_version=__version__,
        bank_id=bank.meta.id,
        bank_version=bank.meta.version,
        bank_hash=bank.content_hash,
        title=answers.title,
        path=scored.path,
        answers=[_record(bank, question_id, values.get(question_id), answers.notes.get(question_id))
                 for question_id in scored.path],
        # A note on a question off the path is kept with the set-aside answers, also where it has no answer.
        set_aside=[_record(bank, question_id, values.get(question_id), answers.notes.get(question_id))
                   for question_id in {**values, **answers.notes} if question_id not in scored.path],
        elements=elements,
        methods=methods,
        complementary=complementary,
        opening=opening,
        output_family=output[0] if output else None,
        output_family_note=output[1] if output else None,
        uncovered=uncovered,
        poor_fits=poor_fits,
        needs=needs,
        evaluation=evaluation,
        acceptance=acceptance,
        answer_checks=answer_checks,
        left_out=[*measures_left_out, *checks_left_out, *answer_checks_left_out],
        open_questions=_open_questions(bank, uncertain, elements, values),
        precedents=nearest_precedents(bank, scored.values, similarities=similarities) if with_precedents else [],
    )


def ranking(bank: Bank, values: Values) -> tuple[dict[str, float], list[str]]:
    """Each element's score, and the families in the order `evaluate` ranks them (filtered ones left out);
    only what ranking needs is computed (no confidence, evidence or plan), for checks that rank many answer
    sets, such as scoring the bank against its precedents."""
    scored = score(bank, values)
    levels = {element_id: scored.level(bank, element_id) for element_id in bank.elements}
    needs = {need.id: need for need in _need_statuses(bank, scored.values)}
    return scored.element_scores, [method.id for method in _rank_methods(bank, scored, levels, needs, explained=False)
                                   if method.rank is not None]


def ranked_families(bank: Bank, values: Values) -> list[str]:
    return ranking(bank, values)[1]


def similarity_rule(bank: Bank) -> str:
    """How similarity to a precedent is measured, in the words documents use."""
    weighted = f" {bank.meta.similarity_note}" if bank.meta.similarity_note else ""
    required = [bank.questions[question_id].prompt for question_id in bank.meta.nearest_share_one_of]
    listed = (f" A system is listed only when it agrees with you on at least one of: {joined_labels(required)}"
              if required else "")
    return ("Similarity is the share of the questions answered on either side (yours or the published system's) "
            f"on which the answers agree; for a question with several choices, the overlap of the choices counts in "
            f"part.{weighted}{listed}")


def _setting_answered(bank: Bank, result: Result) -> dict[str, str]:
    """The user's answers, in words, to the questions a listed system must agree on one of (the task, the
    modality), where they are usable: an unsure answer is shared by no system."""
    records = {record.question: record for record in result.answers}
    return {question_id: joined_labels(records[question_id].labels) for question_id in bank.meta.nearest_share_one_of
            if question_id in records and is_usable(bank.questions[question_id], records[question_id].value)}


def _setting_names(question_ids: Iterable[str]) -> str:
    return " and ".join(question_id.replace("_", " ") for question_id in question_ids)


def setting_shared(bank: Bank, result: Result, match: PrecedentMatch) -> str:
    """`same modality, different task`: what of the setting a listed system shares with the user."""
    different = [question_id for question_id in _setting_answered(bank, result) if question_id not in match.shares]
    words = f"same {_setting_names(match.shares)}"
    return words + (f", different {_setting_names(different)}" if different else "")


def setting_unshared(bank: Bank, result: Result) -> str | None:
    """`No system in this bank shares your task (Detection). These share your modality only.`, where no listed
    system shares one of the questions it must agree on one of; None where each is shared by some."""
    answered = _setting_answered(bank, result)
    shared = [question_id for question_id in answered if any(question_id in match.shares for match in result.precedents)]
    missing = [question_id for question_id in answered if question_id not in shared]
    if not result.precedents or not missing or not shared:
        return None
    values = {record.question: set(chosen(record.value)) for record in result.answers}
    # "In this bank" only where it is true of every system in it, not only of the few listed.
    in_bank = sum(any(values[question_id] & set(chosen(precedent_values(bank, precedent_id).get(question_id)))
                      for question_id in missing) for precedent_id in bank.precedents)
    unshared = " or ".join(f"{_setting_names([question_id])} ({answered[question_id]})" for question_id in missing)
    listed = f"These share your {_setting_names(shared)} only."
    if not in_bank:
        return f"No system in this bank shares your {unshared}. {listed}"
    others = ("the one system in this bank that does is" if in_bank == 1 else
              f"the {in_bank} systems in this bank that do are")
    return f"None of the systems listed shares your {unshared}: {others} less similar overall. {listed}"


def usable_choices(bank: Bank, values: Values) -> dict[str, set[str]]:
    """The choices picked on each choice question answered usably (not unsure, not empty)."""
    return {question_id: set(chosen(value)) for question_id, value in values.items()
            if question_id in bank.questions and bank.questions[question_id].kind != "text"
            and is_usable(bank.questions[question_id], value)}


def similarity(left: dict[str, set[str]], right: dict[str, set[str]],
               weights: Mapping[str, float] = MappingProxyType({})) -> tuple[float, dict[str, set[str]]]:
    """Agreement between two sets of usable choices (`usable_choices`), 0 to 1, over the questions either side
    answered (each counting its weight, else once), and the choices both picked on each question where they
    agree at least in part."""
    asked = left.keys() | right.keys()
    shared = {question_id: left[question_id] & right[question_id] for question_id in left.keys() & right.keys()}
    if not asked:
        return 0.0, {}
    value = sum(weights.get(question_id, 1.0) * len(both) / len(left[question_id] | right[question_id])
                for question_id, both in shared.items())
    total = sum(weights.get(question_id, 1.0) for question_id in asked)
    return value / total, {question_id: both for question_id, both in shared.items() if both}


def precedent_values(bank: Bank, precedent_id: str) -> dict[str, AnswerValue]:
    """A precedent's answers on its own path through the questions, as the engine reads them.

    Routed once per bank (`Bank.derive`): a result compares its answers with every precedent, and scoring the
    corpus evaluates each precedent's own answers, so the routes were worked out again each time."""
    def on_paths() -> dict[str, dict[str, AnswerValue]]:
        return {key: {question_id: precedent.answers[question_id] for question_id in route(bank, precedent.answers)
                      if question_id in precedent.answers} for key, precedent in bank.precedents.items()}

    return bank.derive("precedent_values", on_paths)[precedent_id]


def precedent_similarities(bank: Bank, values: Values) -> dict[str, tuple[float, dict[str, set[str]]]]:
    """Each precedent's similarity to these answers, with the choices both picked (`similarity`)."""
    mine = usable_choices(bank, values)
    return {precedent_id: similarity(mine, usable_choices(bank, precedent_values(bank, precedent_id)),
                                     bank.meta.similarity_weights)
            for precedent_id in bank.precedents}


def nearest_precedents(bank: Bank, values: Values, count: int = 3,
                       similarities: dict[str, tuple[float, dict[str, set[str]]]] | None = None) -> list[PrecedentMatch]:
    """The published systems whose settings are nearest to these answers: shown as evidence, never scored."""
    matches = []
    similarities = similarities or precedent_similarities(bank, values)
    required = bank.meta.nearest_share_one_of
    for precedent_id, precedent in bank.precedents.items():
        value, shared = similarities[precedent_id]
        if value > 0 and (not required or any(question_id in shared for question_id in required)):
            matched = [question_id for question_id in bank.questions if question_id in shared]
            agreeing = [", ".join(choice.label for choice in bank.questions[question_id].choices
                                  if choice.id in shared[question_id]) for question_id in matched]
            matches.append(PrecedentMatch(id=precedent_id, title=precedent.title,
                                          citation=precedent.reference.citation(), similarity=round(value, 2),
                                          matched=matched, agreeing=agreeing, built=precedent.built,
                                          serves=precedent.serves,
                                          shares=[question_id for question_id in required if question_id in shared]))
    matches.sort(key=lambda match: (-match.similarity, match.id))
    return matches[:count]


def affected(bank: Bank, targets: list[str]) -> tuple[list[str], list[str]]:
    """What an open question affects, split as a reader takes it: the elements whose level it could move (ids),
    and the labels of the needs it decides."""
    return ([target for target in targets if target in bank.elements],
            [bank.needs[target].label for target in targets if target not in bank.elements])


def joined_labels(labels: Iterable[str]) -> str:
    """Several choices in one line: "; " between them, as choice labels have commas of their own."""
    return "; ".join(labels)


def answer_in_words(labels: list[str], asked: bool) -> str:
    """An answer as a comparison of two designs shows it, where one walk may pass its question by."""
    if not asked:
        return "not asked" + (f" (answered {joined_labels(labels)}, which does not count)" if labels else "")
    return joined_labels(labels) if labels else "not answered"


def answer_labels(question: Question, value: AnswerValue | None) -> list[str]:
    if question.kind == "text":
        return [value] if isinstance(value, str) and value.strip() else []
    return [choice.label if (choice := question.choice(item)) else item for item in chosen(value)]


def _record(bank: Bank, question_id: str, value: AnswerValue | None, note: str | None) -> AnswerRecord:
    question = bank.questions[question_id]
    return AnswerRecord(
        question=question_id,
        prompt=question.prompt,
        stage=question.stage,
        kind=question.kind,
        value=value,
        labels=answer_labels(question, value),
        note=note,
        unsure=question.kind != "text" and not is_usable(question, value),
    )


def _triggering_answers(bank: Bank, scored: Scored, rule_id: str) -> tuple[list[str], str, str]:
    """The questions whose answers made a fired rule fire, their answers in words with the questions, and the
    same answers by their labels alone (both only the part the rule holds by)."""
    rule = bank.rules[rule_id]
    # Of an `any`, a part that does not hold is not cited: its answer did not make the rule fire (a question off
    # the walk would read "not answered"), and a comparison must not credit a change of it with the rule's effect.
    deciding = _deciding_answers(rule.when, scored.values, bank)
    labels = {question_id: ", ".join(answer_labels(bank.questions[question_id], deciding[question_id]))
              for question_id in condition_questions(rule.when) if question_id in deciding}
    cited = list(labels)
    absent = {question_id: "not answered" if question_id in scored.path else "not asked" for question_id in cited}
    text = "; ".join(f"{bank.questions[question_id].prompt} — {labels[question_id] or absent[question_id]}"
                     for question_id in cited)
    # A rule that holds by an answer's absence has no label to cite: the full text then says which one.
    brief = "; ".join(label for label in labels.values() if label) or text
    return cited, text, brief


def _evidence(bank: Bank, scored: Scored, target_kind: str, target: str) -> list[EvidenceItem]:
    items = []
    for rule_id in scored.fired:
        matching = [effect for effect in bank.rules[rule_id].effects if getattr(effect, target_kind) == target]
        if not matching:
            continue
        read, text, brief = _triggering_answers(bank, scored, rule_id)
        items += [EvidenceItem(rule=rule_id, target=target, weight=effect.weight, because=effect.because,
                               answers=read, answer_text=text, deciding_labels=brief) for effect in matching]
    return items


def _answer_checks(bank: Bank, scored: Scored, needs: dict[str, NeedStatus],
                   design: list[str]) -> tuple[list[AnswerCheck], list[LeftOutItem]]:
    """The checks of every fired rule: what the answers call for, whatever families are chosen, but for a check
    about explanations of a kind the design does not build (`when_built`), and one about families it does not
    build (`about`), which is returned apart."""
    kinds_built = {bank.methods[method_id].kind for method_id in design}
    checks = []
    left_out = []
    for rule_id in (rule_id for rule_id in scored.fired if bank.rules[rule_id].checks):
        read, text, _ = _triggering_answers(bank, scored, rule_id)
        for item in bank.rules[rule_id].checks:
            if item.when_built and not kinds_built & set(item.when_built):
                continue
            if not _tests_the_design(item, design):
                left_out.append(_left_out_item(None, "check", item.about))
                continue
            checks.append(AnswerCheck(rule=rule_id, text=item.text, references=item.references, answers=read,
                                      answer_text=text, **_conflict(bank, "check", item.requires, None, needs)))
    return checks, left_out


def _deciding_answers(condition: Condition, values: Values, bank: Bank) -> dict[str, AnswerValue | None]:
    """Of a condition that holds, the questions of the parts that hold, each with the part of its answer the
    condition holds by: of the goals ticked, only the goal a rule names, so the evidence cites what caused it.
    Where a condition holds by an absence (`not`, or an answer missing), the whole answer is cited, None for a
    question not answered."""
    if isinstance(condition, AnswerIn):
        value = values.get(condition.q)
        if isinstance(value, list):
            return {condition.q: [choice for choice in value if choice in condition.in_]}
        return {condition.q: value}
    if isinstance(condition, (AllOf, AnyOf)):
        parts = condition.all if isinstance(condition, AllOf) else condition.any
        found: dict[str, AnswerValue | None] = {}
        for part in parts:
            if not holds(part, values, bank):
                continue
            for question_id, value in _deciding_answers(part, values, bank).items():
                if isinstance(value, list) and isinstance(found.get(question_id), list):
                    value = list(dict.fromkeys([*found[question_id], *value]))
                found[question_id] = value
        return found
    return {question_id: values.get(question_id) for question_id in condition_questions(condition)}


def _element_result(bank: Bank, scored: Scored, element_id: str, changes: list[Change]) -> ElementResult:
    element = bank.elements[element_id]
    value = scored.element_scores[element_id]
    level = scored.level(bank, element_id)
    evidence = _evidence(bank, scored, "element", element_id)
    order = bank.level_ids
    reachable_levels = {level}
    swing: dict[str, float] = {}
    alternatives = []
    for change in changes:
        changed_level = change.scored.level(bank, element_id)
        reachable_levels.add(changed_level)
        delta = abs(change.scored.element_scores[element_id] - value)
        swing[change.question] = max(swing.get(change.question, 0.0), delta)
        if changed_level != level:
            alternatives.append(Alternative(question=change.question, choice=_value_text(change.value),
                                            choice_label=change.label, level=changed_level))
    known = sum(abs(item.weight) for item in evidence)
    doubt = sum(swing.values())
    confidence = 1.0 if known + doubt == 0 else known / (known + doubt)
    span = sorted(reachable_levels, key=order.index)
    held = _held_level(bank, value, scored.top, level)
    return ElementResult(
        id=element_id,
        name=element.name,
        short=element.short,
        score=round(value, 2),
        level=level,
        level_label=bank.level(level).label,
        confidence=round(confidence, 2),
        confidence_label=_confidence_label(bank, confidence, len(span) > 1),
        level_range=[span[-1], span[0]],
        held_below=_held_below(held, scored.top) if held else None,
        held_below_level=held.id if held else None,
        evidence=evidence,
        uncertain_questions=[question for question, delta in swing.items() if delta > 0],
        alternatives=alternatives,
    )


def _value_text(value: AnswerValue) -> str:
    return value if isinstance(value, str) else ",".join(value)


def _confidence_label(bank: Bank, confidence: float, level_may_change: bool) -> str:
    if confidence >= bank.meta.high_confidence and not level_may_change:
        return "high"
    if confidence >= bank.meta.medium_confidence:
        return "medium"
    return "low"


def _need_statuses(bank: Bank, values: Values) -> list[NeedStatus]:
    own_words = {question_id: _plain_words(value) for question_id, value in values.items()
                 if bank.questions[question_id].kind == "text" and isinstance(value, str)}
    # Read from the conditions once per bank: scoring the corpus works out statuses some 12,000 times.
    deciders = bank.derive("need_deciders",
                           lambda: {need.id: need.deciding_questions() for need in bank.needs.values()})
    statuses = []
    for need in bank.needs.values():
        if holds(need.unavailable_when, values, bank):
            status = "unavailable"
        elif holds(need.available_when, values, bank):
            status = "available"
        else:
            status = "unknown"
        said = [SaidMissing(question=question_id, phrase=phrase) for question_id, words in own_words.items()
                for phrase in need.missing_in_words if re.search(_phrase_pattern(phrase), words)]
        statuses.append(NeedStatus(id=need.id, label=need.label, status=status, said_missing=said,
                                   answers=[question for question in deciders[need.id] if question in values]))
    return statuses


def _plain_words(text: str) -> str:
    """Free text as phrases are matched in it: lower case, one kind of apostrophe, single spaces."""
    return " ".join(text.lower().replace("\u2019", "'").replace("\u2018", "'").split())


def _phrase_pattern(phrase: str) -> str:
    """A phrase as whole words, so that 'no masks' is not found in 'piano masks'."""
    return r"(?<![\w'])" + re.escape(phrase) + r"(?![\w'])"


def _rank_methods(bank: Bank, scored: Scored, levels: dict[str, str], needs: dict[str, NeedStatus],
                  *, explained: bool = True, closeness: dict[str, float] | None = None) -> list[MethodResult]:
    """Every family scored, ordered and ranked; `explained=False` leaves out the evidence and the precedents
    that built each family, which ordering does not need. The precedents that built a family come nearest
    to the answers first when `closeness` (similarity by precedent id) is given, else in the bank's order."""
    closeness = closeness or {}
    # Only explained results list the precedents; ranking alone (lint ranks many answer sets) needs no order.
    precedent_order = sorted(bank.precedents, key=lambda precedent_id: -closeness.get(precedent_id, 0.0)) \
        if explained else []
    level_weight = {level.id: level.weight for level in bank.meta.levels}
    level_label = {level.id: level.label.lower() for level in bank.meta.levels}
    strength = {item.id: item.value for item in bank.meta.strengths}
    strength_label = {item.id: item.label for item in bank.meta.strengths}
    results = []
    for method in bank.methods.values():
        value = 0.0
        why = []
        for serves in method.serves:
            gained = strength[serves.strength] * level_weight[levels[serves.element]]
            value += gained
            if gained:
                why.append(f"{strength_label[serves.strength].capitalize()} fit for "
                           f"{bank.elements[serves.element].name.lower()} ({level_label[levels[serves.element]]}): "
                           f"+{gained:.1f}")
        boost = scored.method_boosts[method.id]
        value += boost
        unmet = [need for need in method.needs if needs[need].status == "unavailable"]
        unknown = [need for need in method.needs if needs[need].status == "unknown"]
        excluded = any(bank.needs[need].when_missing == "exclude" for need in unmet)
        for need in unmet:
            if bank.needs[need].when_missing == "penalize":
                value -= bank.needs[need].penalty
                why.append(f"Needs {bank.needs[need].label.lower()}, which the answers say is missing: "
                           f"-{bank.needs[need].penalty:.1f}")
        for need in unknown:
            cost = bank.needs[need].penalty * bank.meta.unknown_need_share
            if bank.needs[need].when_missing == "penalize" and cost:
                value -= cost
                why.append(f"Needs {bank.needs[need].label.lower()}, which the answers leave unknown: "
                           f"-{cost:.2f} (expected cost: {bank.meta.unknown_need_share:.0%} of what its absence costs)")
        status = ("excluded" if excluded else "needs_change" if unmet else "conditional" if unknown
                  else "recommended")
        results.append(MethodResult(
            id=method.id, name=method.name, kind=method.kind, rank=None, score=round(value, 2), status=status,
            covers={serves.element: serves.strength for serves in method.serves}, why=why,
            evidence=_evidence(bank, scored, "method", method.id) if explained else [],
            unmet_needs=unmet, unknown_needs=unknown,
            built_by=[precedent_id for precedent_id in precedent_order
                      if method.id in bank.precedents[precedent_id].built],
        ))
    order = list(bank.methods)
    # What the project can build as its answers stand comes first; a family that needs what the answers say
    # is missing follows every such family, whatever its score: it is an option only if that changes.
    results.sort(key=lambda item: (item.status == "excluded", item.status == "needs_change", -item.score,
                                   order.index(item.id)))
    rank = 0
    for item in results:
        if item.status != "excluded":
            rank += 1
            item.rank = rank
    return results


def _complementary(bank: Bank, scored: Scored, methods: list[MethodResult],
                   elements: list[ElementResult]) -> tuple[list[str], list[str], dict[str, str], str | None]:
    """A few families, from those the project can build as its answers stand, that together cover every
    top-priority element and, room permitting, give the explanation forms its users asked to see; in rank
    order. What no such family covers is reported, not papered over, with the family that serves it but
    fits the project too poorly to build, where there is one."""
    # The elements of the highest prioritized level any element reaches.
    targets = next(([element for element in elements if element.level == level] for level in bank.prioritized_level_ids
                    if any(element.level == level for element in elements)), [])
    strength = {item.id: item.value for item in bank.meta.strengths}
    threshold = sorted(strength.values(), reverse=True)[min(1, len(strength) - 1)]
    candidates = [method for method in methods if method.status not in ("excluded", "needs_change")
                  and method.score > 0]

    def covered_by(method: MethodResult) -> set[str]:
        return {element for element, grade in method.covers.items() if strength[grade] >= threshold}

    chosen: list[MethodResult] = []
    missing = {element.id for element in targets}
    replacing = model_replacing(bank)

    def beside_chosen(method: MethodResult) -> bool:
        """A family that replaces the model joins no design that has one: the two would be alternatives."""
        return method.id not in replacing or not any(other.id in replacing for other in chosen)

    def add(method: MethodResult | None) -> None:
        if method is not None and method not in chosen:
            chosen.append(method)
            missing.difference_update(covered_by(method))

    def best_for(wanted: Callable[[MethodResult], bool]) -> None:
        add(next((method for method in candidates if wanted(method)), None))

    # The ranking's best family that serves a top element opens the design; then each top element still
    # uncovered, the most important first, gets the best-ranked family that serves it well (so a limit on
    # the design's size never costs an element its family: there is at most one per element), if that
    # family fits the project fairly; one that scores far below the opening family is named instead. Where the
    # best is a second family that replaces the model, the best one that can stand beside the first serves the
    # element if it fits fairly; only where none does are both kept, and the document says to join or choose them.
    best_for(lambda method: bool(covered_by(method) & missing))
    opening_score = chosen[0].score if chosen else 0.0
    poor_fits: dict[str, str] = {}
    for element in sorted(targets, key=lambda element: -element.score):
        serving = [method for method in candidates if element.id in covered_by(method)]
        if element.id not in missing or not serving:
            continue
        fair = [method for method in serving if not _far_below(bank, method.score, opening_score)]
        if fair:
            add(next((method for method in fair if beside_chosen(method)), fair[0]))
        else:
            poor_fits[element.id] = serving[0].id
    for form in _asked_forms(bank, scored, candidates):
        if len(chosen) >= bank.meta.form_families_up_to:
            break
        if not any(method.id in form for method in chosen):
            best_for(lambda method, giving=form: method.id in giving and beside_chosen(method))
    uncovered = [element.id for element in targets if element.id in missing]
    return ([method.id for method in sorted(chosen, key=lambda method: method.rank or 0)], uncovered,
            {element: method for element, method in poor_fits.items() if element in uncovered},
            chosen[0].id if chosen else None)


def model_replacing(bank: Bank) -> set[str]:
    """The families that are themselves the model computing the output (`replaces_model` in the catalogue)."""
    return {method_id for method_id, family in bank.methods.items() if family.replaces_model}


def _with_alternatives(bank: Bank, methods: list[MethodResult], complementary: list[str]) -> list[MethodResult]:
    """Each family that replaces the model, as one in the combination does, with the combination's families it would
    replace (`alternative_to`): one the combination passed over though it ranks above a family built, or one the
    combination holds beside another (kept only where nothing else fits an element fairly)."""
    replacing = model_replacing(bank)
    built = [method_id for method_id in complementary if method_id in replacing]
    ranks = {method.id: method.rank for method in methods if method.rank is not None}
    last = max((ranks[method_id] for method_id in complementary if method_id in ranks), default=0)

    def replaced_by(method: MethodResult) -> list[str]:
        if method.id not in replacing:
            return []
        if method.id in complementary:
            return [other for other in built if other != method.id]
        return built if method.rank is not None and method.rank < last else []

    return [method.model_copy(update={"alternative_to": replaced}) if (replaced := replaced_by(method)) else method
            for method in methods]


def _replaced_names(bank: Bank, method: MethodResult) -> str:
    return joined_labels(bank.methods[other].name for other in method.alternative_to)


def passed_over_alternatives(bank: Bank, result: Result) -> dict[str, str]:
    """The families the combination passed over as alternatives to one it builds, each with what it is."""
    return {method.id: f"an alternative to {_replaced_names(bank, method)}, not an addition: each replaces the "
                       "standard network"
            for method in result.methods if method.alternative_to and method.id not in result.complementary}


def replaces_same_model(bank: Bank, method: MethodResult, result: Result) -> str | None:
    """For a family of the design that replaces the standard network computing the output, where the design holds
    another such family, that the two are to be joined into one model or chosen between; None otherwise."""
    if not method.alternative_to or method.id not in result.complementary:
        return None
    return (f"It and {_replaced_names(bank, method)} each replace the standard network that computes the output: "
            "build them as one model whose output rests on both, or choose one.")


def _opening(result: Result) -> MethodResult:
    """The family the combination opens with (the top-ranked one when there is no combination): a family added
    later for a form its users asked for can rank above it, so it is not always the combination's first."""
    return next(method for method in result.methods
                if method.id == result.opening or (result.opening is None and method.rank == 1))


def _output_family(bank: Bank, scored: Scored, methods: list[MethodResult],
                   complementary: list[str]) -> tuple[str, str] | None:
    """The family of a combination of several that produces the output itself, as an answer names it (a segmenter
    for a segmentation task), with why it is presented first; None where the combination has none."""
    if len(complementary) < 2:
        return None
    for question_id in scored.path:
        question = bank.questions[question_id]
        for choice_id in chosen(scored.values.get(question_id)):
            choice = question.choice(choice_id)
            if choice is not None and choice.output_family in complementary:
                family = choice.output_family
                name = bank.methods[family].name
                rank = next(method.rank for method in methods if method.id == family)
                # Named in full: the results screen shows it on its own line; "listed", as a name may be plural.
                ranked = "" if rank == 1 else f", though ranked {rank},"
                return family, (f"{name}: listed first{ranked} as it produces the output itself ({choice.label}), "
                                f"which is what users look at.")
    return None


def design_families(methods: list[MethodResult], complementary: list[str]) -> list[str]:
    """The families the design builds: the recommended combination, as presented, and the top-ranked family."""
    ranked = [method.id for method in methods if method.rank is not None]
    return list(dict.fromkeys([*complementary, *ranked[:1]]))


def _tests_the_design(item: EvaluationItem | AcceptanceCriterion, design: list[str]) -> bool:
    """Whether a plan item has something to test: it is about no families in particular, or about one the design
    builds."""
    return item.about is None or any(family in design for family in item.about.families)


def _left_out_item(element_id: str | None, kind: Literal["measure", "check"], about: AboutFamilies) -> LeftOutItem:
    return LeftOutItem(element=element_id, kind=kind, named=about.named, families=about.families)


def _far_below(bank: Bank, score: float, opening_score: float) -> bool:
    """Under `cover_min_share` of the opening family's score: fitting the project far worse."""
    return score < bank.meta.cover_min_share * opening_score


def far_below_opening(bank: Bank, result: Result, method: MethodResult) -> bool:
    """A family the combination would not build for an element, as fitting the project far worse."""
    return _far_below(bank, method.score, _opening(result).score)


def poor_fit_text(bank: Bank, result: Result, element_id: str) -> str:
    """Why an uncovered element's best buildable family is named rather than built, or why there is none."""
    poor = next((method for method in result.methods if method.id == result.poor_fits.get(element_id)), None)
    if poor is None:
        return "the families that would serve it need something the answers rule out, or are filtered out"
    opening = _opening(result)
    return (f"{bank.methods[poor.id].name} serves it but ranks {poor.rank} with a score of {poor.score:g}, less "
            f"than {bank.meta.cover_min_share:.0%} of the opening family's {opening.score:g} "
            f"({bank.methods[opening.id].name}): too poor a fit for this project to build for this element alone")


def left_out_text(bank: Bank, item: LeftOutItem) -> str:
    """Why a plan item a reviewer may look for is not in the plan."""
    names = ", ".join(bank.methods[family].name for family in item.families)
    return f"Not planned: {item.named}, as this design builds no family they test ({names})."


def _asked_forms(bank: Bank, scored: Scored, candidates: list[MethodResult]) -> list[set[str]]:
    """For each explanation form the users asked to see (in the order given), then each goal a family serves
    directly (`served_like_a_form` on its choice), the families a rule raised for it."""
    raised: dict[tuple[str, str], set[str]] = {}
    candidate_ids = {method.id for method in candidates}
    for rule_id in scored.fired:
        rule = bank.rules[rule_id]
        families = {effect.method for effect in rule.effects
                    if effect.method in candidate_ids and effect.weight > 0}
        for question_id, value in _deciding_answers(rule.when, scored.values, bank).items():
            for choice in chosen(value):
                if _like_a_form(bank.questions[question_id], choice):
                    raised.setdefault((question_id, choice), set()).update(families)
    return [raised[(question_id, choice)] for question_id, question in bank.questions.items()
            for choice in chosen(scored.values.get(question_id))
            if _like_a_form(question, choice) and raised.get((question_id, choice))]


def _like_a_form(question: Question, choice_id: str) -> bool:
    """An answer that names what the explanation must give: a form the users asked to see, or a goal one family
    serves directly (catching bad outputs before use)."""
    choice = question.choice(choice_id)
    return question.names_the_explanation or (choice is not None and choice.served_like_a_form)


def applicable_caveats(bank: Bank, method_id: str, needs: list[NeedStatus]) -> list[Caveat]:
    """A family's caveats, without those about something the answers rule out (a caveat comparing maps with
    findings means nothing where there are no findings to delineate)."""
    ruled_out = {need.id for need in needs if need.status == "unavailable"}
    return [caveat for caveat in bank.methods[method_id].caveats if not ruled_out.intersection(caveat.requires)]


def _evaluation_plan(bank: Bank, elements: list[ElementResult], design: list[str], needs: dict[str, NeedStatus],
                     acceptance: list[AcceptanceStep]) -> tuple[list[EvaluationStep], list[LeftOutItem]]:
    """The checks for each prioritized element, from the element and from the design's families; a check that
    depends on a need the answers rule out is kept, marked as a conflict, with what to do instead (or, where the
    element's acceptance measures, shown first, already say it, a pointer to them). An element's check about
    families the design does not build is left out, and returned apart."""
    advised: dict[str, set[str]] = {}
    for criterion in acceptance:
        advised.setdefault(criterion.element, set()).update(criterion.conflicting_needs)
    floor = bank.level_ids[-1]
    steps = []
    left_out = []
    for element in elements:
        if element.level == floor:
            continue
        for item in bank.elements[element.id].evaluation:
            if not _tests_the_design(item, design):
                left_out.append(_left_out_item(element.id, "check", item.about))
                continue
            steps.append(_step(bank, element, item, "element", needs, advised.get(element.id, set())))
        for method_id in design:
            method = bank.methods[method_id]
            served = [serves.element for serves in method.serves]
            primary = min(served, key=lambda element_id: (bank.level_ids.index(_level(elements, element_id)),
                                                          served.index(element_id)))
            if primary != element.id:
                continue
            for item in method.evaluation:
                steps.append(_step(bank, element, item, method_id, needs, advised.get(element.id, set())))
    return steps, left_out


def _step(bank: Bank, element: ElementResult, item: EvaluationItem, source: str,
          needs: dict[str, NeedStatus], advised: AbstractSet[str]) -> EvaluationStep:
    family = None if source == "element" else source
    return EvaluationStep(element=element.id, level=element.level, text=item.text, references=item.references,
                          source=source, **_conflict(bank, "check", item.requires, family, needs, advised))


def _conflict(bank: Bank, what: str, requires: list[str], family: str | None, needs: dict[str, NeedStatus],
              advised: AbstractSet[str] = frozenset()) -> dict:
    """A plan item's conflicting needs, and what it assumes that the answers rule out, or that the user's own
    words say may be missing, with what to do instead (None when it fits); `advised` are needs whose advice
    the element's acceptance measures already give."""
    family_needs = bank.methods[family].needs if family else []

    def split(selected) -> tuple[list[str], list[str]]:
        return [need for need in requires if selected(needs[need])], [need for need in family_needs if selected(needs[need])]

    own_gaps, family_gaps = split(lambda need: need.status == "unavailable")
    own_doubts, family_doubts = split(lambda need: need.status != "unavailable" and bool(need.said_missing))
    parts = []
    if own_gaps or family_gaps:
        parts.append(f"This {what} assumes that {_labels(bank, [*own_gaps, *family_gaps])}, which the answers rule "
                     f"out. Instead: {_instead(bank, what, own_gaps, family_gaps, family, advised)}")
    if own_doubts or family_doubts:
        doubted = list(dict.fromkeys([*own_doubts, *family_doubts]))
        doubts = "; and that ".join(f"{bank.needs[need].label.lower()} ({answers_stance(needs[need])})"
                                    for need in doubted)
        said = [said for need in doubted for said in needs[need].said_missing]
        parts.append(f"{own_words_doubt(said, f'what this {what} assumes: that {doubts}')}. If they are right: "
                     f"{_instead(bank, what, own_doubts, family_doubts, family, advised)}")
    gaps = list(dict.fromkeys([*own_gaps, *family_gaps, *own_doubts, *family_doubts]))
    return {"conflicting_needs": gaps, "conflict": " ".join(parts) or None}


def own_words_doubt(said: Iterable[SaidMissing], doubted: str) -> str:
    """`Your own words (“no labels”, …) doubt {doubted}`: the plan's and the lesson's opening for a need that
    free-text answers say is missing."""
    quoted = ", ".join(dict.fromkeys(f"\u201c{item.phrase}\u201d" for item in said))
    return f"Your own words ({quoted}) doubt {doubted}"


def answers_stance(need: NeedStatus) -> str:
    """What the chosen answers say of a need that the user's own words doubt."""
    return f"which your answers {'say holds' if need.status == 'available' else 'leave open'}"


def _labels(bank: Bank, needs: list[str]) -> str:
    return "; and that ".join(bank.needs[need].label.lower() for need in dict.fromkeys(needs))


def _instead(bank: Bank, what: str, own: list[str], of_family: list[str], family: str | None,
             advised: AbstractSet[str]) -> str:
    instead = [bank.needs[need].evaluate_without for need in own if need not in advised]
    if any(need in advised for need in own):
        instead.insert(0, "see this element's acceptance measures, above.")
    if of_family and family is not None:
        instead.append(f"The family ({bank.methods[family].name}) depends on it: settle that before planning "
                       f"this {what}, or plan the checks of the family you will build instead.")
    return " ".join(instead)


def _acceptance(bank: Bank, elements: list[ElementResult], needs: dict[str, NeedStatus],
                design: list[str]) -> tuple[list[AcceptanceStep], list[LeftOutItem]]:
    """The acceptance criteria of every element at a prioritized level, each marked where the answers rule out
    what it needs; a criterion about families the design does not build is left out, and returned apart."""
    prioritized = set(bank.prioritized_level_ids)
    steps = []
    left_out = []
    for element in elements:
        if element.level not in prioritized:
            continue
        # A measure whose needs the answers rule out gives way to what the bank says to measure instead, once
        # for every measure that gives way to the same thing.
        replacements: dict[str, AcceptanceStep] = {}
        for item in bank.elements[element.id].acceptance:
            if not _tests_the_design(item, design):
                left_out.append(_left_out_item(element.id, "measure", item.about))
                continue
            ruled_out = [need for need in item.requires if needs[need].status == "unavailable"]
            instead = " ".join(dict.fromkeys(bank.needs[need].evaluate_without or "" for need in ruled_out)).strip()
            doubted = any(needs[need].said_missing for need in item.requires if need not in ruled_out)
            if not ruled_out or not instead or doubted:
                steps.append(AcceptanceStep(element=element.id, level=element.level, measure=item.measure,
                                            threshold=item.threshold, sample=item.sample, judge=item.judge,
                                            when=item.when, **_conflict(bank, "measure", item.requires, None, needs)))
            elif instead in replacements:
                replacements[instead].replaces.append(item.measure)
            else:
                # The replaced measure's threshold, sample and judge are its own; the replacement has its own, or none.
                replacements[instead] = AcceptanceStep(
                    element=element.id, level=element.level, measure=instead,
                    threshold=_joined_texts([bank.needs[need].evaluate_without_threshold for need in ruled_out]),
                    sample=_joined_texts([bank.needs[need].evaluate_without_sample for need in ruled_out]),
                    judge=_joined_texts([bank.needs[need].evaluate_without_judge for need in ruled_out]),
                    when=item.when, conflicting_needs=ruled_out,
                    replaces=[item.measure], replaces_because=_labels(bank, ruled_out))
                steps.append(replacements[instead])
    return steps, left_out


def _joined_texts(texts: list[str | None]) -> str:
    """The needs' texts for a replacement measure, each once, or a request to agree on one where none is given."""
    return " ".join(dict.fromkeys(text for text in texts if text)) or NOT_PROPOSED


def _level(elements: list[ElementResult], element_id: str) -> str:
    return next(element.level for element in elements if element.id == element_id)


def _open_questions(bank: Bank, uncertain: list[str], elements: list[ElementResult],
                    values: Values) -> list[OpenQuestion]:
    questions = []
    for question_id in uncertain:
        question = bank.questions[question_id]
        # An element is affected when another answer would move its score, or its level (through the leading
        # element's score, its level can change while its own score stays): its result has worked out both.
        affects = [element.id for element in elements
                   if question_id in element.uncertain_questions
                   or any(alternative.question == question_id for alternative in element.alternatives)]
        affects += [need.id for need in bank.needs.values() if question_id in need.deciding_questions()]
        questions.append(OpenQuestion(
            question=question_id,
            prompt=question.prompt,
            reason="unsure" if chosen(values.get(question_id)) else "unanswered",  # `[]` ticks nothing: no answer
            find_out=question.if_unsure or "Settle this answer with the people who know the project.",
            affects=affects,
        ))
    return questions
