"""Diagrams of the decision graph, as Mermaid or Graphviz DOT text written by hand.

Two views, both read off the decision graph (`graph.build_graph`):
- the bank: questions (grouped by stage) with their routing, the rules their choices trigger, the
  elements and method families the rules move, the needs the answers settle;
- one walk: the questions a case was asked with its answers, the rules that fired, and the
  evidence edges from those rules to the elements (with their levels) and method families.

Choice nodes are folded into the edges that leave their question: an edge's label names the
choices that travel along it, which keeps a diagram of a whole bank legible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from guide.bank import Bank
from guide.graph import build_graph
from guide.model import END, Result
from guide.report.text import signed

FORMATS = ("mermaid", "dot")
MAX_LABEL = 90
STYLES = {
    # kind: (Mermaid fill, stroke) and DOT shape
    "question": ("#e8f0fe", "#3b6fd4", "box"),
    "end": ("#eeeeee", "#777777", "oval"),
    "rule": ("#fff4e0", "#c98a1b", "note"),
    "element": ("#e6f4ea", "#2f8a4c", "hexagon"),
    "need": ("#fde8ef", "#b3476b", "parallelogram"),
    "method": ("#f3e8fd", "#7a4fb3", "component"),
    "plan": ("#e0f2f1", "#26867a", "folder"),
}


@dataclass(frozen=True)
class Node:
    key: str
    label: str
    kind: str
    group: str | None = None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str
    label: str = ""


@dataclass
class Diagram:
    title: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # group id -> title, in order
    direction: str = "LR"  # left to right for evidence fanning out; top down for a flow of questions

    def add(self, key: str, label: str, kind: str, group: str | None = None) -> None:
        self.nodes.setdefault(key, Node(key, label, kind, group))


def _short(text: str, limit: int = MAX_LABEL) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bank_diagram(bank: Bank) -> Diagram:
    """The whole decision graph: routing, triggers, evidence, needs and what serves what."""
    graph = build_graph(bank)
    diagram = Diagram(f"Decision graph of {bank.meta.title} ({bank.meta.id} {bank.meta.version})")
    diagram.groups = {stage.id: stage.title for stage in bank.meta.stages}
    for question in bank.questions.values():
        diagram.add(f"q:{question.id}", f"{question.id}: {_short(question.prompt)}", "question", question.stage)
    diagram.add(f"q:{END}", "End", "end")
    folded: dict[tuple[str, str, str], list[str]] = {}
    for source, target, data in graph.edges(data=True):
        kind = data["kind"]
        if kind == "offers":
            continue
        if kind == "routes":
            diagram.edges.append(Edge(source, target, kind, _short(data["condition"] or "")))
            continue
        if kind in ("triggers", "informs"):
            # Fold `c:question.choice` into its question; the label lists the choices.
            question_id, _, choice_id = source[2:].partition(".")
            question = bank.questions[question_id]
            choice = question.choice(choice_id) if choice_id else None
            folded.setdefault((f"q:{question_id}", target, kind), []).append(
                choice.label if choice else "answered or not")
            continue
        label = signed(data["weight"]) if kind == "evidence" else data.get("strength", "")
        diagram.edges.append(Edge(source, target, kind, label))
    for (source, target, kind), labels in folded.items():
        diagram.edges.append(Edge(source, target, kind, _short(" / ".join(labels))))
    for rule in bank.rules.values():
        diagram.add(f"r:{rule.id}", f"rule {rule.id}", "rule")
    for element in bank.elements.values():
        diagram.add(f"e:{element.id}", f"{element.name} ({element.short})", "element")
    for need in bank.needs.values():
        diagram.add(f"n:{need.id}", f"need: {_short(need.label)}", "need")
    for method in bank.methods.values():
        diagram.add(f"m:{method.id}", method.name, "method")
    # A rule may call for checks whatever families are chosen; they go to the evaluation plan.
    for rule in (rule for rule in bank.rules.values() if rule.checks):
        diagram.add("p:plan", "evaluation plan", "plan")
        count = len(rule.checks)
        diagram.edges.append(Edge(f"r:{rule.id}", "p:plan", "checks", f"{count} check{'s' if count > 1 else ''}"))
    diagram.edges.sort(key=lambda edge: (_EDGE_ORDER.index(edge.kind), edge.source, edge.target))
    return diagram


_EDGE_ORDER = ("routes", "triggers", "informs", "evidence", "checks", "served_by", "needed_by")


def flow_only(diagram: Diagram) -> Diagram:
    """The same diagram with only the questions and the routing between them."""
    return Diagram(f"{diagram.title}: the questions only",
                   {key: node for key, node in diagram.nodes.items() if node.kind in ("question", "end")},
                   [edge for edge in diagram.edges if edge.kind == "routes"], diagram.groups, direction="TB")


def walk_diagram(bank: Bank, result: Result) -> Diagram:
    """One walk: the questions asked with the answers given, and the evidence edges that fired."""
    levels = {level.id: level.label for level in bank.meta.levels}
    diagram = Diagram(f"{result.title}: the walk through {bank.meta.id} {bank.meta.version}")
    diagram.groups = {stage.id: stage.title for stage in bank.meta.stages}
    answers = {record.question: record for record in result.answers}
    for question_id in result.path:
        record = answers[question_id]
        answer = ", ".join(record.labels) or "not answered"
        diagram.add(f"q:{question_id}", f"{question_id}: {_short(answer, 60)}", "question",
                    bank.questions[question_id].stage)
    diagram.add(f"q:{END}", "End", "end")
    for step, question_id in enumerate(result.path):
        following = result.path[step + 1] if step + 1 < len(result.path) else END
        diagram.edges.append(Edge(f"q:{question_id}", f"q:{following}", "routes"))
    for element in result.elements:
        diagram.add(f"e:{element.id}", f"{element.name} ({element.short}): {levels[element.level].lower()}, "
                    f"score {element.score:g}", "element")
    fired = [*((item, f"e:{element.id}") for element in result.elements for item in element.evidence),
             *((item, f"m:{method.id}") for method in result.methods for item in method.evidence)]
    for item, target in fired:
        rule = f"r:{item.rule}"
        diagram.add(rule, f"rule {item.rule}", "rule")
        for question_id in item.answers:
            if f"q:{question_id}" in diagram.nodes:
                diagram.edges.append(Edge(f"q:{question_id}", rule, "triggers"))
        diagram.edges.append(Edge(rule, target, "evidence", signed(item.weight)))
    strengths = {strength.id: strength.label for strength in bank.meta.strengths}
    for method in result.methods:
        if method.id in result.complementary or method.evidence:
            rank = f"#{method.rank}" if method.rank else method.status
            diagram.add(f"m:{method.id}", f"{method.name} ({rank})", "method")
    for method in result.methods:
        if method.id in result.complementary:
            for element_id, strength in method.covers.items():
                diagram.edges.append(Edge(f"e:{element_id}", f"m:{method.id}", "served_by", strengths[strength]))
    diagram.edges = list(dict.fromkeys(diagram.edges))
    return diagram


# ---------------------------------------------------------------------------------------------
# Writers.


def to_mermaid(diagram: Diagram) -> str:
    ids = _mermaid_ids(diagram.nodes)
    title = " ".join(diagram.title.split()).replace("\\", "\\\\").replace('"', '\\"')
    lines = ["---", f'title: "{title}"', "---", f"flowchart {diagram.direction}"]
    grouped: dict[str | None, list[Node]] = {}
    for node in diagram.nodes.values():
        grouped.setdefault(node.group, []).append(node)
    for group, title in diagram.groups.items():
        if group in grouped:
            lines.append(f'  subgraph {_mermaid_id("stage_" + group)}["{_mermaid_text(title)}"]')
            lines += [f'    {ids[node.key]}["{_mermaid_text(node.label)}"]' for node in grouped[group]]
            lines.append("  end")
    lines += [f'  {ids[node.key]}["{_mermaid_text(node.label)}"]' for node in grouped.get(None, [])]
    arrows = {"routes": "-->", "evidence": "==>", "served_by": "-->"}
    for edge in diagram.edges:
        arrow = arrows.get(edge.kind, "-.->")
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
    for kind, (fill, stroke, _shape) in STYLES.items():
        members = [ids[node.key] for node in diagram.nodes.values() if node.kind == kind]
        if members:
            # Class names get a prefix: a bare `end` would close a subgraph.
            lines.append(f"  classDef kind_{kind} fill:{fill},stroke:{stroke},color:#111")
            lines.append(f"  class {','.join(members)} kind_{kind}")
    return "\n".join(lines) + "\n"


def _mermaid_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _mermaid_ids(nodes: dict[str, Node]) -> dict[str, str]:
    """Node keys (`q:task`) as Mermaid ids (`q_task`), unique even when two keys differ only in punctuation."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for key in nodes:
        base = _mermaid_id(key)
        candidate, number = base, 2
        while candidate in taken:
            candidate, number = f"{base}_{number}", number + 1
        ids[key] = candidate
        taken.add(candidate)
    return ids


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for the characters Mermaid would read as syntax."""
    text = " ".join(text.split())
    text = text.replace("#", "#35;")
    for character, code in (('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("|", "#124;"),
                            ("[", "#91;"), ("]", "#93;"), ("{", "#123;"), ("}", "#125;"), ("`", "#96;")):
        text = text.replace(character, code)
    return text


def to_dot(diagram: Diagram) -> str:
    lines = [
        "digraph guide {",
        # newrank: ranking with clusters otherwise fails on some graphs ("trouble in init_rank", Graphviz 2.43).
        f"  graph [newrank=true, rankdir={diagram.direction}, label={_dot_text(diagram.title)}, labelloc=t, "
        "fontname=Helvetica];",
        "  node [style=filled, fontname=Helvetica, fontsize=11];",
        "  edge [fontname=Helvetica, fontsize=9];",
    ]

    def node_line(node: Node, indent: str) -> str:
        fill, stroke, shape = STYLES[node.kind]
        return (f"{indent}{_dot_text(node.key)} [label={_dot_text(node.label)}, shape={shape}, "
                f'fillcolor="{fill}", color="{stroke}"];')

    for group, title in diagram.groups.items():
        members = [node for node in diagram.nodes.values() if node.group == group]
        if members:
            lines.append(f"  subgraph {_dot_text('cluster_' + group)} {{")
            lines.append(f"    label={_dot_text(title)};")
            lines += [node_line(node, "    ") for node in members]
            lines.append("  }")
    lines += [node_line(node, "  ") for node in diagram.nodes.values() if node.group not in diagram.groups]
    styles = {"triggers": "dashed", "informs": "dashed", "needed_by": "dotted"}
    for edge in diagram.edges:
        attributes = []
        if edge.label:
            attributes.append(f"label={_dot_text(edge.label)}")
        if edge.kind in styles:
            attributes.append(f"style={styles[edge.kind]}")
        if edge.kind == "evidence":
            attributes.append("penwidth=2")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {_dot_text(edge.source)} -> {_dot_text(edge.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    """A DOT quoted string: backslashes and quotes escaped, whitespace flattened."""
    flat = " ".join(text.split())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_diagram(diagram: Diagram, format: str) -> str:
    return to_dot(diagram) if format == "dot" else to_mermaid(diagram)
