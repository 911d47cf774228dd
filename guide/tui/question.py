"""One question at a time, with the reasoning panel moving beside it."""

from __future__ import annotations

import io
from itertools import chain
from time import perf_counter, strftime
from typing import Callable, Iterator

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.geometry import Size
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList, Static

from guide.engine import answer_labels, chosen
from guide.frontend import SEVERAL_CHOICES
from guide.model import END, UNSURE, ElementResult, Question
from guide.report.text import counted, sentence
from guide.session import Outcome, Walk, keep_aside
from guide.source import GuideError
from guide.tui.dialogs import Confirm
from guide.tui.widgets import (NUMBER_KEYS, ChoiceList, ElementBars, KeyBar, NoteInput, ParagraphInput, ReadingScroll,
                               ReasoningPanel, SizedScreen, TextBlock, clean, first_highlight, listing, show_content,
                               walk_label)


COMPACT_NOTICE_ROWS = 30  # below this height, a changed answer's notice gives counts, not every prompt
# What a question shows besides its choices on a short terminal (progress, prompt, the help's hint, the highlighted
# choice's description, the note, the buttons, the key bar, with their margins): the choices get the rest.
ROWS_BESIDE_CHOICES = 17
# Drawing the next questions ahead goes on for this long at a time (seconds), then gives way to keys for as long;
# it waits until this long after the user's last key or mouse event.
PREPARING_STEP = PREPARING_PAUSE = 0.002
PREPARING_AFTER_INPUT = 0.02


def prompt_content(question: Question) -> Content:
    prompt = Content.styled(clean(question.prompt), "bold")
    # Said where the question is asked, not in the bank's prompt, which documents quote once per answer.
    return Content.assemble(prompt, (f" {SEVERAL_CHOICES}", "italic")) if question.kind == "multiple" else prompt


def help_content(question: Question) -> Content:
    return Content(clean(question.help))


def progress_content(walk: Walk) -> Content:
    """Where the walk is: the step, and the question's place on the path."""
    question = walk.question
    assert question is not None
    stages = walk.bank.meta.stages
    number = walk.stage_number(question)
    left = walk.remaining
    # A design with every question answered is being looked over, not walked: "39 more" would read as work left.
    where = (f"of {len(walk.path)}, all answered" if not walk.unanswered
             else f"· {left} more on this path" if left else "· the last on this path")
    return Content.assemble((f"Step {number}/{len(stages)}: {clean(stages[number - 1].title)}", "bold"),
                            f" · question {walk.path.index(question.id) + 1} {where}")


def strip_content(elements: list[ElementResult], settled: bool) -> Content:
    """The priorities on one line, for a screen too narrow for the reasoning panel."""
    return Content.assemble(*[part for element in elements
                              for part in ((element.short, "bold"), f":{walk_label(element, settled)}  ")],
                            "(p: reasoning)")


class WorkAhead:
    """Steps of work done ahead while the user reads: for up to PREPARING_STEP seconds at a time, then giving
    way for PREPARING_PAUSE, or at once for a message waiting for the app; while keys or the mouse come (a key
    pressed meanwhile goes through several widgets before it is handled), it waits. It stops when no longer
    `wanted`, or when a dialog covers the question."""

    def __init__(self, screen: Screen, steps: Iterator[None], wanted: Callable[[], bool]) -> None:
        self.screen, self.steps, self.wanted = screen, steps, wanted

    def take_steps(self) -> None:
        # A bound method, not a partial: Textual counts a timer callback's parameters once per function.
        screen = self.screen
        if not self.wanted() or not screen.is_current:
            return
        started = perf_counter()
        app = screen.app
        # A key or click waiting for the app goes first (one from the terminal reaches it in a pause).
        if started - app.last_input >= PREPARING_AFTER_INPUT and not app.message_queue_size:
            for _ in self.steps:
                if perf_counter() - started >= PREPARING_STEP or app.message_queue_size:
                    break
            else:
                return
        screen.set_timer(PREPARING_PAUSE, self.take_steps)


class QuestionScreen(SizedScreen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (76, "-normal"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    AUTO_FOCUS = ""  # show_question focuses the answer field; a focus before it would redo the key bar twice
    # Textual repaints the whole screen when the focus moves, at once, before the widgets that changed with it
    # have asked for their layout: an answer that moved the focus between the choices and the text box was
    # painted in two frames, each of the whole screen. The widgets that gain and lose the focus repaint themselves.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    # Leaving with ← and ticks not confirmed with Enter: they are not kept (text typed is kept as a draft).
    CHANGE_DROPPED = "What you changed here was not answered, so the answer stays as it was."
    TICKS_DROPPED = "Your ticks here were not answered (Enter answers), so they are dropped: the question stays open."
    BINDINGS = [
        # The key bar keeps the first of these when the terminal is narrow. n is on the note box itself, and
        # h on the screen where the question's help is hidden.
        Binding("left", "back", "Back/Next", key_display="←→"),
        Binding("right", "forward", "Next", show=False),
        Binding("u", "unsure", "Unsure"),
        Binding("n", "note", "Note", show=False),
        Binding("v", "review", "Review"),
        Binding("s", "results", "Results"),
        Binding("t", "app.rename", "Rename"),
        Binding("c", "copy_example", "Copy to edit"),
        Binding("p", "toggle_reasoning", "Panel"),
        Binding("h", "toggle_help", "Why?"),
        Binding("l", "learn", "Learn the element", show=False),
        # Esc steps out one level: out of a text box, then out of a worked example (the first binding that works).
        Binding("escape", "leave_example", "Start screen", key_display="Esc"),
        Binding("escape", "leave_field", "Back to choices", show=False),
        *[Binding(key, f"number({index})", show=False) for index, key in enumerate(NUMBER_KEYS)],
    ]

    def __init__(self, walk: Walk) -> None:
        super().__init__()
        self.walk = walk
        self.preparing = 0  # the round of preparing the next question; a newer one stops the older
        self.prepare_pending = False  # the next questions are to be drawn ahead after the next layout's frame
        self.prepared_for: tuple[int, Size] | None = None  # the round and screen size they were last drawn for
        self.answer_round = 0  # the panel is worked out ahead again for each choice highlighted or ticked

    def compose(self) -> ComposeResult:
        yield TextBlock(id="progress")
        yield TextBlock(id="strip")
        with Horizontal(id="body"):
            with ReadingScroll(id="question-pane"):
                yield TextBlock(id="banner")
                yield TextBlock(id="prompt")
                yield TextBlock(id="help")
                yield Static(Content.styled("h: why we ask this", "italic"), id="help-hint")
                yield ChoiceList(id="choices")
                yield ParagraphInput(id="paragraph", soft_wrap=True, show_line_numbers=False)
                yield TextBlock(id="about")
                # Not selected on focus: `n` and a word would replace a note written earlier.
                yield NoteInput(placeholder="n: a note (optional): who or why", id="note", max_length=20000,
                                compact=True, select_on_focus=False)
                with Horizontal(id="buttons"):
                    yield Button("← Back", id="back-button", compact=True)
                    yield Button("Answer ↵", id="answer-button", variant="primary", compact=True)
                    yield Button("Unsure", id="unsure-button", compact=True)
            yield ReasoningPanel(self.app.bank, id="reasoning")
        yield KeyBar()

    def on_mount(self) -> None:
        self.screen_layout_refresh_signal.subscribe(self, self._laid_out)
        self.show_question()

    def on_resize(self, event: events.Resize) -> None:
        self.query_one(ChoiceList).fit_to(event.size.height - ROWS_BESIDE_CHOICES)
        self.prepare_pending = True  # what was drawn ahead is for the old width: draw it again for the new

    # -- display ------------------------------------------------------------------------------

    def show_question(self) -> None:
        walk = self.walk
        if walk.position == END:
            self.app.show_results()
            return
        question = walk.question
        assert question is not None
        show_content(self.query_one("#progress", Static), progress_content(walk))
        banner = self.query_one("#banner", Static)
        if walk.read_only:
            # The reading (whose judgement these answers are) once, at the start; a short reminder after.
            reading = clean(walk.answers.reading) + " " if question.id == walk.path[0] else ""
            show_content(banner, Content.assemble((f"Worked example: {clean(walk.answers.title)}. ", "bold"), reading,
                                           "Read-only; c copies it into a design of your own."))
        banner.display = walk.read_only
        show_content(self.query_one("#prompt", Static), prompt_content(question))
        show_content(self.query_one("#help", Static), help_content(question))
        value = walk.answers.answers.get(question.id)
        choices = self.query_one(ChoiceList)
        paragraph = self.query_one(ParagraphInput)
        is_text = question.kind == "text"
        choices.display = not is_text
        paragraph.display = is_text
        self.query_one("#unsure-button").display = not is_text and not walk.read_only
        self.query_one("#answer-button", Button).label = "Next →" if walk.read_only else "Answer ↵"
        if is_text:
            paragraph.question_id = question.id
            paragraph.load_text(walk.drafts.get(question.id) or (value if isinstance(value, str) else ""))
            paragraph.move_cursor(paragraph.document.end)  # typing goes on where the text ends
            paragraph.read_only = walk.read_only
        else:
            choices.show(question, value, walk.read_only)
        note = self.query_one("#note", Input)
        note.value = walk.answers.notes.get(question.id, "")
        note.disabled = walk.read_only
        # Focus now, not later: keys typed right after Enter must reach the new question's field.
        field = paragraph if is_text else choices
        self.set_focus(field, scroll_visible=False)
        self.query_one("#question-pane").scroll_home(animate=False)
        self._show_about()
        self.refresh_reasoning()
        self.preparing += 1  # steps left from the question before are dropped
        self.prepare_pending = True

    # -- the next question, prepared while the user reads this one --------------------------------

    def _laid_out(self, _screen: Screen) -> None:
        """Once the question is painted (the frame of its layout), work out ahead what the likeliest answer
        leaves in the reasoning panel, and draw what each question an answer can lead to shows whatever the
        answer (its prompt, help, choices and the note under them) in the widgets that will show it, in small
        steps: an answer then swaps in lines already drawn. Keys come first, an answer or a move drops the
        steps left, and lines drawn for a width or theme that changed since are never used (both are in their
        keys). Not `call_after_refresh`: that can run before the widgets changed by the answer have asked the
        screen for their layout, and delay its frame."""
        if self.prepare_pending and (self.preparing, self.size) != self.prepared_for:
            self.prepared_for = (self.preparing, self.size)
            question_round = self.preparing
            steps = chain(self._answer_ahead(), self._drawing_ahead())
            self.call_later(WorkAhead(self, steps, lambda: question_round == self.preparing).take_steps)
        self.prepare_pending = False

    @on(OptionList.OptionHighlighted, "#choices")
    def _highlight_moved(self) -> None:
        self._show_about()
        self._answer_on_enter_changed()

    @on(ChoiceList.Ticked)
    def _answer_on_enter_changed(self) -> None:
        if self.prepared_for == (self.preparing, self.size):
            # The work ahead began for another answer on Enter: the panel is worked out again for this one.
            self.answer_round += 1
            answer_round, question_round = self.answer_round, self.preparing
            self.call_later(WorkAhead(self, self._answer_ahead(), lambda: (answer_round, question_round) ==
                                      (self.answer_round, self.preparing)).take_steps)

    def _answer_ahead(self) -> Iterator[None]:
        """Work out and draw what the answer Enter would give (the highlighted choice, or the ticked ones)
        changes besides the next question: the scores, the reasoning panel, the progress line."""
        question = self.walk.question
        value = self.query_one(ChoiceList).answer_on_enter
        if question is None or question.kind == "text" or self.walk.read_only or value is None:
            return
        yield
        ahead = self.walk.after(question.id, value)
        if ahead is None:
            return
        elements, settled = ahead.elements_so_far(), not ahead.unanswered
        yield
        self.query_one(ReasoningPanel).prepare(elements, settled)
        yield
        self.query_one("#strip", TextBlock).prepare(strip_content(elements, settled))
        if ahead.question is not None:
            self.query_one("#progress", TextBlock).prepare(progress_content(ahead))

    def _drawing_ahead(self) -> Iterator[None]:
        """Draw ahead what each question an answer can lead to shows, in steps of a text or a choice."""
        for question, value in self._next_questions():
            yield
            self.query_one("#prompt", TextBlock).prepare(prompt_content(question))
            yield
            self.query_one("#help", TextBlock).prepare(help_content(question))
            yield
            highlighted = first_highlight(question, chosen(value)) if question.kind != "text" else None
            self.query_one("#about", TextBlock).prepare(self._about_content(question, highlighted))
            if question.kind != "text":
                yield from self.query_one(ChoiceList).prepare(question, value)

    def _next_questions(self) -> list[tuple[Question, object]]:
        """The questions an answer here can lead to (one per route the engine takes) with their answers."""
        walk = self.walk
        question = walk.question
        if question is None:
            return []
        if walk.read_only:
            values = [walk.answers.answers.get(question.id)]
        elif question.kind == "text":
            values = ["text", None]  # an answer in words, or the question left open
        elif question.kind == "multiple":
            values = [[choice.id] for choice in question.choices]
        else:
            values = [choice.id for choice in question.choices]
        answers = walk.answers.answers
        following: dict[str, object] = {}
        for value in values:
            path = walk.path_after(question.id, value)
            index = path.index(question.id) + 1 if question.id in path else len(path)
            if index < len(path) and path[index] not in following:
                following[path[index]] = answers.get(path[index])
        return [(walk.bank.questions[question_id], value) for question_id, value in following.items()]

    def refresh_reasoning(self) -> None:
        elements = self.walk.elements_so_far()
        settled = not self.walk.unanswered
        self.query_one(ReasoningPanel).show(elements, settled)
        show_content(self.query_one("#strip", Static), strip_content(elements, settled))

    def _show_about(self) -> None:
        question = self.walk.question
        highlighted = self.query_one(ChoiceList).highlighted
        about = self.query_one("#about", Static)
        if question is None or (question.kind != "text" and highlighted is None):
            show_content(about, Content(""))
            return
        show_content(about, self._about_content(question, highlighted))

    def _about_content(self, question: Question, highlighted: int | None) -> Content:
        """What the note under the answer says, in a question of choices with the choice `highlighted`."""
        if question.kind == "text":
            draft = "Your draft, not yet the answer: " if question.id in self.walk.drafts else ""
            return Content.styled(f"{draft}Enter answers (an empty answer leaves the question open). "
                                  "Esc leaves the text box; then ← and → step through the questions.", "italic")
        assert highlighted is not None
        choice = question.choices[highlighted]
        hint = "space ticks, then Enter answers" if question.kind == "multiple" else "Enter answers"
        if self.walk.read_only:
            hint = "Enter or → goes on"
        return Content.assemble((clean(choice.label), "bold"), ": ", clean(choice.description) or "",
                                ("\n" + hint, "italic"))

    # -- answering ----------------------------------------------------------------------------

    @property
    def has_unsaved(self) -> bool:
        """Something typed or ticked on this question that is not in the session yet."""
        question = self.walk.question
        if question is None or self.walk.read_only:
            return False
        note = self.query_one("#note", Input).value.strip()
        if note != self.walk.answers.notes.get(question.id, ""):
            return True
        if question.kind == "text":  # a kept draft is not lost
            return self._typed_text() != self.walk.drafts.get(question.id, self._text_answer())
        return self._answer_changed()

    # An answer reaches the screen as a message, and what was done meanwhile (a click, keys typed into a text box)
    # may have moved on to the next question: an answer meant for a question no longer shown is dropped, never
    # given to the one shown.
    @on(ChoiceList.Chosen)
    def _chosen(self, event: ChoiceList.Chosen) -> None:
        if event.question is self.walk.question:
            self.submit(event.value)

    @on(ParagraphInput.Submitted)
    def _paragraph(self, event: ParagraphInput.Submitted) -> None:
        if self.walk.question is not None and event.question_id == self.walk.question.id:
            self.submit(event.value.strip() or None)

    @on(Input.Submitted, "#note")
    def _note_done(self) -> None:
        self.keep_typed()
        self._focus_answer()

    @on(Button.Pressed, "#answer-button")
    def _answer_button(self) -> None:
        if self.walk.question and self.walk.question.kind == "text":
            self.submit(self._typed_text() or None)
        else:
            self.query_one(ChoiceList).action_confirm()

    @on(Button.Pressed, "#unsure-button")
    def _unsure_button(self) -> None:
        self.action_unsure()

    @on(Button.Pressed, "#back-button")
    def _back_button(self) -> None:
        self.action_back()

    def submit(self, value) -> None:
        walk = self.walk
        question = walk.question
        if question is None:
            return
        if walk.read_only:
            self.action_forward()
            return
        note = self.query_one("#note", Input).value
        leaving = walk.would_set_aside(question.id, value)
        if not leaving:
            self._record(question.id, value, note)
            return
        prompts = "\n".join(f"• {clean(walk.bank.questions[other].prompt)}" for other in leaving)
        message = (f"This answer takes {counted(len(leaving), 'answered question')} off your path:\n\n{prompts}\n\n"
                   "Their answers are set aside, not deleted: they are left out of the results and come back "
                   "if you change this answer back.")

        def decided(proceed: bool | None) -> None:
            if proceed:
                self._record(question.id, value, note)

        self.app.push_screen(Confirm("Change the path?", message, yes="Change it", no="Keep my answer"), decided)

    def _record(self, question_id: str, value, note: str) -> None:
        before, path_before = self.walk.answers.answers.get(question_id), list(self.walk.path)
        try:
            outcome = self.walk.answer(question_id, value, note)
        except ValueError as error:
            self.notify(clean(str(error)), title="Not saved", severity="error")
            return
        self.app.save_after_frame()
        if before is not None and sorted(chosen(before)) != sorted(chosen(value)):
            self._tell_change(question_id, value, outcome, path_before)  # which went off the path, which came back
        elif outcome.set_aside or outcome.restored:
            said = []
            if outcome.set_aside:
                said.append(f"{counted(len(outcome.set_aside), 'answer')} set aside: back if you change this answer "
                            "back.")
            if outcome.restored:
                said.append(f"{counted(len(outcome.restored), 'set-aside answer')} back on your path.")
            self.notify(" ".join(said), title="Path changed")
        self.show_question()

    def _tell_change(self, question_id: str, value, outcome: Outcome, path_before: list[str]) -> None:
        """Say that an answer given before was changed, to what, and what it did to the questions after it."""
        walk = self.walk
        question = walk.bank.questions[question_id]
        labels = ", ".join(clean(label) for label in answer_labels(question, value)) or "not answered"
        added = [other for other in walk.path if other not in path_before and other not in outcome.restored]

        # On a small screen the prompts would cover it: the notice gives counts, and the review lists the rest.
        compact = self.app.size.height < COMPACT_NOTICE_ROWS

        def prompts(question_ids: list[str]) -> str:
            if compact:
                return f" {len(question_ids)} question{'s' if len(question_ids) != 1 else ''}."
            return listing([walk.bank.questions[other].prompt for other in question_ids])

        lines = [f"Question {walk.path.index(question_id) + 1}, “{clean(question.prompt)}”, is now: {sentence(labels)}"]
        if outcome.set_aside:
            lines.append(f"Set aside, off the path (they return if you change it back):{prompts(outcome.set_aside)}")
        if outcome.restored:
            lines.append(f"Back on the path with their answers:{prompts(outcome.restored)}")
        if added:
            lines.append(f"New on the path, to answer:{prompts(added)}")
        if not (outcome.set_aside or outcome.restored or added):
            lines.append("The later questions stay as they were; the priorities follow the new answer.")
        self.notify("\n".join(lines), title="Answer changed", timeout=6 if compact else 10)

    def keep_typed(self) -> None:
        """Keep what is typed on this question and not confirmed with Enter, when the user moves away or the
        terminal closes: the note as the question's note (answered or not), text in the answer box as its
        draft. Nothing typed is lost; a draft is never an answer."""
        walk = self.walk
        question = walk.question
        if question is None or walk.read_only:
            return
        note = self.query_one("#note", Input).value.strip()
        answers_before, draft_before = walk.answers, walk.drafts.get(question.id)
        try:
            if note != walk.answers.notes.get(question.id, ""):
                walk.set_note(question.id, note)
            if question.kind == "text":
                walk.keep_draft(question.id, self._typed_text())
        except ValueError as error:
            self._keep_aside(question, note, error)
            return
        draft = walk.drafts.get(question.id)
        if walk.answers is answers_before and draft == draft_before:
            return  # saving nothing new would list the design as just changed
        self.app.save()
        if draft is not None and draft != draft_before:
            self.notify("What you typed here is kept as a draft, not as the answer: it is in the box again when you "
                        "come back, and Enter there answers with it.", title="Draft kept")

    def _keep_aside(self, question: Question, note: str, problem: ValueError) -> None:
        """Text typed here that the design cannot hold (over a length limit) goes to the design's recovery file,
        which the notice names (and opening the design names again): nothing typed is lost."""
        typed = self._typed_text() if question.kind == "text" else ""
        parts = [f"Answer typed:\n{typed}" if typed else "", f"Note:\n{note}" if note else ""]
        heading = f"{strftime('%Y-%m-%d %H:%M')}, question “{question.prompt}”"
        try:
            kept = keep_aside(self.app.design_file, heading, "\n\n".join(part for part in parts if part))
        except GuideError as error:
            self.notify(f"{clean(str(problem))}; and {clean(str(error))}", title="Not kept", severity="error")
            return
        where = f"in {clean(str(kept))}"
        if self.app.is_web:  # the file is on the class's server: the student gets the text as a download too
            self.app.deliver_text(io.StringIO(kept.read_text(encoding="utf-8")), save_filename=kept.name,
                                  mime_type="text/plain")
            where = f"on the server, and offered to you as the download {clean(kept.name)}"
        self.notify(f"{clean(str(problem))}. What you typed is kept instead {where}.",
                    title="Not kept in the design", severity="warning", timeout=20)

    # -- actions ------------------------------------------------------------------------------

    def _focus_answer(self) -> None:
        question = self.walk.question
        if question is not None:
            self.set_focus(self.query_one(ParagraphInput) if question.kind == "text" else self.query_one(ChoiceList))

    def action_leave_field(self) -> None:
        # Out of a text box, ← and → step through the questions again.
        self.query_one("#note", Input).cursor_position = 0  # show the note from its start
        question = self.walk.question
        if question is not None and question.kind == "text":
            self.set_focus(self.query_one("#answer-button", Button))
        else:
            self._focus_answer()

    def action_number(self, index: int) -> None:
        if not self.walk.read_only:
            self.query_one(ChoiceList).highlight_number(index)

    def action_unsure(self) -> None:
        question = self.walk.question
        if question is None or question.kind == "text" or self.walk.read_only:
            return
        self.submit([UNSURE] if question.kind == "multiple" else UNSURE)

    def action_note(self) -> None:
        if not self.walk.read_only:
            self.set_focus(self.query_one("#note", Input))

    def _answer_changed(self) -> bool:
        """Ticks or text on screen that differ from the saved answer."""
        question = self.walk.question
        if question is None or self.walk.read_only:
            return False
        if question.kind == "text":
            return self._typed_text() != self._text_answer()
        return self.query_one(ChoiceList).pending

    def _typed_text(self) -> str:
        return self.query_one(ParagraphInput).text.strip()

    def _text_answer(self) -> str:
        question = self.walk.question
        answer = self.walk.answers.answers.get(question.id) if question is not None else None
        return answer.strip() if isinstance(answer, str) else ""

    def action_back(self) -> None:
        answer_changed = self._answer_changed()
        self.keep_typed()
        question = self.walk.question
        # Text typed is kept, as a draft or beside the design; what is dropped is ticks, or an emptied box.
        typed_kept = question is not None and question.kind == "text" and bool(self._typed_text())
        if answer_changed and question is not None and question.id not in self.walk.drafts and not typed_kept:
            self.notify(self.CHANGE_DROPPED if question.id in self.walk.answers.answers else self.TICKS_DROPPED)
        if self.walk.back():
            self.show_question()
            self.app.save_after_frame()  # where the user is, so that a resume comes back to it
        else:
            self.notify("This is the first question.")

    def action_forward(self) -> None:
        if self._answer_changed():
            self._answer_button()  # going on with a changed answer means answering with it
            return
        self.keep_typed()
        if self.walk.forward():
            self.show_question()
            self.app.save_after_frame()
        elif self.walk.question is not None and self.walk.question.kind == "text":
            self.notify("Answer in words, or press Enter on an empty box to leave it open, to go on.")
        else:
            self.notify("Answer this question (or choose Unsure) to go on.")

    def action_toggle_help(self) -> None:
        self.toggle_class("-hide-help" if self.has_class("-tall") else "-show-help")

    def action_toggle_reasoning(self) -> None:
        self.toggle_class("-show-reasoning")
        if self.has_class("-show-reasoning") and self.has_class("-narrow"):
            self.set_focus(self.query_one(ElementBars))
        elif not self.has_class("-show-reasoning"):
            self._focus_answer()

    def action_learn(self) -> None:
        """Open the lesson on the element selected in the reasoning panel."""
        self.app.action_learn(self.query_one(ReasoningPanel).selected_element())

    def action_review(self) -> None:
        self.keep_typed()
        self.app.action_review()

    def action_results(self) -> None:
        self.keep_typed()
        self.app.show_results()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A worked example can be read and copied, not answered; the footer shows only what works.
        if action == "copy_example":
            return self.walk.read_only
        if action == "leave_example":
            return self.walk.read_only and not isinstance(self.focused, ParagraphInput)
        if action in ("back", "forward") and isinstance(self.focused, (Input, ParagraphInput)):
            return False  # in a text box ← → move the cursor; the key bar does not offer them
        if action == "unsure" and (self.walk.question is None or self.walk.question.kind == "text"):
            return False  # a text question is answered in words or left empty; the key bar does not offer u
        return not (self.walk.read_only and action in ("unsure", "note", "number"))

    def action_leave_example(self) -> None:
        self.app.action_start_screen()

    def action_copy_example(self) -> None:
        if self.walk.read_only:
            self.app.copy_example()

    def jump(self, question_id: str) -> None:
        self.keep_typed()
        self.walk.jump(question_id)
        self.show_question()
