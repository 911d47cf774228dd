"""`guide --plain`: the same walk line by line on stdin/stdout, driven as a screen-reader user or a script would."""

from __future__ import annotations

import json
import os
import pty
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from guide.bank import read_answers
from guide.engine import route
from guide.model import UNSURE
from guide.session import Walk, save_session
from guide.state import designs_dir, session_path
from guide.source import GuideError

from .conftest import ROOT, load_saved, run_guide, saved_path
from .test_crash_safety import plain_guide_waiting_for_an_answer
from .test_session import first_dropping_change

pytestmark = pytest.mark.usefixtures("guide_home")


def all_unsure_lines(bank) -> list[str]:
    """Replies that answer every question on the all-unsure path: u, or a paragraph for text questions."""
    unsure = {question_id: ([UNSURE] if question.kind == "multiple" else UNSURE)
              for question_id, question in bank.questions.items() if question.kind != "text"}
    lines = []
    for question_id in route(bank, unsure):
        lines.append("Screening in primary care." if bank.questions[question_id].kind == "text" else "u")
    return lines


def test_plain_walk_writes_the_design_document(bank, tmp_path):
    lines = [*all_unsure_lines(bank), str(tmp_path / "design.md")]
    done = run_guide("--plain", "--new", "--title", "Plain \x1b[31mdesign", stdin="\n".join(lines) + "\n", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "\x1b" not in done.stdout, "no cursor movement, no colour, no echo of escapes"
    assert "== Step 1 of 5: Use case ==" in done.stdout
    assert "== Results ==" in done.stdout
    # Plain mode wraps at a word, so a long temporary path may start the next line.
    assert f"Wrote {tmp_path / 'design.md'}" in " ".join(done.stdout.split())
    document = (tmp_path / "design.md").read_text()
    assert "# Interpretability design: Plain design" in document
    assert read_answers(tmp_path / "design.md", bank).answers == load_saved(bank).answers.answers
    # How to answer is said where a question is asked, once, not in every prompt the document quotes.
    asked = " ".join(done.stdout.split())
    several = [question.prompt for question in bank.questions.values() if question.kind == "multiple"]
    assert several and all(f"{prompt} Select all that apply." in asked for prompt in several if prompt in asked)
    assert any(prompt in asked for prompt in several) and "Select all that apply" not in document


def test_end_of_input_saves_and_exits_cleanly_then_resumes(bank):
    first = bank.meta.start
    first_choice = bank.questions[first].choices[1]
    done = run_guide("--plain", "--new", "--title", "My design", stdin=f"n\nasked the lead\n{first_choice.id}\n")
    assert done.returncode == 0
    assert "Traceback" not in done.stderr and done.stderr == ""
    last_line = done.stdout.strip().splitlines()[-1]
    assert last_line.startswith("Input ended; your answers are saved in")
    saved = load_saved(bank)
    assert saved.answers.answers == {first: first_choice.id}
    assert saved.answers.notes == {first: "asked the lead"}

    # Resume: the walk continues at the second question; b goes back to the first.
    done = run_guide("--plain", "--resume", stdin="b\n")
    assert done.returncode == 0
    assert "Question 2 " in done.stdout
    assert "Current answer: " + first_choice.label in done.stdout
    assert load_saved(bank).position == first, "the position saved is where the user stopped"


def test_numbers_ids_and_mistakes(bank):
    question = bank.questions[bank.meta.start]
    replies = ["", "99", "9" * 5000, "not-a-choice", "1 2", question.choices[2].id, "n", "-", "?"]
    done = run_guide("--plain", "--new", stdin="\n".join(replies) + "\n")
    assert done.returncode == 0, done.stderr
    assert "Type a number or an id (u for unsure)." in done.stdout
    assert f"Not a choice: 99. Type a number from 1 to {len(question.choices)}" in done.stdout
    assert "Not a choice: not-a-choice." in done.stdout
    assert f"Not a choice: {'9' * 40}." in done.stdout, "a number longer than int() converts is not a crash"
    assert "Pick one choice." in done.stdout
    saved = load_saved(bank)
    assert saved.answers.answers[question.id] == question.choices[2].id
    second = route(bank, saved.answers.answers)[1]
    expected = [UNSURE] if bank.questions[second].kind == "multiple" else UNSURE
    assert saved.answers.answers[second] == expected
    assert saved.answers.notes == {second: "-"}


def test_an_unreadable_session_is_kept_in_the_library_as_broken_and_a_new_design_starts(bank, guide_home):
    guide_home.mkdir()
    session_path().write_text("answers: [\n")
    done = run_guide("--plain", stdin="")
    assert done.returncode == 0, done.stderr
    assert (guide_home / "designs" / "design.yaml").read_text() == "answers: [\n", "moved into the library as it was"
    assert not session_path().exists()
    assert done.stdout.strip().splitlines()[-1].startswith("Input ended; your answers are saved in")
    listed = run_guide("designs", "--format", "md")
    assert "| design | design | broken (line 2: YAML: " in listed.stdout


def test_ctrl_c_saves_and_says_how_to_go_on(bank, guide_home):
    guide = plain_guide_waiting_for_an_answer(guide_home)  # --new --title First, at the first question
    guide.stdin.write(b"u\nn\nhalf a tho")  # Ctrl+C while a note is being typed
    guide.stdin.flush()
    shown = b""
    while b"Note on this question" not in shown:
        shown += os.read(guide.stdout.fileno(), 65536)
    guide.send_signal(signal.SIGINT)
    # stdin stays open until the app has ended: closed at once (communicate), the app could read the end of input
    # before the signal and end as input ending does, which a loaded machine showed.
    guide.wait(timeout=60)
    rest = guide.stdout.read()
    guide.stdin.close()
    assert guide.returncode == 130
    design = guide_home / "designs" / "first.yaml"
    assert rest.decode().strip().splitlines()[-1:] == [f"Interrupted; your answers are saved in {design}. "
                                                       "Run guide --plain --design first to go on."]
    assert load_saved(bank).answers.answers == {bank.meta.start: UNSURE}


# A guide in which SIGINT is taken by a thread other than the one that reads: Python's C handler notes it, and no
# read is interrupted by it. This holds open the window in which test_ctrl_c_saves_and_says_how_to_go_on once hung
# on a loaded machine: a signal that comes just before the read of the next line starts is noted the same way.
SIGNAL_MISSED_BY_THE_READ = """
import runpy, signal, threading, time
threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
runpy.run_module("guide", run_name="__main__")
"""


def test_ctrl_c_ends_the_wait_for_a_line_even_when_the_signal_interrupts_no_read(bank, guide_home):
    guide = subprocess.Popen([sys.executable, "-u", "-c", SIGNAL_MISSED_BY_THE_READ, "--plain", "--new", "--title",
                              "First"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env={**os.environ, "GUIDE_HOME": str(guide_home)})
    shown = b""
    while b"Answer 1-" not in shown:
        shown += os.read(guide.stdout.fileno(), 65536)
    guide.stdin.write(b"u\n")
    guide.stdin.flush()
    while shown.count(b"Answer 1-") < 2:
        shown += os.read(guide.stdout.fileno(), 65536)
    while Path(f"/proc/{guide.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "S":
        time.sleep(0.01)  # the reading thread is on its way to the wait for the next line, not yet in it
    guide.send_signal(signal.SIGINT)
    try:
        guide.wait(timeout=60)  # a guard against a hang, not a measure: it ends at once or never
    except subprocess.TimeoutExpired:
        guide.kill()
    rest = guide.stdout.read()
    guide.stdin.close()
    assert guide.wait() == 130, "still waiting for a line after Ctrl+C"
    assert rest.decode().strip().splitlines()[-1].startswith("Interrupted; your answers are saved in")
    assert load_saved(bank).answers.answers == {bank.meta.start: UNSURE}


def test_a_draft_from_the_terminal_app_is_shown_and_kept_until_an_answer_is_typed(bank):
    walk = Walk(bank)
    while walk.question.kind != "text":
        walk.answer(walk.position, [UNSURE] if walk.question.kind == "multiple" else UNSURE)
    question = walk.question
    walk.keep_draft(question.id, "Fundus photographs")
    designs_dir().mkdir(parents=True)
    save_session(walk, designs_dir() / "typed.yaml")
    done = run_guide("--plain", "--design", "typed", stdin="\nb\n")  # leave it open, come back, input ends
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert said.count("Draft, not yet your answer (an empty line keeps it): Fundus photographs") == 2
    saved = load_saved(bank)
    assert saved.drafts == {question.id: "Fundus photographs"} and question.id not in saved.answers.answers
    run_guide("--plain", "--design", "typed", stdin="Fundus photographs of diabetic patients\n")
    saved = load_saved(bank)
    assert saved.answers.answers[question.id] == "Fundus photographs of diabetic patients" and saved.drafts == {}


def test_q_stops_with_answers_saved(bank):
    done = run_guide("--plain", "--new", stdin="u\nq\n")
    assert done.returncode == 0
    assert "Stopped. Your answers are saved in" in done.stdout
    assert load_saved(bank).answers.answers == {bank.meta.start: UNSURE}


def test_plain_mode_honours_the_bank_option(bank_copy):
    (bank_copy / "bank.yaml").write_text((bank_copy / "bank.yaml").read_text().replace("id: wang2024-mlmi", "id: course-bank"))
    done = run_guide("--plain", "--new", "--bank", str(bank_copy), stdin="u\n")
    assert done.returncode == 0, done.stderr
    assert "bank_id: course-bank" in saved_path().read_text()


def test_changing_an_answer_says_which_answers_are_set_aside(bank):
    question_id, old, new, dropped = first_dropping_change(bank)
    assert question_id == bank.meta.start and len(dropped) == 1, "the replies below walk this shape"
    done = run_guide("--plain", "--new", stdin="\n".join([old, "u", "b", "b", new]) + "\n")
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert "This answer takes these answered questions off your path." in said
    assert " ".join(bank.questions[dropped[0]].prompt.split()) in said
    saved = load_saved(bank)
    assert saved.set_aside == dropped
    assert saved.answers.answers[question_id] == new


def test_a_line_that_is_not_utf8_is_asked_again_and_nothing_else_is_lost(bank):
    """Undecodable bytes were saved as U+FFFD (answers files holding them are refused): the line is refused, once
    said, and the lines around it are taken as typed."""
    done = subprocess.run([sys.executable, "-m", "guide", "--plain", "--new", "--title", "Hostile"],
                          input=b"\xfe\nn\n\x00\xff\xfe note\nT\nu\n", capture_output=True, cwd=ROOT, timeout=120)
    assert (done.returncode, done.stderr) == (0, b"")
    said = done.stdout.decode("utf-8")
    assert "\ufffd" not in said
    assert said.count("That line is not UTF-8 text, so it was not used; type it again.") == 2
    saved = load_saved(bank)
    assert saved.answers.notes == {bank.meta.start: "T"}
    assert saved.answers.answers == {bank.meta.start: UNSURE}


def test_a_file_name_may_be_any_bytes(bank, tmp_path):
    done = subprocess.run([sys.executable, "-m", "guide", "--plain", "--new"], cwd=tmp_path, timeout=120,
                          input=("\n".join(all_unsure_lines(bank)) + "\n").encode() + b"design-\xff.md\n", capture_output=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / os.fsdecode(b"design-\xff.md")).is_file()


def test_over_long_replies_are_refused_with_a_reason(bank):
    done = run_guide("--plain", "--new", "--title", "T" * 400, stdin="u\n")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("guide: error: argument --title: title: at most 300 characters are taken, and this has 400 "
                           "(see guide --help)\n")
    assert not designs_dir().exists()
    done = run_guide("--plain", "--new", stdin="n\n" + "n" * 20001 + "\nu\n")
    assert done.returncode == 0, done.stderr
    start = bank.questions[bank.meta.start].prompt
    assert (f"Note not saved: your note to \u201c{start}\u201d is 20,001 characters, 1 over the 20,000 a note may "
            "have; shorten it") in " ".join(done.stdout.split())
    saved = load_saved(bank)
    assert saved.answers.title == "Untitled design"
    assert saved.answers.answers == {bank.meta.start: UNSURE} and saved.answers.notes == {}


def test_the_results_say_which_draft_the_document_leaves_out(bank):
    """A draft kept with an empty line, as the prompt offers, is not the answer: the results said nothing of it
    before asking where to write the document, which then said "not answered" (outside9a)."""
    from .test_tui import only_text_left, save_in_library

    walk = only_text_left(bank)
    drafted = walk.left_empty[0]
    walk.keep_draft(drafted, "No masks: only lesion centres.")
    save_in_library(walk, "knee")
    asked = walk.path[walk.path.index(walk.position):]  # each kept with an empty line; then the input ends
    done = run_guide("--plain", "--design", "knee", "--resume", stdin="\n" * len(asked))
    said = " ".join(done.stdout.split())
    assert f"1 draft not yet the answer, so not in the document: {bank.questions[drafted].prompt}" in said


def test_a_title_of_characters_that_show_as_nothing_is_no_title(bank):
    """Zero-width spaces are dropped wherever a title is shown: a title of them alone was taken, and the design
    was listed with a blank title; spaces alone give "Untitled design"."""
    done = run_guide("--plain", "--new", "--title", "\u200b\u200b", stdin="u\n")
    assert done.returncode == 0, done.stderr
    assert load_saved(bank).answers.title == "Untitled design"


def test_an_over_long_text_answer_is_refused_in_the_users_terms_and_asked_again(bank):
    """A 20,001-character answer got the validator's "answers.use_case_summary.constrained-str: String should have
    at most 20000 characters": the question, the limit and how far over say it, as the terminal app's toast does."""
    lines = all_unsure_lines(bank)
    first_text = next(index for index, question_id in enumerate(route(bank, {}))
                      if bank.questions[question_id].kind == "text")
    lines[first_text:first_text] = ["w" * 20_345]
    done = run_guide("--plain", "--new", stdin="\n".join(lines) + "\nq\n")
    assert done.returncode == 0, done.stderr
    prompt = bank.questions[route(bank, {})[first_text]].prompt
    assert (f"Not saved, please answer again: your answer to \u201c{prompt}\u201d is 20,345 characters, 345 over the "
            "20,000 an answer may have; shorten it") in " ".join(done.stdout.split())
    assert "constrained-str" not in done.stdout


# ---------------------------------------------------------------------------------------------
# The line protocol a script can rely on (docs/user-guide/plain-mode.md).

PLAIN_MODE_PAGE = ROOT / "docs" / "user-guide" / "plain-mode.md"


def documented_example() -> str:
    """The plain-mode example of the user guide, exactly as a reader would copy it."""
    page = PLAIN_MODE_PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(guide --plain .*?)```", page, re.DOTALL)
    assert len(blocks) == 1, f"{PLAIN_MODE_PAGE.name} shows one plain-mode example"
    return blocks[0]


def test_the_documented_example_runs_as_written(bank, guide_home, tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["sh", "-c", documented_example()], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "Stopped. Your answers are saved in" in done.stdout
    saved = load_saved(bank)
    assert saved.answers.title == "Knee OA grading"
    third = route(bank, saved.answers.answers)[2]
    assert saved.answers.answers == {"task": "diagnosis_classification", "modality": "radiograph",
                                     third: [UNSURE] if bank.questions[third].kind == "multiple" else UNSURE}
    assert saved.answers.notes == {"modality": "Weight-bearing PA views only."}


def test_piped_input_is_asked_no_question_an_option_settles(bank):
    first = bank.meta.start
    done = run_guide("--plain", "--new", "--title", "Scripted", stdin="u\nu\n")
    assert done.returncode == 0, done.stderr
    assert "Title of this design" not in done.stdout and "Note" not in done.stdout
    saved = load_saved(bank)
    assert saved.answers.title == "Scripted"
    assert list(saved.answers.answers) == [first, route(bank, saved.answers.answers)[1]], "two lines, two answers"

    # A saved design: without --new, --resume or --design a script is told to choose, and nothing changes.
    scripted = designs_dir() / "scripted.yaml"
    before = scripted.read_bytes()
    refused = run_guide("--plain", stdin="u\n")
    assert refused.returncode == 2 and refused.stdout == ""
    left = saved.left_in_words()  # the questions and the text questions left on its path
    assert refused.stderr == (f"guide: {designs_dir()}: holds saved designs, the latest “Scripted” (scripted, "
                              f"unfinished, {left}): --resume continues it, --new starts another, "
                              "--design NAME picks one (guide designs lists them)\n")
    assert run_guide("--plain", "--new", "--design", "scripted", stdin="u\n").returncode == 2
    assert scripted.read_bytes() == before, "--new without --replace never replaces a design"

    resumed = run_guide("--plain", "--resume", "--title", "Renamed", stdin="1\n")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resume" not in resumed.stdout
    saved = load_saved(bank)
    assert saved.answers.title == "Renamed" and len(saved.answers.answers) == 3
    assert sorted(designs_dir().glob("*.yaml")) == [scripted], "renamed, the design keeps its file"

    other = run_guide("--plain", "--new", "--title", "Other", stdin="u\n")
    assert other.returncode == 0, other.stderr
    assert (designs_dir() / "other.yaml").is_file() and scripted.read_bytes() != before, "--new adds a design"

    replaced = run_guide("--plain", "--new", "--design", "scripted", "--replace", "--title", "Fresh", stdin="")
    assert replaced.returncode == 0, replaced.stderr
    assert load_saved(bank).answers.answers == {} and load_saved(bank).answers.title == "Fresh"
    assert saved_path() == scripted


def test_design_picks_one_design_to_resume_or_start(bank):
    """--design NAME: a new design under that name, then that one resumed, whichever was changed last."""
    first = run_guide("--plain", "--design", "knee", "--title", "Knee", stdin="u\n")
    assert first.returncode == 0, first.stderr
    assert first.stdout.endswith(f"your answers are saved in {designs_dir() / 'knee.yaml'}. "
                                 "Run guide --plain --design knee to go on.\n")
    assert run_guide("--plain", "--new", "--title", "Chest", stdin="u\nu\n").returncode == 0
    again = run_guide("--plain", "--design", "knee.yaml", stdin="1\n")
    assert again.returncode == 0, again.stderr
    assert load_saved(bank).answers.title == "Knee" and len(load_saved(bank).answers.answers) == 2
    missing = run_guide("--plain", "--design", "hip", "--resume", stdin="")
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == (f"guide: {designs_dir() / 'hip.yaml'}: there is no such design to resume "
                              "(guide designs lists them)\n")
    listed = run_guide("designs", "--format", "json")
    assert [(entry["name"], entry["title"], entry["state"]) for entry in json.loads(listed.stdout)] == \
        [("knee", "Knee", "unfinished"), ("chest", "Chest", "unfinished")]


@pytest.mark.parametrize("name", ["../outside", "a/b", ".hidden", "x\nguide: forged", "\x1b[31mred", "/etc/passwd", "",
                                  " spaced ", "knee "])
def test_a_design_name_cannot_leave_the_library_or_forge_output(bank, guide_home, name):
    done = run_guide("--plain", "--design", name, stdin="u\n")
    assert (done.returncode, done.stdout) == (2, "")
    assert len(done.stderr.splitlines()) == 1 and "is not a design name: a name is one plain file name in the " \
        "designs folder, with no '/', no leading dot, no control characters" in done.stderr
    assert "\x1b" not in done.stderr
    assert not list(guide_home.parent.rglob("*.yaml")), "nothing was written anywhere"


def test_a_design_name_refused_for_a_control_character_shows_it(bank, guide_home):
    """A tab was shown as a space ('tab here'), hiding the very character the message says is not allowed."""
    done = run_guide("--plain", "--design", "tab\there", stdin="u\n")
    assert done.returncode == 2
    assert "'tab\\there' is not a design name" in done.stderr


@pytest.mark.parametrize("name", ["a b", "UPPER", "ü"])
def test_a_design_name_of_the_users_own_is_kept_as_given_and_said_quoted(bank, guide_home, name):
    """The rule the refusal states is the whole rule: any other plain file name is a name the user may choose."""
    done = run_guide("--plain", "--design", name, "--new", stdin="u\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"Run guide --plain --design {shlex.quote(name)} to go on.\n")
    assert (designs_dir() / f"{name}.yaml").is_file()
    again = run_guide("--plain", "--design", name, "--resume", stdin="u\n")
    assert again.returncode == 0 and len(load_saved(bank).answers.answers) == 2


def test_a_hostile_title_names_a_safe_file_and_lists_as_text(bank, guide_home):
    title = "../../x\u202e/..\\ | *bold* \x1b[2J"
    done = run_guide("--plain", "--new", "--title", title, stdin="u\n")
    assert done.returncode == 0, done.stderr
    [path] = designs_dir().glob("*.yaml")
    assert path.name == "x-bold.yaml"
    listed = run_guide("designs", "--format", "md").stdout
    assert "\x1b" not in listed and "\u202e" not in listed
    rows = [line for line in listed.splitlines() if line.startswith("| x-bold ")]
    assert len(rows) == 1 and "\\|" in rows[0], "the title's | cannot open a table column"


def test_resume_without_a_saved_design_is_a_one_line_error(bank):
    done = run_guide("--plain", "--resume", stdin="u\n")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"guide: {designs_dir()}: there is no saved design to resume\n"
    assert not list(designs_dir().iterdir())


def test_the_results_count_open_questions_in_words(bank):
    """"1 open question(s); the document lists what to find out." """
    answers = read_answers(bank.cases()["dr-screening"], bank)
    designs_dir().mkdir(parents=True)
    save_session(Walk(bank, answers.revised(answers=answers.answers)), designs_dir() / "knee.yaml")
    done = run_guide("--plain", "--design", "knee", stdin="")
    assert done.returncode == 0, done.stderr
    assert "\n1 open question; the document lists what to find out.\n" in done.stdout


def test_end_of_input_keeps_the_last_answer_and_a_note_not_yet_answered(bank):
    first = bank.meta.start
    done = run_guide("--plain", "--new", stdin="u\n")
    assert done.returncode == 0, done.stderr
    assert load_saved(bank).answers.answers == {first: UNSURE}, "the last answer before end of input is kept"

    done = run_guide("--plain", "--resume", stdin="n\nto be confirmed with the lead\n")
    assert done.returncode == 0, done.stderr
    saved = load_saved(bank)
    second = saved.path[1]
    assert saved.answers.answers == {first: UNSURE}
    assert saved.answers.notes == {second: "to be confirmed with the lead"}, "a note is saved before its answer"


def run_at_a_terminal(*args: str, typed: bytes) -> subprocess.CompletedProcess:
    """`guide` with a terminal on stdin (a pseudo-terminal), as a person at a keyboard; ^D ends the input."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "guide", *args], stdin=terminal, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, cwd=ROOT)
        os.write(controller, typed + b"\x04")
        stdout, stderr = process.communicate(timeout=120)
    finally:
        os.close(terminal)
        os.close(controller)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout.decode(), stderr.decode())


def test_at_a_terminal_it_asks_which_and_never_replaces(bank):
    walk = Walk(bank)
    walk.retitle("Keep me")
    walk.answer(bank.meta.start, UNSURE)
    save_session(walk, session_path())  # where guide kept its one design before the library
    before = session_path().read_bytes()

    # "n" to resume starts another design, asking its title; the first one stays as it was.
    done = run_at_a_terminal("--plain", typed=b"n\nAnother design\n")
    assert done.returncode == 0, done.stderr
    assert f"Resume “Keep me” (unfinished, {walk.left_in_words()})? [Y/n] " in done.stdout
    assert (designs_dir() / "keep-me.yaml").read_bytes() == before, "moved into the library unchanged"
    saved = load_saved(bank)
    assert saved.answers.title == "Another design" and saved.answers.answers == {}
    assert saved_path() == designs_dir() / "another-design.yaml"

    done = run_at_a_terminal("--plain", typed=b"\n1\n")
    assert done.returncode == 0, done.stderr
    assert "Resume “Another design”" in done.stdout, "the latest design is offered"


# ---------------------------------------------------------------------------------------------
# Saves that fail: every one is reported, none is called a success, and nothing typed is lost.


def unwritable_session(tmp_path, monkeypatch) -> Path:
    """A design whose file cannot be replaced, as a folder in its place, even by root: every save fails after the
    run has started (a designs folder that cannot be made stops it before)."""
    monkeypatch.setenv("TMPDIR", str(tmp_path / "rescue"))
    (tmp_path / "rescue").mkdir()
    session = designs_dir() / "unsaved.yaml"
    session.mkdir(parents=True)
    return session


@pytest.mark.parametrize("typed, last_words", [("u\nu\nq\n", "Stopped."), ("u\nu\n", "Input ended.")])
def test_failed_saves_are_each_reported_never_called_saved_and_kept_elsewhere(bank, tmp_path, monkeypatch, typed,
                                                                              last_words):
    session = unwritable_session(tmp_path, monkeypatch)
    done = run_guide("--plain", "--new", "--replace", "--design", "unsaved", "--title", "Unsaved", stdin=typed)
    assert done.returncode == 1, "the last save failed"
    attempts = 3 + (last_words == "Input ended.")  # the new design, two answers, and once more at end of input
    assert done.stderr.splitlines() == [f"guide: {session}: cannot save the session: Is a directory"] * attempts
    said = " ".join(done.stdout.split())
    after_the_introduction = said.split("Your answers are saved after each one.", 1)[1]
    assert "are saved" not in after_the_introduction and "Saved" not in after_the_introduction
    assert f"{last_words} Your answers are NOT saved in {session} (cannot save the session: Is a directory)." in said
    [rescued] = (tmp_path / "rescue").iterdir()
    assert f"They are in {rescued} instead; copy that file to {session}" in said
    kept = read_answers(rescued, bank)
    assert kept.title == "Unsaved" and kept.answers == {question: UNSURE for question in route(bank, {})[:2]}


@pytest.mark.parametrize("state_folder", ["/dev/null", "a regular file"])
def test_a_state_folder_that_cannot_hold_designs_is_refused_before_anything_is_asked(tmp_path, monkeypatch,
                                                                                     state_folder):
    """It used to take every answer, then end with advice to copy a file into /dev/null/designs; now it refuses
    up front, as `guide designs` does."""
    if state_folder == "a regular file":
        state_folder = str(tmp_path / "a-file")
        Path(state_folder).write_text("")
    monkeypatch.setenv("GUIDE_HOME", state_folder)
    refusal = f"guide: {state_folder}/designs: cannot make the designs folder: Not a directory\n"
    listed = run_guide("designs")
    assert (listed.returncode, listed.stdout, listed.stderr) == (2, "", refusal)
    done = run_guide("--plain", "--new", "--title", "X", stdin="u\nq\n")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", refusal)


def test_when_no_file_can_be_written_the_answers_are_printed(bank, monkeypatch):
    """A full disk: the session cannot be saved and no rescue file written either."""
    import io

    from guide import plain

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plain, "save_session", lambda walk, path: (_ for _ in ()).throw(
        GuideError(session_path(), None, None, "cannot save the session: No space left on device")))
    monkeypatch.setattr(plain, "save_elsewhere", full_disk)
    stdout = io.StringIO()
    conversation = plain.Conversation(bank, io.StringIO("u\nn\nasked the lead\nq\n"), stdout, new=True)
    assert conversation.run(None) == plain.EXIT_NOT_SAVED
    printed = stdout.getvalue().split("Here they are, as the session file would hold them:\n")[1]
    assert yaml.safe_load(printed)["answers"] == {bank.meta.start: UNSURE}
    assert yaml.safe_load(printed)["notes"] == {route(bank, {bank.meta.start: UNSURE})[1]: "asked the lead"}


# ---------------------------------------------------------------------------------------------
# Replies that used to end in a traceback, and where the document goes.


def test_odd_replies_and_paths_get_a_sentence_not_a_traceback(bank, tmp_path):
    real = tmp_path / "kept" / "design.md"
    real.parent.mkdir()
    real.write_text("old\n")
    (tmp_path / "design.md").symlink_to(real)
    lines = ["²", *all_unsure_lines(bank), "~nosuchuser/design.md", str(tmp_path / "design.md"), "y"]
    done = run_guide("--plain", "--new", stdin="\n".join(lines) + "\n", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    said = " ".join(done.stdout.split())
    assert "Not a choice: ². Type a number from 1 to" in said
    assert "Cannot write there: ~nosuchuser/design.md: no home folder for this ~ (no such user?)" in said
    assert "Replace design.md? [y/N]" in said
    assert (tmp_path / "design.md").is_symlink(), "the document is written through the link"
    assert read_answers(real, bank).answers == load_saved(bank).answers.answers


def test_the_document_name_must_say_its_format_and_an_existing_file_is_replaced_only_when_agreed(bank, tmp_path):
    """A stray `u` typed after answering Unsure once wrote a Markdown file named `u`; an existing file was
    replaced without a word (the app asks first)."""
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "k.md").write_text("mine\n")
    lines = [*all_unsure_lines(bank), "u", "k.pdf", "new/", "k.md.", "k.md", "", "k.md", "n", "k.md", "y"]
    done = run_guide("--plain", "--new", stdin="\n".join(lines) + "\n", cwd=folder)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    said = " ".join(done.stdout.split())
    assert "u: guide writes Markdown, HTML or JSON: end the name in .md, .html or .json." in said
    assert "k.pdf: guide writes Markdown, HTML or JSON: end the name in .md, .html or .json, not .pdf." in said
    assert "new/: ends in /: give a file name." in said, "a name ending in / names a folder, not a file named new"
    assert "k.md.: the name ends in a dot, which says no format: drop the dot." in said, "a typo is not written as named"
    assert said.count("Replace k.md? [y/N]") == 3, "an empty line and n both keep the file and ask for a name again"
    assert said.count("Write the design document to") == 7
    assert sorted(path.name for path in folder.iterdir()) == ["k.md"]
    assert read_answers(folder / "k.md", bank).answers == load_saved(bank).answers.answers
