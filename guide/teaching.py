"""Teaching comparison: a student's design against a preset's reference reading, explained.

`guide.diff.compare` finds what differs (answers, element levels, method ranking, combination);
this module says why each difference matters, in the bank's own words: the reference's note on
the question, the rationale of every rule that fired on one side only, the element's teaching
text, the needs that filter a family out, and the preset's instructor notes for discussion.
Pure: results and bank in, a `Lesson` out, rendered as Markdown or plain text.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from guide.bank import Bank
from guide.diff import AnswerChange, Comparison, ElementChange, compare, held_suffix
from guide.engine import answer_in_words, answers_stance, joined_labels, own_words_doubt
from guide.model import (UNSURE, AnswersFile, ElementResult, EvidenceItem, MethodFamily, MethodResult, NeedStatus,
                         Result)
from guide.report.text import counted, inert, level_range_text, md, sentence, signed

REFERENCE, STUDENT = "the reference", "you"


@dataclass
class Block:
    kind: str  # h1, h2, h3, p, li, li2
    text: str


@dataclass
class Lesson:
    blocks: list[Block] = field(default_factory=list)

    def add(self, kind: str, text: str) -> None:
        self.blocks.append(Block(kind, text))


def teach(bank: Bank, reference_name: str, reference: AnswersFile, reference_result: Result,
          student: AnswersFile, student_result: Result, built: list[str] | None = None) -> Lesson:
    """The lesson; `reference_name` says what the reference is (a preset case, a published system), and
    `built` the families a published system's authors built."""
    comparison = compare(bank, reference_result, student_result)
    lesson = Lesson()
    lesson.add("h1", f"Your design compared with the reference: {reference.title}")
    lesson.add("p", f"Your answers: {student.title}. Reference: {reference_name}.")
    if reference.reading:
        lesson.add("p", reference.reading)
    unanswered = _mostly_unanswered(student_result)
    if unanswered:
        lesson.add("p", unanswered)
    evidence = _Evidence(reference_result, student_result)
    lesson.add("p", _summary(comparison, evidence))
    _answers(lesson, bank, comparison, reference, evidence)
    _elements(lesson, bank, comparison, evidence, bool(unanswered))
    _methods(lesson, bank, comparison, reference_result, student_result)
    if built:
        _built(lesson, bank, built, reference_result, student_result)
    _discussion(lesson, reference)
    return lesson


def _mostly_unanswered(student: Result) -> str | None:
    """Said first when most questions on the student's walk are unanswered: the differences then come from
    answers missing, and what follows must not read as advice on choices the student made."""
    unanswered = sum(record.value is None for record in student.answers)
    if unanswered * 2 <= len(student.path):
        return None
    return (f"Most of your questions are unanswered ({unanswered} of the {len(student.path)} on your walk), so this "
            "comparison mostly shows what those missing answers leave out, not choices you made. Answer them for a "
            "comparison of your choices with the reference's.")


def _summary(comparison: Comparison, evidence: _Evidence) -> str:
    if comparison.identical:
        return "Your answers lead to the same priorities and the same ranking as the reference."
    moved = comparison.moved_elements
    differing = comparison.differing_answers
    parts = [f"{counted(len(differing), 'answer')} differ{'s' if len(differing) == 1 else ''}"]
    parts.append(f"{counted(len(moved), 'element')} {'changes' if len(moved) == 1 else 'change'} priority"
                 if moved else "every element keeps its priority")
    reference, student = evidence.elements
    less_certain = sum(_less_certain(reference[element_id], element) for element_id, element in student.items())
    if less_certain:
        parts[-1] += f" ({less_certain} {'is' if less_certain == 1 else 'are'} less certain, through your open " \
                     "answers)"
    same_combination = comparison.combination_before == comparison.combination_after
    parts.append("the recommended combination of method families is the same" if same_combination
                 else "the recommended combination of method families differs")
    return "In short: " + ", ".join(parts[:-1]) + ", and " + parts[-1] + "."


class _Evidence:
    """Which rule effects fired for the reference only, or for the student only; what the student's own words
    and open answers cost the plan and the confidence, as the engine's result records it."""

    def __init__(self, reference: Result, student: Result) -> None:
        self.reference = self._items(reference)
        self.student = self._items(student)
        self.needs = {need.id: need for need in reference.needs}, {need.id: need for need in student.needs}
        self.elements = {element.id: element for element in reference.elements}, \
            {element.id: element for element in student.elements}
        self.open_questions = {question.question: question for question in student.open_questions}
        self.plan_items = _plan_items(student)
        # Families filtered out on both sides: a need they carry changes nothing about them.
        self.out_on_both = {method.id for method in reference.methods if method.status == "excluded"} & \
            {method.id for method in student.methods if method.status == "excluded"}

    def needs_decided(self, bank: Bank, question: str) -> list[tuple[NeedStatus, NeedStatus, list[MethodFamily]]]:
        """The needs this answer decides whose status differs: the reference's, the student's, and the
        families that carry the need."""
        reference, student = self.needs
        return [(reference[need_id], student[need_id],
                 [method for method in bank.methods.values() if need_id in method.needs])
                for need_id in reference if need_id in student
                if reference[need_id].status != student[need_id].status
                and question in reference[need_id].answers + student[need_id].answers]

    def doubted_in_words(self, question: str) -> list[tuple[NeedStatus, list[str]]]:
        """The needs the student's words in this answer say may be missing (and the reference's words do not), with
        the items of the student's plan the engine marks for that as possible conflicts. A need the answers rule
        out is marked for that already: the words add nothing to it."""
        reference, student = self.needs
        doubted = []
        for need in student.values():
            said = {item.phrase for item in need.said_missing if item.question == question}
            said -= {item.phrase for item in reference[need.id].said_missing if item.question == question}
            if said and need.status != "unavailable":
                doubted.append((need, [name for name, needs in self.plan_items if need.id in needs]))
        return doubted

    def less_certain(self, question: str) -> list[tuple[ElementResult, ElementResult]]:
        """The elements an open answer of the student's could move (the engine's `affects`) that are less certain
        than the reference's: the reference's element and the student's."""
        open_question = self.open_questions.get(question)
        affects = open_question.affects if open_question else []
        reference, student = self.elements
        return [(reference[element_id], student[element_id]) for element_id in affects
                if element_id in student and _less_certain(reference[element_id], student[element_id])]

    @staticmethod
    def _items(result: Result) -> dict[tuple[str, str], EvidenceItem]:
        items = {}
        for owner in [*result.elements, *result.methods]:
            for item in owner.evidence:
                items[(item.rule, item.target)] = item
        return items

    def only(self, side: str, *, reads: str | None = None, target: str | None = None) -> list[EvidenceItem]:
        mine, other = (self.reference, self.student) if side == REFERENCE else (self.student, self.reference)
        return [item for key, item in mine.items() if key not in other
                and (reads is None or reads in item.answers) and (target is None or item.target == target)]


def _less_certain(reference: ElementResult, student: ElementResult) -> bool:
    return student.confidence < reference.confidence or student.level_range != reference.level_range


def _plan_items(result: Result) -> list[tuple[str, list[str]]]:
    """Every item of the result's plan as a reader finds it (its element, its opening words), with the needs the
    engine found it in conflict with."""
    elements = {element.id: element.name for element in result.elements}
    items = [(f"{elements[step.element]}: {step.measure}", step.conflicting_needs) for step in result.acceptance]
    items += [(f"{elements[step.element]}: {step.text}", step.conflicting_needs) for step in result.evaluation]
    items += [(check.text, check.conflicting_needs) for check in result.answer_checks]
    return [(textwrap.shorten(name, 90, placeholder="…"), needs) for name, needs in items]


def _doubt_line(need: NeedStatus, question: str, items: list[str]) -> str:
    said = [said for said in need.said_missing if said.question == question]
    doubted = f"that \u201c{need.label}\u201d, {answers_stance(need)}"
    opening = f"{own_words_doubt(said, doubted)}. No rule scores words, but the plan marks "
    if not items:
        return opening + "nothing for it: no item of your plan assumes it."
    return opening + f"{counted(len(items), 'item')} that assume it as possible conflicts: " + "; ".join(items) + "."


def _certainty_line(pairs: list[tuple[ElementResult, ElementResult]], bank: Bank) -> str:
    def compared(reference: ElementResult, student: ElementResult) -> str:
        words = (f"{student.name} ({student.short}): score {student.confidence:.0%} known (the reference: "
                 f"{reference.confidence:.0%}), confidence in its priority {student.confidence_label} (the "
                 f"reference: {reference.confidence_label})")
        if student.level_range[0] != student.level_range[1]:
            words += f", and one open answer could make it {level_range_text(bank, student)}"
        return words

    return ("Left open, it bears on these elements, less certain than the reference's (all your open answers "
            "counted): " + "; ".join(compared(*pair) for pair in pairs) + ".")


def _target_name(bank: Bank, target: str) -> str:
    if target in bank.elements:
        return bank.elements[target].name
    return bank.methods[target].name if target in bank.methods else target


def _effect_line(bank: Bank, side: str, item: EvidenceItem) -> str:
    verb = "raised" if item.weight > 0 else "lowered"
    who = "For the reference" if side == REFERENCE else "For you"
    return f"{who}, this {verb} {_target_name(bank, item.target)} ({signed(item.weight)}): {item.because}"


NEED_STATUS_WORDS = {"available": "met", "unavailable": "ruled out", "unknown": "not known"}


def _need_line(before: NeedStatus, after: NeedStatus, carriers: list[MethodFamily], out_on_both: set[str]) -> str:
    statuses = (f"\u201c{before.label}\u201d is {NEED_STATUS_WORDS[before.status]} for the reference and "
                f"{NEED_STATUS_WORDS[after.status]} for you")
    if not carriers:
        return (f"It decides a condition of the plan: {statuses}; no family needs it, only the checks of the plan "
                "that assume it.")
    running = [method.name for method in carriers if method.id not in out_on_both]
    if not running:
        return (f"It decides what the families need: {statuses}, but every family that needs it is filtered out on "
                "both sides, so no family's fit changes.")
    return f"It decides what the families need: {statuses}, which changes how these families fit: " \
           f"{joined_labels(running)}."


def _answers(lesson: Lesson, bank: Bank, comparison: Comparison, reference: AnswersFile, evidence: _Evidence) -> None:
    # As the summary counts them: an answer given alike that one walk passes by is no difference of answers,
    # but evidence one design draws on and the other does not, said apart.
    lesson.add("h2", "Where your answers differ" if comparison.differing_answers else "Your answers match the reference")
    for change in comparison.differing_answers:
        _answer_change(lesson, bank, change, reference, evidence)
    if comparison.rerouted_answers:
        lesson.add("h2", "Answered alike, but counted on one walk only")
        for change in comparison.rerouted_answers:
            _answer_change(lesson, bank, change, reference, evidence)


def _answer_change(lesson: Lesson, bank: Bank, change: AnswerChange, reference: AnswersFile,
                   evidence: _Evidence) -> None:
    lesson.add("h3", f"{change.prompt} ({change.question})")
    lesson.add("li", sentence(f"The reference: {answer_in_words(change.before_labels, change.asked_before)}"))
    lesson.add("li", sentence(f"You: {answer_in_words(change.after_labels, change.asked_after)}"))
    note = reference.notes.get(change.question)
    if note:
        lesson.add("li", f"Why the reference answered so: {note}")
    lesson.add("li", _path_words(change))
    effects = [_effect_line(bank, side, item) for side in (REFERENCE, STUDENT)
               for item in evidence.only(side, reads=change.question)]
    effects += [_need_line(*decided, evidence.out_on_both)
                for decided in evidence.needs_decided(bank, change.question)]
    effects += [_doubt_line(need, change.question, items)
                for need, items in evidence.doubted_in_words(change.question)]
    less_certain = evidence.less_certain(change.question)
    if less_certain:
        effects.append(_certainty_line(less_certain, bank))
    for line in effects:
        lesson.add("li2", line)
    if not effects:
        lesson.add("li2", "No rule reads this answer differently on its own; it matters through the "
                          "questions it leads to, or only for the design document.")
    question = bank.questions[change.question]
    if change.asked_after and change.after in (UNSURE, [UNSURE]) and question.if_unsure:
        lesson.add("li", f"You were unsure. To settle it: {question.if_unsure}")


def _path_words(change: AnswerChange) -> str:
    if change.asked_before and not change.asked_after:
        return ("Your earlier answers took the walk past this question, so the evidence the reference drew "
                "from it is missing from your design. What it moved:")
    if change.asked_after and not change.asked_before:
        return "The reference walk never reaches this question; your earlier answers led you to it. What it moved:"
    return "What the difference moved:"


def _elements(lesson: Lesson, bank: Bank, comparison: Comparison, evidence: _Evidence, unanswered: bool) -> None:
    moved = comparison.moved_elements
    lesson.add("h2", "Element priorities that differ" if moved else "Element priorities")
    if not moved:
        lesson.add("p", "Every element of interpretability has the same priority as in the reference.")
    for change in moved:
        lesson.add("h3", f"{change.name} ({change.short}): the reference {change.before_label.lower()}, "
                         f"you {change.after_label.lower()}")
        lesson.add("p", _level_words(change, unanswered))
        lesson.add("p", f"Why it matters: {bank.elements[change.element].teaching}")
        for side in (REFERENCE, STUDENT):
            for item in evidence.only(side, target=change.element):
                lesson.add("li", f"{'Only the reference' if side == REFERENCE else 'Only you'}: "
                                 f"{item.answer_text} — {item.because} ({signed(item.weight)})")
    steady = [change for change in comparison.elements if change.direction == "same"]
    if moved and steady:
        lesson.add("p", "Same priority as the reference: " + "; ".join(
            f"{change.name} ({change.after_label.lower()})" for change in steady) + ".")


def _level_words(change: ElementChange, unanswered: bool) -> str:
    scores = f"score {change.score_before:g} → {change.score_after:g}{held_suffix(change)}"
    if unanswered:  # the levels differ because answers are missing: no advice on a choice not made
        higher = "higher" if change.direction == "up" else "lower"
        return (f"You rank {change.name.lower()} {higher} than the reference ({scores}), mostly because of the "
                "questions left unanswered.")
    if change.direction == "up":
        return (f"You rank {change.name.lower()} higher than the reference ({scores}): your design would spend "
                "effort on it that the reference does not ask for.")
    return (f"You rank {change.name.lower()} lower than the reference ({scores}): your design may leave out "
            "evidence its users need.")


def _methods(lesson: Lesson, bank: Bank, comparison: Comparison, reference: Result, student: Result) -> None:
    lesson.add("h2", "Method families")
    before = [ref.method for ref in comparison.combination_before]
    after = [ref.method for ref in comparison.combination_after]
    lesson.add("p", "Recommended combination: the reference "
               + (", ".join(ref.name for ref in comparison.combination_before) or "none") + "; you "
               + (", ".join(ref.name for ref in comparison.combination_after) or "none") + ".")
    theirs = {method.id: method for method in reference.methods}
    yours = {method.id: method for method in student.methods}
    for method_id in before:
        if method_id not in after:
            why = _why_lower(bank, comparison, yours[method_id], theirs[method_id], student, "your")
            lesson.add("li", f"{yours[method_id].name} is in the reference combination, not in yours: in your design {why}")
    for method_id in after:
        if method_id not in before:
            why = _why_lower(bank, comparison, theirs[method_id], yours[method_id], reference, "its")
            lesson.add("li", f"{yours[method_id].name} is in your combination, not in the reference: in the reference {why}")
    # A family said to enter or leave the combination has its ranks said there already.
    for change in [change for change in comparison.methods if change.method not in {*before} ^ {*after}][:8]:
        lesson.add("li", f"{change.name}: ranked {_rank(change.rank_before)} for the reference, "
                         f"{_rank(change.rank_after)} for you.")


def _built(lesson: Lesson, bank: Bank, built: list[str], reference: Result, student: Result) -> None:
    """What a published system's authors built, against this tool's ranking: the paper's choice is evidence
    about the field, not a right answer the rules were made to reproduce."""
    lesson.add("h2", "What its authors built")
    theirs = {method.id: method for method in reference.methods}
    yours = {method.id: method for method in student.methods}
    for method_id in built:
        lesson.add("li", f"{bank.methods[method_id].name}: ranked {_rank(theirs[method_id].rank)} on the paper's "
                         f"setting by this tool, {_rank(yours[method_id].rank)} on yours.")
    lesson.add("p", "The authors chose with knowledge no answers file holds; where this tool ranks their choice "
                    "low, ask which of the two is the better argument.")


def _why_lower(bank: Bank, comparison: Comparison, lower: MethodResult, higher: MethodResult, lower_side: Result,
               whose: str) -> str:
    """Why a family is out of one side's combination (`lower_side`, `whose` combination it is): a need filters it,
    the elements it serves moved, or the families of that combination already serve them."""
    for need_id in lower.unmet_needs:
        need = bank.needs[need_id]
        if need.when_missing == "exclude":
            return f"it is filtered out, because “{need.label}” is missing. {need.explain_missing}"
    text = (f"it ranks {_rank(lower.rank)} on both sides" if lower.rank == higher.rank else
            f"it ranks {_rank(lower.rank)} rather than {_rank(higher.rank)}")
    if lower.unmet_needs:
        labels = ", ".join(bank.needs[need_id].label for need_id in lower.unmet_needs)
        return f"{text}, partly because a need is missing ({labels})."
    moved = [change for change in comparison.moved_elements if change.element in lower.covers]
    if moved:
        return text + ": it serves " + "; ".join(
            f"{change.name.lower()}, ranked {change.before_label.lower()} by the reference and "
            f"{change.after_label.lower()} by you" for change in moved) + "."
    chosen = [method for method in lower_side.methods if method.id in lower_side.complementary]
    served = [f"{bank.elements[element].name.lower()} through "
              + " and ".join(method.name for method in chosen if element in method.covers)
              for element in lower.covers if any(element in method.covers for method in chosen)]
    if served:
        return f"{text}: {whose} combination serves " + "; ".join(served) + "."
    return f"{text}: other families cover the same top priorities better there."


def _rank(rank: int | None) -> str:
    return f"#{rank}" if rank else "filtered out"


def _discussion(lesson: Lesson, reference: AnswersFile) -> None:
    notes = reference.instructor_notes
    if not notes or not (notes.discuss or notes.common_mistakes):
        return
    lesson.add("h2", "For discussion")
    for item in notes.discuss:
        lesson.add("li", item)
    if notes.common_mistakes:
        lesson.add("h3", "Common mistakes with this case")
        for item in notes.common_mistakes:
            lesson.add("li", item)


# ---------------------------------------------------------------------------------------------
# Renderings.


def lesson_markdown(lesson: Lesson) -> str:
    prefixes = {"h1": "# ", "h2": "## ", "h3": "### ", "p": "", "li": "- ", "li2": "  - "}
    lines: list[str] = []
    previous = ""
    for block in lesson.blocks:
        is_list = block.kind.startswith("li")
        if lines and not (is_list and previous.startswith("li")):
            lines.append("")
        lines.append(prefixes[block.kind] + md(block.text))
        previous = block.kind
    return "\n".join(lines) + "\n"


def lesson_text(lesson: Lesson, width: int = 100) -> str:
    lines: list[str] = []
    previous = ""
    for block in lesson.blocks:
        text = inert(block.text)
        is_list = block.kind.startswith("li")
        if lines and not (is_list and previous.startswith("li")):
            lines.append("")
        if block.kind in ("h1", "h2", "h3"):
            # A heading longer than the width (a design's own title) wraps like a paragraph; its underline
            # spans its longest line, so the underline never stops short of the words it marks.
            heading = textwrap.wrap(text, width, break_on_hyphens=False)
            lines += heading
            lines.append({"h1": "=", "h2": "-", "h3": "·"}[block.kind] * max(len(line) for line in heading))
        elif is_list:
            indent = "  " if block.kind == "li" else "      "
            lines += textwrap.wrap(text, width, initial_indent=indent + "- ", subsequent_indent=indent + "  ",
                                   break_on_hyphens=False)
        else:
            lines += textwrap.wrap(text, width, break_on_hyphens=False)
        previous = block.kind
    return "\n".join(lines) + "\n"
