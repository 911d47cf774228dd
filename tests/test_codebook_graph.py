"""The codebook and the diagrams of the built-in bank: what an instructor reads and draws."""

from __future__ import annotations

import re
import subprocess

import pytest
from markdown_it import MarkdownIt

from guide.bank import read_answers
from guide.codebook import render_codebook
from guide.diagram import bank_diagram, to_dot, to_mermaid
from guide.engine import evaluate
from guide.load import load_bank
from guide.model import UNSURE, AnswerIn
from guide.report.text import md, signed

from .conftest import CASES, needs_programs, run_guide

MERMAID_NODE = re.compile(r'^\s+(\w+)\["([^"]*)"\]$')
MERMAID_EDGE = re.compile(r'^\s+(\w+) (-->|==>|-\.->)(?:\|"([^"]*)"\|)? (\w+)$')


def _sections(markdown: str) -> dict[str, str]:
    """Question id -> the text of its `### `id`: prompt` section."""
    parts = re.split(r"^### `([a-z0-9_-]+)`: .*$", markdown, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def _set_start_prompt(bank_copy, prompt_yaml: str):
    """The bank copy with the first question's prompt replaced (YAML text after `prompt: `), loaded."""
    flow = bank_copy / "flow" / "1-use-case.yaml"
    text = flow.read_text()
    prompt = re.search(r"\n    prompt: (.*)\n", text)[1]
    flow.write_text(text.replace(f"prompt: {prompt}", f"prompt: {prompt_yaml}", 1))
    return load_bank(bank_copy)


@pytest.fixture(scope="module")
def codebook(bank) -> str:
    return render_codebook(bank)


def test_codebook_has_every_question_with_help_choices_and_when_asked(bank, codebook):
    sections = _sections(codebook)
    assert list(sections) == list(bank.questions)
    for question in bank.questions.values():
        text = sections[question.id]
        assert "*Asked:* " in text
        assert md(" ".join(question.help.split())) in text
        for choice in question.choices:
            assert f"- **{md(choice.label)}** (`{choice.id}`)" in text
    assert "*Asked:* first; every walk starts here." in sections[bank.meta.start]


def test_codebook_has_no_doubled_punctuation(codebook):
    """Sentences joined with "; " or given another full stop read "raised.;" or "training..": one mark each."""
    doubled = re.findall(r".{30}(?:(?<!\.\.)\.;|(?<![.\w])\.\.(?!\.)|\w\.\.(?!\.)).{0,10}", codebook)
    assert not doubled, doubled[:3]


def test_codebook_says_in_words_when_a_conditional_question_is_asked(bank, codebook):
    sections = _sections(codebook)
    checked = 0
    for question in bank.questions.values():
        first = question.next[0]
        if isinstance(first.when, AnswerIn) and first.when.q == question.id and first.goto in bank.questions:
            labels = " or ".join(f"“{question.choice(choice).label}”" for choice in first.when.in_)
            assert f"after `{question.id}` when {md(question.id)} is {md(labels)}" in sections[first.goto]
            checked += 1
    assert checked >= 3


def test_codebook_lists_what_each_choice_moves(bank, codebook):
    sections = _sections(codebook)
    checked = 0
    for rule in bank.rules.values():
        if not isinstance(rule.when, AnswerIn):
            continue
        question = bank.questions[rule.when.q]
        text = sections[question.id]
        for choice_id in rule.when.in_:
            entry = text[text.index(f"(`{choice_id}`)"):]
            entry = entry[: entry.find("\n- **") if "\n- **" in entry else len(entry)]
            for effect in rule.effects:
                name = bank.elements[effect.element].name if effect.element else bank.methods[effect.method].name
                assert f"{md(name)}{'' if effect.element else ' (method family)'} {signed(effect.weight)}" in entry
            assert f"(rule `{rule.id}`)" in entry
            checked += 1
    assert checked >= 10


def test_codebook_says_where_each_choice_leads_and_not_where_a_not_rules_it_out(codebook):
    """`explanation_priority` is asked unless the model is frozen or audited (a `not`): it is listed under the
    choices that lead there, plainly, and under neither of the two that rule it out."""
    text = _sections(codebook)["model_status"]

    def entry(choice_id: str) -> str:
        part = text[text.index(f"(`{choice_id}`)"):]
        return part[: part.find("\n- **") if "\n- **" in part else len(part)]

    for choice_id in ("new_model", "existing_can_retrain"):
        assert "Leads to `explanation_priority`\n" in entry(choice_id) + "\n"
    for choice_id in ("frozen_black_box", "audit_published"):
        assert "explanation_priority" not in entry(choice_id)


def test_codebook_marks_unsure_and_neutral_choices(bank, codebook):
    sections = _sections(codebook)
    for question in bank.questions.values():
        for choice in question.choices:
            if choice.neutral:
                entry = sections[question.id].split(f"(`{choice.id}`)", 1)[1].split("\n- **", 1)[0]
                assert "Neutral by design" in entry
    assert f"(`{UNSURE}`)" in sections[bank.meta.start]


def test_codebook_is_well_formed_markdown_and_escapes_bank_text(bank_copy):
    codebook = render_codebook(_set_start_prompt(bank_copy, '"<script>alert(1)</script> # not a *heading*"'))
    assert "<script>" not in codebook
    tokens = MarkdownIt("commonmark").parse(codebook)
    headings = [tokens[index + 1].content for index, token in enumerate(tokens) if token.type == "heading_open"]
    assert headings[0].startswith("Codebook: ")
    assert any("not a \\*heading\\*" in heading for heading in headings)
    assert "Elements of interpretability" in headings and "Method families" in headings


def test_codebook_command_writes_a_file(tmp_path, codebook):
    out = tmp_path / "codebook.md"
    result = run_guide("codebook", "--out", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == codebook


# ---------------------------------------------------------------------------------------------
# Diagrams.


def _mermaid(text: str) -> tuple[dict[str, str], list[tuple[str, str, str, str]]]:
    nodes, edges = {}, []
    for line in text.splitlines():
        if match := MERMAID_NODE.match(line):
            nodes[match[1]] = match[2]
        elif match := MERMAID_EDGE.match(line):
            edges.append((match[1], match[2], match[3] or "", match[4]))
    return nodes, edges


def test_mermaid_bank_graph_has_every_item_and_only_declared_nodes(bank):
    text = run_guide("graph").stdout
    assert text.startswith("---\ntitle: ") and "\nflowchart LR\n" in text
    nodes, edges = _mermaid(text)
    plan = 1 if any(rule.checks for rule in bank.rules.values()) else 0  # where rules' own checks go
    expected = (len(bank.questions) + 1 + len(bank.rules) + len(bank.elements) + len(bank.needs) + len(bank.methods)
                + plan)
    assert len(nodes) == expected
    assert {source for source, *_ in edges} | {target for *_, target in edges} <= set(nodes)
    # Every rule leads somewhere: to what it moves, or to the plan it adds checks to.
    assert {"r_" + re.sub(r"[^A-Za-z0-9_]", "_", rule.id) for rule in bank.rules.values()} <= {source for source, *_ in edges}
    # Routing edges carry their condition; evidence edges their signed weight.
    routes = [edge for edge in edges if edge[0].startswith("q_") and edge[3].startswith("q_")]
    assert len(routes) == sum(len(question.next) for question in bank.questions.values())
    evidence = [edge for edge in edges if edge[1] == "==>"]
    assert len(evidence) == sum(len(rule.effects) for rule in bank.rules.values())
    assert all(re.fullmatch(r"[+−]\d+(\.\d+)?", label) for _, _, label, _ in evidence)
    # Class names must not be Mermaid keywords such as `end`.
    assert all(not line.strip().startswith(("classDef end", "class end")) for line in text.splitlines())


def test_mermaid_labels_cannot_break_out_of_their_quotes(bank_copy):
    mermaid = to_mermaid(bank_diagram(_set_start_prompt(bank_copy, "'Say \"hi\" | [x] {y} <b>#1</b>'")))
    nodes, _ = _mermaid(mermaid)
    assert nodes["q_task"] == "task: Say #quot;hi#quot; #124; #91;x#93; #123;y#125; #lt;b#gt;#35;1#lt;/b#gt;"


@pytest.mark.parametrize("case", CASES)
def test_walk_graph_shows_the_path_and_the_evidence_that_fired(bank, case):
    result = evaluate(bank, read_answers(bank.cases()[case], bank))
    text = run_guide("graph", "--case", case).stdout
    nodes, edges = _mermaid(text)
    questions = [key[2:] for key in nodes if key.startswith("q_") and key != "q_end"]
    assert questions == result.path
    routes = [(source, target) for source, arrow, _, target in edges if arrow == "-->" and source.startswith("q_")]
    assert routes == list(zip([f"q_{item}" for item in result.path], [f"q_{item}" for item in result.path[1:]] + ["q_end"]))
    fired = {(f"r_{item.rule.replace('-', '_')}", f"e_{element.id}", signed(item.weight))
             for element in result.elements for item in element.evidence}
    drawn = {(source, target, label) for source, arrow, label, target in edges if arrow == "==>"}
    assert fired <= drawn
    for element in result.elements:
        assert element.level_label.lower() in nodes[f"e_{element.id}"]


def test_walk_graph_from_an_answers_file_equals_the_case(bank):
    path = bank.cases()["dr-screening"]
    assert run_guide("graph", "--answers", str(path)).stdout == run_guide("graph", "--case", "dr-screening").stdout


@needs_programs("dot", install="apt-get install -y graphviz")
@pytest.mark.parametrize("args", [(), ("--case", "dr-screening")])
def test_dot_output_is_valid_graphviz(tmp_path, args):
    result = run_guide("graph", "--format", "dot", *args)
    assert result.returncode == 0
    assert result.stdout.startswith("digraph guide {")
    # Graphviz lays the whole bank out in about 40 s of CPU (twice that in wall time on a busy machine): the
    # bound only keeps a hang from holding the suite.
    rendered = subprocess.run(["dot", "-Tsvg"], input=result.stdout, capture_output=True, text=True, timeout=600)
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stderr == ""
    assert "<svg" in rendered.stdout


def test_dot_quotes_hostile_labels(bank_copy):
    dot = to_dot(bank_diagram(_set_start_prompt(bank_copy, "'back\\slash \"quoted\" }; evil -> x'")))
    assert '"q:task" [label="task: back\\\\slash \\"quoted\\" }; evil -> x"' in dot


def test_graph_errors_are_one_line(tmp_path):
    result = run_guide("graph", "--case", "no-such-case")
    assert result.returncode == 2 and "no case 'no-such-case'" in result.stderr
    result = run_guide("graph", "--format", "svg")
    assert result.returncode == 2 and "invalid choice: 'svg'" in result.stderr


def test_routing_view_is_the_flow_alone(bank):
    text = run_guide("graph", "--routing").stdout
    assert "\nflowchart TB\n" in text
    nodes, edges = _mermaid(text)
    assert set(nodes) == {f"q_{question_id}" for question_id in bank.questions} | {"q_end"}
    assert len(edges) == sum(len(question.next) for question in bank.questions.values())
    walk = run_guide("graph", "--routing", "--case", "dr-screening", "--format", "dot").stdout
    assert "rankdir=TB" in walk and '"r:' not in walk and '"e:' not in walk
