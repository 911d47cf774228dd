"""The decision graph: questions, choices, rules, elements, needs and method families as one DiGraph.

Node keys are `kind:id` strings (`q:task`, `c:task.detection`, `r:focal-findings`,
`e:localization`, `n:retraining`, `m:prototypes`), so "why this recommendation" is a path query
and diagram writers need no other source. The algorithms over a bank's routing (`Flow`: order,
dominators) and the static checks of a bank live here too, and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal

import networkx as nx

from guide.model import (END, AcceptanceCriterion, AllOf, Answered, AnswerIn, AnyOf, Condition, EvaluationItem, Question,
                         answer_problems, iter_conditions)
from guide.source import GuideError, Location, YamlDocument

if TYPE_CHECKING:
    from guide.bank import Bank


def question_node(question_id: str) -> str:
    return f"q:{question_id}"


def choice_node(question_id: str, choice_id: str) -> str:
    return f"c:{question_id}.{choice_id}"


def describe_condition(condition: Condition, bank: Bank) -> str:
    """A condition in plain words, for codebooks, diagrams and documents."""

    def label(question_id: str, choice_id: str) -> str:
        question = bank.questions.get(question_id)
        choice = question.choice(choice_id) if question else None
        return f"“{choice.label}”" if choice else choice_id

    if isinstance(condition, AnswerIn):
        choices = " or ".join(label(condition.q, choice) for choice in condition.in_)
        return f"{condition.q} is {choices}"
    if isinstance(condition, Answered):
        return f"{condition.q} is {'answered' if condition.answered else 'not answered or unsure'}"
    if isinstance(condition, AllOf):
        return " and ".join(_grouped(part, bank) for part in condition.all)
    if isinstance(condition, AnyOf):
        return " or ".join(_grouped(part, bank) for part in condition.any)
    return f"not ({describe_condition(condition.not_, bank)})"


def _grouped(condition: Condition, bank: Bank) -> str:
    text = describe_condition(condition, bank)
    return f"({text})" if isinstance(condition, (AllOf, AnyOf)) else text


def _triggers(condition: Condition) -> Iterable[str]:
    """The choice (or question) nodes whose answers a condition reads."""
    for part in iter_conditions(condition):
        if isinstance(part, AnswerIn):
            yield from (choice_node(part.q, choice) for choice in part.in_)
        elif isinstance(part, Answered):
            yield question_node(part.q)


def build_graph(bank: Bank) -> nx.DiGraph:
    graph = nx.DiGraph()
    for source, target, data in graph_items(bank):
        if target is None:
            graph.add_node(source, **data)
        else:
            graph.add_edge(source, target, **data)
    return graph


def graph_items(bank: Bank) -> Iterator[tuple[str, str | None, dict]]:
    """The decision graph as (node, None, attributes) and (source, target, attributes), in the order
    `build_graph` adds them: checks that only follow edges read these without building the graph."""
    yield question_node(END), None, {"kind": "end", "label": "End"}
    for element in bank.elements.values():
        yield f"e:{element.id}", None, {"kind": "element", "label": element.name}
    for method in bank.methods.values():
        yield f"m:{method.id}", None, {"kind": "method", "label": method.name}
        for serves in method.serves:
            yield f"e:{serves.element}", f"m:{method.id}", {"kind": "served_by", "strength": serves.strength}
        for need in method.needs:
            yield f"n:{need}", f"m:{method.id}", {"kind": "needed_by"}
    for question in bank.questions.values():
        yield question_node(question.id), None, {"kind": "question", "label": question.prompt, "stage": question.stage}
        for choice in question.choices:
            yield choice_node(question.id, choice.id), None, {"kind": "choice", "label": choice.label}
            yield question_node(question.id), choice_node(question.id, choice.id), {"kind": "offers"}
        for order, branch in enumerate(question.next):
            yield question_node(question.id), question_node(branch.goto), {
                "kind": "routes", "order": order,
                "condition": describe_condition(branch.when, bank) if branch.when else None}
    for rule in bank.rules.values():
        yield f"r:{rule.id}", None, {"kind": "rule", "label": describe_condition(rule.when, bank)}
        for source in _triggers(rule.when):
            yield source, f"r:{rule.id}", {"kind": "triggers"}
        for effect in rule.effects:
            target = f"e:{effect.element}" if effect.element else f"m:{effect.method}"
            yield f"r:{rule.id}", target, {"kind": "evidence", "weight": effect.weight, "because": effect.because}
    for need in bank.needs.values():
        yield f"n:{need.id}", None, {"kind": "need", "label": need.label}
        for condition in (need.available_when, need.unavailable_when):
            for source in _triggers(condition):
                yield source, f"n:{need.id}", {"kind": "informs"}


def flow(bank: Bank) -> Flow:
    """The routing between the bank's questions, worked out once per bank and shared by all that walk it."""
    return bank.derive("flow", lambda: Flow(bank.questions, bank.meta.start))


class Flow:
    """How routing runs through a bank's questions; each part is worked out when first asked for.

    It keeps the questions, not the bank: the bank keeps it, and a loop between the two would outlive
    them once the loader has frozen them out of the collector's scans (`load._collector_paused`).
    """

    def __init__(self, questions: dict[str, Question], start: str) -> None:
        self.questions, self.start = questions, start

    @cached_property
    def routes(self) -> nx.DiGraph:
        """Questions only, with an edge for every branch: the graph routing walks."""
        graph = nx.DiGraph()
        graph.add_nodes_from(self.questions)
        for question in self.questions.values():
            graph.add_edges_from((question.id, branch.goto) for branch in question.next)
        return graph

    @cached_property
    def order(self) -> list[str]:
        """The questions and the end in an order routing only moves forward in; empty when routing has a cycle."""
        try:
            return list(nx.topological_sort(self.routes))
        except nx.NetworkXUnfeasible:
            return []

    @cached_property
    def dominators(self) -> dict[str, str]:
        """The immediate dominator of each question reachable in `routes`: the last question every walk to it passes."""
        return nx.immediate_dominators(self.routes, self.start)

    @cached_property
    def dominates(self) -> Callable[[str, str], bool]:
        """`dominates(a, b)`: every walk from the start to b passes a (`dominance`)."""
        return dominance(self.dominators, self.start)

    @cached_property
    def asked_on_every_walk(self) -> set[str]:
        """Questions every walk passes through: the dominators of the end."""
        if END not in self.routes:
            return {self.start}
        found, node = set(), END
        while self.dominators.get(node, node) != node:
            node = self.dominators[node]
            found.add(node)
        return found | {self.start}


# ---------------------------------------------------------------------------------------------
# Checks.


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Literal["error", "warning", "advice"]  # advice: worth a look, never a failure
    location: Location
    item: str  # the id or field it is about; "" for a whole file
    message: str

    def __str__(self) -> str:
        item = f" {self.item}:" if self.item else ""  # none for a finding about a whole file, already named
        return f"{self.location}:{item} {self.message}"

    def as_error(self) -> GuideError:
        return GuideError(self.location.file, self.location.line, self.item, self.message)


def plan_items(bank: Bank) -> Iterator[tuple[str, EvaluationItem | AcceptanceCriterion]]:
    """Every evaluation item and acceptance criterion of the bank, with the key of the element or family it is
    part of: the items whose `requires` name needs."""
    for element in bank.elements.values():
        for item in (*element.evaluation, *element.acceptance):
            yield f"element:{element.id}", item
    for method in bank.methods.values():
        for item in method.evaluation:
            yield f"method:{method.id}", item
    for rule in bank.rules.values():
        for item in rule.checks:
            yield f"rule:{rule.id}", item


def check_bank(bank: Bank) -> list[Finding]:
    """Every structural check of a bank; errors make it unusable, warnings are for `guide lint`."""
    findings: list[Finding] = []

    def report(key: str, message: str, severity: Literal["error", "warning"] = "error") -> None:
        findings.append(Finding(severity, bank.where(key), key.split(":", 1)[1], message))

    locators = {kind: item_locator(bank, kind) for kind in ("question", "rule", "need", "method")}

    def report_at(kind: Literal["question", "rule", "need", "method"], item_id: str, message: str,
                  *loc: str | int) -> None:
        """A problem with one field of an item, told at that field's line rather than at its `id:`."""
        findings.append(Finding("error", locators[kind](item_id, *loc), item_id, message))

    def report_field(question: Question, message: str, *loc: str | int) -> None:
        report_at("question", question.id, message, *loc)

    if bank.meta.start not in bank.questions:
        report("bank:start", f"start question '{bank.meta.start}' does not exist")
    summary = bank.questions.get(bank.meta.summary_question or "")
    if bank.meta.summary_question and (summary is None or summary.kind != "text"):
        report("bank:summary_question", f"summary_question '{bank.meta.summary_question}' is not a text question "
                                        "of the bank")
    for setting in ("similarity_weights", "nearest_share_one_of"):
        for question_id in getattr(bank.meta, setting):
            if question_id not in bank.questions:
                report(f"bank:{setting}.{question_id}", f"{setting} names unknown question '{question_id}'")
    stage_ids = {stage.id for stage in bank.meta.stages}
    strength_ids = {strength.id for strength in bank.meta.strengths}

    def condition_problems(condition: Condition, what: str) -> Iterator[str]:
        for part in iter_conditions(condition):
            if not isinstance(part, (AnswerIn, Answered)):
                continue
            question = bank.questions.get(part.q)
            if question is None:
                yield f"{what} reads unknown question '{part.q}'"
            elif isinstance(part, AnswerIn):
                if question.kind == "text":
                    yield f"{what} tests choices of text question '{part.q}'"
                for choice in part.in_:
                    if question.choice(choice) is None:
                        yield f"{what} names unknown choice '{choice}' of question '{part.q}'"

    def check_references(key: str, reference_ids: Iterable[str | None]) -> None:
        for reference in reference_ids:
            if reference and reference not in bank.references:
                report(key, f"unknown reference '{reference}'")

    for question in bank.questions.values():
        if question.stage not in stage_ids:
            report_field(question, f"unknown stage '{question.stage}'", "stage")
        *conditional, last = question.next
        if last.when is not None:
            report_field(question, "the last branch of `next` needs no `when`: without a default the walk can stop "
                                   "nowhere", "next", len(conditional), "when")
        default = next((index for index, branch in enumerate(conditional) if branch.when is None), None)
        if default is not None:
            report_field(question, "a default branch (no `when`) must come last: branches after it are never taken",
                         "next", default)
        for index, branch in enumerate(question.next):
            if branch.goto != END and branch.goto not in bank.questions:
                report_field(question, f"`next` goes to unknown question '{branch.goto}'", "next", index, "goto")
            if branch.when is not None:
                for message in condition_problems(branch.when, "routing condition"):
                    report_field(question, message, "next", index, "when")
        for index, choice in enumerate(question.choices):
            if choice.output_family and choice.output_family not in bank.methods:
                report_field(question, f"choice '{choice.id}' names unknown output_family '{choice.output_family}'",
                             "choices", index, "output_family")

    for rule in bank.rules.values():
        key = f"rule:{rule.id}"
        for message in condition_problems(rule.when, "rule condition"):
            report_at("rule", rule.id, message, "when")
        for index, effect in enumerate(rule.effects):
            if effect.element and effect.element not in bank.elements:
                report_at("rule", rule.id, f"effect on unknown element '{effect.element}'", "effects", index, "element")
            if effect.method and effect.method not in bank.methods:
                report_at("rule", rule.id, f"effect on unknown method family '{effect.method}'",
                          "effects", index, "method")
        check_references(key, (ref for item in rule.checks for ref in item.references))

    for need in bank.needs.values():
        for setting in ("available_when", "unavailable_when"):
            for message in condition_problems(getattr(need, setting), setting):
                report_at("need", need.id, message, setting)

    for element in bank.elements.values():
        check_references(f"element:{element.id}", (ref for item in element.evaluation for ref in item.references))
    for key, item in plan_items(bank):
        if item.about and key.startswith("method:"):
            report(key, "a family's own evaluation item is about that family: it takes no `about`")
        for family in item.about.families if item.about else []:
            if family not in bank.methods:
                report(key, f"an evaluation item or acceptance criterion is about unknown method family '{family}'")
        for need in item.requires:
            if need not in bank.needs:
                report(key, f"an evaluation item or acceptance criterion requires unknown need '{need}'")
            elif bank.needs[need].evaluate_without is None:
                report(key, f"an evaluation item or acceptance criterion requires need '{need}', which says nothing "
                            f"in `evaluate_without`")
    shorts: dict[str, str] = {}
    for element in bank.elements.values():
        if element.short in shorts:
            report(f"element:{element.id}", f"short letter '{element.short}' is also used by '{shorts[element.short]}'")
        shorts[element.short] = element.id

    for method in bank.methods.values():
        key = f"method:{method.id}"
        for index, serves in enumerate(method.serves):
            if serves.element not in bank.elements:
                report_at("method", method.id, f"serves unknown element '{serves.element}'", "serves", index, "element")
            if serves.strength not in strength_ids:
                report_at("method", method.id, f"unknown strength '{serves.strength}' (known: "
                                               f"{', '.join(sorted(strength_ids))})", "serves", index, "strength")
        for index, need in enumerate(method.needs):
            if need not in bank.needs:
                report_at("method", method.id, f"needs unknown need '{need}'", "needs", index)
        check_references(key, (item.reference for item in method.representatives))
        check_references(key, (ref for item in method.caveats for ref in item.references))
        for index, caveat in enumerate(method.caveats):
            for position, need in enumerate(caveat.requires):
                if need not in bank.needs:
                    report_at("method", method.id, f"a caveat requires unknown need '{need}'",
                              "caveats", index, "requires", position)
        check_references(key, (ref for item in method.evaluation for ref in item.references))

    # One paper is one system: counted twice (a copy, or a link to the same file), it would weigh twice in the score.
    papers: dict[str, str] = {}
    for precedent_id, precedent in bank.precedents.items():
        key = f"precedent:{precedent_id}"
        reference = precedent.reference
        for paper in filter(None, (reference.doi and f"doi {reference.doi}",
                                   reference.arxiv and f"arXiv {reference.arxiv}")):
            first = papers.setdefault(paper.lower(), precedent_id)
            if first != precedent_id:
                report(f"{key}.reference", f"the same paper ({paper}) as precedent '{first}': "
                                           "one system is scored once")
        for family in precedent.built:
            if family not in bank.methods:
                report(f"{key}.built", f"built names unknown method family '{family}'")
        for element in precedent.serves:
            if element not in bank.elements:
                report(f"{key}.serves", f"serves names unknown element '{element}'")
        misfits = {question_id: problem for (_, question_id), problem
                   in answer_problems(precedent.answers, {}, bank.questions)}
        for question_id in precedent.answers:
            if question_id in misfits:
                report(f"{key}.answers.{question_id}", misfits[question_id])
            elif question_id not in precedent.basis:
                report(f"{key}.answers.{question_id}", "no basis: say under `basis` where in the paper this answer "
                                                       "comes from")
        for question_id in precedent.basis:
            if question_id not in precedent.answers:
                report(f"{key}.basis.{question_id}", f"a basis for '{question_id}', which is not answered")

    if any(finding.severity == "error" for finding in findings):
        return findings  # the graph checks below assume references resolve
    findings.extend(_check_routing(bank))
    findings.extend(_check_reach(bank))
    return findings


def question_locator(bank: Bank) -> Callable[..., Location]:
    """`locate(question_id, *loc)`: the line of a part of a question (its help, one of its branches)."""
    return item_locator(bank, "question")


def item_locator(bank: Bank, kind: Literal["question", "rule", "need", "method"]) -> Callable[..., Location]:
    """`locate(item_id, *loc)`: the line of a part of a question, rule, need or method family (a rule's `when`, one
    of a family's `needs`), so that a problem with one field is told at that field's line rather than at the `id:`.

    Each item's place in its file is found once: a search of the files per finding is quadratic.
    """
    by_path = {document.path: document for document in bank.documents.values()}
    items: dict[str, Any] = getattr(bank, f"{kind}s")
    # The bank keeps each file's items in file order, so an item's index in its file is how many items of that
    # file came before it.
    entries: dict[str, tuple[YamlDocument, int]] = {}
    counts: dict[str, int] = {}
    for item_id in items:
        path = bank.where(f"{kind}:{item_id}").file
        if path in by_path:
            entries[item_id] = (by_path[path], counts.get(path, 0))
            counts[path] = counts.get(path, 0) + 1

    def locate(item_id: str, *loc: str | int) -> Location:
        where = bank.where(f"{kind}:{item_id}")
        if item_id not in entries:  # a bank from the cache keeps no files' lines
            return where
        document, index = entries[item_id]
        return Location(where.file, document.line_of((f"{kind}s", index, *loc)))

    return locate


def _check_routing(bank: Bank) -> list[Finding]:
    findings: list[Finding] = []
    routing = flow(bank)
    routes = routing.routes
    cycle = None
    if not routing.order:  # a cycle somewhere: find one that routing can reach
        try:
            cycle = nx.find_cycle(routes, source=bank.meta.start)
        except nx.NetworkXNoCycle:
            pass
    if cycle:
        loop = " -> ".join([edge[0] for edge in cycle] + [cycle[0][0]])
        # The search's last edge is the one that leads back: name that branch, where the loop is closed.
        closer, target = cycle[-1][:2]
        index = next(index for index, branch in enumerate(bank.questions[closer].next) if branch.goto == target)
        return [Finding("error", question_locator(bank)(closer, "next", index, "goto"), closer,
                        f"routing cycle: {loop}")]
    reachable = nx.descendants(routes, bank.meta.start) | {bank.meta.start}
    for question_id in bank.questions:
        if question_id not in reachable:
            findings.append(Finding("error", bank.where(f"question:{question_id}"), question_id,
                                    f"no path from the start question '{bank.meta.start}' reaches this question"))
    if findings:
        return findings
    dominates = routing.dominates
    locate = question_locator(bank)
    for question in bank.questions.values():
        before: set[str] | None = None  # ancestors, computed only when needed: one walk per question is quadratic
        for index, branch in enumerate(question.next):
            for read in ([part.q for part in iter_conditions(branch.when) if isinstance(part, (AnswerIn, Answered))]
                         if branch.when else []):
                if dominates(read, question.id):
                    continue
                if before is None:
                    before = nx.ancestors(routes, question.id)
                where = locate(question.id, "next", index, "when")
                if read not in before:
                    findings.append(Finding("error", where, question.id,
                                            f"routing reads '{read}', which is never asked before this question"))
                else:
                    findings.append(Finding("warning", where, question.id,
                                            f"routing reads '{read}', which some paths to this question skip"))
    return findings


def dominance(dominators: dict[str, str], root: str) -> Callable[[str, str], bool]:
    """`dominates(a, b)`: every path from the start to b passes a (a == b included).

    One walk of the dominator tree numbers each node on entry and exit; a dominates b when b's
    interval lies inside a's, so each query is constant time however deep the flow is.
    """
    children: dict[str, list[str]] = {}
    for node, parent in dominators.items():
        if node != parent:  # networkx before 3.5 maps the root to itself
            children.setdefault(parent, []).append(node)
    enter: dict[str, int] = {}
    leave: dict[str, int] = {}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            leave[node] = len(enter) + len(leave)
            continue
        enter[node] = len(enter) + len(leave)
        stack.append((node, True))
        stack.extend((child, False) for child in children.get(node, []))

    def dominates(a: str, b: str) -> bool:
        return a in enter and b in enter and enter[a] <= enter[b] and leave[b] <= leave[a]

    return dominates


def _check_reach(bank: Bank) -> list[Finding]:
    """Elements and methods that no answer can ever raise are dead weight in a bank."""
    # A walk over the graph's edges that skips evidence against. The graph itself is not built: its
    # nodes and attributes cost several times the walk. Like the graph, a later edge between the
    # same two nodes replaces an earlier one. Each edge keeps only whether it leads on, not its attributes:
    # on a bank of 5,000 questions these were most of lint's peak memory.
    leads_on: dict[str, dict[str, bool]] = {}
    for source, target, data in graph_items(bank):
        if target is not None:
            leads_on.setdefault(source, {})[target] = data["kind"] != "evidence" or data["weight"] > 0
    reachable: set[str] = set()
    waiting = [question_node(bank.meta.start)]
    while waiting:
        for target, passes in leads_on.get(waiting.pop(), {}).items():
            if passes and target not in reachable:
                reachable.add(target)
                waiting.append(target)
    findings = []
    for kind, items in (("element", bank.elements), ("method", bank.methods)):
        for item_id in items:
            if f"{kind[0]}:{item_id}" not in reachable:
                findings.append(Finding("error", bank.where(f"{kind}:{item_id}"), item_id,
                                        f"no answer can ever raise this {kind}"))
    return findings
