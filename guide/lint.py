"""`guide lint`: every check of the loader and the graph, plus checks that reason over answers.

The loader stops at the first problem; lint reads each file on its own so an instructor sees every
broken file at once. Once the bank loads and its graph is sound, lint asks what answers can do:
a choice nobody reads, a rule no answers can fire, a method family no path can recommend, two
routing branches that hold at once (the first wins, so the second is silently skipped), and help
too thin to answer by.

"Can" is decided by enumerating answers. Only the choices a condition names can change whether it
holds, so each question reduces to those choices, one stand-in for every other choice, "unsure",
and no answer. An answer only counts if one walk through the routing asks all the questions it
answers. When routing reads a question the condition does not pin, that question is left free at
each branch on its own. For rules and method families this errs towards "possible": lint may miss a
dead rule but never reports a live one as dead. For overlapping routes the same freedom could, in a
bank whose routing reads one unpinned question twice with opposite demands, report a skip that no
consistent answers produce; the finding names the answers, so such a report is easy to check.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import combinations, product
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from guide.bank import Bank, file_model, read_answers
from guide.bankfiles import FLOW_DIR, bank_files, folder_problems, missing_file_problem
from guide.engine import holds, precedent_values
from guide.graph import Finding, check_bank, describe_condition, flow, plan_items, question_locator
from guide.load import load_bank, require_bank_directory
from guide.model import END, UNSURE, AllOf, AnswerIn, Answered, AnyOf, AnswerValue, Condition, NotCondition, Question, iter_conditions
from guide.report.text import UNSEEN
from guide.source import REORDERING, GuideError, Location, decode, describe_loc, read_limited, validate_all
from guide.yamlfile import parse_yaml, read_yaml

MIN_HELP_WORDS = 12
# Beyond this many answer combinations for one condition, lint assumes it can hold rather than wait.
MAX_COMBINATIONS = 20_000


def lint_bank(directory: str | Path) -> list[Finding]:
    """All findings for a bank directory, in file and line order.

    Raises GuideError only when the directory cannot be read as a bank at all.
    """
    directory = Path(directory)
    _check_readable(directory)
    try:
        bank = load_bank(directory, check=False)
    except GuideError as error:
        # The loader stopped at the first problem: read each file on its own to report them all.
        findings = _file_findings(directory) or [_from_error(error)]
    else:
        findings = lint_loaded_bank(bank)
    findings += [Finding("warning", Location(str(path), 1), path.relative_to(directory).as_posix(), problem)
                 for path, problem in folder_problems(directory)]
    findings += _hidden_characters(directory)
    return sorted(findings, key=lambda finding: (finding.location.file, finding.location.line, finding.item))


def lint_loaded_bank(bank: Bank) -> list[Finding]:
    """The findings for a bank that loaded (`load_bank(..., check=False)`): the graph checks and lint's own."""
    findings = check_bank(bank)
    if not any(finding.severity == "error" for finding in findings):
        findings += _answer_findings(bank) + _precedent_findings(bank) + _unused_needs(bank)
    return findings + _case_findings(bank)


def _unused_needs(bank: Bank) -> list[Finding]:
    """A need that no family needs and no plan item requires changes nothing the tool says."""
    used = {need for method in bank.methods.values() for need in method.needs}
    used.update(need for _, item in plan_items(bank) for need in item.requires)
    used.update(need for method in bank.methods.values() for caveat in method.caveats for need in caveat.requires)
    return [Finding("warning", bank.where(f"need:{need_id}"), need_id,
                    "no method family needs it and no evaluation item requires it, so it changes nothing")
            for need_id in bank.needs if need_id not in used]


def _precedent_findings(bank: Bank) -> list[Finding]:
    """Precedent answers the walk never reaches, and rules that only one calibration precedent's setting meets.

    A rule that fires for a single published system may have been written for that system rather than
    for a reason that holds across projects. That is advice to look at the rule, not a failure: a rule
    can be right and its setting rare in the corpus."""
    findings = []
    on_paths = {}
    for precedent_id, precedent in bank.precedents.items():
        on_paths[precedent_id] = precedent_values(bank, precedent_id)
        off_path = [question for question in precedent.answers if question not in on_paths[precedent_id]]
        if off_path:
            findings.append(Finding("warning", bank.where(f"precedent:{precedent_id}.answers"), precedent_id,
                                    f"answers to questions its walk does not ask, which never count: "
                                    f"{', '.join(off_path)}"))
    tuned_on = bank.calibration_precedents  # advice to change a rule never names a holdout precedent
    if len(tuned_on) < 2:
        return findings
    for rule in bank.rules.values():
        met_by = [precedent_id for precedent_id in tuned_on if holds(rule.when, on_paths[precedent_id], bank)]
        if len(met_by) == 1:
            findings.append(Finding("advice", bank.where(f"rule:{rule.id}"), rule.id,
                                    f"advice: only one calibration precedent ({met_by[0]}) meets this rule's "
                                    "condition; check that the rule states a reason that holds across projects"))
    return findings


# What shows as nothing, or shows text in another order than it reads: direction overrides, embeddings, isolates
# and marks, zero-width spaces, the byte order mark. Titles and notes have them dropped; bank text is shown as
# its author wrote it, so they are the author's to remove.
_HIDDEN = re.compile(f"[{REORDERING}{UNSEEN}]")
# What a file's text may hold one by: the character itself, or an escape that a double-quoted YAML string turns
# into one (\u202e, \U0000200b; \x stops at U+00FF and no named escape is one). Only such a file is parsed.
_MAY_HIDE = re.compile(f"[{REORDERING}{UNSEEN}]|\\\\[uU]")


def _hidden_characters(directory: Path) -> list[Finding]:
    """Each text of the bank's files that holds a `_HIDDEN` character, with its file, line and field."""
    findings = []
    for path in bank_files(directory):
        try:
            text = decode(path, read_limited(path, "a YAML file"))
            if not _MAY_HIDE.search(text):
                continue
            document = parse_yaml(path, text)
        except GuideError:  # a file that cannot be read is a finding of its own
            continue
        for loc, text in _texts(document.data):
            hidden = dict.fromkeys(_HIDDEN.findall(text))
            if hidden:
                names = " and ".join(f"a {unicodedata.name(character).lower()} (U+{ord(character):04X})"
                                     for character in hidden)
                verbs = "show as nothing or change" if len(hidden) > 1 else "shows as nothing or changes"
                findings.append(Finding("warning", Location(str(path), document.line_of(loc)),
                                        describe_loc(document.data, loc),
                                        f"holds {names}, which {verbs} the order the text shows in: remove "
                                        f"{'them' if len(hidden) > 1 else 'it'}"))
    return findings


def _texts(data: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string in parsed YAML, with where it is."""
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _texts(value, (*loc, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _texts(value, (*loc, index))


def _check_readable(directory: Path) -> None:
    require_bank_directory(directory)
    try:
        next(directory.iterdir(), None)  # lint lists the folders' files: a folder it cannot list is told here
    except OSError as error:
        raise GuideError(directory, None, None, error.strerror or "cannot be read") from None


def _from_error(error: GuideError) -> Finding:
    return Finding("error", Location(error.file, error.line or 1), error.field or "", error.problem)


def _file_findings(directory: Path) -> list[Finding]:
    """Read and validate every bank file on its own, so one broken file does not hide another."""
    findings = []
    flow_files = 0
    for path in bank_files(directory):
        relative = path.relative_to(directory).as_posix()
        is_flow = relative.startswith(FLOW_DIR + "/")
        flow_files += is_flow
        problem = missing_file_problem(path)
        if problem:
            findings.append(Finding("error", Location(str(path), 1), relative, problem))
            continue
        try:
            checked = validate_all(read_yaml(path), file_model(relative))
        except GuideError as error:  # unreadable: not YAML, not UTF-8, too large
            findings.append(_from_error(error))
            continue
        if isinstance(checked, list):
            findings += [_from_error(error) for error in checked]
    if not flow_files:
        findings.append(Finding("error", Location(str(directory / FLOW_DIR), 1), FLOW_DIR,
                                "no question files (flow/*.yaml)"))
    return findings


def _case_findings(bank: Bank) -> list[Finding]:
    """Preset cases go stale when a question or choice they answer is renamed."""
    findings = []
    for path in bank.cases().values():
        try:
            read_answers(path, bank)
        except GuideError as error:
            findings.append(_from_error(error))
    return findings


# ---------------------------------------------------------------------------------------------
# Checks that reason over answers.


def _answer_findings(bank: Bank) -> list[Finding]:
    solver = Solver(bank)
    findings: list[Finding] = []
    findings += _unused_choices(bank)
    locate = question_locator(bank)
    findings += _thin_help(bank, locate)
    findings += _overlapping_routes(bank, solver, locate)
    for rule in bank.rules.values():
        if solver.witness(rule.when) is None:
            findings.append(Finding("warning", bank.where(f"rule:{rule.id}"), rule.id,
                                    "this rule can never fire: no answers along any one path make "
                                    f"its condition hold ({solver.describe(rule.when)})"))
    for method in bank.methods.values():
        message = _never_recommended(bank, solver, method.needs)
        if message:
            findings.append(Finding("warning", bank.where(f"method:{method.id}"), method.id, message))
    return findings


def _unused_choices(bank: Bank) -> list[Finding]:
    """Choices no condition reads, unless marked `neutral` (and neutral ones that something does read)."""
    readers: dict[tuple[str, str], str] = {}
    for question in bank.questions.values():
        for branch in question.next:
            if branch.when is not None:
                _note_readers(readers, branch.when, f"the routing of '{question.id}'")
    for rule in bank.rules.values():
        _note_readers(readers, rule.when, f"rule '{rule.id}'")
    for need in bank.needs.values():
        _note_readers(readers, need.available_when, f"need '{need.id}'")
        _note_readers(readers, need.unavailable_when, f"need '{need.id}'")
    findings = []
    for question in bank.questions.values():
        for choice in question.choices:
            # "Unsure" needs no rule: the engine itself lowers confidence for it.
            if choice.id == UNSURE:
                continue
            key = (question.id, choice.id)
            if choice.neutral and key in readers:
                message = f"marked neutral, but {readers[key]} reads it: remove `neutral: true` or the condition"
            elif not choice.neutral and key not in readers:
                message = ("unused choice: no rule, need or routing condition reads it, so picking it changes "
                           "nothing (mark it `neutral: true` if that is the intent)")
            else:
                continue
            item = f"{question.id}.{choice.id}"
            findings.append(Finding("warning", bank.where(f"choice:{item}"), item, message))
    return findings


def _note_readers(readers: dict[tuple[str, str], str], condition: Condition, reader: str) -> None:
    for part in iter_conditions(condition):
        if isinstance(part, AnswerIn):
            for choice in part.in_:
                readers.setdefault((part.q, choice), reader)


def _thin_help(bank: Bank, locate: Callable[..., Location]) -> list[Finding]:
    findings = []
    for question in bank.questions.values():
        words = len(question.help.split())
        if words < MIN_HELP_WORDS:
            findings.append(Finding("warning", locate(question.id, "help"), question.id,
                                    f"help text is too short ({words} words; at least {MIN_HELP_WORDS}): say why "
                                    "the question matters and how to tell the choices apart"))
        for choice in question.choices:
            if choice.id != UNSURE and not choice.description:
                findings.append(Finding("warning", bank.where(f"choice:{question.id}.{choice.id}"),
                                        f"{question.id}.{choice.id}",
                                        "choice has no description: say what picking it means, with an example"))
    return findings


def _overlapping_routes(bank: Bank, solver: Solver, locate: Callable[..., Location]) -> list[Finding]:
    """Branches whose conditions hold at once: the first wins, and the later target may go unasked.

    Overlap alone is no fault: a chain such as goals -> hypothesis_type -> update_mechanism takes the
    first branch and reaches the later target further on. It is reported when some walk through the
    first branch, with the overlapping answers, never asks the later target.
    """
    findings = []
    for question in bank.questions.values():
        conditional = [(index, branch) for index, branch in enumerate(question.next) if branch.when is not None]
        for later_index, later in conditional:
            where = locate(question.id, "next", later_index)
            earlier = [branch.when for index, branch in conditional if index < later_index]
            if solver.witness(later.when, paths=False) is None:
                findings.append(Finding("warning", where, question.id,
                                        f"routing branch {later_index + 1} (to '{later.goto}') is never taken: "
                                        "its condition can never hold"))
                continue
            if earlier and solver.witness(AllOf(all=[later.when, NotCondition(not_=AnyOf(any=earlier))]),
                                          paths=False) is None:
                findings.append(Finding("warning", where, question.id,
                                        f"routing branch {later_index + 1} (to '{later.goto}') is never taken: "
                                        "earlier branches catch every answer it matches"))
                continue
            for earlier_index, branch in conditional[: [index for index, _ in conditional].index(later_index)]:
                skipped = solver.skipping_answers(question, earlier_index, later.when, avoid=later.goto)
                if skipped is not None:
                    findings.append(Finding(
                        "warning", where, question.id,
                        f"contradictory routing: branches {earlier_index + 1} (to '{branch.goto}') and "
                        f"{later_index + 1} (to '{later.goto}') both hold when {solver.describe_values(skipped)}; "
                        f"the first wins, and '{later.goto}' is then never asked"))
                    break
    return findings


def _never_recommended(bank: Bank, solver: Solver, need_ids: list[str]) -> str | None:
    """Why no answers let this family's needs all be met at once (None when some answers do)."""
    if not need_ids:
        return None
    met = {need_id: AllOf(all=[bank.needs[need_id].available_when,
                               NotCondition(not_=bank.needs[need_id].unavailable_when)]) for need_id in need_ids}
    for need_id, condition in met.items():
        if solver.witness(condition) is None:
            return (f"no path can recommend this method family: its need '{need_id}' "
                    f"({bank.needs[need_id].label}) is never available for any answers")
    if len(met) > 1 and solver.witness(AllOf(all=list(met.values()))) is None:
        return ("no path can recommend this method family: no answers make all of its needs available at once "
                f"({', '.join(need_ids)})")
    return None


# ---------------------------------------------------------------------------------------------
# Deciding whether a condition can hold.


@dataclass(frozen=True)
class _Pins:
    """The answers a search holds fixed: `values` for answered questions, `questions` all pinned ones."""

    values: dict[str, AnswerValue]
    questions: frozenset[str]


class Solver:
    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        # A walk only needs to remember the asked questions that routing still reads later on. `order`
        # numbers the questions so that routing only moves to higher numbers; `last_reader` is the
        # highest-numbered question whose routing reads a question. Keeping the memo keys and the
        # asked sets that small keeps walks linear in the bank's size rather than exponential.
        routing = flow(bank)
        routes = routing.routes
        ordered = routing.order
        self.order = {question_id: index for index, question_id in enumerate(ordered)}
        self.last_reader: dict[str, int] = {}
        self.readers: dict[str, list[str]] = {}
        self.reads = {question.id: _reads(question) for question in bank.questions.values()}
        self.branches: dict[tuple[str, int], _Branch] = {}
        for question in bank.questions.values():
            for read in self.reads[question.id]:
                self.last_reader[read] = max(self.last_reader.get(read, -1), self.order.get(question.id, len(ordered)))
                self.readers.setdefault(read, []).append(question.id)
        self.reach: dict[str, int] = {}
        self.steered: set[str] = set()
        if ordered and bank.meta.start in routes:
            self._index_routes(ordered)

    def _index_routes(self, ordered: list[str]) -> None:
        """What lets a walk skip the stretches where no pinned answer steers it, so that each search
        costs about the number of pinned questions rather than the length of the flow.

        `reach[q]` has bit `order[p]` set when some answers route from q to p; pinned answers only
        narrow the branches a question can take, so a walk cannot reach what this does not. `steered`
        holds the questions whose routing reads a question that some paths skip, and those questions:
        there, which path a walk took changes where it can go.
        """
        routing = flow(self.bank)
        dominators = routing.dominators
        self.dominates = routing.dominates
        # `lifts[j][i]`: the number of the question 2**j steps up the dominator tree from question i
        # (the start, and anything unreachable, map to themselves).
        self.ordered = ordered
        parents = [self.order[dominators.get(question_id, question_id)] for question_id in ordered]
        self.lifts = [parents]
        for _ in range(len(ordered).bit_length()):
            above = self.lifts[-1]
            self.lifts.append([above[index] for index in above])
        unpinned = _Pins({}, frozenset())
        for question_id in reversed(ordered):
            question = self.bank.questions.get(question_id)
            if question is None:
                continue  # the end
            reads = frozenset(self.reads[question_id])
            bits = 1 << self.order[question_id]
            # Last branch first: the default often reaches all that the others do, and a branch that
            # adds nothing needs no answers worked out.
            for index in reversed(range(len(question.next))):
                more = self.reach.get(question.next[index].goto, 0)
                if more | bits != bits and self._can_take(question, index, reads, unpinned):
                    bits |= more
            self.reach[question_id] = bits
            for read in reads:
                if not self.dominates(read, question_id):
                    self.steered.update((read, question_id))

    def witness(self, condition: Condition, *, paths: bool = True) -> dict[str, AnswerValue] | None:
        """Answers under which `condition` holds (asked along one walk, with `paths`), or None."""
        read = _read_questions([condition])
        combos = self.assignments([condition], read)
        if combos is None:
            return {}  # too many to try: assume it can hold
        for values in combos:
            if not holds(condition, values, self.bank):
                continue
            if not paths or self.walk_exists(_Pins(values, frozenset(read))):
                return values
        return None

    def assignments(self, conditions: list[Condition], questions: Iterable[str]) -> Iterator[dict[str, AnswerValue]] | None:
        return _assignments(list(questions), self._domains(conditions))

    def _domains(self, conditions: list[Condition]) -> dict[str, list[AnswerValue | None]]:
        """The answers that can make a difference to `conditions`, for each question they read."""
        named = _named_choices(conditions)
        return {question_id: _domain(self.bank.questions[question_id], named.get(question_id, set()))
                for question_id in _read_questions(conditions)}

    def skipping_answers(self, question: Question, index: int, other: Condition, avoid: str) -> dict[str, AnswerValue] | None:
        """Answers under which branch `index` of `question` is taken although `other` holds too, and the
        walk from there can end without asking `avoid`; None when there are none."""
        branch = question.next[index]
        conditions = [item.when for item in question.next[: index + 1] if item.when is not None] + [other]
        read = _read_questions(conditions)
        combos = self.assignments(conditions, read)
        for values in combos or []:
            if not (holds(branch.when, values, self.bank) and holds(other, values, self.bank)):
                continue
            if any(holds(item.when, values, self.bank) for item in question.next[:index] if item.when is not None):
                continue
            # Routing reads only questions asked before this one, so the pinned answers count as asked.
            asked = frozenset(read) | {question.id}
            if self.walk_exists(_Pins(values, frozenset(read)), start=branch.goto, asked=asked, avoid=avoid):
                return values
        return None

    def walk_exists(self, pins: _Pins, *, start: str | None = None, asked: frozenset[str] = frozenset(),
                    avoid: str | None = None) -> bool:
        """Is there a walk (from the start question unless given) that asks every answered pinned
        question with those answers, and never asks `avoid`?"""
        must_ask = frozenset(pins.values)
        keep = must_ask | pins.questions
        # From the start, a walk may jump to the next question it must ask when nothing on the way
        # is steered or reads a pinned question: there every branch opens as it does unpinned.
        may_jump = start is None and avoid is None and bool(self.reach)
        unfree = self.steered.union(*(self.readers.get(question_id, ()) for question_id in pins.questions))
        seen: dict[tuple[str, frozenset[str]], bool] = {}
        # Depth-first with an explicit stack: a flow can be longer than Python's recursion limit.
        stack: list[list] = []  # [memo key, question, asked so far, next branch to try]

        def enter(question_id: str, asked: frozenset[str]) -> bool | None:
            """The answer for this question at once, or None after pushing it to be searched."""
            # A loop, not a call of itself for a jump: a closure that calls itself is a reference cycle, which
            # kept `seen` and the stack of every search alive until the collector's next full pass (7 MiB at
            # the peak of linting a 5,000-question bank).
            while True:
                if question_id == avoid:
                    return False
                if question_id == END or question_id not in self.bank.questions:
                    return must_ask <= asked
                if avoid is None and must_ask <= asked:
                    return True  # every question has a branch some answers take, and every path ends
                horizon = self.order.get(question_id, -1)
                pending = must_ask - asked
                if any(self.order.get(item, -1) < horizon for item in pending):
                    return False  # a pinned question is behind us: routing never goes back to it
                nearest = min(pending, key=self.order.__getitem__) if pending and self.reach else question_id
                if nearest == question_id:
                    break
                if not self._reaches(question_id, nearest):
                    return False
                if not may_jump or (waypoint := self._waypoint(question_id, nearest, unfree)) == question_id:
                    break
                question_id = waypoint
            asked = frozenset(item for item in asked | {question_id}
                              if item in keep or self.last_reader.get(item, -1) >= horizon)
            key = (question_id, asked)
            if key in seen:
                return seen[key]
            seen[key] = False
            stack.append([key, self.bank.questions[question_id], asked, 0])
            return None

        found = enter(start or self.bank.meta.start, asked)
        while stack:
            frame = stack[-1]
            key, question, asked, index = frame
            if found:
                seen[key] = True
                stack.pop()
                continue
            while index < len(question.next) and not self._can_take(question, index, asked, pins,
                                                                    dominators_asked=may_jump):
                index += 1
            if index == len(question.next):
                stack.pop()
                found = False
                continue
            frame[3] = index + 1
            found = enter(question.next[index].goto, asked)
        return bool(found)

    def _reaches(self, source: str, target: str) -> bool:
        return bool(self.reach[source] >> self.order[target] & 1)

    def _waypoint(self, source: str, target: str, unfree: set[str]) -> str:
        """Where a walk from the start, now at `source`, can jump to on its way to `target`.

        Where no walk from `source` to `target` passes a question of `unfree` (`source` included),
        every branch on the way opens as it does unpinned: the walk jumps to `target`. Otherwise,
        the last question at or before the first `unfree` one that every walk to `target` passes
        (a dominator of `target`) is reached the same way, and any walk that avoids it never gets
        to `target`; `source` when there is no such question past it, and the walk steps on.
        """
        low, high = self.order[source], self.order[target]
        first = min((self.order[item] for item in unfree if low <= self.order[item] < high
                     and self._reaches(source, item) and self._reaches(item, target)), default=None)
        if first is None:
            return target
        passed = self._passed_before(target, first)
        return self.ordered[passed] if low < passed <= first else source

    def _passed_before(self, target: str, limit: int) -> int:
        """The number of the last question numbered `limit` or lower that every walk to `target` passes."""
        index = self.order[target]
        if index <= limit:
            return index
        for lift in reversed(self.lifts):
            if lift[index] > limit:
                index = lift[index]
        return self.lifts[0][index]

    def _can_take(self, question: Question, index: int, asked: frozenset[str], pins: _Pins, *,
                  dominators_asked: bool = False) -> bool:
        """Can some answers so far send the walk down branch `index` (no earlier branch holding)?

        With `dominators_asked`, questions on every path from the start to this one count as asked,
        as they are on any walk from the start, including one that jumped past them.
        """
        branch = self._branch(question, index)
        target, earlier, read = branch.target, branch.earlier, branch.read
        if target is None and not earlier:
            return True
        if dominators_asked:
            asked = asked | {question_id for question_id in read if self.dominates(question_id, question.id)}
        # Only questions already asked steer the walk; pinned ones keep their answers, the rest are free.
        fixed = {question_id: pins.values[question_id] for question_id in read
                 if question_id in asked and question_id in pins.values}
        free = [question_id for question_id in read if question_id in asked and question_id not in pins.questions]

        def taken(values: dict[str, AnswerValue]) -> bool:
            return ((target is None or holds(target, values, self.bank))
                    and not any(holds(condition, values, self.bank) for condition in earlier))

        # The first combination, no more answers than `fixed`, often decides without the rest.
        if taken(fixed):
            return True
        if branch.domains is None:
            branch.domains = self._domains(branch.conditions)
        combos = _assignments(free, branch.domains)
        return combos is None or any(taken({**fixed, **values}) for values in combos)

    def _branch(self, question: Question, index: int) -> _Branch:
        """Branch `index` of `question` with the conditions before it, worked out once per solver."""
        key = (question.id, index)
        if key not in self.branches:
            target = question.next[index].when
            earlier = [branch.when for branch in question.next[:index] if branch.when is not None]
            conditions = earlier + ([target] if target is not None else [])
            self.branches[key] = _Branch(target, earlier, conditions, _read_questions(conditions))
        return self.branches[key]

    def describe(self, condition: Condition) -> str:
        return describe_condition(condition, self.bank)

    def describe_values(self, values: dict[str, AnswerValue]) -> str:
        """Answers in words, for a finding's example."""
        if not values:
            return "nothing is answered"
        parts = []
        for question_id, value in values.items():
            question = self.bank.questions[question_id]
            picked = [value] if isinstance(value, str) else value
            labels = [f"“{choice.label}”" if (choice := question.choice(item)) else item for item in picked]
            parts.append(f"{question_id} is {' and '.join(labels)}")
        return "; ".join(parts)


@dataclass
class _Branch:
    target: Condition | None  # the branch's own condition
    earlier: list[Condition]  # the conditions of the branches before it, which must not hold
    conditions: list[Condition]  # both
    read: list[str]  # the questions they read
    domains: dict[str, list[AnswerValue | None]] | None = None  # for each, the answers that can make a difference


def _assignments(questions: list[str], domains: dict[str, list[AnswerValue | None]]) -> Iterator[dict[str, AnswerValue]] | None:
    """Every combination of answers to `questions` from their domains; None when there are too many to try."""
    size = 1
    for question_id in questions:
        size *= len(domains[question_id])
    if size > MAX_COMBINATIONS:
        return None
    return ({question_id: value for question_id, value in zip(questions, combo) if value is not None}
            for combo in product(*(domains[question_id] for question_id in questions)))


def _reads(question: Question) -> list[str]:
    """The questions the routing of `question` reads."""
    return _read_questions(branch.when for branch in question.next if branch.when is not None)


def _read_questions(conditions: Iterable[Condition]) -> list[str]:
    found: dict[str, None] = {}  # in the order first read
    for condition in conditions:
        for part in iter_conditions(condition):
            if isinstance(part, (AnswerIn, Answered)):
                found[part.q] = None
    return list(found)


def _named_choices(conditions: Iterable[Condition]) -> dict[str, set[str]]:
    named: dict[str, set[str]] = {}
    for condition in conditions:
        for part in iter_conditions(condition):
            if isinstance(part, AnswerIn):
                named.setdefault(part.q, set()).update(part.in_)
    return named


def _domain(question: Question, named: set[str]) -> list[AnswerValue | None]:
    """Every answer to `question` that the named choices can tell apart; None is no answer."""
    if question.kind == "text":
        return [None, "an answer in words"]
    choices = [choice.id for choice in question.choices if choice.id != UNSURE]
    pool = [choice for choice in choices if choice in named]
    pool += [choice for choice in choices if choice not in named][:1]  # one stands in for all unnamed
    if question.kind == "single":
        return [None, UNSURE, *pool]
    subsets: list[AnswerValue | None] = [list(subset) for size in range(1, len(pool) + 1)
                                         for subset in combinations(pool, size)]
    return [None, [UNSURE], *subsets]

