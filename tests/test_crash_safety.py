"""Crash safety: real `guide --plain` sessions killed with SIGKILL at random moments, then resumed;
and saved designs that plain mode must never lose (another bank's, an older version's, unreadable ones).

A driver answers the questions over stdin as fast as they come and records every answer the
program has shown as saved: an answer counts as saved once the program has printed anything
after it, because the session is written before the next question is shown. At a random moment
the process is killed with SIGKILL. The session file must then read back, and it must hold every
answer shown as saved. The next run resumes the same session, so one test exercises many kills
of one growing design.
"""

from __future__ import annotations

import json
import os
import random
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guide.frontend import SEVERAL_CHOICES
from guide.load import load_bank
from guide.model import END
from guide.report.text import inert
from guide import session as session_module
from guide.session import SessionInUse, SessionLock, Walk, load_session, save_session
from guide.source import GuideError
from guide.state import designs_dir

from .conftest import ROOT, load_saved, run_guide, saved_path

KILLS = 24
PROMPT = re.compile(r"(?:Answer 1-(?P<count>\d+) or an id.*: |(?P<text>Answer in one paragraph).*: "
                    r"|(?P<note>Note) on this question.*: |(?P<write>Write) the design document to.*: )$")
# The prompt may wrap over several lines; the indented help text follows it.
QUESTION = re.compile(r"Question \d+ \(\d+ more on this path\): (?P<prompt>.*?)\n  \S", re.DOTALL)


class Driver:
    """Answers prompts of one `guide --plain` process; knows which answers were shown as saved."""

    def __init__(self, home: Path, rng: random.Random, bank, start: list[str]) -> None:
        self.rng, self.bank = rng, bank
        # As plain mode asks: a question of several choices says so after its prompt.
        self.prompts = {inert(question.prompt) + (f" {SEVERAL_CHOICES}" if question.kind == "multiple" else ""): question
                        for question in bank.questions.values()}
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "guide", "--plain", *start], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, "GUIDE_HOME": str(home), "PYTHONPATH": str(ROOT)})
        self.output = ""
        self.pending: tuple[str, object] | None = None  # answered, not yet shown as saved
        self.saved: dict[str, object] = {}
        self.question = None  # the question being asked (after a note it is asked again without its text)

    def send(self, line: str) -> None:
        self.process.stdin.write((line + "\n").encode())
        self.process.stdin.flush()

    def step(self, until: float) -> bool:
        """Read output until a prompt, answer it; False once the process ended or time is up."""
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        try:
            while time.monotonic() < until:
                if not selector.select(timeout=max(0.0, until - time.monotonic())):
                    return False
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    return False
                self.output += chunk.decode("utf-8", "replace")
                if self.pending:  # anything printed after an answer means it was saved
                    question_id, value = self.pending
                    self.saved[question_id] = value
                    self.pending = None
                match = PROMPT.search(self.output[-400:])
                if match:
                    self.answer(match)
                    return True
            return False
        finally:
            selector.close()

    def answer(self, match: re.Match) -> None:
        kind = match.lastgroup
        asked = QUESTION.findall(self.output)
        if asked:
            self.question = self.prompts[" ".join(asked[-1].split())]
        self.output = ""
        if kind == "write":
            self.send("q")
        elif kind == "note":
            self.send(self.rng.choice(["", "a note"]))
        elif self.rng.random() < 0.2:  # a note first; the question is asked again after it
            self.send("n")
        else:
            question = self.question
            if question.kind == "text":
                text = self.rng.choice(["Some words.", "Other words about the project."])
                self.pending = (question.id, text)
                self.send(text)
            else:
                number = self.rng.randint(1, int(match.group("count")))
                picked = question.choices[number - 1].id
                self.pending = (question.id, picked if question.kind == "single" else [picked])
                self.send(str(number))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process.stdout.close()
        self.process.stdin.close()


def test_sigkill_at_random_moments_loses_no_saved_answer(bank, tmp_path):
    rng = random.Random(20240601)
    session = tmp_path / "home" / "designs" / "crash-test.yaml"
    design = ["--design", "crash-test"]
    expected: dict[str, object] = {}
    kills_while_answering = 0
    for round_number in range(KILLS):
        # A design that reached its results is replaced by a new one, so the walk never runs out.
        if not session.exists():
            start = [*design, "--new", "--title", "Crash test"]
        elif load_session(bank, session).position == END:
            start, expected = [*design, "--new", "--replace", "--title", "Crash test"], {}
        else:
            start = [*design, "--resume"]
        driver = Driver(tmp_path / "home", rng, bank, start)
        if rng.random() < 0.2:  # killed while starting and reading the saved session
            time.sleep(rng.uniform(0.0, 0.6))
        elif driver.step(time.monotonic() + 60):  # killed while answering
            kill_at = time.monotonic() + rng.uniform(0.0, 0.5)
            while driver.step(kill_at):
                pass
        driver.kill()
        kills_while_answering += bool(driver.saved or driver.pending)
        expected.update(driver.saved)
        if not session.exists():
            assert not expected, f"round {round_number}: the session file is gone"
            continue
        walk = load_session(bank, session)  # raises on a corrupt or half-written file
        lost = {question: value for question, value in expected.items() if walk.values.get(question) != value}
        assert not lost, f"round {round_number}: answers shown as saved are missing or changed: {lost}"
    assert kills_while_answering >= KILLS // 2, "too few kills landed while answers were being saved"


# ---------------------------------------------------------------------------------------------
# Saved designs plain mode must never lose.


def test_guide_designs_shows_names_and_reasons_as_they_are_not_escaped_for_markdown(guide_home):
    """A reason "did not find expected ',' or ']'" showed as "'\\]'", and a folder named with an underscore (as
    the test's own is) as "\\_": Markdown's escapes, stray backslashes in a terminal. The default listing is now
    columns; --format md stays a Markdown table."""
    (guide_home / "designs").mkdir(parents=True)
    (guide_home / "designs" / "my_knee.yaml").write_text("title: Knee [OA]\nanswers: {task: [a, b}\n", encoding="utf-8")
    listed = run_guide("designs")
    assert listed.returncode == 0, listed.stderr
    assert "\\" not in listed.stdout
    assert f"Designs in {guide_home / 'designs'}, the most recently changed first:" in listed.stdout
    header, row = listed.stdout.splitlines()[2:4]
    assert header.split() == ["Name", "Title", "State", "Changed", "File"]
    assert row.startswith("my_knee  my_knee  broken (line 2: YAML: ") and "expected ',' or ']'" in row
    assert row.endswith("  my_knee.yaml") and row.index("broken") == header.index("State")
    assert "| my\\_knee |" in run_guide("designs", "--format", "md").stdout


def test_guide_designs_keeps_its_columns_narrow_for_a_long_problem_or_title(guide_home):
    """A broken design whose problem lists all 14 choices of a question made the State column, and so every row,
    383 characters wide: an 80-column terminal wrapped each row five times. A long title or problem is cut after
    a whole word with an ellipsis; --format json and md keep it whole."""
    designs = guide_home / "designs"
    designs.mkdir(parents=True)
    (designs / "broken.yaml").write_text("title: Broken\nanswers:\n  task: nonsense\n", encoding="utf-8")
    long_title = " ".join(["word"] * 60)[:300]
    (designs / "long.yaml").write_text(f"title: {long_title}\n", encoding="utf-8")
    listed = run_guide("designs")
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()[2:]
    assert max(len(row) for row in rows) <= 190, rows
    [broken] = [row for row in rows if row.startswith("broken ")]
    assert "broken (line 3: answers.task: unknown choice 'nonsense'" in broken and "… " in broken
    assert "word word…" in next(row for row in rows if row.startswith("long "))
    whole = json.loads(run_guide("designs", "--format", "json").stdout)
    assert {entry["name"]: entry["description"] for entry in whole}["broken"].endswith("unsure))")
    assert long_title in run_guide("designs", "--format", "md").stdout


def test_guide_designs_cuts_a_long_problem_before_what_to_do_about_it(guide_home):
    """A design made with a newer bank showed "... newer than this guide's bank (version…": the cut fell before
    the part that says what to do, which is the part a user needs."""
    designs = guide_home / "designs"
    designs.mkdir(parents=True)
    (designs / "future.yaml").write_text("title: Future\nbank_id: wang2024-mlmi\nbank_version: 99.0.0\nanswers: {}\n",
                                         encoding="utf-8")
    listed = run_guide("designs")
    assert listed.returncode == 0, listed.stderr
    [row] = [row for row in listed.stdout.splitlines() if row.startswith("future ")]
    assert row.startswith("future  future  broken (line 3: bank_version: made") and len(row) <= 190, row
    assert "open it with a guide whose bank is version 99.0.0 or later)  " in row, row


def test_a_design_of_another_bank_is_listed_and_kept_untouched(bank, bank_copy, guide_home):
    meta = bank_copy / "bank.yaml"
    meta.write_text(meta.read_text().replace("id: wang2024-mlmi", "id: course-bank"))
    started = run_guide("--plain", "--new", "--bank", str(bank_copy), "--title", "Course design", stdin="u\n")
    assert started.returncode == 0, started.stderr
    session = guide_home / "designs" / "course-design.yaml"
    before = session.read_bytes()
    listed = run_guide("designs", "--format", "md").stdout
    assert "| course-design | Course design | saved with question bank 'course-bank' |" in listed
    for options in (["--design", "course-design"], ["--design", "course-design", "--resume"]):
        done = run_guide("--plain", *options, stdin="u\n")
        assert done.returncode == 2, options
        assert done.stdout == "" and done.stderr.count("\n") == 1
        assert f"guide: {session}:5: bank_id: saved with question bank 'course-bank', not 'wang2024-mlmi'" in done.stderr
    assert run_guide("--plain", "--resume", stdin="u\n").returncode == 2, "not this bank's design to resume"
    assert session.read_bytes() == before, "the design of another bank is left as it is"
    resumed = run_guide("--plain", "--resume", "--bank", str(bank_copy), stdin="")
    assert resumed.returncode == 0 and "Current answer" not in resumed.stdout
    assert "Question 2 " in resumed.stdout, "it resumes with its own bank"


def test_the_single_session_of_earlier_versions_moves_into_the_library_even_unreadable(bank, guide_home):
    """Each run finds a session.yaml (as an older guide left it) and moves it in under a name of its own:
    nothing is overwritten, and a broken one is listed as broken, not dropped."""
    guide_home.mkdir()
    session = guide_home / "session.yaml"
    contents = ["answers: [\n", "position: {\n", "\x00 not yaml\n"]
    for content in contents:
        session.write_text(content)
        listed = run_guide("designs", "--format", "json")
        assert listed.returncode == 0, listed.stderr
        assert not session.exists()
    designs = guide_home / "designs"
    assert [(designs / name).read_text() for name in ("design.yaml", "design-2.yaml", "design-3.yaml")] == contents
    states = [entry["state"] for entry in json.loads(listed.stdout)]
    assert states == ["broken"] * 3
    walk = Walk(bank)
    walk.retitle("Knee study")
    walk.answer(bank.meta.start, "screening_triage")
    save_session(walk, session)
    before = session.read_bytes()
    done = run_guide("--plain", "--resume", stdin="")
    assert done.returncode == 0, done.stderr
    assert (designs / "knee-study.yaml").read_bytes() == before, "a readable one keeps its answers and resumes"


def test_a_fifo_among_the_designs_is_listed_as_broken_without_waiting(guide_home):
    """Reading it waited for a writer: `guide designs` hung (run_guide's timeout fails the test)."""
    (guide_home / "designs").mkdir(parents=True)
    os.mkfifo(guide_home / "designs" / "pipe.yaml")
    listed = run_guide("designs", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    [design] = json.loads(listed.stdout)
    assert (design["name"], design["description"]) == ("pipe", "broken (is a FIFO, not a YAML file)")


def test_a_design_that_is_a_link_to_nothing_says_when_the_link_was_made_not_1970(guide_home):
    (guide_home / "designs").mkdir(parents=True)
    (guide_home / "designs" / "gone.yaml").symlink_to(guide_home / "elsewhere.yaml")
    listed = run_guide("designs", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    [design] = json.loads(listed.stdout)
    assert design["name"] == "gone" and design["description"].startswith("broken")
    assert not design["changed"].startswith("1970"), design


SESSION_OF_BANK_1 = """\
title: Made with 1.0.0
bank_id: wang2024-mlmi
bank_version: 1.0.0
answers:
  task: screening_triage
  regulatory_pathway: medical_device_certification
notes:
  regulatory_pathway: CE marking planned.
set_aside:
  user_correction: correct_at_use_time
position: regulatory_pathway
"""


def test_a_session_of_an_older_bank_version_is_migrated_not_broken(bank, guide_home):
    """The built-in bank 2.1.0 migrates 1.0.0: a question renamed, a choice renamed (here in a set-aside answer)."""
    assert bank.meta.version == "2.1.0" and "regulatory_pathway" not in bank.questions
    guide_home.mkdir(exist_ok=True)
    session = guide_home / "session.yaml"
    session.write_text(SESSION_OF_BANK_1)
    done = run_guide("--plain", "--resume", stdin="")
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert f"): {inert(bank.questions['regulatory_context'].prompt)}" in said, "it goes on where it was"
    walk = load_saved(bank)
    assert walk.values == {"task": "screening_triage", "regulatory_context": "medical_device_certification",
                           "user_correction": "correct_concepts"}
    assert walk.answers.notes == {"regulatory_context": "CE marking planned."}
    assert walk.position == "regulatory_context"
    assert (walk.answers.bank_version, walk.answers.migrated_from) == ("2.1.0", "1.0.0")


def test_a_migrated_session_at_a_removed_question_goes_on_at_the_first_open_one(bank_copy, guide_home):
    meta = bank_copy / "bank.yaml"
    meta.write_text(meta.read_text().replace("renamed: {regulatory_pathway: regulatory_context}",
                                             "renamed: {regulatory_pathway: regulatory_context}\n    removed: [gone]"))
    guide_home.mkdir(exist_ok=True)
    session = guide_home / "session.yaml"
    session.write_text(SESSION_OF_BANK_1.replace("position: regulatory_pathway", "position: gone")
                       .replace("  task: screening_triage\n", "  task: screening_triage\n  gone: Old words.\n"))
    done = run_guide("--plain", "--resume", "--bank", str(bank_copy), stdin="")
    assert done.returncode == 0, done.stderr
    walk = load_session(load_bank(bank_copy), saved_path())
    assert "gone" not in walk.values and "regulatory_context" in walk.values
    assert walk.position == walk.first_open()


def test_a_design_whose_position_names_no_question_is_listed_and_resumes_at_the_first_open_one(bank, guide_home):
    """The position is only where to go on: edited by hand to name no question, it breaks none of the answers."""
    walk = Walk(bank)
    walk.answer(walk.position, walk.question.choices[0].id)
    designs_dir().mkdir(parents=True)
    design = designs_dir() / "edited.yaml"
    save_session(walk, design)
    design.write_text(re.sub(r"(?m)^position: .*$", "position: nowhere", design.read_text()))
    listed = run_guide("designs")
    assert listed.returncode == 0 and "edited" in listed.stdout and "broken" not in listed.stdout, listed.stdout
    done = run_guide("--plain", "--resume", "--design", "edited", stdin="")
    assert done.returncode == 0, done.stderr
    resumed = load_session(bank, design)
    assert resumed.answers.answers == walk.answers.answers and resumed.position == walk.first_open()


# ---------------------------------------------------------------------------------------------
# Two guides on one session: the second is refused, so neither overwrites the other's answers.


def plain_guide_waiting_for_an_answer(home: Path) -> subprocess.Popen:
    """A `guide --plain --new` that has shown its first question and waits for the reply."""
    process = subprocess.Popen([sys.executable, "-u", "-m", "guide", "--plain", "--new", "--title", "First"],
                               cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env={**os.environ, "GUIDE_HOME": str(home), "PYTHONPATH": str(ROOT)})
    shown = b""
    deadline = time.monotonic() + 60
    while b"Answer 1-" not in shown and time.monotonic() < deadline:
        shown += os.read(process.stdout.fileno(), 65536)
    assert b"Answer 1-" in shown, shown
    return process


def test_a_second_guide_on_the_same_design_is_refused_and_changes_nothing(bank, guide_home):
    first = plain_guide_waiting_for_an_answer(guide_home)
    try:
        session = guide_home / "designs" / "first.yaml"
        before = session.read_bytes()
        refusal = (f"guide: {session}: this design is open in another guide (process {first.pid}); finish there "
                   "first, or work on another design\n")
        for options in (["--resume"], ["--design", "first"], ["--design", "first", "--new", "--replace"]):
            second = run_guide("--plain", *options, stdin="u\nu\n")
            assert (second.returncode, second.stdout, second.stderr) == (2, "", refusal), options
        assert session.read_bytes() == before
        other = run_guide("--plain", "--new", "--title", "Second", stdin="u\n")
        assert other.returncode == 0, "another design can be worked on at the same time"
    finally:
        first.communicate(b"u\nq\n", timeout=60)
    assert load_session(bank, session).answers.title == "First"
    assert sorted(path.name for path in session.parent.iterdir()) == ["first.yaml", "second.yaml"], \
        "a guide that has ended leaves no lock file among the designs"
    after = run_guide("--plain", "--design", "first", stdin="q\n")
    assert after.returncode == 0, "once the first guide has ended, the design is free again"


def test_a_lock_file_removed_as_the_guide_before_let_go_is_not_taken_for_the_lock(tmp_path, monkeypatch):
    """A guide opens the lock file just as the guide holding it lets go (and removes it) and a third makes a
    new one: the lock the second then gets on the removed file must not count, or two guides would write."""
    design = tmp_path / "design.yaml"
    holder = SessionLock(design)
    locks = [holder]
    lock_file = session_module.fcntl.flock

    def let_go_and_let_a_third_in(descriptor: int, operation: int) -> None:
        monkeypatch.setattr(session_module.fcntl, "flock", lock_file)
        holder.release()
        locks.append(SessionLock(design))
        lock_file(descriptor, operation)

    monkeypatch.setattr(session_module.fcntl, "flock", let_go_and_let_a_third_in)
    with pytest.raises(SessionInUse, match=f"process {os.getpid()}"):
        SessionLock(design)
    locks[-1].release()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("reached", ["as it is", "through a link", "through .."])
def test_no_command_writes_over_a_saved_design_open_or_not(bank, guide_home, tmp_path, reached):
    """`guide run --out` replaced a saved design with a document (exit 0): listed as broken, its drafts,
    position and set-aside answers gone, even while another guide had it open under its lock."""
    first = plain_guide_waiting_for_an_answer(guide_home)
    session = guide_home / "designs" / "first.yaml"
    (tmp_path / "link.md").symlink_to(session)
    out = {"as it is": session, "through a link": tmp_path / "link.md",
           "through ..": guide_home / "designs" / ".." / "designs" / session.name}[reached]
    # A name ending in .yaml is refused by its name before the folder is looked at; a link named .md is not.
    refusal = (f"guide: {out}: is in {guide_home / 'designs'}, the folder that holds guide's saved designs; "
               "write the document elsewhere\n" if out.suffix == ".md" else
               f"guide run: error: --out {session.name}: this command writes Markdown, HTML or JSON: end the name in "
               ".md, .html or .json, not .yaml (see guide run --help)\n")
    try:
        before = session.read_bytes()
        refused = run_guide("run", "--case", "dr-screening", "--out", str(out))
        assert (refused.returncode, refused.stdout, refused.stderr) == (2, "", refusal)
        assert session.read_bytes() == before, "open"
    finally:
        first.communicate(b"u\nq\n", timeout=60)
    before = session.read_bytes()
    refused = run_guide("run", "--case", "dr-screening", "--out", str(out))
    assert (refused.returncode, refused.stdout, refused.stderr) == (2, "", refusal)
    assert session.read_bytes() == before, "closed"
    assert load_session(bank, session).answers.title == "First"


@pytest.mark.parametrize("command, name", [(["run", "--case", "dr-screening"], "document.md"),
                                           (["codebook"], "codebook.md"), (["graph"], "graph.mmd"),
                                           (["what-if", "--case", "dr-screening", "--set", "task=detection"], "w.md"),
                                           (["schema"], "schemas")])
def test_no_command_writes_a_new_file_into_the_designs_folder(guide_home, command, name):
    """A document there would be listed as a broken design: one line, exit 2, nothing written."""
    (guide_home / "designs").mkdir(parents=True)
    out = guide_home / "designs" / name
    refused = run_guide(*command, "--out", str(out))
    assert (refused.returncode, refused.stdout) == (2, ""), refused.stderr
    written = "schemas" if command == ["schema"] else "document"
    assert refused.stderr == (f"guide: {out}: is in {guide_home / 'designs'}, the folder that holds guide's saved "
                              f"designs; write the {written} elsewhere\n")
    assert list((guide_home / "designs").iterdir()) == []


OTHER_USER = 54321
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="making another user's folder, or being one, needs root")


def shared_state_home(tmp_path: Path, layout: str) -> Path:
    """An XDG_STATE_HOME whose `guide` folder is another user's, or lies in a folder anyone can write."""
    state = tmp_path / "state"
    (state / "guide").mkdir(parents=True)
    if layout == "owned by another user":
        os.chown(state / "guide", OTHER_USER, OTHER_USER)
    else:
        state.chmod(0o777)
    return state


@pytest.mark.parametrize("layout", [pytest.param("owned by another user", marks=as_root), "writable by anyone above"])
def test_a_session_folder_another_user_could_change_is_refused(tmp_path, monkeypatch, layout):
    """Their guide could read the design, or put its own in its place: one line, exit 2, nothing written."""
    state = shared_state_home(tmp_path, layout)
    monkeypatch.delenv("GUIDE_HOME", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    done = run_guide("--plain", "--new", stdin="A title\nq\n")
    unsafe = state / "guide" if layout == "owned by another user" else state
    reason = f"belongs to another user (uid {OTHER_USER})" if layout == "owned by another user" else "other users can write in it"
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"guide: {unsafe}: {reason}, so a design saved there is not private; set GUIDE_HOME to "
                           "a folder of your own\n")
    assert list((state / "guide").iterdir()) == []


@as_root
def test_no_home_at_all_is_one_line_not_a_folder_named_tilde(tmp_path):
    """No HOME and a user id missing from /etc/passwd: `~` cannot be expanded, and must not become `./~/`."""
    workdir = tmp_path / "work"
    workdir.mkdir(mode=0o777)
    workdir.chmod(0o777)
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("HOME", "GUIDE_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")}

    def guide(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["setpriv", f"--reuid={OTHER_USER}", f"--regid={OTHER_USER}", "--clear-groups",
                               sys.executable, "-m", "guide", *args], input="q\n", capture_output=True, text=True,
                              cwd=workdir, timeout=120, env={**environment, "PYTHONPATH": str(ROOT)})

    plain = guide("--plain")
    assert (plain.returncode, plain.stdout) == (2, "")
    assert plain.stderr == (f"guide: ~: no home folder to save the design in (HOME is not set and user id {OTHER_USER} "
                            "has no entry in the password database); set HOME or GUIDE_HOME\n")
    served = guide("serve", "--port", "1")  # refused before it listens: port 1 would fail differently
    assert (served.returncode, served.stderr) == (2, plain.stderr), "every browser tab keeps its design there"
    document = guide("run", "--case", "dr-screening")
    assert (document.returncode, document.stderr) == (0, ""), "commands that keep no design need no home (and no cache)"
    assert list(workdir.iterdir()) == []


def test_a_link_in_the_designs_folder_is_refused_and_what_it_points_to_never_changes(bank, guide_home, tmp_path):
    """A link in the designs folder was resumed and saved through: answering in it rewrote a file elsewhere (a
    preset of the bank, say) in the session's format. The folder is guide's own: a link there is listed as broken
    with where it points, and resuming it is refused in one line, exit status 2; the file it names is left alone."""
    kept = tmp_path / "synced" / "my-design.yaml"
    kept.parent.mkdir()
    assert run_guide("--plain", "--new", "--title", "Linked", stdin="u\n").returncode == 0
    link = guide_home / "designs" / "linked.yaml"
    link.rename(kept)
    link.symlink_to(kept)
    before = kept.read_bytes()
    done = run_guide("--plain", "--design", "linked", "--resume", stdin="u\nq\n")
    assert done.returncode == 2
    assert done.stderr == (f"guide: {link}: is a link to {kept}; the designs folder holds guide's own files, not "
                           "links: open that file as a new design (o on the start screen), or move it here\n")
    listed = run_guide("designs", "--format", "json")
    [design] = json.loads(listed.stdout)
    assert design["state"] == "broken" and design["description"].startswith(f"broken (is a link to {kept};")
    assert kept.read_bytes() == before and link.is_symlink()


def test_a_design_file_swapped_for_a_link_while_open_is_replaced_not_written_through(bank, tmp_path):
    """Saving never follows a link: the design's file is written in the designs folder, the file named by the
    link stays as it was."""
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("title: not a design\n")
    design = tmp_path / "designs" / "swapped.yaml"
    design.parent.mkdir()
    design.symlink_to(elsewhere)
    save_session(Walk(bank), design)
    assert elsewhere.read_text() == "title: not a design\n"
    assert not design.is_symlink() and load_session(bank, design).values == {}


@pytest.mark.parametrize("name", ["design [draft].yaml", "design*.yaml"])
def test_a_killed_writers_leftover_is_cleared_whatever_the_files_name(bank, tmp_path, name):
    """A temporary file a killed save left is removed at the next save, for a name holding glob's own characters too;
    an older one of another file (a name the pattern would match unescaped) is left alone."""
    design = tmp_path / name
    leftover, other = tmp_path / f".{name}.abcd1234.tmp", tmp_path / ".design-other.yaml.abcd1234.tmp"
    for path in (leftover, other):
        path.write_text("half a save", encoding="utf-8")
        os.utime(path, (0, 0))
    save_session(Walk(bank), design)
    assert not leftover.exists()
    assert other.exists()
