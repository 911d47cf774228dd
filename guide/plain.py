"""`guide --plain`: the walk-through line by line on stdin/stdout, for screen readers, dumb terminals and scripts.

No cursor movement, no colour, nothing but lines of text. It drives the same `Walk` as the terminal
app and saves the same session file after every answer and note, so a walk can move between the two.

The line protocol (docs/user-guide/plain-mode.md shows it with an example that a test runs):
one line per reply; at a question a choice's number or id, `u` unsure, `n` then the note line, `b`
back, `q` stop. Which design to work on comes from `--new` / `--resume` (and `--title`, `--replace`);
only a person at a terminal is asked what those options would settle. When input ends (end of
file), everything given so far is saved and the command exits 0 with a one-line message; on Ctrl+C
the same, with exit status 130.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import io
import os
import re
import select
import shlex
import signal
import sys
from pathlib import Path
import textwrap
from typing import Iterator, TextIO

from guide.bank import Bank
from guide.engine import answer_labels, joined_labels
from guide.files import LONE_SURROGATE, STDOUT, user_path, write_output, write_stream
from guide.frontend import EXIT_INTERRUPTED, EXIT_OK, SEVERAL_CHOICES, fitting_format, load_bank_option, typed_name
from guide.model import END, UNSURE, AnswersFile, AnswerValue, Question
from guide.report.text import counted, inert, shown_title
from guide.library import Design, design_path, list_designs, new_design_file, open_library, read_design
from guide.session import SessionLock, Walk, changed, drafts_words, load_session, save_elsewhere, save_session, session_text
from guide.source import GuideError
from guide.state import designs_dir

WIDTH = 78
BACK, QUIT, NOTE = "b", "q", "n"
UNSURE_KEYS = ("u", "?")
EXIT_NOT_SAVED = 1


def checked_title(text: str) -> str:
    """A typed title as one inert line; ValueError saying why when a design cannot take it."""
    title = inert(text)
    if title:
        changed(AnswersFile(), title=title)
    return title


class EndOfInput(Exception):
    pass


class Conversation:
    def __init__(self, bank: Bank, stdin: TextIO | InterruptibleLines, stdout: TextIO, *, title: str | None = None,
                 design: str | None = None, new: bool = False, resume: bool = False, replace: bool = False) -> None:
        self.bank, self.stdin, self.stdout = bank, stdin, stdout
        self.title, self.design, self.new, self.resume, self.replace = title, design, new, resume, replace
        self.path: Path | None = None  # the design's file, once chosen
        self.lock: SessionLock | None = None
        # Only a person at a terminal is asked what an option could settle; a script gets no surprise prompt.
        self.interactive = stdin.isatty()
        self.walk: Walk | None = None
        self.save_error: GuideError | None = None  # why the last save failed; None once one succeeds

    def say(self, text: str = "", indent: str = "", hanging: str | None = None) -> None:
        subsequent = indent if hanging is None else hanging
        # Never inside a word: a path such as /tmp/my-designs/x.md stays whole, to copy.
        lines = (textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=subsequent, break_on_hyphens=False,
                               break_long_words=False) if text else [""])
        write_stream(self.stdout, "\n".join(lines) + "\n")

    def ask(self, prompt: str, *, file_name: bool = False) -> str:
        """The next line, stripped. A line holding bytes that are not UTF-8 is asked again (they would be
        saved as U+FFFD), except a file name, which may be any bytes."""
        while True:
            write_stream(self.stdout, prompt)
            line = self.stdin.readline()
            if not line:
                raise EndOfInput
            if file_name or not LONE_SURROGATE.search(line):
                return line.strip()
            self.say("That line is not UTF-8 text, so it was not used; type it again.")

    def agrees(self, prompt: str, *, default: bool) -> bool:
        reply = self.ask(prompt).lower()
        return reply not in ("n", "no") if default else reply in ("y", "yes")

    def save(self) -> None:
        """Save after every change. Every failure is reported, and remembered until a save succeeds, so
        that nothing claims the answers are saved while they are not."""
        if self.walk is None or self.walk.read_only:
            return
        try:
            save_session(self.walk, self.path)
        except GuideError as error:
            print(f"guide: {error}", file=sys.stderr)
            self.save_error = error
            return
        if self.save_error is not None:
            self.say("Saved again: the session file holds every answer so far.")
            self.save_error = None

    def not_saved(self, lead: str = "") -> int:
        """The last words when the last save failed: where the answers are instead; the exit status."""
        assert self.walk is not None and self.save_error is not None
        self.say(f"{lead} Your answers are NOT saved in {self.path} ({self.save_error.problem}).".lstrip())
        try:
            self.say(f"They are in {save_elsewhere(self.walk)} instead; copy that file to {self.path} "
                     f"to go on with {self.resume_command}.")
        except OSError:
            self.say("Here they are, as the session file would hold them:")
            write_stream(self.stdout, session_text(self.walk))
        return EXIT_NOT_SAVED

    # -- which design -------------------------------------------------------------------------

    def start(self) -> Walk:
        """The design to work on, as the options say or, at a terminal, as the person answers. What the
        options settle (and the lock on a design to resume) comes before anything is said, so that a
        refused run prints its one line and nothing else."""
        open_library()  # a folder that cannot be made, or is not the user's alone, stops the run here
        resumed = self.named_design(design_path(self.design)) if self.design is not None else self.resumed_latest()
        self.say("guide, plain mode: the interpretability framework of Wang et al. (IEEE Access, 2024), one "
                 "question per line. Type the number or the id of a choice; u for unsure, n to add a note, b to go "
                 "back, q to stop. Your answers are saved after each one.")
        if resumed is not None:
            return resumed
        latest = None if self.design is not None or self.new else self.latest()
        if latest is not None and self.agrees(f"Resume “{shown_title(latest.title)}” ({latest.state})? [Y/n] ",
                                              default=True):
            return self.resumed(latest.path)
        walk = self.new_walk()
        if self.path is None:
            self.take(new_design_file(walk.answers.title))
        return walk

    def latest(self) -> Design | None:
        """The most recently changed design that this bank can resume."""
        return next((design for design in list_designs(self.bank) if design.walk is not None), None)

    def resumed_latest(self) -> Walk | None:
        """Without --design: the latest design with --resume; None for a new one, or for a person to choose."""
        latest = None if self.new else self.latest()
        if self.resume:
            if latest is None:
                raise GuideError(designs_dir(), None, None, "there is no saved design to resume")
            return self.resumed(latest.path)
        if latest is not None and not self.new and not self.interactive:
            raise GuideError(designs_dir(), None, None, f"holds saved designs, the latest “{shown_title(latest.title)}” "
                             f"({latest.name}, {latest.state}): --resume continues it, --new starts another, "
                             "--design NAME picks one (guide designs lists them)")
        return None

    def named_design(self, path: Path) -> Walk | None:
        """--design NAME: that design resumed; None for a new design under that name (locked already)."""
        if not path.exists():
            if self.resume:
                raise GuideError(path, None, None, "there is no such design to resume (guide designs lists them)")
            self.take(path)
            return None
        if not self.new:
            return self.resumed(path)
        if not self.replace:
            held = read_design(self.bank, path)
            raise GuideError(path, None, None, f"holds the saved design “{shown_title(held.title)}” ({held.state}): "
                                               "--resume continues it, --new --replace replaces it")
        self.take(path)
        return None

    def resumed(self, path: Path) -> Walk:
        self.take(path)
        return self.titled(load_session(self.bank, path))

    def take(self, path: Path) -> None:
        """Hold the design's file for this run (`run_plain` lets go): a second guide on it is refused."""
        self.lock = SessionLock(path)
        self.path = path

    def titled(self, walk: Walk) -> Walk:
        if self.title:
            walk.retitle(self.title)
        return walk

    def new_walk(self) -> Walk:
        """A new design, titled by --title or, when asked at a terminal, by the person."""
        walk = Walk(self.bank)
        if self.title is None and self.interactive:
            try:
                walk.retitle(checked_title(self.ask("Title of this design (empty line: Untitled design): ")))
            except ValueError as error:
                self.say(f"Title not used: {error}")
        return self.titled(walk)

    @property
    def resume_command(self) -> str:
        assert self.path is not None
        return f"guide --plain --design {shlex.quote(self.path.name.removesuffix('.yaml'))}"

    # -- the walk -----------------------------------------------------------------------------

    def run(self, date: str | None) -> int:
        walk = self.start()
        self.walk = walk
        self.save()
        shown_stage = None
        while True:
            if walk.position == END:
                status = self.finish(date)
                if status is not None:
                    return status
                continue
            question = walk.question
            assert question is not None
            if question.stage != shown_stage:
                shown_stage = question.stage
                stages = self.bank.meta.stages
                number = walk.stage_number(question)
                self.say()
                self.say(f"== Step {number} of {len(stages)}: {inert(stages[number - 1].title)} ==")
                self.say(inert(stages[number - 1].description))
            if self.ask_question(question) == QUIT:
                if self.save_error:
                    return self.not_saved("Stopped.")
                self.say(f"Stopped. Your answers are saved in {self.path}; run {self.resume_command} to go on.")
                return 0

    def ask_question(self, question: Question) -> str | None:
        walk = self.walk
        assert walk is not None
        number = walk.path.index(question.id) + 1
        self.say()
        several = f" {SEVERAL_CHOICES}" if question.kind == "multiple" else ""
        self.say(f"Question {number} ({walk.remaining} more on this path): {inert(question.prompt)}{several}")
        self.say(inert(question.help), "  ")
        for index, choice in enumerate(question.choices, 1):
            self.say(f"{index}. {inert(choice.label)} [{choice.id}]" + (f": {inert(choice.description)}" if choice.description else ""),
                     "   ", "       ")
        current = walk.answers.answers.get(question.id)
        if walk.is_answered(question.id):
            self.say(f"Current answer: {joined_labels(inert(label) for label in answer_labels(question, current))} "
                     "(empty line keeps it)")
        draft = walk.drafts.get(question.id)
        if draft is not None:
            self.say(f"Draft, not yet your answer (an empty line keeps it): {inert(draft)}")
        while True:
            reply = self.ask(self.prompt_for(question))
            if reply.lower() == QUIT:
                return QUIT
            if reply.lower() == BACK:
                if not walk.back():
                    self.say("This is the first question.")
                return None
            if reply.lower() == NOTE:
                self.take_note(question)
                continue
            if not reply and walk.is_answered(question.id):
                value: AnswerValue | None = current
                break
            value, problem = parse_answer(question, reply)
            if problem is None:
                break
            self.say(problem)
        leaving = walk.would_set_aside(question.id, value)
        if leaving:
            self.say("This answer takes these answered questions off your path. Their answers are kept aside, "
                     "not used, and come back if you change this answer back: "
                     + "; ".join(inert(self.bank.questions[other].prompt) for other in leaving))
        try:
            walk.answer(question.id, value)
            if draft is not None and not reply:  # only a typed answer takes the draft's place
                walk.keep_draft(question.id, draft)
        except ValueError as error:
            self.say(f"Not saved, please answer again: {error}")
            return None
        self.save()
        return None

    def take_note(self, question: Question) -> None:
        """The line after `n`: the note on this question, saved at once, answered or not."""
        walk = self.walk
        assert walk is not None
        old_note = walk.answers.notes.get(question.id, "")
        if old_note:
            self.say(f"Current note: {inert(old_note)}")
        keeps = "keeps the current one" if old_note else "for none"
        note = inert(self.ask(f"Note on this question (empty line {keeps}): "))
        if not note:
            return
        try:
            walk.set_note(question.id, note)
        except ValueError as error:
            self.say(f"Note not saved: {error}")
            return
        self.save()
        self.say("Note saved.")

    @staticmethod
    def prompt_for(question: Question) -> str:
        if question.kind == "text":
            return "Answer in one paragraph (empty line: leave it open; n note, b back, q stop): "
        count = len(question.choices)
        several = " numbers or ids, separated by spaces or commas;" if question.kind == "multiple" else ""
        return f"Answer 1-{count} or an id;{several} u unsure, n note, b back, q stop: "

    def finish(self, date: str | None) -> int | None:
        """Summarize the result and write the document; the exit status, or None when the user went back."""
        from guide.report import FORMATS, document_date, render

        walk = self.walk
        assert walk is not None
        result = walk.result()
        self.say()
        self.say("== Results ==")
        for element in result.elements:
            self.say(f"{element.short} {inert(element.name)}: {element.level_label} "
                     f"(confidence {element.confidence_label})")
        ranked = [method for method in result.methods if method.rank is not None][:3]
        if ranked:
            self.say("Top method families: " + "; ".join(f"{method.rank}. {inert(method.name)}" for method in ranked))
        if result.open_questions:
            self.say(f"{counted(len(result.open_questions), 'open question')}; the document lists what to find out.")
        if result.set_aside:
            self.say("Set aside (kept, not counted): " + "; ".join(inert(record.prompt) for record in result.set_aside))
        if walk.drafted:
            self.say(f"{drafts_words(len(walk.drafted))}, so not in the document: "
                     + "; ".join(inert(walk.bank.questions[question_id].prompt) for question_id in walk.drafted))
        slug = re.sub(r"[^a-z0-9]+", "-", walk.answers.title.lower()).strip("-") or "design"
        default = f"{slug}.{FORMATS[0]}"
        while True:
            reply = self.ask(f"Write the design document to (empty line: {default}; b back, q stop without writing): ",
                             file_name=True)
            if reply.lower() == BACK:
                walk.back()
                return None
            if reply.lower() == QUIT:
                if self.save_error:
                    return self.not_saved("Stopped.")
                self.say(f"Stopped. Your answers are saved in {self.path}.")
                return 0
            typed = reply or default
            try:
                target = user_path(typed)
            except GuideError as error:
                self.say(f"Cannot write there: {inert(str(error))}")
                continue
            if reply == STDOUT:
                format = FORMATS[0]
            else:
                try:  # a name must say its format: a stray key (u after Unsure) is not taken for a file name
                    format = fitting_format(typed, FORMATS, "guide", suffix_required=True)
                except ValueError as problem:
                    self.say(f"{inert(typed_name(typed))}: {problem}.")
                    continue
                if target.is_file() and not self.agrees(f"Replace {inert(target.name)}? [y/N] ", default=False):
                    continue
            try:
                write_output(render(format, result, self.bank, walk.answers, document_date(walk.answers, date), target),
                             target)
            except GuideError as error:
                self.say(f"Cannot write there: {inert(str(error))}")
                continue
            self.say("Wrote the design document to standard output." if reply == STDOUT else f"Wrote {target}")
            return self.not_saved() if self.save_error else 0


def parse_answer(question: Question, reply: str) -> tuple[AnswerValue | None, str | None]:
    """A typed reply as an answer value, or a sentence saying what was wrong with it."""
    if question.kind == "text":
        return (inert(reply) or None), None
    if reply.lower() in UNSURE_KEYS:
        return ([UNSURE] if question.kind == "multiple" else UNSURE), None
    ids = [choice.id for choice in question.choices]
    picked: list[str] = []
    for token in re.split(r"[\s,]+", reply.strip()):
        if not token:
            continue
        # Short first: int() refuses a number of thousands of digits, typed or pasted.
        if token.isdecimal() and len(token) < 10 and 1 <= int(token) <= len(ids):
            picked.append(ids[int(token) - 1])
        elif token in ids:
            picked.append(token)
        else:
            return None, f"Not a choice: {inert(token)[:40]}. Type a number from 1 to {len(ids)}, or an id in brackets."
    picked = list(dict.fromkeys(picked))
    if not picked:
        return None, "Type a number or an id (u for unsure)."
    if question.kind == "single":
        if len(picked) > 1:
            return None, "Pick one choice."
        return picked[0], None
    if UNSURE in picked and len(picked) > 1:
        return None, "Unsure cannot be combined with other choices."
    return picked, None


class InterruptibleLines:
    """The lines of standard input, read so that Ctrl+C always ends the wait for one.

    Python raises KeyboardInterrupt in a blocking read only when the signal interrupts the read itself. One that
    comes just before the read starts (as a prompt is shown, which is when a person or a test presses Ctrl+C)
    is noted by Python's C handler, and the read then waits for a line that may never come: on a loaded machine
    a test's guide did not end within 60 s of SIGINT. Here the wait is select() on the input and on the signal
    wakeup pipe, which a signal that came first has already written to: the wait ends at once, and the interrupt
    is raised before the next line of Python. Bytes that are not UTF-8 arrive as lone surrogates, for
    `Conversation.ask` to refuse; line ends are read as a text stream reads them (\r\n and \r too)."""

    def __init__(self, stream: TextIO, wakeup: int) -> None:
        self.stream, self.descriptor, self.wakeup = stream, stream.fileno(), wakeup
        self.decoder = io.IncrementalNewlineDecoder(codecs.getincrementaldecoder("utf-8")("surrogateescape"), True)
        self.text, self.ended = "", False

    def isatty(self) -> bool:
        return self.stream.isatty()

    def readline(self) -> str:
        while "\n" not in self.text and not self.ended:
            readable, _, _ = select.select([self.descriptor, self.wakeup], [], [])
            if self.wakeup in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wakeup, 512)
            if self.descriptor in readable:
                chunk = os.read(self.descriptor, 65536)
                self.ended = not chunk
                self.text += self.decoder.decode(chunk, final=self.ended)
        line, newline, self.text = self.text.partition("\n")
        return line + newline


@contextlib.contextmanager
def interruptible_stdin() -> Iterator[TextIO | InterruptibleLines]:
    """Standard input as `InterruptibleLines` while plain mode runs (the wakeup pipe is the process's one: it is
    given back as it was); as it is when it is no file (`sys.stdin` replaced)."""
    try:
        sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        yield sys.stdin
        return
    wakeup, wakeup_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    before = signal.set_wakeup_fd(wakeup_end)
    try:
        yield InterruptibleLines(sys.stdin, wakeup)
    finally:
        signal.set_wakeup_fd(before)
        os.close(wakeup)
        os.close(wakeup_end)


def run_plain(args: argparse.Namespace) -> int:
    with interruptible_stdin() as stdin:
        return _run_plain(args, stdin)


def _run_plain(args: argparse.Namespace, stdin: TextIO | InterruptibleLines) -> int:
    conversation = Conversation(load_bank_option(args), stdin, sys.stdout, title=args.title, design=args.design,
                                new=args.new, resume=args.resume, replace=args.replace)
    try:
        return conversation.run(getattr(args, "date", None))
    except (EndOfInput, KeyboardInterrupt) as ending:
        interrupted = isinstance(ending, KeyboardInterrupt)
        how, status = ("Interrupted", EXIT_INTERRUPTED) if interrupted else ("Input ended", EXIT_OK)
        if conversation.walk is None:
            write_stream(conversation.stdout, f"\n{how} before a design was started.\n")
            return status
        conversation.save()
        if conversation.save_error:
            conversation.say()
            return conversation.not_saved(f"{how}.")
        write_stream(conversation.stdout, f"\n{how}; your answers are saved in {conversation.path}. "
                                          f"Run {conversation.resume_command} to go on.\n")
        return status
    finally:
        if conversation.lock is not None:
            conversation.lock.release()
