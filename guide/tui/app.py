"""`guide` without arguments: the terminal walk-through, a thin shell over `guide.session.Walk`.

The app owns the current walk and the session file; screens display the walk and report what the
user did. Under textual-serve (`guide serve`) the design document is delivered to the browser as a
download instead of being written on the server, and each tab saves to a session file of its own.

Pydantic and the bank's models take longer to import than Textual takes to paint. When the bank is in
the cache and there are no designs to list, the start screen needs neither (`guide.load.pending_bank`),
so it is painted first and the bank loaded right after; the screens past it, and what they import, are
imported where they are first used.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import signal
import sys
import threading
from collections import deque
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Iterable

from textual import events
from textual._xterm_parser import XTermParser
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from guide.bankfiles import BUILTIN_BANK
from guide.files import STDOUT, refuse_designs_folder, user_path, write_output
from guide.frontend import EXIT_USAGE, PasteFilter
from guide.load import ElementLine, PendingBank, at_a_glance, load_bank, pending_bank
from guide.preferences import export_folder, load_preferences, remember
from guide.source import GuideError
from guide.state import library_is_empty
from guide.tui.dialogs import AskDialog, Confirm, ExportDialog, HelpScreen, RenameDialog
from guide.tui.start import StartScreen
from guide.tui.strips import cache_colours_without_their_widgets, make_strip_caches_when_used
from guide.tui.widgets import TooSmall, clean, palette_text, quoted_title

if TYPE_CHECKING:
    from textual.driver import Driver
    from textual.notifications import SeverityLevel

    from guide.bank import Bank
    from guide.library import Design
    from guide.session import SessionLock, Walk
    from guide.tui.question import QuestionScreen

LIGHT, DARK = "textual-light", "textual-dark"
# What the app imports where it is first used, past the start screen; `guide serve` imports these before it
# forks each tab's app, so that no tab holds a copy of its own.
LATER_IMPORTS = ("guide.tui.question", "guide.tui.results", "guide.tui.learn", "guide.library",
                 "guide.report.markdown")


make_strip_caches_when_used()
cache_colours_without_their_widgets()


# A key typed ahead waits until the keys before it are handled: it looks again as soon as the app has run what
# was ready for KEY_LOOKS_AT_ONCE seconds (an answer takes a few milliseconds), then every KEY_WAIT_STEP; should
# something never finish, it is handed on after KEY_WAITS_AT_MOST. Never waiting longer is a choice: a widget
# that keeps posting to itself (an animation, a timer) would otherwise swallow every key for good. An answer is
# handled in one go, during which this wait does not run at all, and the messages it leaves are handled in
# milliseconds; 2 s of them is a screen stuck, not slow.
KEY_LOOKS_AT_ONCE = 0.005
KEY_WAIT_STEP = 0.001
KEY_WAITS_AT_MOST = 2.0
# Keys typed before the terminal became too small wait, unbounded, for the screen they were typed at; how often
# they look whether it is back (a person resizing a window takes far longer).
KEY_LOOKS_WHILE_TOO_SMALL = 0.05
# How long the app has, once killed, to keep what is typed and give the terminal back before the process ends.
ENDING_GRACE_SECONDS = 10


class GuideApp(App):
    TITLE = "guide"
    CSS_PATH = "guide.tcss"
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
        Binding("t", "rename", "Rename", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),  # Textual's own is not on the key bar
    ]

    def __init__(self, bank: Bank | PendingBank, *, date: str | None = None) -> None:
        super().__init__()
        # A bank still in the cache is loaded once the start screen is painted, or when the user first acts.
        self.pending = bank if isinstance(bank, PendingBank) else None
        self.bank: Bank = None if self.pending else bank  # type: ignore[assignment]
        self.bank_problem: GuideError | None = None  # why the pending bank could not be loaded
        self.date = date
        self.walk: Walk | None = None
        self.design_file: Path | None = None  # where the walk is saved; None for a worked example
        self.lock: SessionLock | None = None  # held on design_file while it is open here
        self.save_failed = False
        self.save_pending = False  # an answer or a move on screen whose save waits for the frame (save_after_frame)
        self.handlers_before: dict[int, object] = {}  # of the signals that end the app, restored when it ends
        self.last_input = 0.0  # when the last key or mouse event came (perf_counter)
        self.keys_waiting: deque[events.Key | events.Paste] = deque()  # typed while one before is handled (key_waits)
        self.key_feeder: asyncio.Task | None = None
        self.key_handed_on: events.Key | events.Paste | None = None
        self.theme = LIGHT if load_preferences().theme == "light" else DARK

    def get_default_screen(self) -> Screen:
        return StartScreen()

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        if driver is textual_web_driver():
            from guide.tui.web import GuideWebDriver

            return GuideWebDriver
        return driver

    def on_load(self) -> None:
        # Killed (SIGTERM) or its terminal closed (SIGHUP), the process would end in the alternate screen with
        # mouse reporting on, and lose what is typed but not confirmed. Every answer is already saved.
        # Installed on load, so a signal that comes while the first screen is still being drawn is caught too.
        loop = asyncio.get_running_loop()

        def ending(number: int, _frame) -> None:
            # Python's own handler, not the loop's: it runs even while the loop is stuck behind a terminal that
            # stopped reading (a stalled connection), which it then cannot leave. So the process ends anyway: at
            # once on a second signal, and after a grace on the first, as the signal's default would end it.
            signal.signal(number, signal.SIG_DFL)
            ender = threading.Timer(ENDING_GRACE_SECONDS, os._exit, [128 + number])
            ender.daemon = True
            ender.start()
            loop.call_soon_threadsafe(self.end_by_signal, 128 + number)

        self.handlers_before = {number: signal.signal(number, ending) for number in (signal.SIGTERM, signal.SIGHUP)}

    def end_by_signal(self, return_code: int) -> None:
        """Keep what is typed on the question and not confirmed, as leaving it would, then exit through
        Textual, which gives the terminal back."""
        self.keep_typed()
        self.exit(None, return_code)

    def on_exit_app(self) -> None:
        # An exit not asked for through `exit` (which sets the return code, after keeping what is typed when the
        # user quits or a signal ends the app): a closed browser tab, whose server asks the app to quit. What is
        # typed and not confirmed is kept, as when a terminal closes.
        if self.return_code is None:
            self.keep_typed()

    def on_ready(self) -> None:
        self.load_pending_bank()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.InputEvent, events.Paste)):
            # A key or click that comes before the bank is loaded acts once it is, not on a missing bank.
            if not self.load_pending_bank():
                return
            self.last_input = perf_counter()  # work done ahead waits while the user acts (QuestionScreen)
            if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded and self.key_waits(event):
                return
            self.save_if_pending()  # the last answer or move is on disk before anything else is done
        await super().on_event(event)

    # -- keys typed ahead ------------------------------------------------------------------------
    # Textual hands each key (and each paste) to the widget focused when the app reads it from the terminal. Keys
    # typed or pasted at once are all read before the first is handled, so those behind a key that moves the focus
    # (`n` to the note box or to a dialog's title box, a text answer's Enter to the next question's choices) went
    # to the old widget and were lost. A key or paste that comes while one before it is still being handled
    # waits, and is handed on once nothing is left to handle, to what is then on screen.

    def key_waits(self, key: events.Key | events.Paste) -> bool:
        """Whether `key` (or a paste) must wait for those before it: it is then queued, and handed on in its turn."""
        if key is self.key_handed_on:
            return False
        # Typed while the terminal is too small: for the screen that says so, which takes none (but ctrl+q).
        if not self.keys_waiting and not self.busy() or isinstance(self.screen, TooSmall):
            return False
        self.keys_waiting.append(key)
        if self.key_feeder is None:
            self.key_feeder = asyncio.create_task(self.hand_on_keys())
        return True

    def busy(self) -> bool:
        """Messages waiting for the app or for the screen shown or any of its widgets (a message the app is
        handling now finishes before the app takes a key handed on to it)."""
        return bool(self.message_queue_size) or any(
            node.message_queue_size for node in self.screen.walk_children(with_self=True))

    async def hand_on_keys(self) -> None:
        try:
            while self.keys_waiting:
                waited = perf_counter()
                while True:
                    if not self.screen_stack:  # the app is ending (its tab closed): nothing left to take them
                        self.keys_waiting.clear()
                        return
                    # A resize is no key, so it can come before keys typed ahead of it: those typed while the
                    # screen was shown are for it, and wait while the terminal is too small to show it.
                    if isinstance(self.screen, TooSmall):
                        await asyncio.sleep(KEY_LOOKS_WHILE_TOO_SMALL)
                        waited = perf_counter()
                    elif self.busy() and (since := perf_counter() - waited) < KEY_WAITS_AT_MOST:
                        await asyncio.sleep(0 if since < KEY_LOOKS_AT_ONCE else KEY_WAIT_STEP)
                    else:
                        break
                self.key_handed_on = self.keys_waiting.popleft()
                self.post_message(self.key_handed_on)
                await asyncio.sleep(0)  # the app takes it before the next is looked at
        finally:
            self.key_feeder = None

    def load_pending_bank(self) -> bool:
        """Load the bank the start screen was painted without; False, and the app ends with exit status 2 and
        the problem (`run_app` says it), when it turns out unusable after all."""
        if self.pending is None:
            return self.bank_problem is None
        pending, self.pending = self.pending, None
        try:
            self.bank = pending.load()
        except GuideError as error:
            self.bank_problem = error
            self.exit(return_code=EXIT_USAGE)
            return False
        return True

    @property
    def elements_at_a_glance(self) -> tuple[ElementLine, ...]:
        return self.pending.elements if self.pending is not None else at_a_glance(self.bank)

    def on_unmount(self) -> None:
        for number, handler in self.handlers_before.items():  # an app run inside another process leaves it as it was
            signal.signal(number, handler)
        self.save_if_pending()
        # The process ending lets go of the lock too; an app run inside another process must do it itself.
        if self.lock is not None:
            self.lock.release()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # In a browser every blink of a text cursor is a frame drawn by a server shared with the whole class
        # and sent over the network, twice a second for as long as the student reads: the cursor stays on.
        if self.is_web and hasattr(event.widget, "cursor_blink"):
            event.widget.cursor_blink = False

    # -- the session --------------------------------------------------------------------------

    @property
    def offers_resume(self) -> bool:
        """In a browser every tab is its own app on a shared server: one tab must never resume another's
        design, so there is no library to resume from; only the tab's own design (`designs`)."""
        return not self.is_web

    @property
    def browser_tab(self) -> str | None:
        """In a browser, the name its page gave the tab (BROWSER_TAB_VARIABLE), kept across reloads."""
        from guide.session import BROWSER_TAB_VARIABLE

        return os.environ.get(BROWSER_TAB_VARIABLE)

    def designs(self) -> list[Design]:
        """The library, newest first; in a browser, the tab's own designs, saved before the page was reloaded."""
        if self.is_web:
            from guide.library import newest_first, read_design
            from guide.session import browser_tab_sessions

            paths = browser_tab_sessions(self.browser_tab)
            return newest_first(read_design(self.bank, path) for path in paths) if paths and self.load_pending_bank() else []
        if self.pending is not None and library_is_empty():
            return []
        from guide.library import list_designs

        return list_designs(self.bank) if self.load_pending_bank() else []

    def save_after_frame(self) -> None:
        """Save an answer (or where the user moved) once the screen it changed is painted: the fsynced write
        (2.5 ms, many times that while the disk is busy) is then not part of the wait for the next question. It
        is on disk before the next key or click is handled, and before the design is closed or the app ends."""
        self.save_pending = True
        self.call_after_refresh(self.save_if_pending)

    def save_if_pending(self) -> None:
        """Save what save_after_frame left to save, if no save has written it since."""
        if self.save_pending:
            self.save()

    def save(self) -> None:
        self.save_pending = False  # whatever is saved now includes it
        if self.walk is None or self.walk.read_only or self.design_file is None:
            return
        from guide.session import save_session

        try:
            save_session(self.walk, self.design_file)
            self.save_failed = False
        except GuideError as error:
            if not self.save_failed:  # once until a save succeeds: a toast on every answer hid the quit dialog's buttons
                self.notify(clean(str(error)), title="Not saved", severity="error", timeout=10)
            self.save_failed = True

    def begin(self, walk: Walk, path: Path | None = None) -> bool:
        """Show a design from its current position, on top of the start screen: the one saved in `path`,
        or a new one of the library. False, and said, when it cannot be opened (another guide has it)."""
        from guide.library import new_design_file
        from guide.session import SessionInUse, SessionLock, browser_session_path, recovery_path
        from guide.tui.question import QuestionScreen

        resumed = path is not None
        try:
            if path is None:  # in a browser, a file of the tab's own, named so that a reloaded tab finds it
                path = browser_session_path(self.browser_tab) if self.is_web else new_design_file(walk.answers.title)
            try:
                lock = SessionLock(path)
            except SessionInUse:
                if not self.is_web:
                    raise
                # A duplicated browser tab has the name of the tab it copies, whose app has the design open (its
                # path and process mean nothing to a student).
                self.notify("This design is open in another tab (a copy of this one): go on there, or start a new "
                            "design here.", title="Cannot open the design", severity="error")
                return False
        except GuideError as error:
            self.notify(clean(str(error)), title="Cannot open the design", severity="error")
            return False
        self.close_design()
        self.walk, self.design_file, self.lock = walk, path, lock
        while len(self.screen_stack) > 1:
            self.pop_screen()
        if not resumed:  # a resumed design is saved as it is: saving it again would list it as just changed
            self.save()
        self.push_screen(QuestionScreen(walk))
        recovered = recovery_path(path)
        if recovered.exists():  # said each time until the user has taken what they need and deleted it
            self.notify(f"Text typed for this design that it could not hold is kept in {clean(str(recovered))}: "
                        "copy what you need from it, then delete it.", title="Kept beside the design",
                        severity="warning", timeout=20)
        return True

    def close_design(self) -> None:
        """Let go of the design on screen (it stays saved), so that another guide may open it."""
        self.save_if_pending()
        if self.lock is not None:
            self.lock.release()
        self.walk, self.design_file, self.lock = None, None, None

    # -- starting points ----------------------------------------------------------------------

    def action_new_design(self) -> None:
        """A new design, named first (its file is named after the title): once here, and with t any time later."""
        from guide.library import open_library
        from guide.session import Walk

        if not self.is_web:
            try:
                open_library()  # a designs folder that cannot be made is said before a title is typed for nothing
            except GuideError as error:
                self.notify(clean(str(error)), title="Cannot start a design", severity="error")
                return
        from guide.model import SHORT_TEXT_MAX

        walk = Walk(self.bank)

        def named(dialog: AskDialog, value: str) -> None:
            try:
                walk.retitle(value)
            except ValueError as error:
                dialog.show_error(str(error))
                return
            dialog.dismiss(None)

        # Skipped or named, the design starts when the dialog closes. In a browser the design's file is the tab's.
        names = ("the file you download" if self.is_web else
                 "the design's file in your library and the document you export; t changes the title later, not the "
                 "file's name")
        self.push_screen(AskDialog("Name your design", f"The title heads the design document and names {names}. "
                                   f"Left empty, it is “{walk.answers.title}”.",
                                   named, action="Start", required=False, cancel="Skip", max_length=SHORT_TEXT_MAX),
                         lambda _: self.begin(walk))

    def action_resume(self, design: Design | None = None) -> None:
        """Resume a design of the library: the one given, or else the latest this bank can resume."""
        design = design or next((design for design in self.designs() if design.walk is not None), None)
        if design is None:
            self.notify("There is no saved design to resume.")
        elif design.walk is None:
            assert design.problem is not None
            self.notify(clean(str(design.problem)), title="Cannot resume", severity="error")
        else:
            self.begin(design.walk, design.path)

    def action_presets(self) -> None:
        from guide.tui.dialogs import PresetPicker

        if not self.bank.cases():
            self.notify("This question bank has no preset cases.")
            return
        self.push_screen(PresetPicker(self.bank), self.open_preset)

    def open_preset(self, name: str | None) -> None:
        if name is None:
            return
        from guide.bank import read_answers
        from guide.session import Walk
        from guide.tui.question import QuestionScreen

        try:
            preset = read_answers(self.bank.cases()[name], self.bank)
        except GuideError as error:
            self.notify(clean(str(error)), title="Cannot open the preset", severity="error")
            return
        self.close_design()
        self.walk = Walk(self.bank, preset, self.bank.meta.start, read_only=True)
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(QuestionScreen(self.walk))

    def copy_example(self) -> None:
        """Turn the worked example on screen into a design of one's own, at the same question."""
        example = self.walk
        if example is None or not example.read_only:
            return
        from guide.session import Walk, changed

        # The preset's description goes too: the copy's document opens with the use case as the student rewrites it.
        own = {"reading": None, "instructor_notes": None, "description": None}
        try:
            copied = changed(example.answers, title=f"{example.answers.title} (my copy)", **own)
        except ValueError:  # the title is at its length limit already
            copied = changed(example.answers, **own)
        self.begin(Walk(self.bank, copied, example.position))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if isinstance(self.screen, TooSmall):  # it takes no input: nothing may open over it, but one can quit
            return action in ("quit", "help_quit")
        # In a browser a path would name a file on the shared server, not on the student's computer.
        if action == "open_file":
            return self.offers_resume
        if action == "rename":  # the key bar offers it only where there is a title to change
            return self.walk is not None and not self.walk.read_only
        return True

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Textual's, but a message already on screen is not shown again: a key pressed five times would
        stack five copies over the reasoning panel. Never read as markup, whatever the caller asks: messages hold
        text guide did not write (a file name, pydantic's "[type=...]"), and markup in one ended the app with the
        user's typing lost. Guide's own calls therefore pass no `markup`, and Textual's notices that are written
        in markup (ctrl+c's) are replaced with plain ones (`action_help_quit`)."""
        # `markup` is taken and never read: a screen's or widget's notify passes it on (True by default).
        if any(shown.message == message and shown.title == title for shown in self._notifications):
            return
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def action_help_quit(self) -> None:
        """ctrl+c quits nothing (it copies, in a text box): say which key does. Textual's own says it in markup,
        which `notify` shows as typed."""
        for key, active_binding in self.active_bindings.items():
            if active_binding.binding.action in ("quit", "app.quit"):
                self.notify(f"Press {key} to quit guide.", title="Do you want to quit?")
                return

    def action_open_file(self) -> None:
        self.push_screen(AskDialog("Open an answers file", "An answers file (.yaml) or a design document (.md or .json) "
                                   "written by guide. It becomes a new design of your own.", self.path_chosen, action="Open",
                                   empty="Type the path of the file to open, or press Esc to cancel."))

    def path_chosen(self, dialog: AskDialog, value: str) -> None:
        from guide.bank import read_answers
        from guide.session import Walk

        try:
            answers = read_answers(user_path(value), self.bank)
        except GuideError as error:
            dialog.show_error(str(error))
            return
        dialog.dismiss(None)
        self.begin(Walk(self.bank, answers))

    def action_rename(self) -> None:
        walk = self.walk
        if walk is None:
            self.notify("Start or open a design first.")
        elif walk.read_only:
            self.notify("A worked example keeps its title; c copies it into a design of your own.")
        else:
            self.push_screen(RenameDialog("The title heads the design document and names it when you export it; the "
                                          "design's file keeps its name.", self.title_entered, walk.answers.title))

    def title_entered(self, dialog: AskDialog, value: str) -> None:
        from guide.tui.results import ResultsScreen

        try:
            self.walk.retitle(value)  # a title it cannot take leaves the walk as it was
        except ValueError as error:
            dialog.show_error(str(error))
            return
        self.save()
        for screen in self.screen_stack:
            if isinstance(screen, ResultsScreen):
                screen.retitled()
        dialog.dismiss(None)
        self.notify(f"The design is now {quoted_title(value)}.", title="Renamed")

    # -- moving around ------------------------------------------------------------------------

    def question_screen(self) -> QuestionScreen | None:
        from guide.tui.question import QuestionScreen

        return next((screen for screen in reversed(self.screen_stack) if isinstance(screen, QuestionScreen)), None)

    def show_results(self) -> None:
        from guide.tui.results import ResultsScreen

        if self.walk is None or isinstance(self.screen, ResultsScreen):
            return
        self.push_screen(ResultsScreen(self.walk))

    def back_to_questions(self, question_id: str | None = None) -> None:
        questions = self.question_screen()
        if questions is None or self.walk is None:
            return
        while self.screen is not questions:
            self.pop_screen()
        if question_id:
            questions.jump(question_id)
        else:
            from guide.model import END

            if self.walk.position == END:
                self.walk.back()
            questions.show_question()

    def action_review(self) -> None:
        from guide.tui.dialogs import Review

        if self.walk is not None:
            self.push_screen(Review(self.walk), lambda question_id: self.back_to_questions(question_id) if question_id else None)

    def action_learn(self, element_id: str | None = None) -> None:
        from guide.tui.learn import LearnScreen

        self.push_screen(LearnScreen(self.bank, element_id))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.bank))

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.current_theme.dark else DARK
        remember(theme="dark" if self.current_theme.dark else "light")

    # -- export -------------------------------------------------------------------------------

    def action_export(self, format: str | None = None) -> None:
        if self.walk is None:
            self.notify("Start or open a design first.")
            return
        from guide.report import FORMATS

        format = format if format in FORMATS else FORMATS[0]
        slug = re.sub(r"[^a-z0-9]+", "-", self.walk.answers.title.lower()).strip("-") or "design"
        default = f"{slug}.{format}" if self.is_web else str(export_folder() / f"{slug}.{format}")
        def prompts(question_ids: list[str]) -> list[str]:
            return [self.bank.questions[item].prompt for item in question_ids]

        self.push_screen(ExportDialog(self.walk.answers, prompts(self.walk.set_aside), prompts(self.walk.drafted),
                                      FORMATS, format, default, self.is_web))

    def export(self, dialog: ExportDialog, title: str, format: str, target: str) -> None:
        from guide.engine import evaluate
        from guide.report import MEDIA_TYPES, document_date, render
        from guide.session import changed, new_title

        walk = self.walk
        # In a browser the name typed is the download's: "." or ".." names no file (Chromium saves ".." as "root").
        if walk is None or not target or (self.is_web and target.strip() in (".", "..")):
            dialog.show_error("Give a file name.")
            return
        if self.is_web and "/" in target:  # the folder part was dropped without a word
            dialog.show_error("The browser saves the download in its own folder: give a file name without /.")
            return
        if target == STDOUT and not self.is_web:
            dialog.show_error("- means standard output, which this screen is using: give a file name.")
            return
        try:
            answers = changed(walk.answers, title=new_title(title, walk.answers.title))
            path = None if self.is_web else user_path(target)
            if path is not None:
                refuse_designs_folder(path)  # before asking to replace a file there: it may be this very design
        except (ValueError, GuideError) as error:
            dialog.show_error(str(error))
            return

        def write() -> None:
            if not walk.read_only and answers.title != walk.answers.title:
                walk.retitle(answers.title)
                self.save()
            try:
                text = render(format, evaluate(self.bank, answers), self.bank, answers,
                              document_date(answers, self.date), path or target)
                if path is not None:
                    write_output(text, path)
            except GuideError as error:
                dialog.show_error(str(error))
                return
            dialog.dismiss(None)
            if path is None:
                self.deliver_text(io.StringIO(text), save_filename=target, mime_type=MEDIA_TYPES[format])
                self.notify(f"Sent {target} to your browser.", title="Exported")
            else:
                remember(export_folder=str(path.resolve().parent))
                self.notify(f"Wrote {path}", title="Exported")

        if path is not None and path.is_file():
            self.push_screen(Confirm(f"Replace {path.name}?", f"{path} exists. Exporting replaces it with this "
                                     "design document.", yes="Replace it"), lambda agreed: write() if agreed else None)
        else:
            write()

    # -- quitting, palette --------------------------------------------------------------------

    def keep_typed(self) -> None:
        """Keep what is typed on the question and not confirmed: `QuestionScreen.keep_typed`."""
        questions = self.question_screen() if self.walk is not None else None
        if questions is not None and questions.is_mounted:
            questions.keep_typed()

    @property
    def has_unsaved(self) -> bool:
        questions = self.question_screen()
        return self.save_failed or (questions is not None and questions.has_unsaved)

    def leaving(self, title: str, yes: str, then) -> None:
        """Keep what is typed on the question, then run `then` now, or once the user agrees to leave what is
        still not saved (ticks not answered, or a failed save)."""
        self.keep_typed()
        if not self.has_unsaved:
            then()
            return
        message = ("Something on this question is not saved yet: ticks not answered with Enter, or text that could "
                   "not be kept." if not self.save_failed else "The last answers could not be saved to the session file.")
        self.push_screen(Confirm(title, message, yes=yes, no="Stay"), lambda agreed: then() if agreed else None)

    async def action_quit(self) -> None:
        self.leaving("Quit without it?", "Quit", self.exit)

    def action_start_screen(self) -> None:
        """Leave the design or worked example on screen; a design of one's own stays saved, to resume."""
        if self.question_screen() is None:
            return

        def leave() -> None:
            while len(self.screen_stack) > 1:
                self.pop_screen()
            self.close_design()

        self.leaving("Leave without it?", "Leave", leave)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own theme picker would be a second theme command; ours toggles light and dark and remembers it.
        yield from (command for command in super().get_system_commands(screen)
                    if command.callback != self.action_change_theme)
        yield SystemCommand("Light or dark theme", "Switch between the light and the dark theme", self.action_toggle_theme)
        yield SystemCommand("Learn the elements", "Definitions, examples and teaching notes", self.action_learn)
        yield SystemCommand("Help", "Keys and a short guide to the framework", self.action_help)
        if isinstance(screen, StartScreen):
            yield from screen.design_commands()
        walk = self.walk
        if walk is None or self.question_screen() is None:
            return
        yield SystemCommand("Export the design document", "Markdown; the dialog offers every format", self.action_export)
        yield SystemCommand("Export as HTML", "The design document as a web page to read or print",
                            lambda: self.action_export("html"))
        yield SystemCommand("Export as JSON", "The design document as data for other tools",
                            lambda: self.action_export("json"))
        yield SystemCommand("Rename the design", "The title of the design document (t)", self.action_rename)
        yield SystemCommand("Results", "Priorities, methods, plan and open questions", self.show_results)
        yield SystemCommand("Review answers", "Every question on the path with its answer", self.action_review)
        yield SystemCommand("Start screen", "Leave this design (it stays saved) or worked example",
                            self.action_start_screen)
        for number, question_id in enumerate(walk.path, 1):
            prompt = palette_text(self.bank.questions[question_id].prompt)
            yield SystemCommand(f"Jump to question {number}: {prompt}", "Go to this question",
                                lambda question_id=question_id: self.back_to_questions(question_id))


def run_app(args: argparse.Namespace) -> int:
    if in_the_background():
        raise GuideError("the terminal", None, None, "guide runs in its background (started with & or by a program "
                                                     "such as timeout), where it would be stopped: run guide in the "
                                                     "foreground, or use guide --plain")
    directory = args.bank or BUILTIN_BANK
    # Designs to list need the bank before the start screen can be painted.
    pending = pending_bank(directory) if library_is_empty() else None
    app = GuideApp(pending or load_bank(directory))
    # Under `guide serve` each browser tab saves to a new file of its own. A design of the library is
    # locked while it is open, so a second guide may run at once, on other designs.
    driver = app.get_driver_class()
    web_driver = textual_web_driver()
    if not (web_driver is not None and issubclass(driver, web_driver)) and not sys.stdin.isatty():
        raise GuideError("standard input", None, None, "is not a terminal, which the walk-through needs; "
                                                       "use guide --plain to answer line by line")
    terminal_driver = sys.modules.get("textual.drivers.linux_driver")
    if terminal_driver is not None and issubclass(driver, terminal_driver.LinuxDriver):
        # The driver makes its reader from its module's XTermParser as its input thread starts.
        terminal_driver.XTermParser = PasteAsText
    app.run()
    if app.bank_problem is not None:
        raise app.bank_problem
    return app.return_code or 0


def textual_web_driver() -> type[Driver] | None:
    """Textual's web driver, once chosen: Textual imports it only then (textual-serve's), not in a terminal's start."""
    module = sys.modules.get("textual.drivers.web_driver")
    return None if module is None else module.WebDriver


class PasteAsText(XTermParser):
    """Textual's reader of the terminal's input, with the control characters inside a bracketed paste taken out
    first (`PasteFilter`). Meeting an escape in a paste, Textual's reader typed the rest of the paste as keys: a
    line break was an Enter, a letter a command (`s` the results, `e` the export), and the text before the escape
    came last, into whatever was then on screen. The classroom server filters a browser's keys the same way."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self.pastes = PasteFilter()

    def feed(self, data: str) -> Iterable[events.Event]:
        if not data:  # the end of the input, which the reader must still see
            return super().feed(data)
        cleaned = self.pastes.feed(data)
        return super().feed(cleaned) if cleaned else ()  # all held back: the rest of a paste's end comes next


def in_the_background() -> bool:
    """Whether standard input or output is the terminal of another process group (a job put in the background):
    the kernel would stop the app (SIGTTOU, SIGTTIN) as Textual sets the terminal up, for good."""
    for stream in (sys.stdin, sys.stdout):
        try:
            if stream.isatty() and os.tcgetpgrp(stream.fileno()) != os.getpgrp():
                return True
        except (AttributeError, OSError, ValueError):  # no stream, or a terminal this process does not control
            continue
    return False
