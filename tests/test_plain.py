"""`guide --plain`: the same walk line by line on stdin/stdout, driven as a screen-reader user would."""

from __future__ import annotations

import subprocess
import sys

import pytest

from guide.bank import read_answers
from guide.engine import route
from guide.model import UNSURE
from guide.session import load_session, session_path

from .conftest import ROOT, run_guide
from .test_session import first_dropping_change

pytestmark = pytest.mark.usefixtures("guide_home")


def all_unsure_lines(bank) -> list[str]:
    """Replies that answer every question on the all-unsure path: u, or a paragraph for text questions."""
    unsure = {question_id: ([UNSURE] if question.kind == "multiple" else UNSURE)
              for question_id, question in bank.questions.items() if question.kind != "text"}
    lines = []
    for question_id in route(bank, unsure):
        lines += ["Screening in primary care." if bank.questions[question_id].kind == "text" else "u", ""]
    return lines


def test_plain_walk_writes_the_design_document(bank, tmp_path):
    lines = ["Plain \x1b[31mdesign", *all_unsure_lines(bank), str(tmp_path / "design.md")]
    done = run_guide("--plain", stdin="\n".join(lines) + "\n", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "\x1b" not in done.stdout, "no cursor movement, no colour, no echo of escapes"
    assert "== Step 1 of 5: Use case ==" in done.stdout
    assert "== Results ==" in done.stdout
    assert f"Wrote {tmp_path / 'design.md'}" in done.stdout
    document = (tmp_path / "design.md").read_text()
    assert "# Interpretability design: Plain design" in document
    assert read_answers(tmp_path / "design.md", bank).answers == load_session(bank).answers.answers


def test_end_of_input_saves_and_exits_cleanly_then_resumes(bank):
    first = bank.meta.start
    first_choice = bank.questions[first].choices[1]
    done = run_guide("--plain", stdin=f"My design\n{first_choice.id}\nasked the lead\n")
    assert done.returncode == 0
    assert "Traceback" not in done.stderr and done.stderr == ""
    last_line = done.stdout.strip().splitlines()[-1]
    assert last_line.startswith("Input ended; your answers are saved in")
    saved = load_session(bank)
    assert saved.answers.answers == {first: first_choice.id}
    assert saved.answers.notes == {first: "asked the lead"}

    # Resume: the walk continues at the second question; b goes back to the first.
    done = run_guide("--plain", stdin="y\nb\n")
    assert done.returncode == 0
    assert "Question 2 " in done.stdout
    assert "Current answer: " + first_choice.label in done.stdout
    assert load_session(bank).position == first, "the position saved is where the user stopped"


def test_numbers_ids_and_mistakes(bank):
    question = bank.questions[bank.meta.start]
    replies = ["", "99", "not-a-choice", "1 2", question.choices[2].id, "", "?", "-"]
    done = run_guide("--plain", stdin="\n".join(replies) + "\n")
    assert done.returncode == 0, done.stderr
    assert f"Not a choice: 99. Type a number from 1 to {len(question.choices)}" in done.stdout
    assert "Not a choice: not-a-choice." in done.stdout
    assert "Pick one choice." in done.stdout
    saved = load_session(bank)
    assert saved.answers.answers[question.id] == question.choices[2].id
    second = route(bank, saved.answers.answers)[1]
    expected = [UNSURE] if bank.questions[second].kind == "multiple" else UNSURE
    assert saved.answers.answers[second] == expected
    assert saved.answers.notes == {second: "-"}


def test_a_saved_session_from_the_app_is_offered_and_an_unreadable_one_is_kept(bank, guide_home):
    guide_home.mkdir()
    session_path().write_text("answers: [\n")
    done = run_guide("--plain", stdin="")
    assert done.returncode == 0
    assert "The saved session cannot be resumed:" in done.stdout
    assert "session.yaml:2" in done.stdout
    assert (guide_home / "session.yaml.broken").exists()
    assert done.stdout.strip().splitlines()[-1] == "Input ended before a design was started."


def test_q_stops_with_answers_saved(bank):
    done = run_guide("--plain", stdin="T\nu\n\nq\n")
    assert done.returncode == 0
    assert "Stopped. Your answers are saved in" in done.stdout
    assert load_session(bank).answers.answers == {bank.meta.start: UNSURE}


def test_plain_mode_honours_the_bank_option(bank_copy):
    (bank_copy / "bank.yaml").write_text((bank_copy / "bank.yaml").read_text().replace("id: wang2024-mlmi", "id: course-bank"))
    done = run_guide("--plain", "--bank", str(bank_copy), stdin="T\nu\n\n")
    assert done.returncode == 0, done.stderr
    assert "bank_id: course-bank" in session_path().read_text()


def test_changing_an_answer_says_which_answers_are_set_aside(bank):
    question_id, old, new, dropped = first_dropping_change(bank)
    assert question_id == bank.meta.start and len(dropped) == 1, "the replies below walk this shape"
    done = run_guide("--plain", stdin="\n".join(["T", old, "", "u", "", "b", "b", new, ""]) + "\n")
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert "This answer takes these answered questions off your path." in said
    assert " ".join(bank.questions[dropped[0]].prompt.split()) in said
    saved = load_session(bank)
    assert saved.set_aside == dropped
    assert saved.answers.answers[question_id] == new


def test_undecodable_input_is_text_not_a_crash(bank):
    done = subprocess.run([sys.executable, "-m", "guide", "--plain"], input=b"T\xff\n\xfe\nu\n\n",
                          capture_output=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    assert b"Not a choice: \xef\xbf\xbd." in done.stdout
    saved = load_session(bank)
    assert saved.answers.title == "T\ufffd"
    assert saved.answers.answers == {bank.meta.start: UNSURE}


def test_over_long_replies_are_refused_with_a_reason(bank):
    done = run_guide("--plain", stdin="T" * 400 + "\nu\n" + "n" * 20001 + "\nu\n\n")
    assert done.returncode == 0, done.stderr
    assert "Title not used: title:" in done.stdout
    assert "Not saved, please answer again: notes." in done.stdout
    saved = load_session(bank)
    assert saved.answers.title == "Untitled design"
    assert saved.answers.answers == {bank.meta.start: UNSURE} and saved.answers.notes == {}
