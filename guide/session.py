"""The design in progress: the walk through the questions, and the session file that keeps it.

Both faces of the tool drive a `Walk` (the terminal app and `guide --plain`), and both save it to
the same kind of session file after every answer, so a walk begun in one resumes in the other.
Each design is one such file in the library (`guide.library`: `designs/` of the state folder).

Where the state folder is: `guide.state`. The folder must be the user's, writable by no one else, below folders only root and the user can
change (as the bank cache's); otherwise, and when there is no home at all, guide stops with one line.

What a session file holds: the keys of an answers file (`guide.model.AnswersFile`), where `answers`
are the answers on the current path, plus
  set_aside: answers to questions that a changed answer took off the path. They are kept, not
             used, and they return to the path when the answer that removed them is changed back.
  position:  the id of the question being answered, or `end` once the walk reached its results.
  drafts:    text typed for a text question and left without confirming it (Enter), kept so that
             nothing typed is lost: shown in its box again, never used as an answer. Only when there is one.

How it is written: into a temporary file in the same folder, flushed and fsynced, then renamed
over the previous file (and the folder fsynced), so that the file on disk is always a whole
session, the previous one or the new one, even if the process is killed mid-write.

Who writes it: one guide at a time. The app and plain mode hold a lock on `<file>.lock` while a
design is open, and remove it when they let go; a second one on the same design is refused with a
one-line message.

What reading it finds: a walk to resume (migrated when the bank lists a migration from the version
it was saved with), a session of another question bank (kept as it is: it resumes with that bank),
or a file that cannot be read (a GuideError naming the file and line; the library lists it as broken).
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import ValidationError

from guide.bank import (Bank, check_answers, check_session_parts, migrate, migration_from, origin_version,
                        refuse_newer_bank_version, validate_answers)
from guide.engine import element_results, evaluate, route
from guide.files import remove_stale_temporaries, write_atomically
from guide.model import (END, TEXT_ANSWER_MAX, AnswersFile, AnswerValue, ElementResult, Question, Result,
                         SessionFile, answer_problems)
from guide.report.text import shown_title
from guide.source import MAX_FILE_BYTES, GuideError, first_problem
from guide.state import make_private_folder, session_dir
from guide.yamlfile import dump_yaml, read_yaml

HEADER = ("# guide: the design in progress, saved after every answer. `answers` are the answers on the\n"
          "# current path; `set_aside` are answers a changed answer took off it (kept, not used);\n"
          "# `position` is the question to continue with (`end`: the results).\n")

Worked = TypeVar("Worked")
# Paths a walk keeps (one for each choice of a question is worked out ahead), and scores (about 45 KiB each:
# those of the answers held and of the choice highlighted, while the user moves between a few).
KEPT_PATHS, KEPT_SCORES = 16, 4


class Kept(Generic[Worked]):
    """What a pure function of the bank and the answers gave for the last few answers it was given."""

    def __init__(self, bank: Bank, work_out: Callable[[Bank, dict[str, AnswerValue]], Worked], limit: int) -> None:
        self.bank, self.work_out, self.limit = bank, work_out, limit
        self.kept: dict[tuple, Worked] = {}

    def __call__(self, values: dict[str, AnswerValue]) -> Worked:
        key = tuple(sorted((question_id, tuple(value) if isinstance(value, list) else value)
                           for question_id, value in values.items()))
        if key in self.kept:
            self.kept[key] = self.kept.pop(key)  # used again: the last to go
        else:
            if len(self.kept) >= self.limit:
                del self.kept[next(iter(self.kept))]  # the least recently used
            self.kept[key] = self.work_out(self.bank, values)
        return self.kept[key]


# A browser tab's name for itself: 32 hex digits its page draws once and keeps while the tab is open; the server
# hands it to the tab's app in BROWSER_TAB_VARIABLE.
BROWSER_TAB = re.compile(r"[0-9a-f]{32}")
BROWSER_TAB_VARIABLE = "GUIDE_BROWSER_TAB"


def is_browser_tab(name: str | None) -> bool:
    return name is not None and BROWSER_TAB.fullmatch(name) is not None


def browser_sessions_dir() -> Path:
    return session_dir() / "browser"


def browser_session_path(tab: str | None = None) -> Path:
    """A new session file for a design in a browser tab under `guide serve`, never offered to another tab. `tab`
    is the tab's own 128 random bits, which its page keeps across reloads (BROWSER_TAB): the file carries them,
    so a reloaded tab finds its designs (`browser_tab_sessions`); without them, new ones. The time keeps the
    folder in order for an instructor; the random part means no one can name another tab's file (a process id
    or a time is easy to guess)."""
    if not is_browser_tab(tab):
        tab = secrets.token_hex(16)
    stamp = time.strftime('%Y%m%d-%H%M%S')
    path, count = browser_sessions_dir() / f"{stamp}-{tab}.yaml", 1
    while path.exists():  # a second design begun in the same second in the same tab
        count += 1
        path = browser_sessions_dir() / f"{stamp}.{count}-{tab}.yaml"
    return path


def browser_tab_sessions(tab: str | None) -> list[Path]:
    """The designs begun in the browser tab named `tab` (none for no name or a malformed one)."""
    if not is_browser_tab(tab):
        return []
    return list(browser_sessions_dir().glob(f"*-{tab}.yaml"))


def expire_browser_sessions(max_age_seconds: float) -> None:
    """Remove browser sessions not saved for `max_age_seconds`: a classroom server is not an archive,
    and a student keeps a design by exporting it."""
    folder = browser_sessions_dir()
    if not folder.is_dir():
        return
    oldest = time.time() - max_age_seconds
    for path in folder.glob("*.yaml"):
        with contextlib.suppress(OSError):  # gone already, or not ours to remove: the next sweep tries again
            if path.stat().st_mtime >= oldest:
                continue
            try:
                lock = SessionLock(path)
            except SessionInUse:
                continue  # a tab's app has it open: its student is still at it, however long ago the last answer
            try:
                path.unlink()
            finally:
                lock.release()
    # A tab's app that was killed never removed its lock file; one beside no session that no app holds goes too.
    for lock in folder.glob("*.yaml.lock"):
        session = lock.with_name(lock.name.removesuffix(".lock"))
        if not session.exists():
            with contextlib.suppress(SessionInUse):
                SessionLock(session).release()


# ---------------------------------------------------------------------------------------------
# The walk: position, path and answers; what changing an answer takes off the path.


def changed(current: AnswersFile, /, **changes) -> AnswersFile:
    """`current` with some fields replaced and checked, so that nothing unreadable is ever saved.
    Raises ValueError with a one-line reason (for example a note over the length limit)."""
    try:
        return current.revised(**changes)
    except ValidationError as error:
        field, problem = first_problem(error)
        raise ValueError(f"{field}: {problem}") from None


def too_long(what: str, prompt: str, text: str) -> str:
    """Why a text was refused, in the user's terms: which question, the limit, and how far over it is."""
    article = "an" if what[0] in "aeiou" else "a"
    return (f"your {what} to \u201c{prompt}\u201d is {len(text):,} characters, {len(text) - TEXT_ANSWER_MAX:,} over the "
            f"{TEXT_ANSWER_MAX:,} {article} {what} may have; shorten it")


def new_title(typed: str, current: str) -> str:
    """The title a design takes from one typed for it: `current` when nothing of it would show (empty, spaces,
    or only the zero-width characters every place drops from a title: `shown_title`)."""
    return typed.strip() if shown_title(typed) else current


@dataclass(frozen=True)
class Outcome:
    """What one answer did to the path."""

    set_aside: list[str]
    restored: list[str]


def left_empty_words(count: int) -> str:
    return f"{count} text question{'s' if count != 1 else ''} left empty"


def drafts_words(count: int) -> str:
    return "1 draft not yet the answer" if count == 1 else f"{count} drafts not yet the answers"


class Walk:
    """The answers of one design and the question being looked at. All routing is the engine's."""

    def __init__(self, bank: Bank, answers: AnswersFile | None = None, position: str | None = None,
                 *, read_only: bool = False, drafts: dict[str, str] | None = None) -> None:
        self.bank = bank
        self.answers = answers or AnswersFile(bank_id=bank.meta.id, bank_version=bank.meta.version)
        self.read_only = read_only
        self.drafts: dict[str, str] = dict(drafts or {})  # by question id; see the module's docstring
        self._last_result: tuple[AnswersFile, Result] | None = None
        # Paths and panel scores by the answers they were worked out for: the screen works them out for the
        # answers a question can take while the user reads it, and the answer given then finds them here.
        self._path_of = Kept(bank, route, KEPT_PATHS)
        self._elements_of = Kept(bank, element_results, KEPT_SCORES)
        self.path = self._path_of(self.answers.answers)
        self.position = position if position in self.path or position == END else self.first_open()

    # -- reading ------------------------------------------------------------------------------

    @property
    def values(self) -> dict[str, AnswerValue]:
        """Every answer, on the path or set aside."""
        return dict(self.answers.answers)

    @property
    def question(self) -> Question | None:
        return None if self.position == END else self.bank.questions[self.position]

    @property
    def set_aside(self) -> list[str]:
        return [question_id for question_id in self.answers.answers if question_id not in self.path]

    @property
    def answered_on_path(self) -> list[str]:
        return [question_id for question_id in self.path if question_id in self.answers.answers]

    @property
    def unanswered(self) -> list[str]:
        """Questions on the path, as the answers so far predict it, that have no answer yet."""
        return [question_id for question_id in self.path if question_id not in self.answers.answers]

    @property
    def left_empty(self) -> list[str]:
        """The text questions among `unanswered` with nothing typed in their box: left empty, changing no result."""
        return [question_id for question_id in self.unanswered
                if self.bank.questions[question_id].kind == "text" and question_id not in self.drafts]

    @property
    def drafted(self) -> list[str]:
        """The questions on the path whose box holds a draft: typed, not yet the answer, so in no document."""
        return [question_id for question_id in self.path if question_id in self.drafts]

    def left_in_words(self) -> str:
        """What the path still holds, in the same words wherever it is said (the library, the results), or ""
        when every question on it is answered: "2 questions left, 3 text questions left empty, 1 draft not yet
        the answer"."""
        empty = len(self.left_empty)
        drafted = len([question_id for question_id in self.unanswered if question_id in self.drafts])
        choices = len(self.unanswered) - empty - drafted
        parts = [f"{choices} question{'s' if choices != 1 else ''} left"] if choices else []
        if empty:
            parts.append(left_empty_words(empty))
        if drafted:
            parts.append(drafts_words(drafted))
        return ", ".join(parts)

    @property
    def remaining(self) -> int:
        """Questions after the current one on the path as the answers so far predict it."""
        if self.position == END:
            return 0
        return len(self.path) - self.path.index(self.position) - 1

    def first_open(self) -> str:
        """The first question on the path without an answer, or END when every one has one."""
        return next(iter(self.unanswered), END)

    def stage_number(self, question: Question) -> int:
        return [stage.id for stage in self.bank.meta.stages].index(question.stage) + 1

    def is_answered(self, question_id: str) -> bool:
        return question_id in self.answers.answers

    def result(self) -> Result:
        # Answers are immutable and replaced on every change, so the last result stays valid until then.
        if self._last_result is None or self._last_result[0] is not self.answers:
            self._last_result = (self.answers, evaluate(self.bank, self.answers))
        return self._last_result[1]

    def elements_so_far(self) -> list[ElementResult]:
        """The elements as the reasoning panel shows them after every answer. A worked example builds up
        question by question, counting its answers only up to the current one; a design of one's own counts all."""
        values = dict(self.answers.answers)
        if self.read_only and self.position != END:
            shown = self.path[: self.path.index(self.position) + 1]
            values = {question_id: value for question_id, value in values.items() if question_id in shown}
        return self._elements_of(values)

    def path_after(self, question_id: str, value: AnswerValue | None) -> list[str]:
        """The path if this question were answered so (None: left open)."""
        return self._path_of(self._values_after(question_id, value))

    def after(self, question_id: str, value: AnswerValue) -> Walk | None:
        """This walk as `answer` would leave it (a copy; this one is unchanged), sharing what both work out:
        what the screen shows next, worked out while the user reads. None when the answer would be refused."""
        ahead = copy.copy(self)
        values = self._values_after(question_id, value)
        try:
            ahead.answers = changed(self.answers, answers=values)
        except ValueError:
            return None
        ahead.path = self._path_of(values)
        ahead._last_result = None
        ahead._move_on_from(question_id)
        return ahead

    def _values_after(self, question_id: str, value: AnswerValue | None) -> dict[str, AnswerValue]:
        values = {other: given for other, given in self.answers.answers.items() if other != question_id}
        if value is not None:
            values[question_id] = value
        return values

    def would_set_aside(self, question_id: str, value: AnswerValue | None) -> list[str]:
        """Answered questions that this answer (None: clearing the answer) would take off the path."""
        new_path = self.path_after(question_id, value)
        return [other for other in self.answered_on_path if other not in new_path]

    # -- changing -----------------------------------------------------------------------------

    def answer(self, question_id: str, value: AnswerValue | None, note: str | None = None) -> Outcome:
        """Record an answer (None clears it) and its note, then move to the next question on the path."""
        outcome = self.record(question_id, value, note)
        self._move_on_from(question_id)
        return outcome

    def _move_on_from(self, question_id: str) -> None:
        index = self.path.index(question_id)
        self.position = self.path[index + 1] if index + 1 < len(self.path) else END

    def record(self, question_id: str, value: AnswerValue | None, note: str | None = None) -> Outcome:
        """Record an answer (None clears it) without moving; a note of None keeps the note, "" removes it.
        The answer takes the place of the question's draft."""
        return self._revise(question_id, value, note, self._drafts_but(question_id))

    def _drafts_but(self, question_id: str) -> dict[str, str]:
        return {other: draft for other, draft in self.drafts.items() if other != question_id}

    def _refuse_if_too_long(self, what: str, question_id: str, text: object) -> None:
        if isinstance(text, str) and len(text) > TEXT_ANSWER_MAX:
            raise ValueError(too_long(what, self.bank.questions[question_id].prompt, text))

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise ValueError("a worked example is read-only")

    def _revise(self, question_id: str, value: AnswerValue | None, note: str | None, drafts: dict[str, str]) -> Outcome:
        self._refuse_if_read_only()
        for what, text in (("answer", value), ("note", note.strip() if note else None)):
            self._refuse_if_too_long(what, question_id, text)
        if value is not None:  # a choice of another question is never kept under this one: the file would not load
            for _, problem in answer_problems({question_id: value}, {}, self.bank.questions):
                raise ValueError(f"{question_id}: {problem}")
        before = set(self.path)
        answers = dict(self.answers.answers)
        notes = dict(self.answers.notes)
        if value is None:
            answers.pop(question_id, None)
        else:
            answers[question_id] = value
        if note is not None and note.strip():
            notes[question_id] = note.strip()
        elif note is not None:
            notes.pop(question_id, None)
        self._adopt(changed(self.answers, answers=answers, notes=notes), self._path_of(answers), drafts)
        return Outcome(set_aside=[other for other in before if other in answers and other not in self.path],
                       restored=[other for other in self.path if other in answers and other not in before])

    def set_note(self, question_id: str, note: str) -> None:
        self._revise(question_id, self.answers.answers.get(question_id), note, self.drafts)

    def keep_draft(self, question_id: str, text: str) -> None:
        """Keep text typed for a question and not confirmed as its answer. Empty text, or the answer itself,
        is no draft: it removes the one kept before. Raises ValueError as recording an answer does."""
        self._refuse_if_read_only()
        drafts = self._drafts_but(question_id)
        text = text.strip()
        self._refuse_if_too_long("draft", question_id, text)
        if text and text != self.answers.answers.get(question_id):
            drafts[question_id] = text
        self._adopt(self.answers, self.path, drafts)

    def retitle(self, title: str) -> None:
        self._adopt(changed(self.answers, title=new_title(title, self.answers.title)), self.path)

    def _adopt(self, answers: AnswersFile, path: list[str], drafts: dict[str, str] | None = None) -> None:
        """Take revised answers (and drafts), unless the session file holding them would be larger than guide
        reads back: then raise ValueError and keep the walk as it was, so the user can shorten what they typed."""
        before = self.answers, self.path, self.drafts
        self.answers, self.path = answers, path
        if drafts is not None:
            self.drafts = drafts
        # Answers and notes are checked by `changed`, a draft's length by `keep_draft`, in the user's words; the
        # session file's model still has the last word on what it holds.
        try:
            data = session_data(self)
        except ValidationError as error:
            self.answers, self.path, self.drafts = before
            field, problem = first_problem(error)
            raise ValueError(f"{field}: {problem}") from None
        # The exact size takes writing the file's text (about 1 ms an answer); a bound worked out from its data
        # (a tenth of that) settles it for any design not near the limit.
        if len(HEADER) + written_size_bound(data) <= MAX_FILE_BYTES:
            return
        size = len(session_text(self, data).encode("utf-8"))
        if size > MAX_FILE_BYTES:
            self.answers, self.path, self.drafts = before
            raise ValueError(f"the design would take {size:,} bytes, over the {MAX_FILE_BYTES:,} a session file may "
                             f"hold; {self._what_to_shorten(size)}")

    def _what_to_shorten(self, size: int) -> str:
        """Advice that points at what fills the file: reviews are not typed in the walk, so shortening answers
        cannot help when they take most of it."""
        reviews = self.answers.reviews
        review_bytes = len(dump_yaml([review.model_dump(mode="json", exclude_none=True) for review in reviews],
                                     for_people=False).encode("utf-8")) if reviews else 0
        if review_bytes * 2 > size:
            return (f"its {len(reviews):,} reviews take {review_bytes:,} bytes: keep older reviews in another "
                    "file and open the design again")
        return "shorten this or another long answer or note"

    def back(self) -> bool:
        if self.position == END:
            self.position = self.path[-1]
            return True
        index = self.path.index(self.position)
        if index == 0:
            return False
        self.position = self.path[index - 1]
        return True

    def forward(self) -> bool:
        """Step to the next question; only past answered ones, so nothing is skipped by accident."""
        if self.position == END or self.position not in self.answers.answers:
            return False
        index = self.path.index(self.position)
        self.position = self.path[index + 1] if index + 1 < len(self.path) else END
        return True

    def jump(self, question_id: str) -> None:
        if question_id not in self.path and question_id != END:
            raise ValueError(f"question '{question_id}' is not on the current path")
        self.position = question_id

    # -- the file -----------------------------------------------------------------------------

    def to_file(self) -> SessionFile:
        on_path = {question_id: value for question_id, value in self.answers.answers.items() if question_id in self.path}
        kept = {question_id: value for question_id, value in self.answers.answers.items() if question_id not in self.path}
        fields = self.answers.model_dump(exclude={"answers"}, by_alias=True)
        return SessionFile(**fields, answers=on_path, set_aside=kept, position=self.position, drafts=self.drafts or None)


def session_data(walk: Walk) -> dict:
    return walk.to_file().model_dump(mode="json", exclude_none=True, exclude_defaults=False)


def session_text(walk: Walk, data: dict | None = None) -> str:
    """The session file's text; `data`: the walk's `session_data`, where the caller has it already."""
    # Not yaml.safe_dump: it writes "\x85" (a YAML line break) bare, and it reads back as a space.
    return HEADER + dump_yaml(session_data(walk) if data is None else data, for_people=False)


# In the YAML dump_yaml writes, no character takes more than ten bytes (an escape such as \U0001F600), and a
# line break or a fold before one adds at most a newline, a continuation mark and the indentation (two spaces
# a level, a few levels deep); a value adds at most its key's colon, its quotes and a list's dash.
BYTES_PER_CHARACTER_AT_MOST, BYTES_PER_VALUE_AT_MOST = 32, 64


def written_size_bound(data: object) -> int:
    """More bytes than dump_yaml can write for `data` (a session file's data)."""
    if isinstance(data, dict):
        return sum(written_size_bound(key) + written_size_bound(value) for key, value in data.items())
    if isinstance(data, list):
        return BYTES_PER_VALUE_AT_MOST + sum(written_size_bound(item) for item in data)
    return BYTES_PER_VALUE_AT_MOST + BYTES_PER_CHARACTER_AT_MOST * len(str(data))


def save_session(walk: Walk, path: Path) -> Path:
    """Write the walk atomically; raises GuideError when the file cannot be written."""
    path = Path(path)
    try:
        make_private_folder(path.parent)
        # Never written through a link (`load_session` refuses to read one): the file elsewhere stays as it was.
        write_atomically(path, session_text(walk), mode=0o600)
        remove_stale_temporaries(path)
    except OSError as error:
        raise GuideError(path, None, None, f"cannot save the session: {error.strerror or error}") from None
    return path


def recovery_path(design: Path) -> Path:
    """The file beside a design that keeps text typed for it which the design cannot hold (over a length
    limit). Not a .yaml file, so the library does not list it as a design."""
    return design.with_name(design.name + ".recovered.txt")


def keep_aside(design: Path, heading: str, text: str) -> Path:
    """Add `text` under `heading` to the design's recovery file (made private if new), so that text the design
    cannot hold is not lost; raises GuideError when it cannot be written."""
    path = recovery_path(design)
    try:
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        write_atomically(path, f"{before}{heading}\n\n{text}\n\n", mode=0o600)
    except (OSError, UnicodeDecodeError) as error:
        raise GuideError(path, None, None, f"cannot keep the text there: {getattr(error, 'strerror', None) or error}") from None
    return path


def save_elsewhere(walk: Walk) -> Path:
    """When the session file cannot be written: the same text in a new private file in the temporary
    folder (TMPDIR); raises OSError when that fails too."""
    handle, name = tempfile.mkstemp(prefix="guide-session-", suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(session_text(walk))
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


class SessionInUse(GuideError):
    """Another guide holds the session: two writers would each overwrite the other's answers."""


class SessionLock:
    """An exclusive lock on a lock file beside the session (not on the session file, which every save
    replaces), held until released or the process ends, and removed when released. The second guide on
    one session is refused with SessionInUse instead of racing the first. Where no lock file can be made
    (a folder that cannot be written) there is nothing to guard: every save there fails, and says so."""

    def __init__(self, path: Path) -> None:
        self.descriptor: int | None = None
        self.lock = path.with_name(path.name + ".lock")
        while True:
            try:
                make_private_folder(path.parent)
                descriptor = os.open(self.lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                                     0o600)
            except OSError:
                return
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(descriptor, 20).decode("ascii", "replace").strip()
                os.close(descriptor)
                process = f" (process {holder})" if holder.isdigit() else ""
                raise SessionInUse(path, None, None, f"this design is open in another guide{process}; finish there "
                                                     "first, or work on another design") from None
            except OSError:  # a file system without locks
                os.close(descriptor)
                return
            if self._names(descriptor):
                break
            # The guide before removed this file as it let go, after it was opened here: a lock on it guards
            # nothing, since the next guide makes a new file.
            os.close(descriptor)
        self.descriptor = descriptor
        with contextlib.suppress(OSError):  # the process id only makes the other guide's message clearer
            os.ftruncate(descriptor, 0)
            os.write(descriptor, f"{os.getpid()}\n".encode())

    def _names(self, descriptor: int) -> bool:
        """Whether the lock file's name still leads to the file open on descriptor."""
        try:
            named = os.stat(self.lock, follow_symlinks=False)
        except FileNotFoundError:
            return False
        except OSError:  # cannot be looked at: the lock taken is the best there is
            return True
        held = os.fstat(descriptor)
        return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)

    def release(self) -> None:
        if self.descriptor is not None:
            # Removed while still held, so a guide that opened it meanwhile sees it gone once it has the lock.
            if self._names(self.descriptor):
                with contextlib.suppress(OSError):
                    os.unlink(self.lock)
            os.close(self.descriptor)
            self.descriptor = None

    def __enter__(self) -> SessionLock:
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()


class OtherBankSession(GuideError):
    """A session saved with another question bank: not broken, only not this bank's to resume.
    It carries the saved design, so that replacing it can say what would be lost."""

    def __init__(self, file: Path, line: int | None, saved: SessionFile, bank_id: str) -> None:
        super().__init__(file, line, "bank_id", f"saved with question bank '{saved.bank_id}', not '{bank_id}' "
                                                "(resume it with --bank and that bank's folder)")
        self.saved = saved


# Why a design's file that is a link is not read (saving it would write to a file outside the designs folder).
LINKED_DESIGN = ("the designs folder holds guide's own files, not links: open that file as a new design (o on the "
                 "start screen), or move it here")


def load_session(bank: Bank, path: Path, *, title: str | None = None) -> Walk:
    """Read a saved session; any problem is a GuideError naming the file, line and field
    (an OtherBankSession when it was saved with another bank). A `title` is read in place of the saved one."""
    path = Path(path)
    document = read_yaml(path, link_refused=LINKED_DESIGN)
    if title is not None and isinstance(document.data, dict):
        document.data["title"] = title
    saved = validate_answers(document, SessionFile, bank)
    if saved.bank_id and saved.bank_id != bank.meta.id:
        raise OtherBankSession(path, document.line_of(("bank_id",)), saved, bank.meta.id)
    refuse_newer_bank_version(saved, bank, document)
    migration = migration_from(bank, saved.bank_version)
    position: str | None = saved.position
    if migration is not None:
        saved = migrate(saved, bank, document)
        position = migration.renamed.get(position, position)
    check_answers(saved, bank, document)
    check_session_parts(saved, bank, document)
    # The position is only where to go on: one naming no question on the path (removed from the bank, or edited by
    # hand) breaks no answer, and the walk starts at the first open question instead (`Walk`).
    answers = saved.answers_file()
    if migration is not None:
        # Saved again, the session holds this version's ids; the document still says what changed.
        answers = answers.model_copy(update={"bank_version": bank.meta.version,
                                             "migrated_from": origin_version(answers, bank)})
    return Walk(bank, answers, position, drafts=saved.drafts)
