"""The codebook: a bank written out for an instructor who reads Markdown, not code.

For every question: its prompt, help and choices, when it is asked (routing conditions in plain
words, read off the routing graph), and for every choice what it moves: the elements and method
families the rules raise or lower, the needs it informs, the question it leads to. All bank text
passes through `md`/`md_block`, so nothing in a bank can add structure to the codebook.
"""

from __future__ import annotations

import networkx as nx

from guide.bank import Bank
from guide.graph import describe_condition, flow
from guide.lint import Solver
from guide.model import (END, UNSURE, AllOf, AnswerIn, Answered, AnyOf, Choice, Condition, Need, NotCondition, Question,
                         Rule, iter_conditions)
from guide.report.text import md, md_block, signed

KIND_LABELS = {"single": "one choice", "multiple": "one or more choices", "text": "free text"}
METHOD_KIND_LABELS = {"post_hoc": "post hoc", "by_design": "by design", "either": "post hoc or by design"}


class _Readers:
    """Who reads what, gathered in one pass over the bank (not once per choice, which is quadratic)."""

    def __init__(self, bank: Bank) -> None:
        self.rules: dict[tuple[str, str], list[Rule]] = {}
        self.needs: dict[tuple[str, str], list[tuple[Need, Condition, str]]] = {}
        self.answered: dict[str, list[str]] = {}
        for rule in bank.rules.values():
            for key in _named_choices(rule.when):
                self.rules.setdefault(key, []).append(rule)
            for question_id in _answered_questions(rule.when):
                self.answered.setdefault(question_id, []).append(f"rule `{rule.id}`")
        for need in bank.needs.values():
            for condition, verb in ((need.available_when, "has"), (need.unavailable_when, "lacks")):
                for key in _named_choices(condition):
                    self.needs.setdefault(key, []).append((need, condition, verb))
            for question_id in dict.fromkeys(_answered_questions(need.available_when)
                                             + _answered_questions(need.unavailable_when)):
                self.answered.setdefault(question_id, []).append(f"need “{md(need.label)}”")


def _named_choices(condition: Condition) -> list[tuple[str, str]]:
    """(question, choice) pairs a condition names, each once, in order."""
    return list(dict.fromkeys((part.q, choice) for part in iter_conditions(condition)
                              if isinstance(part, AnswerIn) for choice in part.in_))


def _answered_questions(condition: Condition) -> list[str]:
    return list(dict.fromkeys(part.q for part in iter_conditions(condition) if isinstance(part, Answered)))


def render_codebook(bank: Bank) -> str:
    routing = flow(bank)
    routes, always = routing.routes, routing.asked_on_every_walk
    solver = Solver(bank)
    readers = _Readers(bank)
    sections = [_header(bank), _contents(bank)]
    for number, stage in enumerate(bank.meta.stages, start=1):
        sections.append(f"## Stage {number}: {md(stage.title)}\n\n{md_block(stage.description)}")
        for question in bank.questions.values():
            if question.stage == stage.id:
                sections.append(_question(bank, question, routes, always, solver, readers))
    sections += [_elements(bank), _needs(bank), _methods(bank)]
    return "\n\n".join(section.strip("\n") for section in sections) + "\n"


def _header(bank: Bank) -> str:
    meta = bank.meta
    return "\n".join([
        f"# Codebook: {md(meta.title)}",
        "",
        f"Bank `{meta.id}`, version {md(meta.version)}: {len(bank.questions)} questions in {len(meta.stages)} "
        f"stages, {len(bank.rules)} rules, {len(bank.needs)} needs, {len(bank.methods)} method families.",
        "",
        md_block(meta.description),
        "",
        "How to read it: every question shows when it is asked, the help a user sees, and its choices. Under "
        "each choice, *Raises* and *Lowers* name the elements of interpretability and the method families "
        "that the bank's rules move when the choice is picked, with the rule's weight and its name; *Tells "
        "the tool* names the resources of the project (needs) the choice settles; *Leads to* names the next "
        "question it routes to. Every choice question also offers “Unsure / not known yet”: it moves "
        "nothing and lowers the confidence of whatever the answer would have moved.",
        "",
        f"> {md(meta.source.citation)} {md(meta.source.identifiers())}",
        *([">", md_block(meta.source.establishes, "> ")] if meta.source.establishes else []),
        ">",
        md_block(meta.derivation_note, "> "),
    ])


def _contents(bank: Bank) -> str:
    lines = ["## Contents", ""]
    for number, stage in enumerate(bank.meta.stages, start=1):
        ids = ", ".join(f"`{question.id}`" for question in bank.questions.values() if question.stage == stage.id)
        lines.append(f"{number}. {md(stage.title)}: {ids}")
    lines += ["", "Then: elements of interpretability, needs, method families."]
    return "\n".join(lines)


def _question(bank: Bank, question: Question, routes: nx.DiGraph, always: set[str], solver: Solver,
              readers: _Readers) -> str:
    where = bank.where(f"question:{question.id}")
    file = where.file.removeprefix(str(bank.directory)).lstrip("/")
    lines = [
        f"### `{question.id}`: {md(question.prompt)}",
        "",
        f"*Answer:* {KIND_LABELS[question.kind]} · *defined in* {md(file)}, line {where.line}",
        "",
        f"*Asked:* {_asked_when(bank, question, routes, always, solver)}",
        "",
        md_block(question.help),
    ]
    if question.if_unsure:
        lines += ["", f"*If unsure:* {md(question.if_unsure)}"]
    answered_readers = readers.answered.get(question.id, [])
    if answered_readers:
        lines += ["", f"*Whether it is answered at all* is read by {', '.join(answered_readers)}."]
    if question.kind == "text":
        lines += ["", "A free-text answer is written into the design document; no rule reads its words."]
        return "\n".join(lines)
    lines += ["", "Choices:", ""]
    for choice in question.choices:
        lines += _choice(bank, question, choice, readers)
    return "\n".join(lines)


def _asked_when(bank: Bank, question: Question, routes: nx.DiGraph, always: set[str], solver: Solver) -> str:
    if question.id == bank.meta.start:
        return "first; every walk starts here."
    arrivals = []
    for before in routes.predecessors(question.id):
        previous = bank.questions[before]
        for index, branch in enumerate(previous.next):
            if branch.goto != question.id:
                continue
            earlier = [item.when for item in previous.next[:index] if item.when is not None]
            if branch.when is not None:
                condition = f"when {describe_condition(branch.when, bank)}"
                # Only earlier branches that can hold together with this one change its meaning.
                skipped = [item for item in earlier
                           if solver.witness(AllOf(all=[item, branch.when]), paths=False) is not None]
                if skipped:
                    condition += f", unless an earlier branch applies ({_either(skipped, bank)})"
            elif earlier:
                condition = f"otherwise, that is unless {_either(earlier, bank)}"
            else:
                condition = ""
            arrivals.append(f"after `{before}` {md(condition)}".rstrip())
    text = "; ".join(arrivals) + "."
    return ("on every walk: " + text) if question.id in always else text


def _either(conditions: list[Condition], bank: Bank) -> str:
    return " or ".join(describe_condition(condition, bank) for condition in conditions)


def _with_choice(condition: Condition, question: Question, choice_id: str) -> bool | None:
    """Whether the condition holds once this choice is picked: True or False, or None when that also
    depends on other answers (or, for a several-choice question, on what else is ticked). A choice a `not`
    rules out makes its condition False, not True."""
    if isinstance(condition, AnswerIn):
        if condition.q != question.id:
            return None
        return True if choice_id in condition.in_ else None if question.kind == "multiple" else False
    if isinstance(condition, Answered):
        return condition.answered if condition.q == question.id else None
    if isinstance(condition, NotCondition):
        inner = _with_choice(condition.not_, question, choice_id)
        return None if inner is None else not inner
    parts = [_with_choice(part, question, choice_id)
             for part in (condition.all if isinstance(condition, AllOf) else condition.any)]
    decisive, other = (False, True) if isinstance(condition, AllOf) else (True, False)
    if decisive in parts:
        return decisive
    return other if all(part is other for part in parts) else None


def _names(condition: Condition, question_id: str, choice_id: str) -> bool:
    """Does the condition name this choice as one that makes it hold (not under a `not`)?"""
    if isinstance(condition, AnswerIn):
        return condition.q == question_id and choice_id in condition.in_
    if isinstance(condition, (AllOf, AnyOf)):
        return any(_names(part, question_id, choice_id)
                   for part in (condition.all if isinstance(condition, AllOf) else condition.any))
    return False


def _choice(bank: Bank, question: Question, choice: Choice, readers: _Readers) -> list[str]:
    head = f"- **{md(choice.label)}** (`{choice.id}`)"
    if choice.description:
        head += f": {md(choice.description)}"
    lines = [head]
    if choice.id == UNSURE:
        return lines
    key = (question.id, choice.id)
    lines += [f"  - {_rule_line(bank, question, choice, rule)}" for rule in readers.rules.get(key, [])]
    for need, condition, verb in readers.needs.get(key, []):
        line = f"Tells the tool the project {verb}: {md(need.label)}"
        if verb == "lacks":
            users = [method.name for method in bank.methods.values() if need.id in method.needs]
            if users:
                line += f", so {md(', '.join(users))} {'is' if len(users) == 1 else 'are'} {_when_lacking(need)}"
        if _with_choice(condition, question, choice.id) is not True:
            line += f" (when {md(describe_condition(condition, bank))})"
        lines.append(f"  - {line}")
    for branch in question.next:
        holds = None if branch.when is None else _with_choice(branch.when, question, choice.id)
        if holds is True or (holds is None and branch.when is not None and _names(branch.when, question.id, choice.id)):
            target = "the end of the walk" if branch.goto == END else f"`{branch.goto}`"
            line = f"Leads to {target}"
            if holds is None:
                line += f" (when {md(describe_condition(branch.when, bank))})"
            lines.append(f"  - {line}")
    if choice.neutral:
        lines.append("  - Neutral by design: the baseline the other choices are measured against, or a fact kept "
                     "for the design document.")
    elif len(lines) == 1:
        lines.append("  - Moves no element or method family by itself.")
    return lines


def _rule_line(bank: Bank, question: Question, choice: Choice, rule: Rule) -> str:
    raised = [_target(bank, effect.element, effect.method, effect.weight) for effect in rule.effects if effect.weight > 0]
    lowered = [_target(bank, effect.element, effect.method, effect.weight) for effect in rule.effects if effect.weight < 0]
    parts = []
    if raised:
        parts.append("Raises " + ", ".join(raised))
    if lowered:
        parts.append("Lowers " + ", ".join(lowered))
    if rule.checks:
        parts.append(f"Adds {len(rule.checks)} check{'s' if len(rule.checks) > 1 else ''} to the evaluation plan")
    line = "; ".join(parts) + f" (rule `{rule.id}`"
    if _with_choice(rule.when, question, choice.id) is not True:
        line += f", when {md(describe_condition(rule.when, bank))}"
    return line + ")"


def _target(bank: Bank, element: str | None, method: str | None, weight: float) -> str:
    name = bank.elements[element].name if element else bank.methods[method or ""].name
    kind = "" if element else " (method family)"
    return f"{md(name)}{kind} {signed(weight)}"


# ---------------------------------------------------------------------------------------------
# Glossary: what the choices point at.


def _elements(bank: Bank) -> str:
    lines = ["## Elements of interpretability", ""]
    for element in bank.elements.values():
        lines += [f"### {md(element.name)} ({element.short})", "", f"*{md(element.question)}*", "",
                  md_block(element.definition), ""]
        # One example a line: each is a sentence with its own full stop, so "; " between them read "..;".
        lines += ["Examples:", "", *[f"- {md(example)}" for example in element.examples], ""]
    return "\n".join(lines)


def _needs(bank: Bank) -> str:
    lines = ["## Needs: what method families require", "",
             "A need is available when its first condition holds, unavailable when its second holds, and "
             "unknown otherwise (unknown lowers confidence but removes nothing).", ""]
    for need in bank.needs.values():
        users = [md(method.name) for method in bank.methods.values() if need.id in method.needs]
        then = (f"{', '.join(users)} {'is' if len(users) == 1 else 'are'} {_when_lacking(need)}" if users
                else "no method family is affected; the evaluation checks that depend on it are marked")
        lines += [
            f"- **{md(need.label)}** (`{need.id}`)",
            f"  - Available when {md(describe_condition(need.available_when, bank))}.",
            f"  - Unavailable when {md(describe_condition(need.unavailable_when, bank))}; then {then}.",
        ]
    return "\n".join(lines)


def _when_lacking(need: Need) -> str:
    """What becomes of the families that need what a project lacks, as the engine ranks them."""
    if need.when_missing == "exclude":
        return "filtered out"
    return f"ranked after every family the project can build, {need.penalty:g} lower in score"


def _methods(bank: Bank) -> str:
    strengths = {strength.id: strength.label for strength in bank.meta.strengths}
    lines = ["## Method families", ""]
    for method in bank.methods.values():
        serves = ", ".join(f"{md(bank.elements[item.element].name)} ({md(strengths[item.strength])})"
                           for item in method.serves)
        needs = ", ".join(md(bank.needs[need].label) for need in method.needs) or "nothing beyond the model"
        lines += [f"- **{md(method.name)}** (`{method.id}`, {METHOD_KIND_LABELS[method.kind]}): "
                  f"{md(method.summary)}", f"  - Serves {serves}.", f"  - Needs {needs}."]
    return "\n".join(lines)
