"""The one vocabulary of `guide`: pydantic models of the question bank, answers files and results.

Every bank file is validated against these models with unknown keys forbidden, so a typo in a
bank file is an error that names the field rather than a silently ignored key.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Annotated, Any, Callable, Iterator, Literal, Mapping, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from guide.source import IDENTIFIER_PATTERN

UNSURE = "unsure"
END = "end"

IDENTIFIER_MAX = 80
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN, max_length=IDENTIFIER_MAX)]
SHORT_TEXT_MAX = 300  # a title, among others: the app bounds its title boxes to it
ShortText = Annotated[str, Field(min_length=1, max_length=SHORT_TEXT_MAX)]
LongText = Annotated[str, Field(min_length=1, max_length=5000)]
TEXT_ANSWER_MAX = 20000  # a text answer, a note, a draft, a review's comments


def calendar_day(text: str) -> str:
    """`text` when it is a real calendar day written YYYY-MM-DD, the one form a document prints and reads
    back; else a ValueError that says so."""
    try:
        if len(text) == 10 and datetime.date.fromisoformat(text).isoformat() == text:
            return text
    except ValueError:
        pass
    raise ValueError("a calendar day as YYYY-MM-DD, such as 2026-01-15")


CalendarDay = Annotated[str, AfterValidator(calendar_day),
                        Field(description="a calendar day as YYYY-MM-DD",
                              json_schema_extra={"format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"})]


def within(low: float, high: float) -> Callable[[float], float]:
    """A check that a number is from `low` to `high`, refused in words that give the whole range (pydantic's own
    message names the one bound crossed). The field gives the bounds to its JSON schema itself."""

    def check(value: float) -> float:
        if not low <= value <= high:
            raise ValueError(f"{value:g} is outside the range {low:g} to {high:g}")
        return value

    return check


class Strict(BaseModel):
    # No .inf or .nan: they would rank nothing sensibly and make the JSON documents invalid. Strict types: a
    # weight written "3" is a quoted string in the file, refused as an answer's 5 is rather than read as 3.
    # defer_build: `guide run` reads its bank from the cache and validates none of the bank's files, so building
    # their validators at import (about 12 ms) would be wasted; a model builds its own when first used.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False, strict=True,
                              defer_build=True)


def build_deferred_models() -> None:
    """Build every validator `defer_build` put off: a process that forks workers (`guide serve`) does it once,
    so that no fork builds its own copy."""
    pending = [Strict]
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        model.model_rebuild(force=True)


# ---------------------------------------------------------------------------------------------
# Conditions: structured data, never strings to evaluate.


class AnswerIn(Strict):
    """True when question `q` was answered with any of the listed choices."""

    q: Identifier
    in_: list[Identifier] = Field(alias="in", min_length=1)


class Answered(Strict):
    """True when question `q` has (answered: true) or lacks (answered: false) a usable answer."""

    q: Identifier
    answered: bool


class AllOf(Strict):
    all: list[Condition] = Field(min_length=1)


class AnyOf(Strict):
    any: list[Condition] = Field(min_length=1)


class NotCondition(Strict):
    not_: Condition = Field(alias="not")


def _condition_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return type(value).__name__
    if not isinstance(value, dict):
        return None
    for key, kind in (("in", "AnswerIn"), ("answered", "Answered"), ("all", "AllOf"), ("any", "AnyOf"), ("not", "NotCondition")):
        if key in value:
            return kind
    return None


Condition = Annotated[
    Union[
        Annotated[AnswerIn, Tag("AnswerIn")],
        Annotated[Answered, Tag("Answered")],
        Annotated[AllOf, Tag("AllOf")],
        Annotated[AnyOf, Tag("AnyOf")],
        Annotated[NotCondition, Tag("NotCondition")],
    ],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message="a condition needs one of the keys: in (with q), answered (with q), all, any, not",
    ),
]

for _model in (AllOf, AnyOf, NotCondition):
    _model.model_rebuild()


def condition_questions(condition: Condition) -> list[str]:
    """The question ids a condition reads, in order of first mention."""
    found: list[str] = []
    for part in iter_conditions(condition):
        if isinstance(part, (AnswerIn, Answered)) and part.q not in found:
            found.append(part.q)
    return found


def iter_conditions(condition: Condition):
    yield condition
    if isinstance(condition, (AllOf, AnyOf)):
        for part in condition.all if isinstance(condition, AllOf) else condition.any:
            yield from iter_conditions(part)
    elif isinstance(condition, NotCondition):
        yield from iter_conditions(condition.not_)


# ---------------------------------------------------------------------------------------------
# The bank.


StageRole = Literal["risks", "constraints"]


class Stage(Strict):
    id: Identifier
    title: ShortText
    description: LongText
    document_role: StageRole | None = Field(
        default=None, description="what design documents do with this stage's answers: 'risks' gets a section "
                                  "naming what each answer moved; 'constraints' has its answers in the user's own "
                                  "words quoted under the evaluation plan, to check every criterion against")


class Level(Strict):
    id: Identifier
    label: ShortText
    min_score: float | None = Field(default=None, description="lowest score at this level; the last level has none")
    min_share_of_top: float | None = Field(
        default=None, gt=0, le=1,
        description="where given, a score must also be at least this share of the highest element score: "
                    "additive scores grow with every answer, so without it a fully answered project can "
                    "reach this level on every element")
    weight: float = Field(ge=0, description="how much covering an element at this level counts in method ranking")
    description: ShortText
    prioritized: bool = Field(
        default=False, description="an element at this level is a priority: the design covers it, the plan has its "
                                   "acceptance criteria and the summary its main reason; elements at the other "
                                   "levels are listed as deliberately not done. The prioritized levels are the "
                                   "highest ones")


class Strength(Strict):
    id: Identifier
    label: ShortText
    value: float = Field(gt=0, le=1)


class Reference(Strict):
    id: Identifier
    citation: ShortText
    link: str | None = Field(default=None, max_length=300, description="doi: or arXiv: identifier, or a URL")


class Migration(Strict):
    """How answers made with an older bank version map onto this one."""

    from_version: ShortText
    renamed: dict[Identifier, Identifier] = Field(default_factory=dict)
    removed: list[Identifier] = Field(default_factory=list)
    renamed_choices: dict[Identifier, dict[Identifier, Identifier]] = Field(
        default_factory=dict, description="question id (as named in this version) -> old choice id -> new choice id")
    note: ShortText | None = None


class Source(Strict):
    citation: LongText
    establishes: LongText | None = Field(
        default=None, description="what the source itself establishes, in the bank's words: documents show it "
                                  "under 'From the paper', apart from the tool's own operationalization")
    doi: ShortText
    arxiv: ShortText | None = None
    pmc: ShortText | None = None

    def identifiers(self) -> str:
        """Where to find it: the DOI, and the free copies (arXiv, PubMed Central) where the bank names them."""
        return ", ".join(filter(None, (f"doi:{self.doi}", self.arxiv and f"arXiv:{self.arxiv}", self.pmc)))


class PrecedentTargets(Strict):
    """The least share of precedents the bank must get right (`guide precedents --score` exits 1 below it)."""

    family_hit_at_3: float = Field(ge=0, le=1, description="a family its authors built ranked in the top 3")
    element_hit_at_2: float = Field(ge=0, le=1, description="an element it mainly serves among the top 2")
    holdout_family_hit_at_3: float = Field(ge=0, le=1)
    holdout_element_hit_at_2: float = Field(ge=0, le=1)


class BankMeta(Strict):
    """`bank.yaml`: what the bank is, where the flow starts and how scores become levels."""

    id: Identifier
    title: ShortText
    version: Annotated[str, Field(pattern=r"^\d+\.\d+(\.\d+)?$")]
    description: LongText
    source: Source
    derivation_note: LongText
    start: Identifier
    summary_question: Identifier | None = Field(
        default=None, description="a text question whose answer, the use case in the user's words, opens the design "
                                  "document when the answers carry no description of their own (a preset's)")
    stages: list[Stage] = Field(min_length=1)
    levels: list[Level] = Field(min_length=2)
    strengths: list[Strength] = Field(min_length=1)
    high_confidence: float = Field(default=0.8, gt=0, le=1)
    medium_confidence: float = Field(default=0.5, gt=0, le=1)
    form_families_up_to: int = Field(
        default=3, ge=1, le=10,
        description="a family for an explanation form the users asked to see joins the design only while it has "
                    "fewer families than this; the families that cover the top-priority elements come first "
                    "and are never left out for it, so a design can have more")
    cover_min_share: float = Field(
        default=0.0, ge=0, le=1, allow_inf_nan=False,
        description="a family joins the design only to cover an element when its score is at least this share of "
                    "the design's opening family's: a family that fits the project far worse is named, not built")
    unknown_need_share: float = Field(
        default=0.0, ge=0, le=1, allow_inf_nan=False,
        description="the share of a penalizing need's penalty a family pays while the answers leave that need "
                    "unknown (0: only a need known to be missing costs)")
    migrations: list[Migration] = Field(default_factory=list)
    precedent_targets: PrecedentTargets | None = None
    similarity_weights: dict[Identifier, Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)]] = Field(
        default_factory=dict, description="how many times an agreeing answer to these questions counts when the "
                                          "published systems nearest to the answers are found (others count once)")
    similarity_note: ShortText | None = Field(
        default=None, description="the weights in words, for the sentence documents give on similarity")
    nearest_share_one_of: list[Identifier] = Field(
        default_factory=list, description="a published system is listed as like the user's only when it agrees on "
                                          "at least one of these questions (none: any agreement will do)")

    @field_validator("stages")
    @classmethod
    def _one_stage_per_role(cls, stages: list[Stage]) -> list[Stage]:
        roles = [stage.document_role for stage in stages if stage.document_role is not None]
        if doubled := sorted({role for role in roles if roles.count(role) > 1}):
            raise ValueError(f"more than one stage has document_role {', '.join(map(repr, doubled))}")
        return stages

    def stage_with_role(self, role: StageRole) -> Stage | None:
        return next((stage for stage in self.stages if stage.document_role == role), None)

    @field_validator("levels")
    @classmethod
    def _levels_descend(cls, levels: list[Level]) -> list[Level]:
        # A field validator, so an error names `levels` and its line rather than the whole file.
        *graded, last = levels
        if any(level.min_score is None for level in graded):
            raise ValueError("every level but the last needs min_score")
        if last.min_score is not None or last.min_share_of_top is not None:
            raise ValueError("the last level is the floor and takes no min_score or min_share_of_top")
        scores = [level.min_score for level in graded]
        if scores != sorted(scores, reverse=True) or len(set(scores)) != len(scores):
            raise ValueError("levels must be listed from highest min_score to lowest, without ties")
        prioritized = [level.prioritized for level in levels]
        if not any(prioritized):
            raise ValueError("no level is prioritized: mark the levels whose elements are priorities with "
                             "`prioritized: true` (the built-in bank marks essential and important)")
        if prioritized != sorted(prioritized, reverse=True):
            raise ValueError("the prioritized levels (prioritized: true) must be the highest ones")
        return levels


class AboutFamilies(Strict):
    """The method families a plan item tests the explanations of (the faithfulness of a map, say): without one of
    them in the design there is nothing for it to test."""

    families: list[Identifier] = Field(min_length=1, description="method family ids (methods.yaml)")
    named: ShortText = Field(description="the item in a few words, for the line a document prints where the design "
                                         "builds none of these families, such as 'faithfulness tests of a map'")


class EvaluationItem(Strict):
    text: LongText
    references: list[Identifier] = Field(default_factory=list)
    requires: list[Identifier] = Field(
        default_factory=list, description="needs (needs.yaml) this check cannot be done without; where the answers "
                                          "rule one out, the plan marks the check as a conflict")
    when_built: list[Literal["post_hoc", "by_design", "either"]] = Field(
        default_factory=list, description="a rule's check that is about explanations of one kind: planned only when "
                                          "the design builds a family of one of these kinds (empty: always)")
    about: AboutFamilies | None = Field(
        default=None, description="planned only where the design (the recommended families and the top-ranked one) "
                                  "builds one of these families; documents say it is left out where it does not")


class AcceptanceCriterion(Strict):
    """What must hold before an element counts as achieved: this tool's proposal, for the team to agree on."""

    measure: LongText
    threshold: LongText
    sample: LongText
    judge: LongText
    when: LongText
    requires: list[Identifier] = Field(default_factory=list, description="needs (needs.yaml) the measure cannot "
                                                                          "be taken without")
    about: AboutFamilies | None = Field(
        default=None, description="planned only where the design (the recommended families and the top-ranked one) "
                                  "builds one of these families; documents say it is left out where it does not")


class Element(Strict):
    id: Identifier
    short: Annotated[str, Field(pattern=r"^[A-Z]$")]
    name: ShortText
    question: ShortText
    definition: LongText
    examples: list[ShortText] = Field(min_length=1)
    teaching: LongText
    evaluation: list[EvaluationItem] = Field(min_length=1)
    acceptance: list[AcceptanceCriterion] = Field(default_factory=list)


class Choice(Strict):
    id: Identifier
    label: ShortText
    description: LongText | None = None
    neutral: bool = Field(default=False, description="picking it deliberately moves nothing: a baseline the other "
                          "choices are measured against, or a fact kept for the design document; `guide lint` "
                          "does not report it as unused")
    output_is_explanation: bool = Field(
        default=False, description="the model's output is itself what the user looks at as the explanation (a "
                                   "detector's boxes, a segmenter's contours): like the user naming the explanation, "
                                   "it may put a family first on its own")
    output_family: Identifier | None = Field(
        default=None, description="the method family that produces this output itself (a segmenter's contours): "
                                  "where the design builds it, it is presented first, ahead of the families that "
                                  "check or explain that output; the ranking is unchanged")
    served_like_a_form: bool = Field(
        default=False, description="a goal that one family serves directly (quality control of outputs: a "
                                   "confidence per output flags the ones to check): like an explanation form the "
                                   "users asked to see, it adds the best-ranked family a rule raised for it to the "
                                   "design, room permitting; the ranking is unchanged")


class Branch(Strict):
    """One routing edge: go to `goto` when `when` holds; a branch without `when` is the default."""

    when: Condition | None = None
    goto: Identifier


class Question(Strict):
    id: Identifier
    stage: Identifier
    kind: Literal["single", "multiple", "text"]
    prompt: ShortText
    help: LongText
    choices: list[Choice] = Field(default_factory=list)
    next: list[Branch] = Field(min_length=1)
    if_unsure: LongText | None = Field(default=None, description="what to find out when the answer is unsure")
    names_the_explanation: bool = Field(
        default=False, description="its answers are the user naming the explanation they want, so one of them "
                                   "may put a family first on its own (no other answer may)")

    @field_validator("choices")
    @classmethod
    def _offer_unsure(cls, choices: list[Choice]) -> list[Choice]:
        # "Unsure" is a real answer on every choice question; the bank need not spell it out.
        if choices and all(choice.id != UNSURE for choice in choices):
            choices = [*choices, Choice(id=UNSURE, label="Unsure / not known yet",
                                        description="Lowers the confidence of what this answer would have moved.")]
        return choices

    @model_validator(mode="after")
    def _choices_fit_kind(self) -> Question:
        if self.kind == "text" and self.choices:
            raise ValueError("a text question takes no choices")
        if self.kind != "text" and len(self.choices) < 3:
            raise ValueError("a choice question needs at least two choices besides unsure")
        return self

    def choice(self, choice_id: str) -> Choice | None:
        return next((choice for choice in self.choices if choice.id == choice_id), None)


class Effect(Strict):
    """Evidence a rule adds: for (weight > 0) or against (weight < 0) an element or a method family."""

    element: Identifier | None = None
    method: Identifier | None = None
    weight: Annotated[float, Field(json_schema_extra={"minimum": -5, "maximum": 5}), AfterValidator(within(-5, 5))]
    because: LongText

    @model_validator(mode="after")
    def _one_target(self) -> Effect:
        if (self.element is None) == (self.method is None):
            raise ValueError("an effect names exactly one of element or method")
        if self.weight == 0:
            raise ValueError("an effect with weight 0 moves nothing")
        return self

    @property
    def target(self) -> str:
        return self.element or self.method or ""


class Rule(Strict):
    id: Identifier
    when: Condition
    effects: list[Effect] = Field(default_factory=list)
    checks: list[EvaluationItem] = Field(
        default_factory=list, description="checks the evaluation plan lists whenever the rule fires, whatever "
                                          "families are chosen: what the answers themselves call for")

    @model_validator(mode="after")
    def _does_something(self) -> Rule:
        # A constraint may call for a check without moving any score (constraints filter, they do not weigh).
        if not self.effects and not self.checks:
            raise ValueError("a rule needs at least one effect or one check")
        return self


class Need(Strict):
    """Something a method family requires; answers tell whether the project has it."""

    id: Identifier
    label: ShortText
    available_when: Condition
    unavailable_when: Condition
    when_missing: Literal["exclude", "penalize"]
    penalty: float = Field(default=0.0, ge=0, le=10)
    explain_missing: LongText
    evaluate_without: LongText | None = Field(
        default=None, description="what an evaluation check that requires this need does instead when it is missing")
    evaluate_without_threshold: LongText | None = Field(
        default=None, description="the threshold to propose for the measure evaluate_without names, where an "
                                  "acceptance measure gives way to it (the replaced measure's threshold is never "
                                  "carried over)")
    evaluate_without_sample: LongText | None = Field(
        default=None, description="the sample that measure is taken on, where an acceptance measure gives way to it")
    evaluate_without_judge: LongText | None = Field(
        default=None, description="who judges that measure, where an acceptance measure gives way to it (the "
                                  "replaced measure's judge, often the intended users, is never carried over)")
    missing_in_words: list[Annotated[str, Field(min_length=3, max_length=80, pattern=r"^[a-z0-9][a-z0-9' -]*[a-z0-9]$")]] = Field(
        default_factory=list, description="phrases (lower case) that, written in a free-text answer, say a project "
                                          "lacks this need, such as 'cannot retrain'; the plan flags what depends on it")

    def deciding_questions(self) -> list[str]:
        """The questions whose answers say whether a project has this need, in order of first mention."""
        return list(dict.fromkeys(condition_questions(self.available_when) + condition_questions(self.unavailable_when)))


class Representative(Strict):
    name: ShortText
    reference: Identifier | None = None


class Serves(Strict):
    element: Identifier
    strength: Identifier
    note: ShortText | None = None


class Caveat(Strict):
    text: LongText
    references: list[Identifier] = Field(default_factory=list)
    requires: list[Identifier] = Field(
        default_factory=list, description="needs (needs.yaml) the caveat is about; where the answers rule one out, "
                                          "documents leave the caveat out, since it does not apply")


class MethodFamily(Strict):
    id: Identifier
    name: ShortText
    kind: Literal["post_hoc", "by_design", "either"]
    summary: LongText
    representatives: list[Representative] = Field(min_length=1)
    serves: list[Serves] = Field(min_length=1)
    needs: list[Identifier] = Field(default_factory=list)
    caveats: list[Caveat] = Field(default_factory=list)
    libraries: list[ShortText] = Field(default_factory=list)
    evaluation: list[EvaluationItem] = Field(min_length=1)
    emerging: bool = False
    replaces_model: bool = Field(
        default=False,
        description="the family is itself the model that computes the output in place of a standard network (a "
                    "concept bottleneck, a prototype network): a design holds one such family, since two would be "
                    "alternatives for the same output, not a combination; a staged design is not one, as any of "
                    "them can be its second stage")


# ---------------------------------------------------------------------------------------------
# Answers files (presets, saved sessions, design-document front matter).

AnswerValue = Union[str, list[str]]


class InstructorNotes(Strict):
    discuss: list[LongText] = Field(default_factory=list)
    common_mistakes: list[LongText] = Field(default_factory=list)


Decision = Literal["pending", "approved", "changes-requested", "rejected"]


class Review(Strict):
    reviewer: ShortText | None = None
    role: ShortText | None = Field(default=None, description="the reviewer's role, e.g. radiologist or clinical lead")
    date: CalendarDay | None = None
    decision: Decision = "pending"
    comments: Annotated[str, Field(max_length=TEXT_ANSWER_MAX)] | None = None
    answers_hash: ShortText | None = Field(
        default=None, description="what the decision was made on: the hash of the answers and notes, filled in by "
                                  "guide when the document is next run; delete it when the reviewer reviews again")
    bank_hash: ShortText | None = Field(
        default=None, description="the content hash of the bank the decision was made with, filled in with answers_hash")

    @field_validator("reviewer", "role", mode="before")
    @classmethod
    def _blank_is_unnamed(cls, value: Any) -> Any:
        # `reviewer: ''` is what a person types to clear a name: the same as `reviewer:` left empty.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("decision", mode="before")
    @classmethod
    def _decision_as_written(cls, value: Any) -> Any:
        # `Approved` or `changes requested` mean what they say: the words are matched without case or dash.
        return "-".join(value.lower().replace("_", " ").split()) if isinstance(value, str) else value

    @property
    def counted_decision(self) -> Decision:
        """The decision as the design's overall decision counts it: one given by no one named signs nothing off,
        and counts as pending (as the blank review a new document offers does)."""
        return self.decision if self.reviewer and self.reviewer.strip() else "pending"

    def stale_reason(self, answers_hash: str, bank_hash: str | None) -> Literal["answers", "bank"] | None:
        """What an approval was given to instead of these answers and bank; None when it holds or is no approval."""
        if self.counted_decision != "approved":
            return None
        if self.answers_hash != answers_hash:
            return "answers"
        return "bank" if self.bank_hash != bank_hash else None


class AnswersFile(Strict):
    title: ShortText = "Untitled design"
    description: LongText | None = None
    reading: LongText | None = Field(default=None, description="for presets: whose reading the answers are")
    date: CalendarDay | None = None
    bank_id: Identifier | None = None
    bank_version: ShortText | None = None
    bank_hash: ShortText | None = Field(default=None, description="content hash of the bank a design document was made with")
    migrated_from: ShortText | None = Field(
        default=None, description="the bank version the answers were first made with, before a migration carried "
                                  "them to bank_version; the document says what changed until this is removed")
    answers: dict[Identifier, Union[Annotated[str, Field(max_length=TEXT_ANSWER_MAX)], list[Identifier]]] = Field(default_factory=dict)
    notes: dict[Identifier, Annotated[str, Field(max_length=TEXT_ANSWER_MAX)]] = Field(default_factory=dict)
    instructor_notes: InstructorNotes | None = None
    reviews: list[Review] = Field(default_factory=list, description="one entry per reviewer who signs the design off")
    review: Review | None = Field(default=None, description="older documents' single review: read as the first of "
                                                            "reviews, never written")

    def revised(self, **changes: Any) -> AnswersFile:
        """This file with some fields replaced, validated as a file being read is: what the tool writes from it
        must read back. Raises pydantic's ValidationError."""
        return AnswersFile.model_validate({**self.model_dump(by_alias=True), **changes})

    def answers_hash(self) -> str:
        """A short hash of what a reviewer judges: the answers and the notes that explain them."""
        content = json.dumps({"answers": self.answers, "notes": self.notes}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(content.encode("utf-8")).hexdigest()[:12]

    def stale_approvals(self) -> list[tuple[int, Review, Literal["answers", "bank"]]]:
        """The approvals given to other answers or another bank than this (stamped) answers file's, with their
        positions in `reviews`."""
        answers_hash = self.answers_hash()
        return [(position, review, reason) for position, review in enumerate(self.reviews)
                if (reason := review.stale_reason(answers_hash, self.bank_hash))]

    def review_decision(self) -> Decision:
        """The design's overall decision: approved only when every reviewer listed (at least one, each named)
        approved these answers; rejected when anyone rejected it; else changes requested, or pending."""
        decisions = {review.counted_decision for review in self.reviews}
        if "rejected" in decisions:
            return "rejected"
        if "changes-requested" in decisions:
            return "changes-requested"
        return "approved" if decisions == {"approved"} and not self.stale_approvals() else "pending"


# ---------------------------------------------------------------------------------------------
# Precedents: published systems whose setting and chosen method are known from their papers. The bank
# is scored against them (`guide precedents --score`), and documents show the nearest ones as evidence;
# they never change a score.


class PaperReference(Strict):
    """A paper, cited in full: who, what, when, where, and an identifier a reader can resolve."""

    authors: ShortText
    title: ShortText
    year: int = Field(ge=1950, le=2100)
    venue: ShortText
    doi: Annotated[str, Field(pattern=r"^10\.\d{4,9}/\S+$", max_length=200)] | None = None
    arxiv: Annotated[str, Field(pattern=r"^\d{4}\.\d{4,5}(v\d+)?$")] | None = None
    url: Annotated[str, Field(pattern=r"^https://\S+$", max_length=300)] | None = None

    @model_validator(mode="after")
    def _resolvable(self) -> PaperReference:
        if not (self.doi or self.arxiv or self.url):
            raise ValueError("a reference needs a doi, an arxiv id or a url")
        return self

    def citation(self) -> str:
        """Authors. Title. Venue, year. doi:/arXiv:/url."""
        return f"{self.authors.rstrip('.')}. {self.title.rstrip('.')}. {self.venue}, {self.year}. {self.identifier()}"

    def identifier(self) -> str:
        if self.doi:
            return f"doi:{self.doi}"
        return f"arXiv:{self.arxiv}" if self.arxiv else str(self.url)


class Precedent(Strict):
    """`precedents/*.yaml`: one published system, its setting as answers and what its authors built."""

    title: Annotated[str, Field(min_length=1, max_length=80)]
    reference: PaperReference
    checked: LongText = Field(description="how the citation was confirmed")
    split: Literal["calibration", "holdout"] = Field(
        description="calibration precedents may inform rule changes; holdout ones are only ever scored")
    summary: LongText
    built: list[Identifier] = Field(min_length=1, description="the method families the authors built")
    serves: list[Identifier] = Field(min_length=1, description="the elements that approach mainly serves")
    answers: dict[Identifier, Union[Annotated[str, Field(max_length=TEXT_ANSWER_MAX)], list[Identifier]]] = Field(min_length=1)
    # Every answer has a basis and every basis an answer: checked with the bank (graph.check_bank), where
    # each can be reported at its own line, after a misspelt question is reported as unknown.
    basis: dict[Identifier, ShortText] = Field(description="for every answer, the reason in the paper, in short")

    def answers_file(self) -> AnswersFile:
        return AnswersFile(title=self.title, answers=self.answers)


class SessionFile(AnswersFile):
    """The design in progress, as the app saves it after every answer: an answers file (the answers on
    the current path) plus what only resuming needs."""

    set_aside: dict[Identifier, Union[str, list[Identifier]]] = Field(
        default_factory=dict, description="answers a changed answer took off the path: kept, not used")
    position: Identifier | None = Field(
        default=None, description="the question to continue with (`end`: the results); without it, the first "
                                  "question on the path not yet answered")
    drafts: dict[Identifier, Annotated[str, Field(max_length=TEXT_ANSWER_MAX)]] | None = Field(
        default=None, description="text typed for a text question and left without confirming it: shown in its "
                                  "box again, never an answer (left out when there is none)")

    def answers_file(self) -> AnswersFile:
        """The design as an answers file: set-aside answers included, as the app keeps them (routing
        leaves them out; results and documents list them as not counted)."""
        fields = self.model_dump(include=set(AnswersFile.model_fields) - {"answers"}, by_alias=True)
        return AnswersFile(**fields, answers={**self.set_aside, **self.answers})


def answer_problems(answers: Mapping[str, Any], notes: Mapping[str, Any],
                    questions: Mapping[str, Question]) -> Iterator[tuple[tuple[str, str], str]]:
    """Each answer or note that does not fit a bank's questions: (location in the file, problem), in file order."""
    for question_id, value in answers.items():
        question = questions.get(question_id)
        loc = ("answers", question_id)
        if question is None:
            yield loc, f"unknown question '{question_id}'"
            continue
        if question.kind == "text":
            if not isinstance(value, str):
                yield loc, "a text question takes one string"
            continue
        values = [value] if isinstance(value, str) else value
        if question.kind == "single" and (isinstance(value, list) and len(value) != 1):
            yield loc, "a single-choice question takes one choice"
        elif question.kind == "multiple" and UNSURE in values and len(values) > 1:
            yield loc, "'unsure' cannot be combined with other choices"
        repeated = [choice_id for index, choice_id in enumerate(values) if choice_id in values[:index]]
        if repeated:
            yield loc, f"choice '{repeated[0]}' is given twice"
        unknown = [choice_id for choice_id in values if question.choice(choice_id) is None]
        if unknown:
            known = ", ".join(choice.id for choice in question.choices)
            yield loc, f"unknown choice '{unknown[0]}' (choices: {known})"
    for question_id in notes:
        if question_id not in questions:
            yield ("notes", question_id), f"note for unknown question '{question_id}'"


class BankChange(BaseModel):
    """How the bank that made a document differs from the bank reading it now."""

    from_bank_id: str | None
    from_version: str | None
    from_hash: str | None
    to_bank_id: str
    to_version: str
    to_hash: str
    migrated: bool = Field(description="whether the bank lists a migration from the document's version")
    renamed: dict[str, str] = Field(description="old question id -> new question id")
    removed: list[str]
    renamed_choices: dict[str, dict[str, str]] = Field(default_factory=dict,
                                                       description="question id -> old choice id -> new choice id")
    note: str | None = None


# ---------------------------------------------------------------------------------------------
# Results: what the engine derives. Deterministic for the same answers and bank.


class AnswerRecord(BaseModel):
    question: str
    prompt: str
    stage: str
    kind: str
    value: AnswerValue | None
    labels: list[str]
    note: str | None = None
    unsure: bool = False


class EvidenceItem(BaseModel):
    rule: str
    target: str
    weight: float
    because: str
    answers: list[str] = Field(description="question ids whose answers made the rule fire")
    answer_text: str = Field(description="the triggering answers in words")
    deciding_labels: str = Field(default="", description="only the choices the rule fired on, by their labels "
                                                         "(the brief form of answer_text)")


class Alternative(BaseModel):
    """What one different answer to one question would do to a level or a ranking."""

    question: str
    choice: str
    choice_label: str
    level: str


class ElementResult(BaseModel):
    id: str
    name: str
    short: str
    score: float
    level: str
    level_label: str
    confidence: float
    confidence_label: str
    level_range: list[str] = Field(description="lowest and highest level reachable by changing one uncertain answer")
    held_below: str | None = Field(
        default=None, description="why the element is not at a higher level whose minimum its score reaches: "
                                  "the score is below that level's share of the leading element's score")
    held_below_level: str | None = Field(default=None, description="the id of the level held_below names")
    evidence: list[EvidenceItem]
    uncertain_questions: list[str]
    alternatives: list[Alternative]


class MethodResult(BaseModel):
    id: str
    name: str
    kind: str
    rank: int | None
    score: float
    status: Literal["recommended", "conditional", "needs_change", "excluded"] = Field(
        description="recommended: every need of the family is available; conditional: a need is unknown; "
                    "needs_change: a soft need is missing, so the family ranks after every buildable one and is "
                    "an option only if that changes; excluded: a hard need is missing")
    covers: dict[str, str] = Field(description="element id -> strength, for the elements it serves")
    why: list[str]
    evidence: list[EvidenceItem]
    unmet_needs: list[str]
    unknown_needs: list[str]
    built_by: list[str] = Field(default_factory=list, description="ids of the bank's precedents that built this "
                                                                  "family, the nearest to the answers first")
    alternative_to: list[str] = Field(default_factory=list, description=(
        "ids of the recommended combination's families that this one would replace, as both are the model that "
        "computes the output: for a family outside the combination, that it is an alternative to them, not an "
        "addition; for one inside it, that the two are to be built as one model or chosen between"))


# How a method family's status reads in documents and on screen: it says whether the family fits the
# project's constraints; what the design recommends is the ranking and the combination.
METHOD_STATUS_LABELS = {
    "recommended": "fits the constraints",
    "conditional": "needs something not yet known",
    "needs_change": "needs something the answers rule out",
    "excluded": "filtered out",
}
# A top element that no family the project can build and that fits it fairly serves well.
UNCOVERED_LABEL = "Not covered by a family that fits the project"


class SaidMissing(BaseModel):
    """Where the user's own words say a need is missing."""

    question: str
    phrase: str


class NeedStatus(BaseModel):
    id: str
    label: str
    status: Literal["available", "unavailable", "unknown"]
    answers: list[str]
    said_missing: list[SaidMissing] = Field(
        default_factory=list, description="phrases of free-text answers that say the need is missing; they mark the "
                                          "plan, but only the chosen answers decide the status")


class PlanItem(BaseModel):
    """A line of the evaluation plan for one element, marked where the answers rule out what it needs."""

    element: str
    level: str
    conflicting_needs: list[str] = Field(default_factory=list,
                                         description="needs the item depends on that the answers say are missing")
    conflict: str | None = Field(default=None, description="what the item assumes that the answers rule out, "
                                                           "and what to do instead")


class AnswerCheck(BaseModel):
    """A check the answers themselves call for (a fired rule's `checks`), whatever families are chosen."""

    rule: str
    text: str
    references: list[str]
    answers: list[str] = Field(description="question ids whose answers made the rule fire")
    answer_text: str = Field(description="the triggering answers in words")
    conflicting_needs: list[str] = Field(default_factory=list,
                                         description="needs the check depends on that the answers say are missing")
    conflict: str | None = Field(default=None, description="what the check assumes that the answers rule out, "
                                                           "and what to do instead")


class AcceptanceStep(PlanItem):
    """One acceptance criterion of a prioritized element, as it stands with the user's answers."""

    measure: str
    threshold: str
    sample: str
    judge: str
    when: str
    replaces: list[str] = Field(default_factory=list,
                                description="the bank's measures this one stands in for, which the answers rule out")
    replaces_because: str | None = Field(default=None, description="what those measures assume that is ruled out")

    def replaces_heading(self) -> str:
        """What the measures under this one are, in words, for the plan's writers: the replaced ones, never
        to be read as the replacement."""
        these, they = ("this measure", "it assumes") if len(self.replaces) == 1 else ("these measures", "they assume")
        return f"Replaces {these}, ruled out by your answers because {they} that {self.replaces_because}:"


class LeftOutItem(BaseModel):
    """A plan item left out because it tests the explanations of families the design does not build."""

    element: str | None = Field(description="the element whose plan it belongs to; None for a check the answers "
                                            "call for (a rule's)")
    kind: Literal["measure", "check"] = Field(description="an acceptance measure, or an evaluation check")
    named: str = Field(description="the item in a few words")
    families: list[str] = Field(description="the method family ids it tests, none of them in the design")


class EvaluationStep(PlanItem):
    text: str
    references: list[str]
    source: str = Field(description="'element' or the method family id the step belongs to")


class PrecedentMatch(BaseModel):
    """A published system near the user's answers: evidence for a reader, never an input to a score."""

    id: str
    title: str
    citation: str
    similarity: float = Field(description="agreement over the questions either side answered, 0 to 1")
    matched: list[str] = Field(description="question ids on which the answers agree, wholly or in part")
    agreeing: list[str] = Field(description="for each matched question, the labels of the choices both sides picked")
    built: list[str] = Field(description="method family ids its authors built")
    serves: list[str] = Field(description="element ids that approach mainly serves")
    shares: list[str] = Field(default_factory=list,
                              description="of the questions a listed system must agree on one of "
                                          "(nearest_share_one_of: the task, the modality), those it agrees on")


class OpenQuestion(BaseModel):
    question: str
    prompt: str
    reason: Literal["unsure", "unanswered"]
    find_out: str
    affects: list[str]


class Result(BaseModel):
    tool_version: str
    bank_id: str
    bank_version: str
    bank_hash: str
    title: str
    path: list[str]
    answers: list[AnswerRecord]
    set_aside: list[AnswerRecord] = Field(description="answers to questions not on the current path, kept, not used")
    elements: list[ElementResult]
    methods: list[MethodResult]
    complementary: list[str] = Field(description="the recommended combination, as presented: the family that "
                                                 "produces the output itself (output_family) first, the others in "
                                                 "rank order")
    opening: str | None = Field(default=None, description="the family the combination opens with: the best-ranked "
                                                          "one serving a top-priority element")
    output_family: str | None = Field(
        default=None, description="the family of the combination that produces the output itself (named by the "
                                  "task's answer), presented first in `complementary`; the ranking is unchanged")
    output_family_note: str | None = Field(default=None, description="why output_family is presented first, in words")
    uncovered: list[str]
    poor_fits: dict[str, str] = Field(
        default_factory=dict, description="for an uncovered element, the best-ranked family the project can build "
                                          "that serves it, left out because it scores under cover_min_share")
    needs: list[NeedStatus]
    evaluation: list[EvaluationStep]
    acceptance: list[AcceptanceStep] = Field(default_factory=list,
                                             description="per prioritized element, what must hold to accept it")
    answer_checks: list[AnswerCheck] = Field(default_factory=list,
                                             description="checks the answers call for, whatever families are chosen")
    left_out: list[LeftOutItem] = Field(
        default_factory=list, description="acceptance measures and checks not planned because they test the "
                                          "explanations of families the design does not build")
    open_questions: list[OpenQuestion]
    precedents: list[PrecedentMatch] = Field(default_factory=list,
                                             description="the published systems nearest to these answers")

    def answer_checks_by_rule(self) -> list[list[AnswerCheck]]:
        """The answer checks, one group per rule that called for them (the same answers), in order."""
        rules = dict.fromkeys(check.rule for check in self.answer_checks)
        return [[check for check in self.answer_checks if check.rule == rule] for rule in rules]
