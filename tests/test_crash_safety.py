"""Crash safety: real `guide --plain` sessions killed with SIGKILL at random moments, then resumed.

A driver answers the questions over stdin as fast as they come and records every answer the
program has shown as saved: an answer counts as saved once the program has printed anything
after it, because the session is written before the next question is shown. At a random moment
the process is killed with SIGKILL. The session file must then read back, and it must hold every
answer shown as saved. The next run resumes the same session, so one test exercises many kills
of one growing design.
"""

from __future__ import annotations

import os
import random
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from guide.model import END
from guide.plain import inert
from guide.session import load_session

from .conftest import ROOT

KILLS = 24
PROMPT = re.compile(r"(?:(?P<resume>Resume) .*\[Y/n\] |(?P<title>Title) of this design.*: "
                    r"|Answer 1-(?P<count>\d+) or an id.*: |(?P<text>Answer in one paragraph).*: "
                    r"|(?P<note>Note) \(optional.*: |(?P<write>Write) the design document to.*: )$")
# The prompt may wrap over several lines; the indented help text follows it.
QUESTION = re.compile(r"Question \d+ \(\d+ more on this path\): (?P<prompt>.*?)\n  \S", re.DOTALL)


class Driver:
    """Answers prompts of one `guide --plain` process; knows which answers were shown as saved."""

    def __init__(self, home: Path, rng: random.Random, bank, start_new: bool) -> None:
        self.rng, self.bank, self.start_new = rng, bank, start_new
        self.prompts = {inert(question.prompt): question for question in bank.questions.values()}
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "guide", "--plain"], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, "GUIDE_HOME": str(home), "PYTHONPATH": str(ROOT)})
        self.output = ""
        self.pending: tuple[str, object] | None = None  # answered, not yet shown as saved
        self.saved: dict[str, object] = {}
        self.current: tuple[str, object] | None = None

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
        self.output = ""
        if kind == "resume":
            self.send("n" if self.start_new else "y")
        elif kind == "title":
            self.send("Crash test")
        elif kind == "write":
            self.send("q")
        elif kind == "note":
            self.send(self.rng.choice(["", "", "a note"]))
            self.pending = self.current
        else:
            question = self.prompts[" ".join(asked[-1].split())]
            if question.kind == "text":
                text = self.rng.choice(["Some words.", "Other words about the project."])
                self.current = (question.id, text)
                self.send(text)
            else:
                number = self.rng.randint(1, int(match.group("count")))
                picked = question.choices[number - 1].id
                self.current = (question.id, picked if question.kind == "single" else [picked])
                self.send(str(number))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process.stdout.close()
        self.process.stdin.close()


def test_sigkill_at_random_moments_loses_no_saved_answer(bank, tmp_path):
    rng = random.Random(20240601)
    session = tmp_path / "home" / "session.yaml"
    expected: dict[str, object] = {}
    kills_while_answering = 0
    for round_number in range(KILLS):
        # A design that reached its results is replaced by a new one, so the walk never runs out.
        start_new = session.exists() and load_session(bank, session).position == END
        if start_new:
            expected = {}
        driver = Driver(session.parent, rng, bank, start_new)
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
