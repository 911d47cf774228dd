"""Small screens over the walk: confirm, review, presets, open, export, help."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from textual import on
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, OptionList, RadioSet, Static
from textual.widgets.option_list import Option

from guide.frontend import FORMAT_NAMES, fitting_format, named_format, typed_name
from guide.source import GuideError
from guide.report.text import counted, number_name, shorten, shown_title
from guide.tui.widgets import (KeyBar, ListWithEnds, MarkedRadioButton, OneLineInput, ReadingScroll, clean, listing,
                               quoted_title)

if TYPE_CHECKING:  # the start screen's dialogs come before the models are imported
    from guide.model import AnswersFile


class Dialog(ModalScreen):
    BINDINGS = [Binding("escape", "dismiss_dialog", "Close")]

    def on_mount(self) -> None:
        # The dialog's own keys, over the key bar of the screen beneath (which do not work while it is open).
        self.mount(KeyBar())
        # Toasts about what came before would sit over the dialog's box and buttons on a small terminal; a
        # warning or an error stays (a save that failed), as it may not have been read yet.
        for toast in list(self.app._notifications):
            if toast.severity == "information":
                self.app._unnotify(toast, refresh=False)
        # Textual redraws the toasts of the dialog's screen only; the screens beneath show through its backdrop,
        # where a toast it cleared stayed drawn, half covered ("Draft kept" under the export dialog at 40x12).
        for screen in self.app.screen_stack:
            for rack in screen.query("ToastRack"):
                rack.show(self.app._notifications)

    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)

    def dismiss(self, result=None) -> AwaitComplete:
        # A dialog closes once: a second key queued behind the first (two Enters on a list, Esc after Enter) finds
        # it gone, and dismissing it again would pop the screen beneath (or raise, with none beneath).
        return super().dismiss(result) if self.is_current else AwaitComplete()


class Confirm(Dialog):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("left,right", "app.focus_next", "Switch", show=False),
    ]

    def __init__(self, title: str, message: str, *, yes: str = "Yes", no: str = "Cancel", yes_key: bool = True) -> None:
        """Without `yes_key`, y does not agree (only the yes button does): for what cannot be undone, which
        letters typed by mistake ("xyz" on the start screen) must not do."""
        super().__init__()
        self.title_text, self.message, self.yes, self.no, self.yes_key = title, message, yes, no, yes_key

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.title_text, "bold"), classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(Content(self.message))
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.no} (n)", id="no")
                yield Button(f"{self.yes} (y)" if self.yes_key else self.yes, id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no").focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.yes_key or parameters != (True,)

    def action_answer(self, agreed: bool) -> None:
        self.dismiss(agreed)


# Each list names what its Enter does on the key bar. The binding is the list's own, not a priority binding of the
# dialog: that one ran as the key reached the app, before the ↓ typed ahead of it had moved the highlight.
class ReviewList(ListWithEnds):
    BINDINGS = [Binding("enter", "select", "Go to the question", key_display="⏎")]


class PresetList(OptionList):
    BINDINGS = [Binding("enter", "select", "Open", key_display="⏎")]


class Review(Dialog):
    """Every question on the current path with its answer; Enter jumps to it."""

    def __init__(self, walk) -> None:
        super().__init__()
        self.walk = walk

    def compose(self) -> ComposeResult:
        from guide.engine import answer_labels, joined_labels

        walk = self.walk
        options = []
        for number, question_id in enumerate(walk.path, 1):
            question = walk.bank.questions[question_id]
            labels = answer_labels(question, walk.answers.answers.get(question_id))
            answer = joined_labels(clean(label) for label in labels) if walk.is_answered(question_id) else "not answered"
            if walk.answers.notes.get(question_id):
                answer += f" · note: {clean(walk.answers.notes[question_id])}"
            marker = "▶ " if question_id == walk.position else "  "
            options.append(Option(Content.assemble(
                marker, (f"{number:>2}. {clean(question.prompt)}", "bold"), "\n     ", (answer[:200], "italic")),
                id=question_id))
        with Vertical(classes="dialog wide-dialog"):
            yield Static(Content.styled("Review: Enter jumps to a question (▶ is where you are)", "bold"),
                         classes="dialog-title")
            yield ReviewList(*options, id="review-list")
            if walk.set_aside:
                names = listing([walk.bank.questions[other].prompt for other in walk.set_aside])
                yield Static(Content.assemble(("Set aside (off the path, kept):", "bold"), names), id="review-aside")

    def on_mount(self) -> None:
        review = self.query_one(OptionList)
        review.highlighted = 0  # read from the top, as the design document lists them
        review.focus()

    @on(OptionList.OptionSelected)
    def _jump(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class PresetPicker(Dialog):
    """The bank's case presets, opened read-only as worked examples."""

    def __init__(self, bank) -> None:
        super().__init__()
        self.bank = bank

    def compose(self) -> ComposeResult:
        from guide.bank import read_answers

        options = []
        for name, path in self.bank.cases().items():
            try:
                preset = read_answers(path, self.bank)
                text = Content.assemble((clean(preset.title), "bold"), "\n  ", shorten(clean(preset.description), 160))
            except GuideError as error:
                text = Content.assemble((name, "bold"), "\n  cannot be opened: ", clean(str(error)))
            options.append(Option(text, id=name))
        with Vertical(classes="dialog wide-dialog"):
            yield Static(Content.styled("Worked examples: open a preset read-only", "bold"), classes="dialog-title")
            yield PresetList(*options, id="preset-list")

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class BoundedInput(OneLineInput):
    """A one-line box with a length limit that keeps what fits of a longer paste or typing, and says so with a
    `Cut` message, where Textual's Input refuses a paste over the limit whole, without a word."""

    class Cut(Message):
        """What was typed or pasted ran past the limit, and the rest was left out."""

        def __init__(self, limit: int) -> None:
            super().__init__()
            self.limit = limit

    def replace(self, text: str, start: int, end: int) -> None:
        # A selection made leftwards comes as end < start; Textual's own replace orders and clamps them too.
        start, end = sorted((max(0, start), min(len(self.value), end)))
        room = self.max_length - (len(self.value) - (end - start))
        cut = bool(self.max_length) and len(text) > room
        super().replace(text[:max(room, 0)] if cut else text, start, end)
        if cut:
            # After the Changed of what was kept, which clears an older error.
            self.post_message(self.Cut(self.max_length))


class FormDialog(Dialog):
    """A dialog with fields; the app checks what was entered and may show an error here."""

    def show_error(self, message: str) -> None:
        self.query_one("#error", Static).update(Content.styled(clean(message), "bold"))

    def on_mount(self) -> None:
        # Where the fields scroll (a short terminal), the one typed into is in view after every layout (the first,
        # a resize): keys act on what is shown.
        self.screen_layout_refresh_signal.subscribe(self, self._show_focused)

    def _show_focused(self, _screen: Screen) -> None:
        if self.focused is not None:
            self.focused.scroll_visible(animate=False)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(BoundedInput.Cut)
    def _cut(self, event: BoundedInput.Cut) -> None:
        self.show_error(f"At most {event.limit} characters: what went past that was left out.")

    def submit(self, entered: Callable[..., None], *fields: str) -> None:
        """Hand what was entered to the app, which checks it and closes the dialog or shows an error; a second
        Enter queued behind the first finds the dialog closed and does nothing (on a slow server it would
        close the screen beneath)."""
        if self.is_current:
            entered(self, *fields)


class AskDialog(FormDialog):
    """Ask for one line of text (a file path, a title); `entered` checks it and may show an error here. Enter on
    an empty box, where an answer is required, says what to do (`empty`)."""

    def __init__(self, title: str, explain: str, entered: Callable[[AskDialog, str], None], *, value: str = "",
                 action: str = "Open", required: bool = True, cancel: str = "Cancel", max_length: int = 0,
                 empty: str = "") -> None:
        super().__init__()
        self.title_text, self.explain, self.entered, self.value, self.action = title, explain, entered, value, action
        self.required, self.cancel, self.max_length, self.empty = required, cancel, max_length, empty

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.title_text, "bold"), classes="dialog-title")
            yield Static(Content(self.explain))
            yield BoundedInput(value=self.value, id="entry", max_length=self.max_length)
            yield Static(id="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.cancel, id="cancel")
                yield Button(self.action, id="go", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#entry").focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#go")
    def _go(self) -> None:
        value = self.query_one("#entry", Input).value.strip()
        if shown_title(value) or not self.required:  # zero-width characters alone show as an empty title
            self.submit(self.entered, value)
        else:
            self.show_error(self.empty)

    @on(Input.Changed, "#entry")
    def _edited(self) -> None:
        self.show_error("")  # an error about what was there before no longer applies


class RenameDialog(AskDialog):
    """A design's new title, in a box as long as a title may be; an empty box is refused, the old title kept."""

    def __init__(self, explain: str, entered: Callable[[AskDialog, str], None], title: str) -> None:
        from guide.model import SHORT_TEXT_MAX

        super().__init__("Rename the design", explain, entered, value=title, action="Rename", max_length=SHORT_TEXT_MAX,
                         empty=f"A design needs a title: type one, or press Esc to keep {quoted_title(title)}.")


class FormatChoice(RadioSet):
    """The export's formats, whose keys show on the key bar while it has the focus."""

    BINDINGS = [
        Binding("right", "next_button", "Format", key_display="←→"),
        Binding("left", "previous_button", "Format", show=False),
        Binding("space", "toggle_button", "Choose"),
    ]


class ExportDialog(FormDialog):
    """Title, where to write the design document (or its name, downloaded by a browser) and its format, in
    the order Tab moves through them from the file name, which has the focus."""

    VERTICAL_BREAKPOINTS = [(0, "-short"), (22, "-tall")]

    # Enter exports from either box (the key bar says so there); on the formats it chooses, on a button it
    # presses that button.
    BINDINGS = [
        Binding("tab", "app.focus_next", "Next field"),
        Binding("enter", "export", "Export", key_display="⏎", priority=True),
    ]

    def __init__(self, answers: AnswersFile, set_aside: list[str], drafted: list[str], formats: tuple[str, ...],
                 format: str, default: str, web: bool) -> None:
        """`set_aside` and `drafted` are the prompts of the questions whose set-aside answer, or draft, the document
        does not count."""
        super().__init__()
        self.answers, self.set_aside, self.drafted, self.formats, self.web = answers, set_aside, drafted, formats, web
        self.format, self.default = format, default

    def compose(self) -> ComposeResult:
        from guide.model import SHORT_TEXT_MAX

        with Vertical(classes="dialog"):
            yield Static(Content.styled("Export the design document", "bold"), classes="dialog-title")
            with ReadingScroll(classes="dialog-fields"):
                yield Static("Title (left empty, the current one is kept)")
                yield BoundedInput(value=shown_title(self.answers.title), id="title", max_length=SHORT_TEXT_MAX)
                yield Static("File name (downloaded by the browser)" if self.web else "Write to")
                yield OneLineInput(value=self.default, id="path")
                yield Static("Format (Tab to it, ← → and space to choose)")
                with FormatChoice(id="format", compact=True):
                    for name in self.formats:
                        yield MarkedRadioButton(FORMAT_NAMES[name], value=name == self.format, id=f"format-{name}")
                if self.set_aside:
                    yield Static(Content.assemble(
                        (f"{counted(len(self.set_aside), 'set-aside answer')} ", "bold"),
                        "is listed in the document but does not count:" if len(self.set_aside) == 1 else
                        "are listed in the document but do not count:", listing(self.set_aside)), id="aside-note")
                if self.drafted:
                    # Typed and left without Enter: the user may take the draft for the answer it is not yet.
                    yield Static(Content.assemble(
                        (f"{counted(len(self.drafted), 'draft')} ", "bold"),
                        "is not in the document, as it is not yet the answer (Enter in its box answers with it):"
                        if len(self.drafted) == 1 else
                        "are not in the document, as they are not yet the answers (Enter in a box answers with it):",
                        listing(self.drafted)), id="draft-note")
            # The fields scroll on a short terminal; the error under them and the buttons docked below stay on screen.
            yield Static(id="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Download" if self.web else "Export", id="go", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#path").focus()

    @property
    def chosen_format(self) -> str:
        pressed = self.query_one("#format", RadioSet).pressed_button
        return pressed.id.removeprefix("format-") if pressed is not None and pressed.id else self.format

    @on(RadioSet.Changed, "#format")
    def _format(self) -> None:
        path = self.query_one("#path", Input)
        target = Path(path.value.strip())
        # A name that already says the format chosen keeps its spelling (.htm, .markdown): the radio may have
        # followed the name just typed.
        if target.name not in ("", "..") and named_format(target) != self.chosen_format:
            path.value = str(target.with_suffix(f".{self.chosen_format}"))
            path.cursor_position = len(path.value)  # the new suffix in view

    @on(Input.Changed, "#path")
    def _follow_name(self, event: Input.Changed) -> None:
        """The radio follows a name that says a format, so that what is shown is what is written."""
        named = named_format(Path(event.value.strip()))
        if named in self.formats and named != self.chosen_format:
            self.query_one(f"#format-{named}", MarkedRadioButton).value = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "export" or isinstance(self.focused, Input)

    @on(Button.Pressed, "#go")
    def action_export(self) -> None:
        """The format is the one the name says, as `guide run --out` takes it (the radio may not have caught up
        with the last key yet); a name without one gets the radio's."""
        target = self.query_one("#path", Input).value.strip()
        try:
            named = fitting_format(target, self.formats, "the export")
        except ValueError as problem:
            self.show_error(f"{typed_name(target)}: {problem}")
            return
        self.submit(self.app.export, self.query_one("#title", Input).value, named or self.chosen_format, target)


class HelpScreen(Dialog):
    BINDINGS = [Binding("escape,f1,question_mark,q", "dismiss_dialog", "Close")]

    def __init__(self, bank) -> None:
        super().__init__()
        self.bank = bank

    def compose(self) -> ComposeResult:
        meta = self.bank.meta
        parts: list = [("Keys\n", "bold"), KEYS, ("\nThe framework\n", "bold"),
                       "Wang et al. (IEEE Access, 2024) name five elements of interpretability for machine learning "
                       "in medical imaging and a step-by-step way from a project's goals to elements, and from "
                       f"elements to methods. This tool walks that way in {number_name(len(meta.stages))} "
                       f"step{'' if len(meta.stages) == 1 else 's'}:\n"]
        for number, stage in enumerate(meta.stages, 1):
            parts += [f"  {number}. ", (clean(stage.title), "bold"), f": {clean(stage.description)}\n"]
        parts.append(f"\nEach answer fires rules that raise or lower the priority of its "
                     f"{number_name(len(self.bank.elements))} elements:\n")
        for element in self.bank.elements.values():
            parts += [f"  {element.short} ", (clean(element.name), "bold"), "\n"]
        parts.append("\nPriorities are levels in words: ")
        parts.append("; ".join(f"{clean(level.label)}: {clean(level.description)}" for level in meta.levels))
        parts.append("\n\nMethod families are ranked by how well they cover the high-priority elements and filtered "
                     "by your constraints. The questions, rules and weights are this tool's reading of the paper, "
                     "not the paper's own; the design document says which is which. Press l on the start screen "
                     f"to learn the {number_name(len(self.bank.elements))} elements with examples.")
        with Vertical(classes="dialog wide-dialog"):
            yield Static(Content.styled("Help (Esc closes)", "bold"), classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(Content.assemble(*parts))


KEYS_HELP = (
    ("n p o", "start screen: new design, presets, open a file as a new design"),
    ("r t d x", "start screen, on the highlighted design: resume (or Enter), rename, duplicate, delete (asks first)"),
    ("/", "start screen: find a design by typing words of its title (in the command palette)"),
    ("↑ ↓", "move between choices"),
    ("1-9, 0", "move to a choice by its number"),
    ("Enter", "answer with the highlighted choice (worked example: next)"),
    ("space", "tick choices where several apply; Enter answers with them"),
    ("u", "answer Unsure"),
    ("n", "write a note for this answer; Enter keeps it and goes back to the answer"),
    ("←→", "previous / next question; on the results, previous / next tab"),
    ("Tab", "move between the choices, the note, the buttons and the panel"),
    ("Esc", "out of a note or text box; out of a worked example, to the start screen"),
    ("v", "review the answers; jump to any"),
    ("p", "show or hide the reasoning panel"),
    ("l", "the lesson on the element picked in the panel (start screen: every element)"),
    ("h", "show or hide why a question is asked"),
    ("s", "results; e exports the design document there, b goes back to the questions"),
    ("t", "rename the design (its title)"),
    ("c", "copy a worked example into a design of your own"),
    ("ctrl+t", "light or dark theme (kept for the next time)"),
    ("ctrl+p", "command palette: jump, export (HTML, JSON), theme"),
    ("F1, ?", "this help"),
    ("ctrl+q", "quit (answers are saved after each one)"),
)
KEYS = "".join(f"  {keys:<7} {what}\n" for keys, what in KEYS_HELP)
