"""The design document in Markdown: for reviewers on a code-hosting site or in a terminal pager.

Every sentence a reviewer needs to understand a recommendation is in the document itself: the
answers, the rules that fired with their rationale, the filters that removed method families, and
a note separating the paper's claims from this tool's reasoning. All bank and user text passes
through `md`, so nothing in it can add structure to the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Mapping

from guide.bank import Bank, bank_change
from guide.engine import (affected, applicable_caveats, far_below_opening, joined_labels, left_out_text, poor_fit_text,
                          passed_over_alternatives, replaces_same_model, setting_shared, setting_unshared, similarity_rule)
from guide.model import (
    METHOD_STATUS_LABELS,
    UNCOVERED_LABEL,
    AnswerRecord,
    AnswersFile,
    BankChange,
    ElementResult,
    EvidenceItem,
    Level,
    MethodResult,
    Result,
    Review,
)
from guide.report.frontmatter import document_answers, front_matter
from guide.report.text import level_label, level_range_text, md, md_block, rationales_note, shown_title

# Open questions the Summary names; the Open questions section lists every one, with how to settle it.
SUMMARY_OPEN_QUESTIONS = 3

KIND_LABELS = {"post_hoc": "post hoc", "by_design": "by design", "either": "post hoc or by design"}
DETAILED_METHODS = 3
APPENDIX_TITLE = "Appendix: the full trace"
APPENDIX = (f"## {APPENDIX_TITLE}\n\nEverything above follows from what is below: the evidence behind every element "
            "and family, the general evaluation guidance, each answer in the order it was asked, where the "
            "reasoning comes from, and the references.")
PRECEDENTS_PER_FAMILY = 4
PRECEDENT_KEY = "precedent:"


@dataclass
class Citations:
    """Numbers references in order of first use, so the document cites [1], [2], ..."""

    bank: Bank
    order: list[str] = field(default_factory=list)

    def cite(self, reference_ids: list[str]) -> str:
        numbers = "".join(self._number(reference) for reference in reference_ids if reference in self.bank.references)
        return f" {numbers}" if numbers else ""

    def cite_precedent(self, precedent_id: str) -> str:
        """A published system by first author and year, numbered like any reference."""
        reference = self.bank.precedents[precedent_id].reference
        surname = reference.authors.split(",")[0].strip().rsplit(" ", 1)[0]
        # A paper the bank also lists as a reference keeps one number.
        same = next((key for key, item in self.bank.references.items() if item.link == reference.identifier()),
                    PRECEDENT_KEY + precedent_id)
        return f"{md(surname)} {reference.year} {self._number(same)}"

    def _number(self, key: str) -> str:
        if key not in self.order:
            self.order.append(key)
        return f"[{self.order.index(key) + 1}]"

    def full_citation(self, key: str) -> str:
        if key.startswith(PRECEDENT_KEY):
            return md(self.bank.precedents[key.removeprefix(PRECEDENT_KEY)].reference.citation())
        reference = self.bank.references[key]
        return md(reference.citation) + (f" {md(reference.link)}" if reference.link else "")


def document_title(result: Result) -> str:
    """The document's title, the same wherever it is shown (the heading, an HTML page's window title): with
    what `shown_title` drops dropped."""
    return f"Interpretability design: {shown_title(result.title)}"


def markdown_document(result: Result, bank: Bank, answers: AnswersFile, date: str, *,
                      with_front_matter: bool = True) -> str:
    """The design document: front matter that re-runs it, then the body for reviewers."""
    carried = document_answers(answers, bank, date)
    # Without a description of its own, the use case in the user's words opens the document, if it was asked.
    summary = next((answer.value for answer in result.answers
                    if answer.question == bank.meta.summary_question and isinstance(answer.value, str)), None)
    return render_markdown(result, bank, date, front_matter=front_matter(carried) if with_front_matter else "",
                           reading=answers.reading, description=answers.description or summary, reviewed=carried,
                           change=bank_change(answers, bank))


def render_markdown(result: Result, bank: Bank, date: str, *, front_matter: str = "",
                    reading: str | None = None, description: str | None = None,
                    reviewed: AnswersFile | None = None, change: BankChange | None = None) -> str:
    citations = Citations(bank)
    sections = [
        _header(result, bank, date, reading, description, reviewed),
        _bank_change(change, bank) if change and _another_bank_or_version(change) else "",
        _summary(result, bank),
        _methods(result, bank, citations),
        _evaluation(result, bank, citations),
        _precedents(result, bank, citations),
        _open_questions(result, bank),
        _reviews(reviewed) if reviewed else "",  # the sign-off closes the body, before the trace
        APPENDIX,
        _elements(result, bank),
        _family_evidence(result),
        _evaluation_guidance(result, bank, citations),
        _answers(result, bank),
        _derivation(result, bank),
        _references(citations),
    ]
    body = "\n\n".join(section.strip("\n") for section in sections if section.strip()) + "\n"
    return front_matter + body


def element_label(bank: Bank, element_id: str) -> str:
    element = bank.elements[element_id]
    return f"{md(element.name)} ({element.short})"


def _header(result: Result, bank: Bank, date: str, reading: str | None, description: str | None,
            reviewed: AnswersFile | None) -> str:
    source = bank.meta.source
    lines = [
        f"# {md(document_title(result))}",
        "",
    ]
    if description:
        lines += [md_block(description), ""]
    lines += [
        "| | |",
        "|---|---|",
        f"| Generated by | guide {md(result.tool_version)} |",
        f"| Question bank | {md(bank.meta.title)}, `{result.bank_id}` version {md(result.bank_version)}, content hash `{result.bank_hash}` |",
        f"| Date | {md(date)} |",
        f"| Framework | {md(source.citation)} {md(source.identifiers())} |",
    ]
    if reviewed:
        lines.append(f"| Review | **{DECISION_LABELS[reviewed.review_decision()]}** (reviewers are listed in the Review "
                     "section, before the appendix) |")
    if reading:
        lines += ["", "> **Whose reading this is.** " + md(reading)]
    return "\n".join(lines)


def _another_bank_or_version(change: BankChange) -> bool:
    # A changed content hash alone is left to `guide check`: it is noted once, not carried in the document.
    return change.from_bank_id not in (None, change.to_bank_id) or change.from_version not in (None, change.to_version)


def _bank_change(change: BankChange, bank: Bank) -> str:
    lines = ["## Question bank changed", ""]
    if change.from_bank_id not in (None, change.to_bank_id):
        lines.append(f"These answers were made with another question bank, `{md(change.from_bank_id)}`; this "
                     f"document reads them with `{change.to_bank_id}` version {md(change.to_version)}.")
    else:
        lines.append(f"These answers were made with version {md(change.from_version or '')} of the question bank; "
                     f"this document uses version {md(change.to_version)}.")
    if change.migrated:
        # Question ids are identifiers ([a-z0-9_-]), safe inside code spans as they are.
        lines += ["", f"The bank's migration from version {md(change.from_version or '')} was applied:", ""]
        lines += [f"- `{old}` is now `{new}`" + (f": {md(bank.questions[new].prompt)}" if new in bank.questions else "")
                  for old, new in change.renamed.items()]
        lines += [f"- `{question}` was removed; an answer to it no longer counts" for question in change.removed]
        lines += [f"- `{question}`: the choice `{old}` is now `{new}`"
                  for question, renames in change.renamed_choices.items() for old, new in renames.items()]
        if change.note:
            lines += ["", md(change.note)]
    elif change.from_version not in (None, change.to_version) and change.from_bank_id in (None, change.to_bank_id):
        lines += ["", f"The bank lists no migration from version {md(change.from_version)}; every answer was read "
                  "as it was given."]
    if change.from_bank_id in (None, change.to_bank_id):
        lines += ["", "This note stays while the front matter has its `migrated_from` line: delete that line once "
                  "the change has been reviewed, then re-run `guide run --answers` on the document."]
    return "\n".join(lines)


DECISION_LABELS = {
    "pending": "pending",
    "approved": "approved",
    "changes-requested": "changes requested",
    "rejected": "rejected",
}
_MISSING_DATE = {True: "*not reviewed yet*", False: "*not dated*"}
STALE_LABELS = {"answers": "approved other answers (stale)", "bank": "approved with another question bank (stale)"}


def _reviews(carried: AnswersFile) -> str:
    """Who signed the design off, and whether each approval was of the answers this document shows."""
    stale = {position: reason for position, _, reason in carried.stale_approvals()}
    lines = ["## Review", ""]
    if carried.reviews == [Review()]:  # the blank review a new document offers to fill in
        lines.append("Overall decision: **pending**: no reviewer has replied yet.")
    else:
        lines += [f"Overall decision: **{DECISION_LABELS[carried.review_decision()]}** (approved once every reviewer "
                  "listed approved these answers; rejected if anyone rejects them).",
                  "", "| Reviewer | Role | Date | Decision |", "|---|---|---|---|"]
        for position, review in enumerate(carried.reviews):
            decision = STALE_LABELS[stale[position]] if position in stale else DECISION_LABELS[review.decision]
            if review.counted_decision != review.decision:
                decision += " (not counted: no reviewer named)"
            lines.append(f"| {md(review.reviewer) if review.reviewer else '*not named yet*'} | "
                         f"{md(review.role) if review.role else ''} | "
                         f"{md(review.date) if review.date else _MISSING_DATE[review.decision == 'pending']} | "
                         f"**{decision}** |")
    for number, review in enumerate(carried.reviews, 1):
        if review.comments and review.comments.strip():
            quoted = md_block(review.comments, "> ").split("\n")
            # A reviewer's line breaks are kept: a trailing backslash is a hard break in CommonMark.
            lines += ["", f"Comments from {md(review.reviewer) if review.reviewer else f'reviewer {number}'}:", ""]
            lines += [line + "\\" if line != ">" and index + 1 < len(quoted) and quoted[index + 1] != ">" else line
                      for index, line in enumerate(quoted)]
    if any(review.counted_decision != review.decision for review in carried.reviews):
        lines += ["", "A review without a reviewer's name does not count toward the decision: add the name of "
                  "whoever gave it under `reviewer`."]
    if stale:
        lines += ["", "An approval marked stale was given to other answers or another question bank than this "
                  "document's: ask that reviewer to review it again, then record the new decision in place of the "
                  "old one and delete that review's `answers_hash` and `bank_hash` lines."]
    lines += ["", "For the author: record each reply under `reviews` in the front matter (reviewer, role, date, "
              "decision: approved, changes-requested or rejected, comments), then re-run `guide run --answers` on it."]
    return "\n".join(lines)


def _summary(result: Result, bank: Bank) -> str:
    """The decision on one page: priorities, what will be built, what is deliberately left out, the risks the
    answers named and what answers them, and what is still open."""
    lines = [
        "## Summary",
        "",
        "| Element | Priority | Confidence | Score |",
        "|---|---|---|---:|",
    ]
    for element in result.elements:
        level = f"**{element.level_label}**" if element.level == bank.level_ids[0] else element.level_label
        confidence = element.confidence_label
        if element.level_range[0] != element.level_range[1]:
            confidence += f" (could be {level_range_text(bank, element)})"
        lines.append(f"| {element_label(bank, element.id)} | {level} | {confidence} | {element.score:g} |")
    reasons = [(element, max(element.evidence, key=lambda item: item.weight)) for element in result.elements
               if element.level in bank.prioritized_level_ids and any(item.weight > 0 for item in element.evidence)]
    if reasons:
        lines += ["", "Mainly because:", ""]
        lines += [f"- {element_label(bank, element.id)}: {md(item.because)} (*{md(item.deciding_labels)}*)"
                  for element, item in reasons]
    lines += ["", *_what_will_be_built(result, bank)]
    lines += ["", *_left_out(result, bank)]
    risks = _risks_answered(result, bank)
    if risks:
        lines += ["", "**Risks named in the answers, and how each moved the priorities and the ranking:**", "", *risks]
    if result.open_questions:
        count = len(result.open_questions)
        # Each in italics: a prompt may end in an instruction ("Select all that apply."), and a run of them
        # joined by semicolons read as one garbled sentence.
        prompts = "; ".join(f"*{md(question.prompt)}*" for question in result.open_questions[:SUMMARY_OPEN_QUESTIONS])
        more = f"; and {count - SUMMARY_OPEN_QUESTIONS} more" if count > SUMMARY_OPEN_QUESTIONS else ""
        lines += ["", f"**Open questions:** {count} {'answer is' if count == 1 else 'answers are'} unsure or "
                  f"missing, which lowers confidence: {prompts}{more} (see *Open questions*)."]
    return "\n".join(lines)


def _what_will_be_built(result: Result, bank: Bank) -> list[str]:
    ranked = [method for method in result.methods if method.rank is not None]
    if not ranked:
        return ["**What will be built:** no method family passes the constraints given in the answers."]
    if all(element.level == bank.level_ids[-1] for element in result.elements):  # nothing for a family to serve
        return ["**What will be built:** nothing yet: the answers so far call for no element of interpretability "
                "(see *Open questions*)." if result.open_questions else
                "**What will be built:** nothing: the answers call for no element of interpretability."]
    chosen = result.complementary or [ranked[0].id]
    lines = ["**What will be built:**", ""]
    for method_id in chosen:
        family = bank.methods[method_id]
        method = next(item for item in result.methods if item.id == method_id)
        covers = ", ".join(md(bank.elements[element].name.lower()) for element in method.covers)
        # The family that produces the output itself leads the list, though it may rank lower: its line says why.
        leads = f" {md(result.output_family_note)}" if method_id == result.output_family else ""
        lines.append(f"- **{md(family.name)}** ({KIND_LABELS[family.kind]}, ranked {method.rank}, "
                     f"{METHOD_STATUS_LABELS[method.status]}): {md(_first_sentence(family.summary))} "
                     f"It serves {covers}.{leads}")
    if result.uncovered:
        lines += ["", f"**{UNCOVERED_LABEL}** (its checks in the *Evaluation plan* still apply):", ""]
        lines += [f"- {element_label(bank, element_id)}: {md(poor_fit_text(bank, result, element_id))} "
                  f"(see {_uncovered_pointer(result, element_id)})." for element_id in result.uncovered]
    forms = [record for record in result.answers
             if bank.questions[record.question].names_the_explanation and record.labels]
    if forms:
        lines += ["", f"**What its users asked to see:** {_answer_text(forms[0])}."]
    return lines


def _uncovered_pointer(result: Result, element_id: str) -> str:
    """The sections that say more about an uncovered element: the families, and, where none serves it, the unsure
    answers that could change that."""
    if element_id in result.poor_fits or not result.open_questions:
        return "*Method families*"
    return "*Method families* and *Open questions*"


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    end = flat.find(". ")
    return flat if end < 0 else flat[:end + 1]


def _left_out(result: Result, bank: Bank) -> list[str]:
    lines = ["**Deliberately not done:**", ""]
    low_levels = {level.id: level for level in bank.meta.levels if not level.prioritized}
    lines += [f"- {element_label(bank, element.id)} is {element.level_label.lower()}. "
              f"{md(low_levels[element.level].description)}"
              for element in result.elements if element.level in low_levels]
    excluded = [method for method in result.methods if method.rank is None]
    if excluded:
        lines.append(f"- {len(excluded)} method {'family is' if len(excluded) == 1 else 'families are'} filtered "
                     "out by the constraints: " + ", ".join(md(method.name) for method in excluded)
                     + " (why, under *Method families*).")
    return lines if len(lines) > 2 else []


def _risks_answered(result: Result, bank: Bank) -> list[str]:
    """Each answer of the risk stage and the elements and families its rules raised or lowered."""
    risk_stage = bank.meta.stage_with_role("risks")
    if risk_stage is None:
        return []
    lines, moving_nothing = [], []
    for record in result.answers:
        # An unsure answer moves nothing itself (no rule fires on it; a rule it leaves open is credited to the answers
        # that fire it), and the open questions name it.
        if record.stage != risk_stage.id or not record.labels or record.kind == "text" or record.unsure:
            continue
        # Two rules moving one target are one move here, as in a family's Why.
        moved = _summed([(element_label(bank, element.id), item.weight) for element in result.elements
                         for item in element.evidence if record.question in item.answers]
                        + [(md(method.name), item.weight) for method in result.methods
                           for item in method.evidence if record.question in item.answers])
        if moved:
            lines.append(f"- {md(record.prompt)} *{_answer_text(record)}*: moves "
                         + ", ".join(f"{target} {weight:+g}" for target, weight in moved.items()) + ".")
        else:
            moving_nothing.append(f"{md(record.prompt)} *{_answer_text(record)}*")
    if moving_nothing:
        lines.append(f"- Also answered, moving nothing in this bank: {'; '.join(moving_nothing)}.")
    return lines


def _score_and_confidence(bank: Bank, element: ElementResult) -> str:
    """The score with the share of its evidence that is known, apart from the confidence in the priority, which
    also asks whether one open answer could change the level: a score all known can still have its priority
    in question, as the leading element's score may move."""
    line = (f"Score {element.score:g} ({element.confidence:.0%} of its evidence known); confidence in its "
            f"priority: {element.confidence_label}")
    if element.level_range[0] != element.level_range[1]:
        line += f", as one open answer could make it {level_range_text(bank, element)}"
    return line + "."


def _answer_text(record: AnswerRecord) -> str:
    if not record.labels:
        return "*not answered*"
    return joined_labels(md(label) for label in record.labels)


def _evidence_line(item: EvidenceItem, answers: str | None = None) -> str:
    """One piece of evidence; `answers` gives the triggering answers more briefly than the full question text."""
    sign = "+" if item.weight > 0 else "−"
    return (f"- {sign}{abs(item.weight):g} from *{md(answers or item.answer_text)}*: {md(item.because)} "
            f"(rule `{item.rule}`)")


def threshold_text(level: Level) -> str:
    share = f" and {level.min_share_of_top:.0%} of the highest element score" if level.min_share_of_top else ""
    return f"{level.label.lower()} from {level.min_score:g}{share}"


def _elements(result: Result, bank: Bank) -> str:
    thresholds = ", ".join(threshold_text(level) for level in bank.meta.levels if level.min_score is not None)
    lines = ["## Element evidence", "",
             f"Each element's score is the sum of the weights of the rules its answers fired ({thresholds}; "
             f"below that, {bank.meta.levels[-1].label.lower()}). Confidence falls with every unsure or "
             "missing answer that could have moved the score."]
    for element in result.elements:
        definition = bank.elements[element.id]
        lines += [
            "",
            f"### {element_label(bank, element.id)}: {element.level_label}",
            "",
            f"*{md(definition.question)}*",
            "",
            _score_and_confidence(bank, element),
        ]
        if element.held_below:
            lines += ["", md(element.held_below)]
        raised = [item for item in element.evidence if item.weight > 0]
        lowered = [item for item in element.evidence if item.weight < 0]
        if raised:
            lines += ["", "Raised by:", "", *map(_evidence_line, raised)]
        if lowered:
            lines += ["", "Lowered by:", "", *map(_evidence_line, lowered)]
        if not element.evidence:
            lines += ["", "No answer moved this element."]
        if element.alternatives:
            lines += ["", "Would change with one different answer:", ""]
            for alternative in element.alternatives:
                question = bank.questions[alternative.question]
                lines.append(f"- {md(question.prompt)} {md(alternative.choice_label)}: "
                             f"{level_label(bank, alternative.level).lower()}")
    return "\n".join(lines)


def _method_card(method: MethodResult, result: Result, bank: Bank, citations: Citations) -> list[str]:
    family = bank.methods[method.id]
    heading = f"### {method.rank}. {md(family.name)}" if method.rank else f"### {md(family.name)}"
    covers = ", ".join(f"{md(bank.elements[element].name.lower())} ({strength})"
                       for element, strength in method.covers.items())
    lines = [
        "",
        f"{heading}: {METHOD_STATUS_LABELS[method.status]}",
        "",
        f"{KIND_LABELS[family.kind].capitalize()}; serves {covers}; score {method.score:g}."
        + (" An emerging family." if family.emerging else ""),
        "",
        md(family.summary),
        "",
        _why(method),
    ]
    # Where the design holds another family that would replace the same model, or passed one over, the card says so.
    same_model = replaces_same_model(bank, method, result)
    if same_model:
        lines += ["", md(same_model)]
    if family.needs:
        statuses = {need.id: need.status for need in result.needs}
        needs = []
        for need_id in family.needs:
            need = bank.needs[need_id]
            status = statuses[need_id]
            text = f"{md(need.label.lower())} ({status}"
            if status == "unavailable":
                text += f": {md(need.explain_missing)}"
            elif status == "unknown":
                text += ": confirm before committing to this family"
            needs.append(text + ")")
        lines += ["", "Needs: " + "; ".join(needs) + "."]
    caveats = applicable_caveats(bank, method.id, result.needs)
    if caveats:
        lines += ["", "Caveats: " + " ".join(f"({number}) {md(caveat.text)}{citations.cite(caveat.references)}"
                                             for number, caveat in enumerate(caveats, start=1))]
    lines.append("")
    if method.built_by:
        shown = [citations.cite_precedent(precedent_id) for precedent_id in method.built_by[:PRECEDENTS_PER_FAMILY]]
        more = len(method.built_by) - len(shown)
        lines.append(f"Published systems that built it (nearest first): {'; '.join(shown)}"
                     + (f"; and {more} more (`guide precedents`)." if more else "."))
    if family.libraries:
        lines.append(f"Libraries: {', '.join(md(library) for library in family.libraries)}.")
    representatives = "; ".join(
        f"{md(item.name)}{citations.cite([item.reference] if item.reference else [])}" for item in family.representatives
    )
    # The card's last line: printed documents keep a card from its heading to this line on one page.
    lines.append(f"Representative methods: {representatives}. Its checks are in the *Evaluation plan*.")
    return lines


def _summed(weights: list[tuple[str, float]]) -> dict[str, float]:
    """The weights added up by what they are for, in the order each first appears."""
    totals: dict[str, float] = {}
    for key, weight in weights:
        totals[key] = totals.get(key, 0) + weight
    return totals


def _why(method: MethodResult) -> str:
    """Why a family ranks where it does, in one paragraph; each rule's reasoning is in the appendix."""
    reasons = [md(reason) for reason in method.why]
    for verb, items in (("raised", [item for item in method.evidence if item.weight > 0]),
                        ("lowered", [item for item in method.evidence if item.weight < 0])):
        # Rules that fired on the same answers are one cause here, their weights summed; the appendix has each.
        by_answer = _summed([(item.deciding_labels, item.weight) for item in items])
        if by_answer:
            reasons.append(f"{verb} by " + ", ".join(f"*{md(answered)}* {weight:+g}"
                                                     for answered, weight in by_answer.items()))
    if method.evidence:
        reasons[-1] += " (each rule's reasoning: *Family evidence*, in the appendix)"
    return "Why: " + "; ".join(reasons) + "." if reasons else "Why: nothing in the answers moved it."


def _family_evidence(result: Result) -> str:
    detailed = [method for method in [*_detailed(result), *_alternatives(result)] if method.evidence]
    if not detailed:
        return ""
    lines = ["## Family evidence", "", "The rules behind the ranking of each family described above, with their "
             "reasoning."]
    for method in detailed:
        lines += ["", f"### {md(method.name)}", "",
                  *(_evidence_line(item, item.deciding_labels) for item in method.evidence)]
    return "\n".join(lines)


def _ranked_list(methods: list[MethodResult], alternatives: Mapping[str, str] = MappingProxyType({})) -> str:
    """Families in rank order, each with its kind, its status where it is not plain, its score, and, for one the
    design passed over, what it is an alternative to (`alternatives`, by family id)."""
    return "; ".join(f"{method.rank}. {md(method.name)} ({KIND_LABELS[method.kind]}, "
                     + ("" if method.status in ("recommended", "needs_change")
                        else f"{METHOD_STATUS_LABELS[method.status]}, ")
                     + f"{method.score:g}"
                     + (f", {md(alternatives[method.id])}" if method.id in alternatives else "") + ")"
                     for method in methods)


def _detailed(result: Result) -> list[MethodResult]:
    """The families the document describes in full, in rank order: the recommended combination (or the top-ranked
    family)."""
    ranked = [method for method in result.methods if method.rank is not None]
    chosen = [method for method in ranked if method.id in result.complementary]
    return chosen or ranked[:1]


def _alternatives(result: Result) -> list[MethodResult]:
    """Top-ranked families outside the combination: described briefly, as what a reviewer might choose instead. One
    the design passed over as an alternative to its model is named in the ranked list, beside what it would replace."""
    detailed = _detailed(result)
    return [method for method in result.methods if method.rank is not None and method.rank <= DETAILED_METHODS
            and method not in detailed and not method.alternative_to]


def _methods(result: Result, bank: Bank, citations: Citations) -> str:
    ranked = [method for method in result.methods if method.rank is not None]
    detailed = _detailed(result)
    lines = ["## Method families", "",
             "Families are ranked by how strongly they serve the prioritized elements (strength times the "
             "weight of the element's level), plus rule evidence for or against a family, less penalties "
             "for needs the project lacks. A family needing something the answers rule out ranks after every "
             "buildable one and joins no combination unless that changes; one missing a hard need is filtered "
             "out."]
    for method in detailed:
        lines += _method_card(method, result, bank, citations)
    alternatives = _alternatives(result)
    # A family the combination would not build for an element, as fitting far worse, is no close alternative.
    far = [method for method in alternatives if far_below_opening(bank, result, method)]
    share = f"{bank.meta.cover_min_share:.0%} of its score"
    for heading, methods in (("Close alternatives", [method for method in alternatives if method not in far]),
                             (f"Next-ranked families, far below the first (under {share})", far)):
        if methods:
            lines += ["", f"### {heading}", ""]
            lines += [f"- **{method.rank}. {md(method.name)}** ({KIND_LABELS[method.kind]}, "
                      f"{METHOD_STATUS_LABELS[method.status]}, score {method.score:g}): "
                      f"{md(_first_sentence(bank.methods[method.id].summary))} {_why(method)}"
                      for method in methods]
    rest = [method for method in ranked if method not in detailed and method not in alternatives]
    buildable = [method for method in rest if method.status != "needs_change"]
    blocked = [method for method in rest if method.status == "needs_change"]
    if rest:
        lines += ["", "### Other families, ranked", ""]
    if buildable:
        # Led by words: a paragraph starting "4." would render as a one-item numbered list.
        lines.append("In rank order, each fitting the constraints unless said: "
                     + _ranked_list(buildable, passed_over_alternatives(bank, result)) + ".")
    if blocked:
        lines += [""] if buildable else []
        lines.append("Then those that need something the answers rule out, listed in case that changes: "
                     + _ranked_list(blocked) + ".")
    excluded = [method for method in result.methods if method.rank is None]
    if excluded:
        lines += ["", "### Filtered out", ""]
        # Families filtered out for the same reasons share one line, so a reason is read once.
        by_reasons: dict[str, list[str]] = {}
        for method in excluded:
            reasons = "; ".join(md(bank.needs[need].explain_missing) for need in method.unmet_needs
                                if bank.needs[need].when_missing == "exclude")
            by_reasons.setdefault(reasons, []).append(md(method.name))
        lines += [f"- {'; '.join(names)}: {reasons}" for reasons, names in by_reasons.items()]
    return "\n".join(lines)


def _precedents(result: Result, bank: Bank, citations: Citations) -> str:
    if not result.precedents:
        return ""
    lines = ["## Published systems like yours", "",
             f"The published systems in this bank whose settings are nearest to your answers. {similarity_rule(bank)} "
             "They are shown as evidence of what others built in similar settings; they never change a score."]
    if unshared := setting_unshared(bank, result):
        lines += ["", f"**{md(unshared)}**"]
    for match in result.precedents:
        precedent = bank.precedents[match.id]
        agreed = "; ".join(md(labels) for labels in match.agreeing)
        lines += [
            "",
            f"### {md(precedent.title)} ({match.similarity:.0%} similar; {md(setting_shared(bank, result, match))})",
            "",
            f"- Built: {', '.join(md(bank.methods[family].name) for family in match.built)}; mainly serving "
            f"{', '.join(md(bank.elements[element].name.lower()) for element in match.serves)}.",
            f"- Agreeing answers: {agreed or 'none'}.",
            f"- Paper: {citations.cite_precedent(match.id)}.",
        ]
    return "\n".join(lines)


def _evaluation(result: Result, bank: Bank, citations: Citations) -> str:
    """Per element: what must hold to accept it, then the checks of the chosen families. The element's general
    evaluation guidance is in the appendix."""
    family_checks = [step for step in result.evaluation if step.source != "element"]
    if not result.acceptance and not family_checks and not result.answer_checks:
        return "## Evaluation plan\n\nNo element is prioritized, so there is nothing to evaluate yet."
    lines = ["## Evaluation plan", "",
             "What must hold before each prioritized element counts as achieved, and the checks each chosen "
             "family needs: this tool's proposal, every threshold for the team and its reviewers to agree on "
             "before the work starts."]
    answers_left_out = _left_out_lines(result, bank, None, "check")
    if result.answer_checks or answers_left_out:
        lines += ["", "### What your answers call for, whatever families are built", ""]
        for checks in result.answer_checks_by_rule():
            lines.append(f"- *{md(checks[0].answer_text)}* (rule `{checks[0].rule}`):")
            for check in checks:
                lines.append(f"  - {md(check.text)}{citations.cite(check.references)}")
                lines += ["  " + line for line in _conflict_line(check.conflict)]
        lines += answers_left_out
    for element in result.elements:
        criteria = [step for step in result.acceptance if step.element == element.id]
        checks = [step for step in family_checks if step.element == element.id]
        left_out = _left_out_lines(result, bank, element.id, "measure")
        if not criteria and not checks and not left_out:
            continue
        lines += ["", f"### {element_label(bank, element.id)}: {element.level_label.lower()}", ""]
        for step in criteria:
            lines.append(f"- **Measure:** {md(step.measure)} **Threshold to agree on:** {md(step.threshold)} "
                         f"**Sample:** {md(step.sample)} **Who judges:** {md(step.judge)} **When:** {md(step.when)}")
            if len(step.replaces) == 1:
                lines.append(f"  - *{md(step.replaces_heading())}* {md(step.replaces[0])}")
            elif step.replaces:
                lines.append(f"  - *{md(step.replaces_heading())}*")
                lines += [f"    - {md(measure)}" for measure in step.replaces]
            lines += _conflict_line(step.conflict)
        for step in checks:
            lines.append(f"- For {md(bank.methods[step.source].name)}: {md(step.text)}{citations.cite(step.references)}")
            lines += _conflict_line(step.conflict)
        lines += left_out
    constraints = bank.meta.stage_with_role("constraints")
    own_words = [record for record in result.answers if constraints is not None and record.stage == constraints.id
                 and record.kind == "text" and record.labels]
    if own_words:
        lines += ["", "Your constraints in your own words, to check against every criterion above:", ""]
        for record in own_words:
            lines += [md_block(record.labels[0], "> "), ""]
        lines.pop()
    lines += _doubts_in_words(result, bank)
    return "\n".join(lines)


def _left_out_lines(result: Result, bank: Bank, element_id: str | None,
                    kind: Literal["measure", "check"]) -> list[str]:
    """The measures or checks a reviewer may look for, where they would be, that the design leaves out."""
    return [f"- *{md(left_out_text(bank, item))}*" for item in result.left_out
            if item.element == element_id and item.kind == kind]


def _doubts_in_words(result: Result, bank: Bank) -> list[str]:
    """What phrases of the user's free text put in doubt, and which answer settles it: the words change no
    score, the answers do."""
    doubted = [need for need in result.needs if need.said_missing and need.status != "unavailable"]
    if not doubted:
        return []
    lines = ["", "Your words put in doubt what the answers do not rule out; only the chosen answers change the "
                 "design, so settle each in the answer named:", ""]
    for need in doubted:
        quoted = ", ".join(dict.fromkeys(f"\u201c{md(said.phrase)}\u201d" for said in need.said_missing))
        settle = "; ".join(md(bank.questions[question].prompt) for question in bank.needs[need.id].deciding_questions()
                           if question in bank.questions)
        stands = "your answers say it holds" if need.status == "available" else "your answers leave it open"
        lines.append(f"- {quoted}: {md(need.label.lower())}? Now {stands}. Settle it in: {settle}")
    return lines


def _conflict_line(conflict: str | None) -> list[str]:
    return [f"  - **Conflict with your answers.** {md(conflict)}"] if conflict else []


def _evaluation_guidance(result: Result, bank: Bank, citations: Citations) -> str:
    steps = [step for step in result.evaluation if step.source == "element"]
    if not steps:
        return ""
    lines = ["## Evaluation guidance", "", "How each prioritized element is evaluated in general, from the bank."]
    for element_id in dict.fromkeys(step.element for step in steps):
        element_steps = [step for step in steps if step.element == element_id]
        lines += ["", f"### {element_label(bank, element_id)}: {level_label(bank, element_steps[0].level).lower()}", ""]
        for step in element_steps:
            lines.append(f"- {md(step.text)}{citations.cite(step.references)}")
            lines += _conflict_line(step.conflict)
        lines += _left_out_lines(result, bank, element_id, "check")
    return "\n".join(lines)


def _open_questions(result: Result, bank: Bank) -> str:
    unknown_needs = [need for need in result.needs if need.status == "unknown"]
    if not result.open_questions and not unknown_needs:
        return "## Open questions\n\nNone: every question on the path has a definite answer."
    lines = ["## Open questions"]
    for question in result.open_questions:
        elements, needs = affected(bank, question.affects)
        affects = f". Affects: {', '.join(element_label(bank, element) for element in elements)}" if elements else ""
        decides = f". Decides whether: {'; '.join(md(label.lower()) for label in needs)}" if needs else ""
        lines += ["", f"- **{md(question.prompt)}** ({question.reason}){affects}{decides}.",
                  f"  To find out: {md(question.find_out)}"]
    if unknown_needs:
        lines += ["", "Constraints still unknown (families that need them are only conditionally recommended): "
                  + ", ".join(md(need.label.lower()) for need in unknown_needs) + "."]
    return "\n".join(lines)


def _answer_rows(records: list[AnswerRecord], first: int | None = 1) -> list[str]:
    """Answers as a table; numbered in the order asked unless `first` is None (answers that were not asked)."""
    numbered = first is not None
    rows = ["| # | Question | Answer | Note |" if numbered else "| Question | Answer | Note |",
            "|---:|---|---|---|" if numbered else "|---|---|---|"]
    for offset, record in enumerate(records):
        note = md(record.note) if record.note else ""
        number = f"| {first + offset} " if numbered else ""
        rows.append(f"{number}| {md(record.prompt)} (`{record.question}`) | {_answer_text(record)} | {note} |")
    return rows


def _answers(result: Result, bank: Bank) -> str:
    lines = ["## Answers", "", "Every question asked, numbered in the order it was asked (each answer chose the "
             "next question), grouped by stage."]
    asked = 1
    for stage in bank.meta.stages:
        records = [record for record in result.answers if record.stage == stage.id]
        if records:
            lines += ["", f"### {md(stage.title)}", "", *_answer_rows(records, asked)]
            asked += len(records)
    if result.set_aside:
        lines += ["", "### Set aside", "",
                  "These answers and notes belong to questions that the current path does not ask. They are kept in "
                  "the answers file but do not count.", "", *_answer_rows(result.set_aside, None)]
    fired = sorted({item.rule for element in result.elements for item in element.evidence}
                   | {item.rule for method in result.methods for item in method.evidence},
                   key=list(bank.rules).index)
    if fired:
        lines += ["", "Rules that fired: " + ", ".join(f"`{rule}`" for rule in fired) + "."]
    return "\n".join(lines)


def _derivation(result: Result, bank: Bank) -> str:
    return "\n".join([
        "## How this was derived",
        "",
        f"**From the paper.** {md(bank.meta.source.citation)} {md(bank.meta.source.establishes or '')}".rstrip(),
        "",
        f"**From this tool.** {md(bank.meta.derivation_note)}",
        "",
        rationales_note(f"`{result.bank_id}` {md(result.bank_version)}"),
    ])


def _references(citations: Citations) -> str:
    if not citations.order:
        return ""
    lines = ["## References", ""]
    lines += [f"{number}. {citations.full_citation(key)}" for number, key in enumerate(citations.order, start=1)]
    return "\n".join(lines)
