"""Properties that hold for any answers and any valid bank, checked with hypothesis.

Random walks answer, change and clear answers over the built-in bank the way a person would
(through `session.Walk`), and randomly generated valid banks (bench/bankgen.py) are loaded and
evaluated: routing always ends, results are the same every time, every document parses and holds
its required sections, and a saved session reads back as the same design.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bench.bankgen import generate_bank
from guide.bank import Bank, front_matter, read_answers
from guide.engine import evaluate, holds, route
from guide.load import load_bank
from guide.model import END, UNSURE, AnswersFile, Question
from guide.report import render
from guide.session import Walk, load_session, save_session
from tests.conftest import FIXED_DATE

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ALWAYS = ("Summary", "Method families", "Evaluation plan", "Open questions", "Appendix: the full trace",
          "Element evidence", "Answers", "How this was derived")
SOMETIMES = ("Question bank changed", "Review", "References", "Published systems like yours", "Family evidence",
             "Evaluation guidance")
PARSER = MarkdownIt("commonmark", {"html": True}).enable("table")


def value_for(question: Question):
    """A strategy for any answer the question accepts, 'unsure' included."""
    ids = [choice.id for choice in question.choices if choice.id != UNSURE]
    if question.kind == "text":
        return st.text(max_size=60)
    if question.kind == "single":
        return st.sampled_from([*ids, UNSURE])
    return st.one_of(st.just([UNSURE]), st.lists(st.sampled_from(ids), min_size=1, unique=True))


def answers_for(bank: Bank):
    """Answers to any subset of the bank's questions, on the path or not."""
    return st.fixed_dictionaries({}, optional={question.id: value_for(question) for question in bank.questions.values()})


def check_route(bank: Bank, values: dict) -> list[str]:
    path = route(bank, values)
    assert path and path[0] == bank.meta.start
    assert len(path) == len(set(path)) <= len(bank.questions)
    # Each step is the first branch whose condition holds on the answers asked so far, and the
    # walk stops only where that branch goes to the end.
    asked = {}
    for index, question_id in enumerate(path):
        asked[question_id] = values.get(question_id, [])
        question = bank.questions[question_id]
        goto = next(branch.goto for branch in question.next if branch.when is None or holds(branch.when, asked, bank))
        assert goto == (path[index + 1] if index + 1 < len(path) else END)
    return path


def check_document(bank: Bank, result, answers: AnswersFile) -> None:
    document = render("md", result, bank, answers, FIXED_DATE)
    assert document == render("md", result, bank, answers, FIXED_DATE)
    yaml_text, _ = front_matter(document, Path("design.md"))
    assert yaml_text.strip(), "a design document starts with its answers"
    body = document.split("\n---\n", 1)[1]
    tokens = PARSER.parse(body)
    headings = [(tokens[index].tag, tokens[index + 1].content) for index, token in enumerate(tokens)
                if token.type == "heading_open"]
    assert [tag for tag, _ in headings].count("h1") == 1 and headings[0][0] == "h1"
    sections = [text for tag, text in headings if tag == "h2"]
    expected = list(ALWAYS)
    assert all(section in sections for section in expected), sections
    assert set(sections) <= {*expected, *SOMETIMES}, sections
    assert not [token for token in tokens if token.type.startswith("html")]


def check_result(bank: Bank, answers: AnswersFile) -> None:
    first = evaluate(bank, answers)
    assert first.model_dump_json() == evaluate(bank, answers).model_dump_json()
    assert first.path == check_route(bank, dict(answers.answers))
    check_document(bank, first, answers)


@SETTINGS
@given(data=st.data())
def test_any_answers_to_the_builtin_bank(bank, data):
    values = data.draw(answers_for(bank))
    check_result(bank, AnswersFile(title="Random", answers=values))


@SETTINGS
@given(data=st.data())
def test_random_walks_route_and_save_consistently(bank, data):
    """A person answering, changing earlier answers, clearing and going back, saving after each step."""
    walk = Walk(bank)
    with tempfile.TemporaryDirectory() as folder:
        saved_to = Path(folder) / "session.yaml"
        for _ in range(data.draw(st.integers(1, 40), label="steps")):
            action = data.draw(st.sampled_from(["answer", "answer", "answer", "change", "clear", "back"]))
            if action == "back":
                walk.back()
            elif action in ("change", "clear") and walk.answered_on_path:
                question_id = data.draw(st.sampled_from(walk.answered_on_path))
                value = None if action == "clear" else data.draw(value_for(bank.questions[question_id]))
                walk.record(question_id, value)
                walk.position = walk.first_open()
            elif walk.question is not None:
                walk.answer(walk.question.id, data.draw(value_for(walk.question)))
            assert walk.path == check_route(bank, walk.values)
            assert walk.position == END or walk.position in walk.path
            save_session(walk, saved_to)
            resumed = load_session(bank, saved_to)
            assert (resumed.values, resumed.position, resumed.answers.notes) == \
                   (walk.values, walk.position, walk.answers.notes)
        check_result(bank, walk.answers)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    questions=st.integers(1, 30),
    extra_branches=st.integers(0, 3),
    text_share=st.floats(0, 0.6),
    elements=st.integers(1, 6),
    methods=st.integers(1, 6),
    data=st.data(),
)
def test_generated_banks_load_route_and_document(seed, questions, extra_branches, text_share, elements, methods, data):
    with tempfile.TemporaryDirectory() as folder:
        directory = generate_bank(Path(folder) / "bank", questions, seed=seed, extra_branches=extra_branches,
                                  text_share=text_share, elements=elements, methods=methods)
        bank = load_bank(directory)
        assert len(bank.questions) == questions
        preset = read_answers(bank.cases()["case-0"], bank)
        check_result(bank, preset)
        check_result(bank, AnswersFile(title="Random", answers=data.draw(answers_for(bank))))


def test_text_with_unusual_line_breaks_survives_the_session_file(bank, tmp_path):
    """Found by the random walks: YAML 1.1 reads a bare NEL (\\x85) back as a space. The session's fast
    emitter escapes emoji; they come back too, as do strings YAML would read as something else."""
    walk = Walk(bank)
    text_question = next(question for question in bank.questions.values() if question.kind == "text")
    text = "one\x85two\u2028three\u2029four\rfive\r\nsix 😀 yes: #no [a] *b &c !!str \t"
    walk.record(text_question.id, text, note=text)
    save_session(walk, tmp_path / "session.yaml")
    resumed = load_session(bank, tmp_path / "session.yaml")
    assert resumed.values[text_question.id] == text and resumed.answers.notes[text_question.id] == text.strip()
