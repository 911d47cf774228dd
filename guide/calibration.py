"""The bank measured against published systems: run the engine on each precedent's setting and ask whether
it ranks what the authors built near the top.

A precedent's answers describe the setting as its authors knew it before they chose a method; `built` is
what they chose. Family hit@k: a built family is among the top k ranked families. Element hit@2: an
element the built approach mainly serves is among the two highest-scoring elements. Holdout precedents
are only ever scored, never used to decide a rule change, so their numbers estimate how the bank does
on projects it was not fitted to.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from guide.bank import Bank
from guide.engine import ranked_families, ranking, route
from guide.model import UNSURE


@dataclass(frozen=True)
class PrecedentScore:
    id: str
    split: str
    title: str
    year: int
    built: list[str]
    serves: list[str]
    family_rank: int | None  # the best rank of a built family; None when every one was filtered out
    top_families: list[str]
    top_elements: list[str]

    @property
    def hit1(self) -> bool:
        return self.family_rank == 1

    @property
    def hit3(self) -> bool:
        return self.family_rank is not None and self.family_rank <= 3

    @property
    def element_hit(self) -> bool:
        return any(element in self.top_elements for element in self.serves)


@dataclass(frozen=True)
class FamilyRow:
    family: str
    built: int
    in_top3_when_built: int
    not_built: int
    in_top3_when_not_built: int


@dataclass(frozen=True)
class Scorecard:
    split: str  # "all", "calibration" or "holdout"
    precedents: list[PrecedentScore]
    families: list[FamilyRow]

    @property
    def count(self) -> int:
        return len(self.precedents)

    def hits(self, measure: str) -> int:
        """How many precedents `measure` (hit1, hit3, element_hit) holds for."""
        return sum(getattr(item, measure) for item in self.precedents)

    def share(self, measure: str) -> float:
        """The share of precedents for which `measure` holds; 0 with none."""
        return self.hits(measure) / self.count if self.count else 0.0

    def measured(self, measure: str) -> str:
        """The share in words with its count, to a tenth of a percent, so that 60 of 67 (89.6%) never reads as
        meeting a target of 90%."""
        return f"{self.share(measure):.1%} ({self.hits(measure)} of {self.count})"


def score_precedent(bank: Bank, precedent_id: str) -> PrecedentScore:
    precedent = bank.precedents[precedent_id]
    element_scores, ranked = ranking(bank, dict(precedent.answers_file().answers))
    ranks = [index + 1 for index, family in enumerate(ranked) if family in precedent.built]
    order = list(bank.elements)
    elements = sorted(element_scores, key=lambda element_id: (-element_scores[element_id], order.index(element_id)))
    return PrecedentScore(
        id=precedent_id, split=precedent.split, title=precedent.title, year=precedent.reference.year,
        built=list(precedent.built), serves=list(precedent.serves), family_rank=min(ranks, default=None),
        top_families=ranked[:3], top_elements=elements[:2],
    )


def scorecard(bank: Bank, split: str = "all") -> Scorecard:
    scores = [score_precedent(bank, precedent_id) for precedent_id, precedent in bank.precedents.items()
              if split == "all" or precedent.split == split]
    return Scorecard(split, scores, family_rows(bank, scores))


def family_rows(bank: Bank, scores: list[PrecedentScore]) -> list[FamilyRow]:
    """Per family: how often it is in the top 3 where it was built and where it was not."""
    rows = []
    for family in bank.methods:
        built = [item for item in scores if family in item.built]
        other = [item for item in scores if family not in item.built]
        rows.append(FamilyRow(family, len(built), sum(family in item.top_families for item in built),
                              len(other), sum(family in item.top_families for item in other)))
    return rows


def shortfalls(bank: Bank, cards: list[Scorecard]) -> list[str]:
    """Each score below the bank's declared target, and each split with nothing to score, in words; empty when
    every target is met (or none is set)."""
    targets = bank.meta.precedent_targets
    if targets is None:
        return []
    wanted = {
        "all": (targets.family_hit_at_3, targets.element_hit_at_2),
        "calibration": (targets.family_hit_at_3, targets.element_hit_at_2),
        "holdout": (targets.holdout_family_hit_at_3, targets.holdout_element_hit_at_2),
    }
    missed = []
    for card in cards:
        if not card.count:  # a target over no precedents would pass a gate that checked nothing
            missed.append(f"{card.split}: no precedents to score, so the bank's targets cannot be met")
            continue
        family_target, element_target = wanted[card.split]
        for label, measure, target in (("family hit@3", "hit3", family_target),
                                       ("element hit@2", "element_hit", element_target)):
            if card.share(measure) < target:
                missed.append(f"{card.split}: {label} {card.measured(measure)} is below the bank's target "
                              f"{target:.0%}")
    return missed


@dataclass(frozen=True)
class ScoreView:
    """A scorecard as shown: its totals over every precedent of its split, and the rows shown beside them."""

    card: Scorecard
    precedents: list[PrecedentScore]
    families: list[FamilyRow]

    @property
    def withheld(self) -> int:
        """How many precedents' rows are not shown (the holdout's, unless asked for)."""
        return self.card.count - len(self.precedents)


def score_view(bank: Bank, card: Scorecard, show_holdout: bool) -> ScoreView:
    """A scorecard with the rows one may read without looking into the holdout: its calibration precedents, and the
    per-family table over them (unless `show_holdout`). A holdout precedent's row (its rank, its top families) or a
    family built by one or two of them is exactly what a rule could be tuned to; its split's totals are the
    measurement."""
    if show_holdout:
        return ScoreView(card, card.precedents, card.families)
    shown = [item for item in card.precedents if item.split != "holdout"]
    return ScoreView(card, shown, family_rows(bank, shown))


def as_data(view: ScoreView) -> dict:
    card = view.card
    return {
        "split": card.split,
        "count": card.count,
        "family_hit_at_1": round(card.share("hit1"), 4),
        "family_hit_at_3": round(card.share("hit3"), 4),
        "element_hit_at_2": round(card.share("element_hit"), 4),
        "precedents": [{**asdict(item), "hit1": item.hit1, "hit3": item.hit3, "element_hit": item.element_hit}
                       for item in view.precedents],
        "families": [asdict(row) for row in view.families],
        "rows_withheld": view.withheld,
    }


@dataclass(frozen=True)
class LoneDecider:
    """An answer that puts one family first almost whatever else was answered."""

    question: str
    choice: str
    family: str
    made_first: int  # settings in which the answer puts the family first
    settings: int  # settings on whose path the question lies and where the family was not first without it


# An answer decides alone when, over the precedents' settings, it puts one family first in at least this share
# of those where that family was not first with the answer left unsure (and in at least LONE_MINIMUM of them).
LONE_SHARE = 0.5
LONE_MINIMUM = 3


def lone_deciders(bank: Bank) -> list[LoneDecider]:
    """Answers other than the user naming the explanation they want (or a task whose output is the explanation)
    that put one family first on their own, measured on the calibration precedents' settings (a finding here
    is a reason to change a rule, which the holdout never gives): each answer is put into every setting whose
    path reaches it, and the family ranked first is compared with the same setting answered unsure there."""
    settings_of = bank.calibration_precedents
    found = []
    for question in bank.questions.values():
        if question.kind == "text" or question.names_the_explanation:
            continue
        unsure = [UNSURE] if question.kind == "multiple" else UNSURE
        first_unsure = {precedent_id: ranked_families(bank, {**precedent.answers, question.id: unsure})[:1]
                        for precedent_id, precedent in settings_of.items()}
        for choice in question.choices:
            if choice.id == UNSURE or choice.output_is_explanation:
                continue
            made_first = dict.fromkeys(bank.methods, 0)
            settings = dict.fromkeys(bank.methods, 0)
            for precedent_id, precedent in settings_of.items():
                values = {**precedent.answers, question.id: [choice.id] if question.kind == "multiple" else choice.id}
                if question.id not in route(bank, values):
                    continue
                first_with = ranked_families(bank, values)[:1]
                first_without = first_unsure[precedent_id]
                for family in bank.methods:
                    if [family] != first_without:
                        settings[family] += 1
                        made_first[family] += [family] == first_with
            found += [LoneDecider(question.id, choice.id, family, made_first[family], settings[family])
                      for family in bank.methods
                      if settings[family] >= LONE_MINIMUM and made_first[family] >= LONE_SHARE * settings[family]]
    return found
