"""Comparing designs: two results, a hypothetical change, and the sensitivity of every element.

Pure functions over results and the bank. `compare` returns a `Comparison` model that any writer
can render; `comparison_text` and `comparison_markdown` are the two renderings the command line
offers (`guide diff`, `guide what-if`). `sensitivity` uses the engine's single-change machinery to
list, for each element, the one-answer changes that would move its level.
"""

from __future__ import annotations

import difflib
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from guide.bank import Bank, check_answers
from guide.engine import answer_in_words, chosen, joined_labels, route, single_changes
from guide.model import (METHOD_STATUS_LABELS, AnswerRecord, AnswersFile, AnswerValue, ElementResult, Result,
                         answer_problems)
from guide.report.text import inert, md
from guide.source import GuideError, first_problem

Direction = Literal["up", "down", "same"]


class AnswerChange(BaseModel):
    question: str
    prompt: str
    before: AnswerValue | None
    after: AnswerValue | None
    before_labels: list[str]
    after_labels: list[str]
    asked_before: bool
    asked_after: bool


class NoteChange(BaseModel):
    question: str
    prompt: str
    before: str | None
    after: str | None


class ElementChange(BaseModel):
    element: str
    name: str
    short: str
    before: str
    after: str
    before_label: str
    after_label: str
    score_before: float
    score_after: float
    direction: Direction
    held: str | None = Field(
        default=None, description="where the lower of the two levels is held below a level whose minimum the "
                                  "score reaches, by that level's share of the leading element's score: why")


class MethodChange(BaseModel):
    method: str
    name: str
    rank_before: int | None
    rank_after: int | None
    status_before: str
    status_after: str
    score_before: float
    score_after: float


class MethodRef(BaseModel):
    method: str
    name: str


class Comparison(BaseModel):
    """How design B differs from design A: answers, element levels, method ranking and combination."""

    before_title: str
    after_title: str
    answers: list[AnswerChange]
    notes: list[NoteChange]
    elements: list[ElementChange]
    methods: list[MethodChange]
    combination_before: list[MethodRef]
    combination_after: list[MethodRef]

    @property
    def differing_answers(self) -> list[AnswerChange]:
        """The answers given differently (or given in one design only), and the questions one walk asks and leaves
        unanswered where the other does not ask them."""
        rerouted = self.rerouted_answers
        return [change for change in self.answers if change not in rerouted]

    @property
    def rerouted_answers(self) -> list[AnswerChange]:
        """Answers given alike that one walk counts and the other passes by: not a difference of answers, but
        evidence that one design draws on and the other does not. A question unanswered in both is not one."""
        return [change for change in self.answers
                if change.after is not None and _same_answer(change.before, change.after)]

    @property
    def moved_elements(self) -> list[ElementChange]:
        return [change for change in self.elements if change.direction != "same"]

    @property
    def identical(self) -> bool:
        """The same answers, priorities, ranking and combination (notes may differ)."""
        return not self.answers and not self.moved_elements and not self.methods \
            and self.combination_before == self.combination_after

    @property
    def differs(self) -> bool:
        """Anything a reader of the two designs would find different, notes included."""
        return not self.identical or bool(self.notes)


def _records(result: Result) -> dict[str, AnswerRecord]:
    return {record.question: record for record in [*result.answers, *result.set_aside]}


def _same_answer(first: AnswerValue | None, second: AnswerValue | None) -> bool:
    # An empty list of choices is no answer, as a missing one is.
    return sorted(chosen(first)) == sorted(chosen(second))


def _held_words(bank: Bank, result: Result, element: ElementResult) -> str | None:
    """`held below essential: 60% of A's 17 is 10.2`, from the level the engine held it below and the result's
    scores."""
    if element.held_below_level is None:
        return None
    level = bank.level(element.held_below_level)
    top = max(item.score for item in result.elements)
    leaders = " and ".join(item.short for item in result.elements if item.score == top)
    return (f"held below {level.label.lower()}: {level.min_share_of_top:.0%} of {leaders}'s {top:g} "
            f"is {level.min_share_of_top * top:g}")


def compare(bank: Bank, before: Result, after: Result) -> Comparison:
    """What differs between two results evaluated with the same bank."""
    order = bank.level_ids
    old_records, new_records = _records(before), _records(after)
    questions = list(dict.fromkeys([*before.path, *after.path, *old_records, *new_records]))
    answers, notes = [], []
    for question_id in questions:
        old, new = old_records.get(question_id), new_records.get(question_id)
        record = new or old
        prompt = record.prompt if record else bank.questions[question_id].prompt
        old_note, new_note = old.note if old else None, new.note if new else None
        if old_note != new_note:
            notes.append(NoteChange(question=question_id, prompt=prompt, before=old_note, after=new_note))
        old_value, new_value = old.value if old else None, new.value if new else None
        asked_before, asked_after = question_id in before.path, question_id in after.path
        if _same_answer(old_value, new_value) and asked_before == asked_after:
            continue
        answers.append(AnswerChange(
            question=question_id, prompt=prompt, before=old_value, after=new_value,
            before_labels=old.labels if old else [], after_labels=new.labels if new else [],
            asked_before=asked_before, asked_after=asked_after,
        ))
    new_elements = {element.id: element for element in after.elements}
    elements = []
    for old_element in before.elements:
        new_element = new_elements[old_element.id]
        step = order.index(old_element.level) - order.index(new_element.level)
        held = (_held_words(bank, after, new_element) if step < 0 else
                f"was {words}" if step > 0 and (words := _held_words(bank, before, old_element)) else None)
        elements.append(ElementChange(
            element=old_element.id, name=old_element.name, short=old_element.short,
            before=old_element.level, after=new_element.level,
            before_label=old_element.level_label, after_label=new_element.level_label,
            score_before=old_element.score, score_after=new_element.score,
            direction="up" if step > 0 else "down" if step < 0 else "same", held=held,
        ))
    new_methods = {method.id: method for method in after.methods}
    methods = []
    for old_method in before.methods:
        new_method = new_methods[old_method.id]
        if (old_method.rank, old_method.status) != (new_method.rank, new_method.status):
            methods.append(MethodChange(
                method=old_method.id, name=old_method.name,
                rank_before=old_method.rank, rank_after=new_method.rank,
                status_before=old_method.status, status_after=new_method.status,
                score_before=old_method.score, score_after=new_method.score,
            ))
    methods.sort(key=lambda change: (change.rank_after is None, change.rank_after or 0, change.name))
    names = {method.id: method.name for method in after.methods}
    return Comparison(
        before_title=before.title, after_title=after.title, answers=answers, notes=notes, elements=elements,
        methods=methods,
        combination_before=[MethodRef(method=item, name=names[item]) for item in before.complementary],
        combination_after=[MethodRef(method=item, name=names[item]) for item in after.complementary],
    )


# ---------------------------------------------------------------------------------------------
# Hypothetical answers: `--set QUESTION=VALUE`.


def parse_assignment(bank: Bank, assignment: str) -> tuple[str, AnswerValue]:
    """`goals=safety,trust_calibration` -> ("goals", ["safety", "trust_calibration"]), checked against the bank."""
    question_id, separator, raw = assignment.partition("=")
    question_id, raw = question_id.strip(), raw.strip()
    if not separator or not question_id:
        raise GuideError("--set", None, None, f"'{assignment}' is not QUESTION=VALUE")
    question = bank.questions.get(question_id)
    if question is None:
        close = difflib.get_close_matches(question_id, list(bank.questions), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise GuideError("--set", None, question_id, f"unknown question '{question_id}'{hint}")
    if not raw:
        raise GuideError("--set", None, question_id, "needs a value after '='")
    if question.kind == "text":
        return question_id, raw
    picked = [item.strip() for item in raw.split(",") if item.strip()]
    if question.kind == "single" and len(picked) != 1:
        known = ", ".join(choice.id for choice in question.choices)
        raise GuideError("--set", None, question_id, f"takes one choice, got {len(picked)} (choices: {known})")
    value: AnswerValue = picked[0] if question.kind == "single" else picked
    # The checks an answers file gets, so a value refused there (a choice given twice) is refused here too.
    for _, problem in answer_problems({question_id: value}, {}, bank.questions):
        raise GuideError("--set", None, question_id, problem)
    return question_id, value


def hypothetical(bank: Bank, answers: AnswersFile, assignments: list[str]) -> AnswersFile:
    """The answers with each `QUESTION=VALUE` applied; a question set twice is an error."""
    changed: dict[str, AnswerValue] = {}
    for assignment in assignments:
        question_id, value = parse_assignment(bank, assignment)
        if question_id in changed:
            raise GuideError("--set", None, question_id, "set more than once")
        changed[question_id] = value
    try:
        updated = answers.revised(answers={**answers.answers, **changed})
    except ValidationError as error:
        field, problem = first_problem(error)
        raise GuideError("--set", None, field.removeprefix("answers."), problem) from None
    check_answers(updated, bank)
    return updated


# ---------------------------------------------------------------------------------------------
# Sensitivity: which single answer changes move each element's level.


class Move(BaseModel):
    question: str
    prompt: str
    value: AnswerValue
    change: str
    level: str
    level_label: str
    direction: Direction


class ElementSensitivity(BaseModel):
    element: str
    name: str
    short: str
    level: str
    level_label: str
    moves: list[Move]


class Sensitivity(BaseModel):
    title: str
    questions: int
    elements: list[ElementSensitivity]


def sensitivity(bank: Bank, answers: AnswersFile, result: Result) -> Sensitivity:
    """For each element, every one-answer change (on the current path) that moves its level."""
    values = dict(answers.answers)
    asked = [question_id for question_id in route(bank, values) if bank.questions[question_id].kind != "text"]
    changes = single_changes(bank, values, asked)
    order = bank.level_ids
    labels = {level.id: level.label for level in bank.meta.levels}
    elements = []
    for element in result.elements:
        moves = []
        for change in changes:
            level = change.scored.level(bank, element.id)
            if level == element.level:
                continue
            step = order.index(element.level) - order.index(level)
            moves.append(Move(question=change.question, prompt=bank.questions[change.question].prompt,
                              value=change.value, change=change.label, level=level, level_label=labels[level],
                              direction="up" if step > 0 else "down"))
        elements.append(ElementSensitivity(element=element.id, name=element.name, short=element.short,
                                           level=element.level, level_label=element.level_label, moves=moves))
    return Sensitivity(title=result.title, questions=len(asked), elements=elements)


# ---------------------------------------------------------------------------------------------
# Renderings: plain language for the terminal, Markdown for documents and reviews.


def _note_words(note: str | None) -> str:
    return f"“{note}”" if note else "no note"


def _ordinal(rank: int | None) -> str:
    if rank is None:
        return "filtered out"
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"


def _method_words(change: MethodChange) -> str:
    words = f"{_ordinal(change.rank_before)} → {_ordinal(change.rank_after)}"
    if change.status_before != change.status_after and "excluded" not in (change.status_before, change.status_after):
        words += f" ({_status(change.status_before)} → {_status(change.status_after)})"
    return words


def _status(status: str) -> str:
    return METHOD_STATUS_LABELS[status]


def _names(refs: list[MethodRef]) -> str:
    return ", ".join(ref.name for ref in refs) or "none"


def held_suffix(change: ElementChange, text=str) -> str:
    """`; held below ...` after a moved element's scores, or nothing (`text` escapes for the target format)."""
    return f"; {text(change.held)}" if change.held else ""


def _comparison_lines(comparison: Comparison, text, before: str, after: str) -> dict[str, list[str]]:
    """The facts of a comparison as lines of one kind of text (`text` escapes for the target format)."""
    answers = []
    for change in comparison.differing_answers:
        answers.append(f"{text(change.prompt)} (`{change.question}`): "
                       f"{text(answer_in_words(change.before_labels, change.asked_before))} → "
                       f"{text(answer_in_words(change.after_labels, change.asked_after))}")
    rerouted = [f"{text(change.prompt)} (`{change.question}`): {text(joined_labels(change.after_labels))} (counted "
                f"in “{text(before if change.asked_before else after)}”; off the walk of "
                f"“{text(after if change.asked_before else before)}”, so not counted there)"
                for change in comparison.rerouted_answers]
    notes = [f"{text(change.prompt)} (`{change.question}`): {text(_note_words(change.before))} → "
             f"{text(_note_words(change.after))}" for change in comparison.notes]
    elements = []
    for change in comparison.moved_elements:
        elements.append(f"{text(change.name)} ({change.short}): {text(change.before_label)} → "
                        f"{text(change.after_label)} ({change.direction}; score {change.score_before:g} → "
                        f"{change.score_after:g}{held_suffix(change, text)})")
    steady = [f"{text(change.name)} ({change.short}) stays {text(change.after_label.lower())}"
              + (f" (score {change.score_before:g} → {change.score_after:g})"
                 if change.score_before != change.score_after else "")
              for change in comparison.elements if change.direction == "same"]
    methods = [f"{text(change.name)}: {_method_words(change)}" for change in comparison.methods]
    combination = []
    if comparison.combination_before != comparison.combination_after:
        combination.append(f"{text(_names(comparison.combination_before))} → "
                           f"{text(_names(comparison.combination_after))}")
    else:
        combination.append(f"unchanged: {text(_names(comparison.combination_after))}")
    return {"answers": answers, "rerouted": rerouted, "notes": notes, "elements": elements, "steady": steady,
            "methods": methods, "combination": combination}


def comparison_text(comparison: Comparison, before: str = "A", after: str = "B") -> str:
    """Plain language for a terminal."""
    if not comparison.differs:
        return f"No differences: {before} and {after} give the same answers, notes, priorities and ranking.\n"
    facts = _comparison_lines(comparison, inert, before, after)
    lines = [f"{before}: {inert(comparison.before_title)}", f"{after}: {inert(comparison.after_title)}", ""]
    lines += [f"Answers that differ ({len(facts['answers'])}):" if facts["answers"] else "The answers are the same."]
    lines += [f"  - {line.replace('`', '')}" for line in facts["answers"]]
    if facts["rerouted"]:
        lines += ["", f"Answered alike, but counted in one design only ({len(facts['rerouted'])}):"]
        lines += [f"  - {line.replace('`', '')}" for line in facts["rerouted"]]
    if facts["notes"]:
        lines += ["", f"Notes that differ ({len(facts['notes'])}):"]
        lines += [f"  - {line.replace('`', '')}" for line in facts["notes"]]
    lines += ["", "Element priorities:"]
    lines += [f"  - {line}" for line in facts["elements"]] or ["  - no level changes"]
    lines += [f"  - {line}" for line in facts["steady"]]
    lines += ["", "Method ranking:"]
    lines += [f"  - {line}" for line in facts["methods"]] or ["  - no family changes rank or status"]
    lines += ["", f"Recommended combination: {facts['combination'][0]}"]
    return "\n".join(lines) + "\n"


def comparison_markdown(comparison: Comparison, before: str = "A", after: str = "B", heading: str = "##") -> str:
    """Markdown, with every bank and user string escaped."""
    lines = [f"{heading} Comparison", "", f"- **{md(before)}:** {md(comparison.before_title)}",
             f"- **{md(after)}:** {md(comparison.after_title)}"]
    if not comparison.differs:
        return "\n".join(lines + ["", "No differences: the same answers, notes, priorities and ranking."]) + "\n"
    facts = _comparison_lines(comparison, md, before, after)
    lines += ["", f"{heading}# Answers that differ", ""]
    lines += [f"- {line}" for line in facts["answers"]] or ["The answers are the same."]
    if facts["rerouted"]:
        lines += ["", f"{heading}# Answered alike, but counted in one design only", ""]
        lines += [f"- {line}" for line in facts["rerouted"]]
    if facts["notes"]:
        lines += ["", f"{heading}# Notes that differ", ""]
        lines += [f"- {line}" for line in facts["notes"]]
    lines += ["", f"{heading}# Element priorities", ""]
    lines += [f"- **{line}**" for line in facts["elements"]] or ["No element changes level."]
    lines += [f"- {line}" for line in facts["steady"]]
    lines += ["", f"{heading}# Method ranking", ""]
    lines += [f"- {line}" for line in facts["methods"]] or ["No family changes rank or status."]
    lines += ["", f"**Recommended combination:** {facts['combination'][0]}"]
    return "\n".join(lines) + "\n"


def _move_line(move: Move, text) -> str:
    return (f"{text(move.prompt)} (`{move.question}`) → {text(move.change)}: "
            f"{move.direction} to {text(move.level_label.lower())}")


def sensitivity_text(report: Sensitivity) -> str:
    lines = [f"Sensitivity of “{inert(report.title)}”: every single change to one of the {report.questions} "
             "choice questions on its path, and the element levels it would move.", ""]
    for element in report.elements:
        lines.append(f"{inert(element.name)} ({element.short}), now {inert(element.level_label.lower())}:")
        lines += [f"  - {_move_line(move, inert).replace('`', '')}" for move in element.moves] \
            or ["  - no single answer change moves it"]
    return "\n".join(lines) + "\n"


def sensitivity_markdown(report: Sensitivity, heading: str = "##") -> str:
    lines = [f"{heading} Sensitivity: {md(report.title)}", "",
             f"Every single change to one of the {report.questions} choice questions on its path, and the "
             "element levels it would move."]
    for element in report.elements:
        lines += ["", f"{heading}# {md(element.name)} ({element.short}): {md(element.level_label.lower())}", ""]
        lines += [f"- {_move_line(move, md)}" for move in element.moves] or ["No single answer change moves it."]
    return "\n".join(lines) + "\n"

