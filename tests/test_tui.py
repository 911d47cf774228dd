"""The terminal walk-through, driven through Textual's pilot the way a user drives it with keys."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import itertools
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rich.segment import Segment
from textual import events
from textual._compositor import Compositor
from textual.cache import FIFOCache
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList, RadioSet, Static, TabPane

from bench.bench import FrameClock
from guide.bank import read_answers
from guide.load import PendingBank, at_a_glance
from guide.model import END, UNSURE
from guide.session import SessionLock, Walk, load_session, save_session
from guide.state import designs_dir, session_path
from guide.tui.app import DARK, LIGHT, GuideApp
from guide.tui.dialogs import KEYS_HELP, AskDialog, Confirm, ExportDialog, HelpScreen, PresetPicker, RenameDialog, Review
from guide.tui.learn import LearnScreen
from guide.tui.question import QuestionScreen
from guide.tui.results import ResultsScreen, method_detail, method_options
from guide.tui.start import DESIGN_LIST_MARGIN, StartScreen
from guide.tui.widgets import (NUMBER_KEYS, ChoiceList, ElementBars, EvidenceView, KeyBar, ParagraphInput,
                               ReasoningPanel, SizedScreen, TextBlock, TooSmall)

from .conftest import CARDIAC_SEGMENTATION, FIXED_DATE, ROOT, load_saved, needs_programs, run_guide
from .test_crash_safety import shared_state_home
from .test_session import first_dropping_change

pytestmark = pytest.mark.usefixtures("guide_home")


def static_text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def answer_current(pilot, app, text: str = "A fundus screening model in primary care.") -> None:
    """Answer the question on screen the quickest way a user can: Enter on the highlighted choice
    (ticked first with space where several apply)."""
    question = app.walk.question
    if question.kind == "text":
        app.screen.query_one("#paragraph").load_text(text)
        app.screen.query_one("#paragraph").focus()
    if question.kind == "multiple":
        await pilot.press("space")
    await pilot.press("enter")
    await pilot.pause()


async def start_and_reach(pilot, app, kind: str) -> None:
    """Start a new design and answer questions until the first one of this kind is on screen."""
    await pilot.press("n", "enter")
    while app.walk.question.kind != kind:
        await answer_current(pilot, app)


async def results_of_a_copied_preset(pilot, app) -> None:
    """The quick way to a complete design: copy a worked example, then open the results."""
    app.open_preset("dr-screening")
    await pilot.pause()
    await pilot.press("c")
    await pilot.pause()
    await pilot.press("s")
    await pilot.pause()
    assert isinstance(app.screen, ResultsScreen)


async def open_tab(pilot, app, pane_id: str) -> None:
    """On the results, press → until the tab `pane_id` is shown."""
    tabs = app.screen.query_one("#tabs")
    for _ in tabs.query("TabPane"):
        if tabs.active == pane_id:
            return
        await pilot.press("right")
        await pilot.pause()
    assert tabs.active == pane_id, f"no tab {pane_id}"


async def change_answer(pilot, app, question_id: str, choice_id: str) -> None:
    """Go to a question (back with ←, or on by answering) and answer it with the given choice."""
    while app.walk.position != question_id:
        if question_id in app.walk.path[: app.walk.path.index(app.walk.position)]:
            await pilot.press("left")
            await pilot.pause()
        else:
            await answer_current(pilot, app)
    choices = [choice.id for choice in app.bank.questions[question_id].choices]
    app.screen.query_one(ChoiceList).highlighted = choices.index(choice_id)
    await pilot.press("enter")
    await pilot.pause()


async def walk_to_results(pilot, app) -> None:
    for _ in range(len(app.bank.questions) + 1):
        if isinstance(app.screen, ResultsScreen):
            return
        await answer_current(pilot, app)
    raise AssertionError("the walk did not reach the results")


async def test_full_walk_to_export(bank, tmp_path):
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter")
        assert isinstance(app.screen, QuestionScreen)
        assert "Step 1/5" in static_text(app.screen, "#progress")
        await walk_to_results(pilot, app)
        assert app.walk.position == END
        assert "Localization" in static_text(app.screen, "#priorities")

        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        dialog.query_one("#title", Input).value = "My screening design"
        dialog.query_one("#path", Input).value = str(tmp_path / "design.md")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen)

    document = (tmp_path / "design.md").read_text()
    assert "# Interpretability design: My screening design" in document
    assert FIXED_DATE in document
    exported = read_answers(tmp_path / "design.md", bank)
    assert exported.answers == app.walk.answers.answers
    assert load_saved(bank).answers.title == "My screening design"


async def test_export_to_a_missing_folder_says_so_and_stays_open(bank, tmp_path):
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        app.screen.query_one("#path", Input).value = str(tmp_path / "nowhere" / "design.md")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        assert "does not exist" in static_text(app.screen, "#error")


@pytest.mark.parametrize("field", ["#title", "#path"])
async def test_enter_in_either_box_of_the_export_dialog_exports_once(bank, tmp_path, monkeypatch, field):
    """Enter is the dialog's priority binding: the boxes never see it, and a refusal is not said twice."""
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        targets = []
        export = app.export
        monkeypatch.setattr(app, "export", lambda *args: targets.append(args[-1]) or export(*args))
        await pilot.press("e")
        dialog = app.screen
        for target in (tmp_path / "nowhere" / "design.md", tmp_path / "design.md"):
            dialog.query_one("#path", Input).value = str(target)
            dialog.query_one(field, Input).focus()
            await pilot.press("enter")
            await pilot.pause()
        assert targets == [str(tmp_path / "nowhere" / "design.md"), str(tmp_path / "design.md")]
        assert isinstance(app.screen, ResultsScreen) and (tmp_path / "design.md").exists()


def bar_entries(screen) -> list[str]:
    return [f"{entry.display} {entry.description}" for entry in screen.query_one(KeyBar).keys if entry.enabled]


async def test_the_export_and_review_dialogs_key_bars_show_the_keys_that_work_there(bank, tmp_path):
    """Both bars showed only "esc Close": Tab, Enter and the format keys were in the dialog's text alone."""
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        assert {"tab Next field", "⏎ Export", "esc Close"} <= set(bar_entries(app.screen))
        await pilot.press("tab")
        await pilot.pause()
        assert {"←→ Format", "space Choose", "tab Next field"} <= set(bar_entries(app.screen))
        assert "⏎ Export" not in bar_entries(app.screen), "Enter chooses a format there"
        await pilot.press("right", "space", "shift+tab")
        await pilot.pause()
        assert app.screen.chosen_format != "md" and isinstance(app.focused, Input)
        app.focused.value = str(tmp_path / "design.html")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog) and (tmp_path / "design.html").exists()
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, Review) and "⏎ Go to the question" in bar_entries(app.screen)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.walk.position == app.walk.path[1]


@pytest.fixture
def delivered(monkeypatch) -> dict[str, str]:
    """The app as `guide serve` runs it; what it sends the browser, by file name."""
    sent: dict[str, str] = {}

    def deliver_text(self, file, *, save_filename=None, **kwargs):
        sent[save_filename] = file.read()

    monkeypatch.setattr(GuideApp, "is_web", property(lambda self: True))
    monkeypatch.setattr(GuideApp, "deliver_text", deliver_text)
    return sent


async def test_export_in_a_browser_delivers_the_document(bank, delivered):
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        filename = "automated-diabetic-retinopathy-screening-my-copy.md"
        assert app.screen.query_one("#path", Input).value == filename, "no server path in a browser"
        await pilot.press("enter")
        await pilot.pause()
    assert "# Interpretability design: Automated diabetic retinopathy screening (my copy)" in delivered[filename]
    assert not session_path().exists(), "browser tabs share a server: no shared session file"


async def test_a_copied_example_opens_its_document_with_the_use_case_the_student_writes(bank, delivered):
    """A copy kept the preset's description, which opens the document: a student who rewrote the use case for
    their own project exported a document that still opened "A model that reads colour fundus photographs"."""
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        app.walk.answer("use_case_summary", "Knee radiographs read for osteoarthritis grading.")
        await pilot.press("e", "enter")
        await pilot.pause()
    (document,) = delivered.values()
    opening = document.split("\n---\n", 1)[1].split("| | |")[0]
    assert "Knee radiographs read for osteoarthritis grading." in opening
    assert "fundus" not in opening


async def test_a_browser_cannot_open_files_of_the_server(bank, monkeypatch):
    monkeypatch.setattr(GuideApp, "is_web", property(lambda self: True))
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        menu = app.screen.query_one("#menu", OptionList)
        assert "open" not in [menu.get_option_at_index(index).id for index in range(menu.option_count)]
        await pilot.press("o")
        await pilot.pause()
        assert not app.screen.query("#entry"), "no dialog asking for a server path"


async def test_a_browser_start_screen_says_where_answers_are_kept_as_a_note_not_an_error(bank, monkeypatch):
    """The note was written in the start screen's error line, in the error colour: to a student it read as an error."""
    monkeypatch.setattr(GuideApp, "is_web", property(lambda self: True))
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.pause()
        note = app.screen.query_one("#browser-note", Static)
        assert note.display and "saved on the server for this tab only" in str(note.render())
        assert not app.screen.query_one("#start-error", Static).display
        assert note.styles.color != app.screen.query_one("#start-error", Static).styles.color


async def test_text_cursors_do_not_blink_in_a_browser(bank, monkeypatch):
    """Each blink is a frame a classroom server draws and sends, twice a second for every reading student."""
    monkeypatch.setattr(GuideApp, "is_web", property(lambda self: True))
    app = GuideApp(bank)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")  # a new design: its title, in a text box that has the focus
        await pilot.pause()
        title = app.screen.focused
        assert isinstance(title, Input) and not title.cursor_blink


async def test_back_and_change_sets_answers_aside_and_brings_them_back(bank):
    question_id, old, new, dropped = first_dropping_change(bank)
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "enter")
        await change_answer(pilot, app, question_id, old)
        while not all(app.walk.is_answered(item) for item in dropped):
            await pilot.press("u")
            await pilot.pause()
        scores_before = app.screen.query_one(ReasoningPanel).scores

        # Back to the question, and a different answer: the user is told what leaves the path.
        await change_answer(pilot, app, question_id, new)
        assert isinstance(app.screen, Confirm)
        message = str(app.screen.query_one(".dialog-body Static", Static).render())
        assert len(dropped) == 1 and message.startswith("This answer takes 1 answered question off your path:")
        for item in dropped:
            assert bank.questions[item].prompt in message
        await pilot.click("#yes")
        await pilot.pause()
        assert app.walk.set_aside == dropped
        assert app.walk.answers.answers[question_id] == new
        assert app.screen.query_one(ReasoningPanel).scores != scores_before, "the reasoning moved"
        assert load_saved(bank).set_aside == dropped, "the session was saved with the set-aside answers"

        # The review lists them; the results name them; changing back restores them.
        await pilot.press("v")
        assert isinstance(app.screen, Review)
        assert "Set aside" in static_text(app.screen, "#review-aside")
        await pilot.press("escape")
        await pilot.press("s")
        await pilot.pause()
        await open_tab(pilot, app, "tab-answers")
        assert "Set aside" in static_text(app.screen, "#answers")
        await pilot.press("e")
        await pilot.pause()
        assert static_text(app.screen, "#aside-note").startswith(
            "1 set-aside answer is listed in the document but does not count:")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        await change_answer(pilot, app, question_id, old)
        assert app.walk.set_aside == []
        assert all(app.walk.is_answered(item) for item in dropped)


async def test_cancelling_a_rerouting_change_keeps_the_answer(bank):
    question_id, old, new, dropped = first_dropping_change(bank)
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter")
        await change_answer(pilot, app, question_id, old)
        await pilot.press("u")
        await change_answer(pilot, app, question_id, new)
        await pilot.press("enter")  # the focused button is "Keep my answer"
        await pilot.pause()
        assert app.walk.answers.answers[question_id] == old
        assert app.walk.set_aside == []


async def test_resume_after_restart(bank):
    first = GuideApp(bank)
    async with first.run_test() as pilot:
        await pilot.press("n", "enter", "2", "enter")
        await pilot.press("n")
        await pilot.press(*"checked with the lead")
        await pilot.press("escape", "u")
        await pilot.pause()
        position = first.walk.position
        answers = dict(first.walk.answers.answers)
        await pilot.press("ctrl+q")
    assert first.return_code == 0

    second = GuideApp(bank)
    async with second.run_test() as pilot:
        designs = second.screen.query_one("#designs", OptionList)
        assert second.focused is designs and designs.highlighted == 0, "the latest design is ready to resume"
        assert "Untitled design" in str(designs.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(second.screen, QuestionScreen)
        assert second.walk.position == position
        assert second.walk.answers.answers == answers
        assert any(note == "checked with the lead" for note in second.walk.answers.notes.values())


async def test_quit_keeps_a_typed_note_and_asks_only_about_ticks(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await start_and_reach(pilot, app, "multiple")
        await pilot.press("space", "ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, Confirm), "ticks not answered are not saved"
        await pilot.press("escape", "space", "n", *"half a thought", "ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
    assert load_saved(bank).answers.notes == {app.walk.position: "half a thought"}, "a note is kept on the way out"


def design_rows(app) -> list[str]:
    listing = app.screen.query_one("#designs", OptionList)
    return [str(listing.get_option_at_index(index).prompt) for index in range(listing.option_count)]


def design_detail(app) -> str:
    """What the start screen says under the list of the highlighted design, in full."""
    return " ".join(static_text(app.screen, "#design-detail").split())


async def test_a_new_design_is_added_beside_the_saved_one(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", *"Knee", "enter", "u")
        await pilot.press("ctrl+p", *"start screen", "enter")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        await pilot.press("n", *"Chest", "enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.walk.answers.answers == {}
        assert sorted(path.name for path in designs_dir().glob("*.yaml")) == ["chest.yaml", "knee.yaml"]
        assert len(load_session(bank, designs_dir() / "knee.yaml").answers.answers) == 1, "nothing is replaced"


async def test_the_naming_and_export_dialogs_say_what_the_title_names_and_keeps(bank, empty_folder):
    """The naming dialog said the title "names its file when you export it", though the design's file is named
    after it at once; clearing the export dialog's title kept the old one without a word."""
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        said = " ".join(" ".join(screen_text(app.screen)).split())
        assert "names the design's file in your library and the document you export" in said
        await pilot.press(*"Knee", "enter")
        await pilot.pause()
        assert [path.name for path in designs_dir().glob("*.yaml")] == ["knee.yaml"]
        await results_of_a_copied_preset(pilot, app)
        title = app.walk.answers.title
        await pilot.press("e")
        await pilot.pause()
        assert "Title (left empty, the current one is kept)" in screen_text(app.screen)
        app.screen.query_one("#title", Input).value = ""
        app.screen.query_one("#path", Input).value = "design.md"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog) and app.walk.answers.title == title


def screen_text(screen) -> list[str]:
    return [str(widget.render()) for widget in screen.query(Static)]


async def test_two_designs_with_the_same_title_are_told_apart_by_their_files(bank):
    walk, knee = saved_knee_design(bank)
    save_session(walk, knee.with_name("knee-2.yaml"))
    app = GuideApp(bank)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        rows = design_rows(app)
        assert len(rows) == 2 and rows[0] != rows[1]
        assert {row.split("  ")[0] for row in rows} == {"Knee"}
        assert any("(knee.yaml)" in row for row in rows) and any("(knee-2.yaml)" in row for row in rows)
        walk.retitle("Knee, left")
        save_session(walk, knee.with_name("knee-2.yaml"))
    app = GuideApp(bank)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert not any(".yaml)" in row for row in design_rows(app)), "a title of its own needs no file name"


@contextlib.contextmanager
def released_if_waited_on(fifo: Path):
    """While inside, a writer comes and goes on `fifo` whenever a reader waits on it: code that waits for a
    writer then reads nothing and fails the test, instead of hanging it."""
    done = threading.Event()

    def release() -> None:
        while not done.wait(0.05):
            with contextlib.suppress(OSError):  # ENXIO: no reader is waiting
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    releaser = threading.Thread(target=release, daemon=True)
    releaser.start()
    try:
        yield
    finally:
        done.set()
        releaser.join()


async def test_a_fifo_among_the_designs_is_listed_as_broken(bank, guide_home):
    """A FIFO there once froze the app before its first screen."""
    designs_dir().mkdir(parents=True)
    fifo = designs_dir() / "pipe.yaml"
    os.mkfifo(fifo)
    with released_if_waited_on(fifo):
        app = GuideApp(bank)
        async with app.run_test() as pilot:
            await pilot.pause()
            [row] = design_rows(app)
            assert row.startswith("pipe.yaml  broken (is a FIFO, not a YAML file)")


async def test_opening_a_fifo_is_refused_in_the_dialog(bank, tmp_path):
    """Typing a FIFO's name in the open dialog once froze the app for good (not even SIGTERM ended it)."""
    fifo = tmp_path / "answers.yaml"
    os.mkfifo(fifo)
    with released_if_waited_on(fifo):
        assert await refusal_in_the_open_dialog(bank, fifo) == f"{fifo}: is a FIFO, not an answers file"


async def test_a_json_number_too_long_to_convert_is_refused_in_the_dialog(bank, tmp_path):
    """A 5000-digit integer once ended the whole app with a traceback (int() refuses more than 4300 digits)."""
    path = tmp_path / "answers.json"
    path.write_text('{"title": "a", "answers": {"task": ' + "9" * 5000 + "}}")
    assert await refusal_in_the_open_dialog(bank, path) == f"{path}:1: JSON: a number longer than 4300 digits"


async def test_enter_on_a_first_start_acts_on_the_menus_first_entry(bank, guide_home):
    """With no designs the menu has the keys, and its first entry is highlighted: Enter starts a new design, as
    the highlight shows (nothing was highlighted, and Enter did nothing until an arrow key)."""
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AskDialog) and static_text(app.screen, ".dialog-title").strip() == "Name your design"


async def refusal_in_the_open_dialog(bank, path: Path) -> str:
    """What the open dialog says when `path` is typed into it (it stays open)."""
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await pilot.press("o")
        app.screen.query_one("#entry", Input).value = str(path)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AskDialog)
        return static_text(app.screen, "#error")


@pytest.mark.parametrize("name, shown", [(None, "design.yaml"), ("\x1b[31mred.yaml", "\\x1b[31mred.yaml")])
async def test_a_broken_design_is_listed_with_its_problem_and_deleted_only_when_confirmed(bank, guide_home, name, shown):
    """A file named with a control character is named with its escape, as `guide designs` names it: `ESC[31mred.yaml`
    was listed, and offered for deletion, as `red.yaml`, the same as a file really called so."""
    guide_home.mkdir()
    if name is None:
        session_path().write_text("answers: [\n")  # as an earlier guide left it: moved into the library
    else:
        designs_dir().mkdir()
        (designs_dir() / name).write_text("answers: [\n")
    design = designs_dir() / (name or "design.yaml")
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        [row] = design_rows(app)
        assert row.startswith(f"{shown}  broken (line 2: YAML: ")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen), "a broken design cannot be resumed"
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, Confirm), "deleting asks first"
        assert f"broken file {shown} is deleted" in " ".join(static_text(app.screen, ".dialog-body Static").split())
        await pilot.press("n")
        await pilot.pause()
        assert design.read_text() == "answers: [\n"
        await pilot.press("delete", "right", "enter")
        await pilot.pause()
        assert not design.exists() and design_rows(app) == []
        await pilot.press("n", "enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)


async def test_a_broken_design_says_what_guide_run_says_and_the_delete_dialog_offers_no_export(bank, guide_home):
    designs_dir().mkdir(parents=True)
    broken = designs_dir() / "scratchy.yaml"
    broken.write_text("scratch: 1\n")
    ran = run_guide("run", "--answers", str(broken))
    assert ran.stderr == f"guide: {broken}:1: scratch: unknown key (not allowed here)\n"
    expected = "broken (line 1: scratch: unknown key (not allowed here))"
    assert f"| scratchy | scratchy | {expected} |" in run_guide("designs", "--format", "md").stdout
    app = GuideApp(bank)
    async with app.run_test(size=(120, 30)) as pilot:
        [row] = design_rows(app)
        assert row.startswith(f"scratchy.yaml  {expected}")
        await pilot.press("x")
        await pilot.pause()
        body = " ".join(static_text(app.screen, ".dialog-body Static").split())
        assert "Export" not in body, "a file guide cannot read has no design document to export"
        assert f"To keep it, copy {broken} somewhere else first." in body


async def test_a_folder_in_the_designs_folder_is_said_to_be_one_and_not_offered_for_deleting(bank, guide_home):
    """A folder named dir.yaml was listed as "broken (Is a directory)"; x promised "The broken file dir.yaml is
    deleted for good", then failed."""
    folder = designs_dir() / "dir.yaml"
    folder.mkdir(parents=True)
    (folder / "mine.txt").write_text("kept\n")
    app = GuideApp(bank)
    async with app.run_test(size=(120, 30)) as pilot:
        [row] = design_rows(app)
        assert row.startswith("dir.yaml  broken (is a folder, not a YAML file)")
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen), "no offer to delete what cannot be deleted"
        said = " ".join(list(app._notifications)[-1].message.split())
        assert said == (f"{folder}: is a folder, not a design's file: guide does not delete folders; remove it "
                        "yourself if it is not wanted")
    assert (folder / "mine.txt").read_text() == "kept\n"


@pytest.mark.parametrize("key, refused", [("d", "duplicated"), ("t", "renamed")])
async def test_a_broken_design_is_not_duplicated_or_renamed_and_its_problem_is_said(bank, guide_home, key, refused):
    designs_dir().mkdir(parents=True)
    broken = designs_dir() / "listy.yaml"
    broken.write_text("title: Listy\nanswers: [a, b]\n")
    app = GuideApp(bank)
    async with app.run_test(size=(120, 30)) as pilot:
        [row] = design_rows(app)
        problem = row.removeprefix("listy.yaml  ").split("  ")[0]
        assert problem.startswith("broken (line 2: answers: ")
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        said = " ".join(list(app._notifications)[-1].message.split())
        assert said == f"{broken}: cannot be {refused} here: it is {problem}"
    assert broken.read_text() == "title: Listy\nanswers: [a, b]\n"
    assert [path.name for path in designs_dir().iterdir()] == ["listy.yaml"]


async def test_a_design_broken_by_its_title_alone_is_mended_by_renaming_it(bank):
    """A title edited by hand past 300 characters made the design broken, and t and d only repeated the error."""
    walk, knee = saved_knee_design(bank)
    knee.write_text(knee.read_text().replace("title: Knee\n", f"title: {'L' * 400}\n", 1))
    app = GuideApp(bank)
    async with app.run_test(size=(120, 30)) as pilot:
        assert design_rows(app)[0].startswith("knee.yaml  broken (line 4: title: at most 300 characters are taken")
        await pilot.press("t")
        await pilot.pause()
        app.screen.query_one(Input).value = "L" * 301
        await pilot.press("enter")
        await pilot.pause()
        assert static_text(app.screen, "#error").startswith("title: at most 300 characters are taken, and this has ")
        app.screen.query_one(Input).value = "Knee OA"
        await pilot.press("enter")
        await pilot.pause()
        assert design_rows(app)[0].startswith("Knee OA  unfinished, ")
        assert f"knee.yaml · unfinished, {walk.left_in_words()} · changed" in design_detail(app)
    mended = load_session(bank, knee)
    assert mended.answers.title == "Knee OA" and mended.answers.answers == walk.answers.answers


async def test_a_design_of_another_bank_is_listed_as_such_and_kept(bank, guide_home):
    guide_home.mkdir()
    session_path().write_text("title: Course design\nbank_id: course-bank\nanswers:\n  task: unsure\n")
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        assert design_rows(app) == [design_rows(app)[0]] and design_rows(app)[0].startswith(
            "Course design  saved with question bank 'course-bank'")
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        assert "saved with question bank 'course-bank', not 'wang2024-mlmi'" in list(app._notifications)[-1].message
        assert (designs_dir() / "course-design.yaml").read_text().startswith("title: Course design\n")


def saved_knee_design(bank) -> tuple[Walk, Path]:
    """A design titled Knee with its first question answered, saved in the library as knee.yaml."""
    walk = Walk(bank)
    walk.retitle("Knee")
    walk.answer(bank.meta.start, "screening_triage")
    knee = designs_dir() / "knee.yaml"
    knee.parent.mkdir(parents=True)
    save_session(walk, knee)
    return walk, knee


async def test_a_second_enter_before_the_name_is_taken_starts_one_design(bank, guide_home):
    """On a slow server a second Enter can be handled before the first one's name is checked: the design
    starts once, on its first question (a second dismiss took the app back to the start screen)."""
    app = GuideApp(bank)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"Knee")
        entry = app.screen.query_one("#entry", Input)
        for _ in range(2):  # both queued before either is handled
            entry.post_message(Input.Submitted(entry, entry.value))
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        assert app.walk.answers.title == "Knee"
        assert len(list((guide_home / "designs").glob("*.yaml"))) == 1


async def test_sixty_designs_list_a_line_each_page_by_page_and_are_found_by_typing(bank):
    """61 designs at 80x24: each wrapped onto two lines (a 300-character title onto four), PageDown moved one entry,
    and nothing found a design by its title. Each is one line now, the highlighted one said whole under the list;
    PageDown moves a page; / opens the palette, where a few words of a title find it."""
    walk, _ = saved_knee_design(bank)
    long_title = " ".join(["Segmentation of knee cartilage"] * 10)[:300].strip()
    for number in range(60):
        walk.retitle(long_title if number == 30 else f"Design number {number}")
        save_session(walk, designs_dir() / f"d{number}.yaml")
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24)) as pilot:
        listing = app.screen.query_one("#designs", OptionList)
        assert listing.option_count == 61
        width = listing.scrollable_content_region.width
        assert all("\n" not in row and len(row) <= width for row in design_rows(app))
        long_row = next(row for row in design_rows(app) if row.startswith("Segmentation"))
        assert "…" in long_row and re.search(r"  \d{4}-\d\d-\d\d \d\d:\d\d$", long_row), "its time still shows"
        await pilot.press("pagedown")
        await pilot.pause()
        assert listing.highlighted >= 10, "a page, not an entry"
        listing.highlighted = next(index for index, row in enumerate(design_rows(app)) if row.startswith("Segmentation"))
        await pilot.pause()
        assert design_detail(app).startswith(f"{long_title} d30.yaml · unfinished")
        await pilot.press("slash", *"number 37")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.walk.answers.title == "Design number 37"


async def test_the_designs_lines_are_written_again_only_when_the_width_changes(bank, monkeypatch):
    """Every line was written at start, then again on each Resize at the same width (three times at start)."""
    saved_knee_design(bank)
    written = []
    entry = StartScreen.entry
    monkeypatch.setattr(StartScreen, "entry", staticmethod(lambda design, width, *rest: written.append(width)
                                                           or entry(design, width, *rest)))
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert len(written) <= 2, "on mount and on resume, not again on the first Resize"
        written.clear()
        await pilot.resize_terminal(100, 25)
        await pilot.pause()
        assert written == []
        await pilot.resize_terminal(90, 25)
        await pilot.pause()
        assert set(written) == {90 - DESIGN_LIST_MARGIN}
        assert all(len(row) <= 90 - DESIGN_LIST_MARGIN for row in design_rows(app))


async def test_the_palette_says_a_designs_facts_as_the_start_screen_does(bank):
    """The palette said them in another order (state · changed · file) than the line under the list."""
    walk, _ = saved_knee_design(bank)
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        [command] = app.screen.design_commands()
        assert command.title == "Resume design: Knee"
        assert command.help == static_text(app.screen, "#design-detail").split("\n")[1]
        assert command.help.startswith(f"knee.yaml · unfinished, {walk.left_in_words()} · changed")


async def test_rename_duplicate_and_delete_on_the_start_screen(bank):
    walk, knee = saved_knee_design(bank)
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        bar = [entry.description for entry in app.screen.query_one(KeyBar).keys]
        assert {"New", "Resume", "Rename", "Duplicate", "Delete"} <= set(bar)
        assert design_rows(app)[0].startswith("Knee  unfinished, ")
        assert f"knee.yaml · unfinished, {walk.left_in_words()} · changed" in design_detail(app)
        await pilot.press("t")
        await pilot.pause()
        app.screen.query_one(Input).value = "Knee OA"
        await pilot.press("enter")
        await pilot.pause()
        assert load_session(bank, knee).answers.title == "Knee OA", "renamed in place: the file keeps its name"
        await pilot.press("d")
        await pilot.pause()
        copy = designs_dir() / "knee-oa-copy.yaml"
        assert load_session(bank, copy).answers.title == "Knee OA (copy)"
        assert load_session(bank, copy).values == load_session(bank, knee).values
        assert design_rows(app)[0].startswith("Knee OA (copy)"), "the copy is listed first and highlighted"
        await pilot.press("x", "right", "enter")
        await pilot.pause()
        assert not copy.exists() and knee.exists()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.walk.answers.title == "Knee OA"


async def test_letters_typed_by_mistake_on_the_start_screen_delete_nothing_and_a_copy_is_said(bank):
    """Typing at the start screen by mistake: d copied the design without a word of it, and x then y deleted it
    (a word like "xyz"). A copy says what it is and how to delete it; deleting takes the button, not a letter."""
    _, knee = saved_knee_design(bank)
    app = GuideApp(bank)
    async with app.run_test(notifications=True) as pilot:
        await pilot.press(*"xyz")
        await pilot.pause()
        assert knee.exists() and isinstance(app.screen, Confirm), "still asking"
        await pilot.press("escape", "d")
        await pilot.pause()
        [said] = [note.message for note in app._notifications if note.title == "Duplicated"]
        assert said == ("Saved a copy of “Knee” as knee-copy.yaml, highlighted in the list: x deletes it if you did "
                        "not mean to copy it.")


async def test_a_notice_quotes_a_long_title_cut_short(bank):
    """Duplicating (or renaming) a design whose title is 300 characters quoted the whole title in the notice: 15
    lines of the corner at 80x24, over the library. The notice quotes the title's start; the list shows it whole."""
    walk, knee = saved_knee_design(bank)
    title = " ".join(["word"] * 60)[:300]
    walk.retitle(title)
    save_session(walk, knee)
    app = GuideApp(bank)
    async with app.run_test(notifications=True) as pilot:
        await pilot.press("d")
        await pilot.pause()
        [said] = [note.message for note in app._notifications if note.title == "Duplicated"]
        assert said.startswith("Saved a copy of “word word") and "word…” as word-word-" in said and len(said) < 200
        await pilot.press("t", "ctrl+u")
        await pilot.press(*title.replace("word", "next"), "enter")
        await pilot.pause()
        [said] = [note.message for note in app._notifications if note.title == "Renamed"]
        assert said.startswith("The design is now “next next") and said.endswith("next…”.") and len(said) < 120
        # The delete dialog's question quoted it whole: 6 lines at 80x24. So did the rename box's empty-title error.
        await pilot.press("x")
        await pilot.pause()
        asked = static_text(app.screen, ".dialog-title")
        assert isinstance(app.screen, Confirm) and asked.startswith("Delete “next next") and asked.endswith("next…”?")
        assert len(asked) < 80
        await pilot.press("escape", "t", "ctrl+u", "enter")
        await pilot.pause()
        refused = static_text(app.screen, "#error")
        assert refused.startswith("A design needs a title: type one, or press Esc to keep “next next")
        assert refused.endswith("next…”.") and len(refused) < 140


async def test_the_rename_box_keeps_to_a_titles_length_and_an_empty_title_is_refused_in_words(bank):
    """400 pasted characters: the first 300 are kept and the limit is said in words; a cleared box says what Enter
    on it does (nothing: the old title stays) instead of doing nothing under an older, stale error."""
    _, knee = saved_knee_design(bank)
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("t")
        await pilot.pause()
        entry = app.screen.query_one("#entry", Input)
        await pilot.press("ctrl+u")
        entry.post_message(events.Paste("y" * 400))
        await pilot.pause()
        assert entry.value == "y" * 300
        assert static_text(app.screen, "#error") == "At most 300 characters: what went past that was left out."
        await pilot.press("ctrl+u", "enter")
        await pilot.pause()
        assert static_text(app.screen, "#error") == "A design needs a title: type one, or press Esc to keep “Knee”."
        entry.post_message(events.Paste("\u200b\u200b"))  # shown as nothing everywhere: no title either
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert static_text(app.screen, "#error") == "A design needs a title: type one, or press Esc to keep “Knee”."
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen) and load_session(bank, knee).answers.title == "Knee"


async def test_a_dialog_clears_the_information_toasts_but_keeps_a_warning_not_yet_read(bank):
    """Every toast went as a dialog opened, a failed save's error with them, perhaps before it could be read."""
    saved_knee_design(bank)
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30)) as pilot:
        app.notify("Saved.")
        app.notify("Cannot save: the disk is full.", severity="error")
        app.notify("The bank changed.", severity="warning")
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, RenameDialog)
        assert [toast.message for toast in app._notifications] == ["Cannot save: the disk is full.",
                                                                    "The bank changed."]


async def test_ctrl_c_says_how_to_quit_in_plain_words(bank):
    """Textual's own ctrl+c notice is markup ("Press [b]ctrl+q[/b]"), and guide's notify never reads markup: the
    brackets were shown as typed."""
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
        [said] = list(app._notifications)
        assert "[" not in said.message and "ctrl+q" in said.message and "quit" in said.message


async def test_a_paste_over_a_selection_made_leftwards_keeps_all_it_fits(bank):
    """300 characters, all selected with shift+home (the selection runs leftwards), then a paste of 200: the
    selection is replaced whole, nothing is cut and no limit is told."""
    saved_knee_design(bank)
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("t")
        await pilot.pause()
        entry = app.screen.query_one("#entry", Input)
        entry.value = "x" * 300
        entry.cursor_position = 300
        await pilot.press("shift+home")
        entry.post_message(events.Paste("z" * 200))
        await pilot.pause()
        assert entry.value == "z" * 200
        assert static_text(app.screen, "#error") == ""


async def test_toasts_do_not_cover_a_dialog_opened_after_them(bank):
    """At 80x24 three "Duplicated" toasts covered the rename dialog's box and buttons."""
    saved_knee_design(bank)
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("d", "d", "d")
        await pilot.pause()
        assert app._notifications, "each copy is told"
        await pilot.press("t")
        await pilot.pause()
        dialog = app.screen
        for widget in [*dialog.query(Button), dialog.query_one("#entry", Input)]:
            region = widget.region
            for x, y in ((region.x + 1, region.y + 1), (region.right - 2, region.y + 1)):
                assert dialog.get_widget_at(x, y)[0] is widget, f"{widget} is covered at {x},{y}"


def shown_on_screen(app) -> str:
    """All the terminal shows, the screens beneath a dialog's backdrop included, as one text."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", app.export_screenshot())).split())


async def test_a_notice_cleared_by_a_dialog_is_not_left_half_covered_on_the_screen_beneath(bank):
    """At 40x12, text left on a question, `s` then `e`: the export dialog cleared the "Draft kept" notice from its
    own screen, yet it stayed drawn on the results beneath, its title and edge showing round the dialog. The
    dialog says the draft itself."""
    app = GuideApp(bank)
    async with app.run_test(size=(40, 12), notifications=True) as pilot:
        await type_and_leave_the_first_text_question(pilot, app, "s")
        await pilot.pause()
        assert "Draft kept" in shown_on_screen(app)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        assert "Draft kept" not in shown_on_screen(app)
        assert static_text(app.screen, "#draft-note").startswith("1 draft is not in the document")


async def test_opening_a_design_and_leaving_it_unchanged_does_not_date_it_as_changed(bank):
    _, knee = saved_knee_design(bank)
    os.utime(knee, (1_700_000_000, 1_700_000_000))
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.walk.answers.title == "Knee"
        await pilot.press("escape")
        await pilot.pause()
    assert knee.stat().st_mtime == 1_700_000_000, "the library's 'last changed' stays true"


async def test_a_design_open_in_another_guide_is_refused_and_others_open(bank):
    walk = Walk(bank)
    walk.retitle("Busy")
    busy = designs_dir() / "busy.yaml"
    busy.parent.mkdir(parents=True)
    save_session(walk, busy)
    with SessionLock(busy):  # the other guide
        app = GuideApp(bank)
        async with app.run_test() as pilot:
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, StartScreen)
            assert "this design is open in another guide" in list(app._notifications)[-1].message
            await pilot.press("n", "enter")
            await pilot.pause()
            assert isinstance(app.screen, QuestionScreen), "another design opens meanwhile"
            await pilot.press("ctrl+p", *"start screen", "enter")
            await pilot.pause()
        assert app.lock is None, "a design left is let go"


async def test_the_preset_picker_shows_its_own_keys_over_the_start_screens(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PresetPicker)
        keys = {entry.key: entry.description for entry in app.screen.query_one(KeyBar).keys}
        assert keys.get("enter") == "Open" and keys.get("escape") == "Close", keys
        bottom = app.screen.get_widget_at(0, 23)[0]
        assert isinstance(bottom, KeyBar) and bottom.screen is app.screen, "the start screen's keys are covered"
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.walk.read_only and app.walk.answers.title == read_answers(list(bank.cases().values())[1], bank).title


async def open_preset_picker(pilot, app) -> None:
    await pilot.press("p")


async def open_review_of_a_preset(pilot, app) -> None:
    app.open_preset("dr-screening")
    await pilot.pause()
    await pilot.press("v")


@pytest.mark.parametrize("open_dialog, dialog", [(open_preset_picker, PresetPicker), (open_review_of_a_preset, Review)])
async def test_a_second_enter_queued_in_a_list_dialog_acts_once_and_keeps_the_screen_beneath(bank, open_dialog, dialog):
    """Enter selects the highlighted item (a preset to open, a question to jump to), which the list says in a
    message: a second Enter queued behind the first selects again, and a second dismissal popped the screen
    beneath (the question screen, leaving the user on the start screen; Textual: ScreenStackError)."""
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_dialog(pilot, app)
        await pilot.pause()
        assert isinstance(app.screen, dialog)
        for _ in range(2):  # both queued before either is handled
            app.post_message(events.Key("enter", "\r"))
        for _ in range(3):
            await pilot.pause()
        assert [type(screen) for screen in app.screen_stack] == [StartScreen, QuestionScreen]
        assert app.walk.read_only


async def test_keys_typed_ahead_in_the_review_move_the_highlight_before_enter_jumps(bank):
    """↓ ↓ Enter typed in one go jumped to the first question: Enter was a priority binding of the dialog, run as
    the key reached the app, before the list had handled the ↓ ahead of it."""
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_review_of_a_preset(pilot, app)
        await pilot.pause()
        typed_at_once(app, "down down enter")
        for _ in range(3):
            await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.walk.position == app.walk.path[2]


async def test_worked_example_is_read_only_and_can_be_copied(bank):
    name = "dr-screening"
    preset = read_answers(bank.cases()[name], bank)
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("p")
        picker = app.screen.query_one("#preset-list", OptionList)
        picker.highlighted = list(bank.cases()).index(name)
        await pilot.press("enter")
        await pilot.pause()
        assert app.walk.read_only
        assert "Worked example" in static_text(app.screen, "#banner")
        await pilot.press("3", "u")
        await pilot.press("enter")
        await pilot.pause()
        assert app.walk.answers.answers == preset.answers, "nothing in a worked example changes"
        assert app.walk.position == app.walk.path[1], "Enter steps on"
        assert not list(designs_dir().glob("*.yaml"))
        await pilot.press("s")
        await pilot.pause()
        await open_tab(pilot, app, "tab-discuss")
        discuss = static_text(app.screen, "#discuss")
        assert " ".join(preset.instructor_notes.discuss[0].split())[:60] in discuss, "the teaching notes are shown"
        await pilot.press("c")
        await pilot.pause()
        assert not app.walk.read_only
        assert load_saved(bank).answers.answers == preset.answers


async def open_worked_example(pilot, app) -> None:
    await pilot.press("p", "enter")  # the first preset
    await pilot.pause()
    assert isinstance(app.screen, QuestionScreen) and app.walk.read_only


async def test_esc_leaves_a_worked_example_for_the_start_screen(bank):
    """A worked example once could not be left: Esc did nothing. It steps out one level at a time."""
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await open_worked_example(pilot, app)
        bar = app.screen.query_one(KeyBar)
        assert ("Esc", "Start screen") in [(entry.display, entry.description) for entry in bar.keys]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen) and app.walk is None
        assert not list(designs_dir().glob("*.yaml")), "reading an example leaves nothing behind"

        await open_worked_example(pilot, app)
        while app.walk.question.kind != "text":
            await pilot.press("enter")
            await pilot.pause()
        await pilot.press("escape")  # out of the text box first, so that ← → step through the questions
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.focused.id == "answer-button"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)


async def choose_in_palette(pilot, words: str) -> None:
    await pilot.press("ctrl+p", *["space" if letter == " " else letter for letter in words])
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def test_the_palette_goes_back_to_the_start_screen(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await open_worked_example(pilot, app)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen)
        await choose_in_palette(pilot, "start screen")
        assert isinstance(app.screen, StartScreen) and app.walk is None

        await start_and_reach(pilot, app, "multiple")
        answered = dict(app.walk.answers.answers)
        await pilot.press("n", "x")  # a note on a question not answered yet: kept as it is left
        await pilot.press("escape", "space")  # a tick, not answered: not saved
        await choose_in_palette(pilot, "start screen")
        assert isinstance(app.screen, Confirm), "leaving what is not saved is asked first, as quitting is"
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.screen.query_one(ChoiceList).pending
        await choose_in_palette(pilot, "start screen")
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        assert design_rows(app)[0].startswith("Untitled design  unfinished"), "a design of one's own stays, to resume"
        saved = load_saved(bank)
        assert saved.answers.answers == answered and list(saved.answers.notes.values()) == ["x"]


async def test_the_results_indent_each_reason_under_its_evidence_at_any_width(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(90, 30)) as pilot:
        app.begin(Walk(bank, read_answers(bank.cases()["dr-screening"], bank)))
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        for size in ((90, 30), (64, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            text = app.screen.query_one("#priorities", Static)
            lines = str(text.render()).splitlines()
            reasons = [item.because for element in app.screen.result.elements for item in element.evidence]
            reason = next(reason for reason in reasons if len(reason) + 3 > text.content_region.width)
            start = next(number for number, line in enumerate(lines) if line.startswith("   " + reason[:12]))
            assert lines[start + 1].startswith("   ") and lines[start + 1].strip() in reason
            assert all(len(line) <= text.content_region.width for line in lines if line.startswith("   ")), \
                "wrapped for the width the text has, so it does not wrap a second time"


async def test_the_answers_tab_keeps_choices_apart_whose_labels_have_commas(bank):
    """Several choices are joined with "; " there, as in what-if and diff: their labels have commas of their own."""
    answers = read_answers(bank.cases()["dr-screening"], bank)
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30)) as pilot:
        app.begin(Walk(bank, answers))
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        await open_tab(pilot, app, "tab-answers")
        shown = " ".join(static_text(app.screen, "#answers").split())
    question = bank.questions["shortcut_sources"]
    labels = [question.choice(item).label for item in answers.answers["shortcut_sources"]]
    assert len(labels) > 1 and any("," in label for label in labels)
    assert " ".join("; ".join(labels).split()) in shown


async def test_at_80x24_a_long_question_keeps_its_description_note_and_buttons_in_view(bank):
    """The first question's fourteen choices at 80x24: the list scrolls, so what follows it stays on screen."""
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and len(app.walk.question.choices) > 12
        pane = app.screen.query_one("#question-pane")
        for selector in ("#about", "#note", "#answer-button"):
            widget = app.screen.query_one(selector)
            assert pane.scroll_offset.y == 0 and widget.region.bottom <= pane.region.bottom, selector
        await pilot.press(*["down"] * 13)
        await pilot.pause()
        choices = app.screen.query_one(ChoiceList)
        assert choices.highlighted == 13 and choices.scroll_offset.y > 0, "the list scrolled to its last choice"
        assert app.screen.query_one("#answer-button").region.bottom <= pane.region.bottom


async def test_the_priorities_tab_ends_at_its_last_line(bank):
    """The tab ends at the text's last line: it is as tall as its text at the width it
    has (it once kept the height of the text written for 80 columns, and ended in a run of blank rows)."""
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_preset("dr-screening")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        text = app.screen.query_one("#priorities", Static)
        rows = [text.render_line(y).text.strip() for y in range(text.size.height)]
        blank_at_the_end = len(rows) - max(y for y, row in enumerate(rows) if row) - 1
        assert blank_at_the_end <= 1, "the text ends with one empty line, as a paragraph does"


async def test_learn_view_teaches_the_five_elements(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("l")
        assert isinstance(app.screen, LearnScreen)
        element = list(bank.elements.values())[1]
        await pilot.press("down")
        text = static_text(app.screen, "#learn-text")
        assert element.name in text
        assert " ".join(element.examples[0].split())[:40] in text
        assert " ".join(element.teaching.split())[:40] in text
        serving = [precedent for precedent in bank.precedents.values() if element.id in precedent.serves]
        assert serving and "Published systems built mainly for it" in text
        assert all(" ".join(precedent.title.split()) in " ".join(text.split()) for precedent in serving)
        await pilot.press("escape")
        assert not isinstance(app.screen, LearnScreen)


async def test_help_and_themes(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        assert "ctrl+q" in static_text(app.screen, "#help-body Static")
        await pilot.press("escape")
        await pilot.press("n", "enter", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        theme = app.theme
        await pilot.press("ctrl+t")
        assert app.theme == (LIGHT if theme == DARK else DARK)
        await pilot.press("ctrl+t")
        assert app.theme == theme


async def test_help_counts_the_stages_and_elements_of_the_bank_in_use(bank_copy):
    """A course's bank with a sixth stage: the help must not say "five steps" above six numbered ones."""
    from guide.load import load_bank

    meta = bank_copy / "bank.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace(
        "levels:\n", "  - id: wrap_up\n    title: Wrap-up\n    description: What the course asks last.\nlevels:\n", 1),
        encoding="utf-8")
    constraints = bank_copy / "flow" / "5-constraints.yaml"
    text = constraints.read_text(encoding="utf-8")
    last = text.rindex("    stage: constraints")
    constraints.write_text(text[:last] + "    stage: wrap_up" + text[last + len("    stage: constraints"):], encoding="utf-8")
    app = GuideApp(load_bank(bank_copy))
    async with app.run_test() as pilot:
        await pilot.press("f1")
        help_text = " ".join(static_text(app.screen, "#help-body Static").split())
        assert "This tool walks that way in six steps:" in help_text and "6. Wrap-up" in help_text
        assert "priority of its five elements" in help_text


async def test_help_and_the_palette_name_no_fixed_count_of_elements(bank_copy):
    """A course's bank with a sixth element: the help says "learn the six elements", not the five of the built-in
    bank, and neither the keys nor the command palette count them."""
    import copy

    import yaml

    from guide.load import load_bank

    elements_file = bank_copy / "elements.yaml"
    data = yaml.safe_load(elements_file.read_text(encoding="utf-8"))
    data["elements"].append({**copy.deepcopy(data["elements"][0]), "id": "provenance", "short": "R", "name": "Provenance"})
    elements_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    rules_file = bank_copy / "rules.yaml"
    rules_file.write_text(rules_file.read_text(encoding="utf-8").replace(
        "    effects:\n", "    effects:\n      - element: provenance\n        weight: 1\n        because: A course's own "
        "element.\n", 1), encoding="utf-8")
    app = GuideApp(load_bank(bank_copy))
    async with app.run_test() as pilot:
        await pilot.press("f1")
        help_text = " ".join(static_text(app.screen, "#help-body Static").split())
        assert "priority of its six elements" in help_text and "learn the six elements with examples" in help_text
        assert not any("five" in command.title for command in app.get_system_commands(app.screen))
    assert not any("five" in text for _, text in KEYS_HELP)


async def test_resizing_to_60x20_collapses_the_reasoning_and_back(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "enter", "enter")
        panel = app.screen.query_one("#reasoning")
        strip = app.screen.query_one("#strip")
        assert panel.display and not strip.display
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        assert not panel.display and strip.display
        assert "A:" in static_text(app.screen, "#strip"), "priorities stay visible in one line"
        bar = app.screen.query_one(KeyBar)
        assert all(end <= 60 for _, end, key in bar.spans if key != app.COMMAND_PALETTE_BINDING), \
            "every key of the screen fits on the key bar, in its compact form"
        await pilot.press("p")
        await pilot.pause()
        assert panel.display and not app.screen.query_one("#question-pane").display
        assert isinstance(app.focused, ElementBars)
        assert str(bar.render()).rstrip().endswith("^p"), \
            "with more keys than fit, the last ones give way to the palette's, which lists them all"
        assert bar.spans[-1][1] <= 60
        await pilot.press("p")
        await pilot.pause()
        assert app.screen.query_one("#question-pane").display
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert panel.display and not strip.display
        assert app.screen.query_one(ChoiceList).region.right <= panel.region.x, "side by side, no overlap"


async def test_a_terminal_too_small_for_the_question_says_so_and_takes_no_answer(bank):
    """At 20x5 only the progress line and the bars showed, and Enter and u still answered."""
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        question = app.walk.question
        await pilot.press("2")  # moved to a choice, not answered
        await pilot.resize_terminal(20, 5)
        await pilot.pause()
        assert isinstance(app.screen, TooSmall)
        said = str(app.screen.query_one("#too-small", Static).render())
        assert "20×5" in said and f"{SizedScreen.MINIMUM_SIZE[0]}×{SizedScreen.MINIMUM_SIZE[1]}" in said
        await pilot.press("enter", "u", "space", "3")
        await pilot.pause()
        assert app.walk.answers.answers == {} and app.walk.position == question.id
        for key in ("t", "f1", "question_mark", "ctrl+p"):  # help, the palette and renaming opened over it
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, TooSmall), key
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        assert app.screen.query_one(ChoiceList).highlighted == 1, "the screen is as it was left"
        await pilot.press("enter")
        await pilot.pause()
        assert app.walk.answers.answers[question.id] == question.choices[1].id


async def test_keys_typed_before_the_terminal_became_too_small_act_once_it_is_large_again(bank, guide_home):
    """Keys typed in a burst wait in line; a resize is no key and went first, so the too-small screen took the
    keys still waiting and dropped them (a note typed as `abcdefgh` kept `a`), while it said nothing typed is
    lost. Keys typed while it is shown are still not taken (nothing is answered unseen)."""
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "enter", "n")
        await pilot.pause()
        typed_at_once(app, "a b c d e f g h")
        await pilot.resize_terminal(20, 5)
        assert isinstance(app.screen, TooSmall)
        await pilot.press("x", "y")  # typed while it is shown
        await pilot.resize_terminal(80, 24)
        await typed_keys_handled(pilot, app)
        assert isinstance(app.screen, QuestionScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert app.walk.answers.notes == {"task": "abcdefgh"}


async def test_a_notice_does_not_cover_the_too_small_notice(bank):
    """Renamed, then shrunk to 20x5: the "Renamed" toast covered the words saying the terminal is too small."""
    saved_knee_design(bank)
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("t")
        await pilot.pause()
        app.screen.query_one(Input).value = "Knee OA"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert "is&#160;now" in app.export_screenshot()
        await pilot.resize_terminal(20, 5)
        await pilot.pause()
        shown = app.export_screenshot()
        assert isinstance(app.screen, TooSmall) and "lost." in shown and "Knee" not in shown


async def test_a_wrapped_choice_continues_under_its_label(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "enter", "enter")  # the second question has the longest choice labels
        await pilot.pause()
        choices = app.screen.query_one(ChoiceList)
        prompts = [str(choices.get_option_at_index(index).prompt) for index in range(choices.option_count)]
        wrapped = [prompt for prompt in prompts if "\n" in prompt]
        assert wrapped, "at 80 columns some label needs two lines"
        for prompt in wrapped:
            assert all(line.startswith(" " * len("1 ( ) ")) and line.strip() for line in prompt.split("\n")[1:])
            assert all(len(line) <= choices.scrollable_content_region.width for line in prompt.split("\n"))
        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        assert not any("\n" in str(choices.get_option_at_index(index).prompt) for index in range(choices.option_count))


def ticked_on_screen(app) -> list[str]:
    """The choices whose rows show a tick, read from the rows themselves."""
    choices = app.screen.query_one(ChoiceList)
    return [choices.get_option_at_index(index).id for index in range(choices.option_count)
            if "[x]" in str(choices.get_option_at_index(index).prompt)]


async def test_multiple_choice_records_exactly_the_ticks_on_screen(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await start_and_reach(pilot, app, "multiple")
        question = app.walk.question
        await pilot.press("1", "space", "4", "space")  # a number moves to its choice, space ticks it
        shown = ticked_on_screen(app)
        assert shown == [question.choices[0].id, question.choices[3].id]
        await pilot.press("enter")
        await pilot.pause()
        assert app.walk.answers.answers[question.id] == shown
        assert app.walk.position != question.id
        # Esc first leaves the next question's text box, if it has one (elsewhere it keeps to the choices).
        await pilot.press("escape", "left", "2", "space")
        shown = ticked_on_screen(app)
        await pilot.press("right")  # → with changed ticks answers with them
        await pilot.pause()
        assert app.walk.answers.answers[question.id] == shown == [question.choices[index].id for index in (0, 1, 3)]
        await pilot.press("escape", "left", "3", "space", "left")  # ← drops them, and says so
        await pilot.pause()
        assert app.walk.answers.answers[question.id] == shown
        assert any("not answered" in str(note.message) for note in app._notifications)
        await pilot.press("escape", "right")
        await pilot.pause()
        assert app.walk.position == question.id
        await pilot.press("u")
        await pilot.pause()
        assert app.walk.answers.answers[question.id] == [UNSURE]


async def test_ticks_left_on_a_question_never_answered_are_said_to_be_dropped(bank):
    """There was no answer to keep: ← says the ticks are dropped, and coming back shows none."""
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await start_and_reach(pilot, app, "multiple")
        question = app.walk.question
        await pilot.press("1", "space", "2", "space", "left")
        await pilot.pause()
        messages = [str(note.message) for note in app._notifications]
        assert QuestionScreen.TICKS_DROPPED in messages and QuestionScreen.CHANGE_DROPPED not in messages
        await pilot.press("escape", "right")
        await pilot.pause()
        assert app.walk.position == question.id and question.id not in app.walk.answers.answers
        assert ticked_on_screen(app) == []


async def test_enter_with_nothing_ticked_records_nothing_and_says_so(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await start_and_reach(pilot, app, "multiple")
        question = app.walk.question
        await pilot.press("4", "enter")
        await pilot.pause()
        assert question.id not in app.walk.answers.answers and app.walk.position == question.id
        assert ChoiceList.NOTHING_TICKED in [note.message for note in app._notifications]
        # An answer given before stays as it was when every tick is taken off and Enter pressed.
        await pilot.press("space", "enter", "escape", "left")
        await pilot.pause()
        app._notifications.clear()
        await pilot.press("space", "enter")
        await pilot.pause()
        assert app.walk.answers.answers[question.id] == [question.choices[3].id]
        assert app.walk.position == question.id and ticked_on_screen(app) == []
        assert ChoiceList.NOTHING_TICKED in [note.message for note in app._notifications]


async def test_number_keys_move_to_a_choice_on_both_kinds_of_question(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter", "3")
        choices = app.screen.query_one(ChoiceList)
        first = app.walk.question
        assert first.kind == "single" and choices.highlighted == 2
        assert first.id not in app.walk.answers.answers, "a number moves; only Enter answers"
        await pilot.press("enter")
        await pilot.pause()
        assert app.walk.answers.answers[first.id] == first.choices[2].id
        # Past the tenth choice there is no number key: the arrows reach it, and Enter answers it.
        long_single = app.walk.question
        assert long_single.kind == "single" and len(long_single.choices) > 12
        await pilot.press("0", "down", "down", "down")
        assert choices.highlighted == 12
        await pilot.press("enter")
        await pilot.pause()
        assert app.walk.answers.answers[long_single.id] == long_single.choices[12].id
        while app.walk.question.kind != "multiple":
            await answer_current(pilot, app)
        several = app.walk.question
        await pilot.press("3")
        assert choices.highlighted == 2 and ticked_on_screen(app) == [], "a number moves; only space ticks"
        await pilot.press(NUMBER_KEYS[len(several.choices)])  # a number past the last choice: the highlight stays
        assert choices.highlighted == 2
        # The same past the tenth choice where several apply: the arrows reach it, space ticks it.
        while not (app.walk.question.kind == "multiple" and len(app.walk.question.choices) > 11):
            await answer_current(pilot, app)
        long_multiple = app.walk.question
        await pilot.press("0", "down", "down", "space", "enter")
        await pilot.pause()
        assert app.walk.answers.answers[long_multiple.id] == [long_multiple.choices[11].id]


async def test_the_hint_key_bar_help_and_the_user_guide_tell_the_same_keys(bank):
    help_rows = dict(KEYS_HELP)
    assert help_rows["1-9, 0"].startswith("move to a choice"), "a number moves, on both kinds of question"
    assert "tick" in help_rows["space"] and "Enter answers" in help_rows["space"]
    guide_page = (ROOT / "docs" / "user-guide" / "walkthrough.md").read_text(encoding="utf-8")
    for keys in ("↑ ↓", "1-9, 0", "Enter", "space"):
        assert help_rows[keys] in guide_page, f"the user guide's key table says what help says of {keys}"
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter")
        bar = app.screen.query_one(KeyBar)
        assert "space" not in [entry.key for entry in bar.keys], "nothing to tick where one choice applies"
        await start_and_reach(pilot, app, "multiple")
        await pilot.pause()
        assert ("space", "Tick") in [(entry.key, entry.description) for entry in bar.keys]
        assert static_text(app.screen, "#about").endswith("space ticks, then Enter answers")


async def test_hostile_text_shows_inert(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter", "n")
        await pilot.press(*"[bold]x[/bold] [link=http://evil]y[/link]")
        await pilot.press("escape", "enter")
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("escape", "left")
        await pilot.pause()
        assert app.screen.query_one("#note", Input).value == "[bold]x[/bold] [link=http://evil]y[/link]"
        await pilot.press("s")
        await pilot.pause()
        await open_tab(pilot, app, "tab-answers")
        assert "note: [bold]x[/bold] [link=http://evil]y[/link]" in static_text(app.screen, "#answers")


async def test_command_palette_offers_jump_export_and_theme(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter", "enter", "enter")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Export the design document" in titles
        assert "Light or dark theme" in titles
        jump = next(command for command in app.get_system_commands(app.screen) if command.title.startswith("Jump to question 1:"))
        jump.callback()
        await pilot.pause()
        assert app.walk.position == app.walk.path[0]


async def test_the_results_scroll_at_once_and_arrows_switch_tabs(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24)) as pilot:
        await results_of_a_copied_preset(pilot, app)
        priorities = app.screen.query_one("#tab-priorities VerticalScroll")
        await pilot.press("pagedown")
        await pilot.pause()
        assert priorities.scroll_y > 0, "PageDown scrolls the priorities without a Tab first"
        await pilot.press("right")
        await pilot.pause()
        methods = app.screen.query_one("#methods", OptionList)
        assert app.screen.query_one("#tabs").active == "tab-methods" and app.screen.focused is methods
        await pilot.press("down")
        assert methods.highlighted == 1, "↓ moves through the methods at once"
        await pilot.press("left", "left")
        await pilot.pause()
        assert app.screen.query_one("#tabs").active == "tab-answers", "← from the first tab goes round to the last"
        assert "←→" in key_bar(app)


async def test_tabs_switched_faster_than_they_are_built_keep_the_app_running(bank):
    """A student holding → on the results (or a loaded server) switches on before a tab's content is built: the
    tab switched to is built and takes the keys in its turn; the app never ends on a tab without its content."""
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24)) as pilot:
        await results_of_a_copied_preset(pilot, app)
        tabs = app.screen.query_one("#tabs")
        panes = [pane.id for pane in tabs.query(TabPane)]
        for _ in panes[1:]:
            app.screen.action_switch_tab(1)  # as a key does, while the tab before may still be being built
            for _ in range(3):
                await asyncio.sleep(0)
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, ResultsScreen)
        assert tabs.active == panes[-1] and app.screen.focused in tabs.active_pane.query("*")


async def test_keys_typed_ahead_as_the_app_ends_are_dropped_quietly(bank):
    """Keys still waiting when a tab's app ends (its browser tab closed mid-typing) have no screen to go to: they
    are dropped, not raised as a traceback on the server's terminal ("No screens on stack")."""
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    app.keys_waiting.append(events.Key("n", "n"))
    await app.hand_on_keys()
    assert not app.keys_waiting


def test_a_drawn_line_is_made_without_the_caches_it_never_uses(monkeypatch):
    """An answer draws a few thousand lines (Strips); each used to build seven caches as it was made, most never
    used, about 3 ms of every answer. A line builds a cache when it first needs one, and only that one."""
    made = []
    build = FIFOCache.__init__
    monkeypatch.setattr(FIFOCache, "__init__", lambda cache, maxsize: made.append(maxsize) or build(cache, maxsize))
    line = Strip([Segment("What does the model do?")])
    assert made == [], "a new line built caches"
    assert line.crop(0, 4).text == "What" and line.crop(0, 4) is line.crop(0, 4)
    assert len(made) == 1, "a crop built more than the crop cache"


async def test_an_answer_that_moves_the_focus_paints_the_next_question_in_one_frame(bank):
    """From the choices to the text box and back, the next question appears whole in one frame: not the old
    question's field first, nor the screen painted twice."""
    app = GuideApp(bank)
    frames = FrameClock(app)
    moved = 0
    async with app.run_test(size=(120, 40)) as pilot:
        await start_and_reach(pilot, app, "text")
        app.screen.query_one("#paragraph").cursor_blink = False  # a blink would be a frame of its own
        while moved < 2 and isinstance(app.screen, QuestionScreen):
            kind = app.walk.question.kind
            if kind == "text":
                await pilot.press(*"A fundus screening model.")
            if kind == "multiple":
                await pilot.press("space")
            await pilot.pause()
            frames.changes()
            await pilot.press("enter")
            await pilot.pause()
            next_kind = app.walk.question.kind if app.walk.question else None
            if isinstance(app.screen, QuestionScreen) and (kind == "text") != (next_kind == "text"):
                moved += 1
                assert len(frames.changes()) == 1, f"the answer from a {kind} to a {next_kind} question took several frames"
    assert moved == 2, "the walk moves from a text question to choices and back"


async def test_an_answer_is_painted_before_its_fsynced_save_and_saved_before_anything_else(bank):
    """The next question is on screen without waiting for the session file's fsync; the answer is on disk
    right after that frame, before the next key is handled, and when the app ends at once."""
    app = GuideApp(bank)
    saved_at_frame = []
    display = app._display

    def watched_display(screen, update) -> None:
        display(screen, update)
        if update is not None and app.walk is not None and app.design_file is not None:
            saved_at_frame.append(load_session(bank, app.design_file).answers.answers.get(first))

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        first = app.walk.position
        app._display = watched_display
        await answer_current(pilot, app)
        assert saved_at_frame[0] is None, "the next question waited for the answer's save"
        assert load_saved(bank).answers.answers[first] == app.walk.answers.answers[first]
        second = app.walk.position
        await pilot.press("enter", "down")  # no pause: the second answer's save is due when "down" comes
        assert load_saved(bank).answers.answers.get(second) == app.walk.answers.answers[second]
        third = app.walk.position
        await pilot.press(*(["space"] if app.walk.question.kind == "multiple" else []), "enter")
        app.exit()
    assert load_saved(bank).answers.answers.get(third) is not None, "the answer was lost on the way out"


async def test_the_results_open_in_one_frame(bank):
    """Opening the results paints their final picture at once, not a screen that then settles in frames of its
    own (the tab bar losing the focus to the priorities, the underline placed under the first tab, the
    priorities' scrollbar thumb)."""
    app = GuideApp(bank)
    frames = FrameClock(app)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_preset("dr-screening")
        await pilot.pause()
        frames.changes()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen)
        assert len(frames.changes()) == 1, "the results settled over several frames"


async def test_every_results_tab_shows_its_content_when_opened(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(100, 40)) as pilot:
        app.open_preset("dr-screening")  # a worked example has every tab, its teaching notes too
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        result = app.screen.result
        expected = {"tab-methods": ("#method-detail", bank.methods[result.methods[0].id].name),
                    "tab-precedents": ("#precedent-1", bank.precedents[result.precedents[0].id].title),
                    "tab-plan": ("#plan", "Evaluation plan, element by element"),
                    "tab-open": ("#open", "open question"),
                    "tab-answers": ("#answers", "Answers on the path"),
                    "tab-discuss": ("#discuss", "To discuss")}
        for pane_id, (selector, text) in expected.items():
            await open_tab(pilot, app, pane_id)
            pane = app.screen.query_one(f"#{pane_id}")
            assert text in static_text(pane, selector), f"{pane_id} shows its content"
            assert app.screen.focused in pane.query("*"), f"{pane_id} takes the keys"
        await pilot.press("right", "right")  # round to the methods again: still one list, its detail shown
        await pilot.pause()
        assert len(app.screen.query("#methods")) == 1
        assert app.screen.query_one("#methods").highlighted == 0


async def test_the_results_say_what_replaces_what_and_what_each_published_system_shares(bank):
    """A segmenter without masks: the plan tab reads the ruled-out measure as replaced, not as the replacement,
    and the published systems tab says that none listed shares the task, and what each shares."""
    answers = read_answers(bank.cases()["dr-screening"], bank)
    walk = Walk(bank, answers.revised(answers={**answers.answers, "task": "segmentation",
                                               "region_annotations": "not_feasible"}))
    app = GuideApp(bank)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ResultsScreen(walk))
        await pilot.pause()
        await open_tab(pilot, app, "tab-plan")
        plan = " ".join(static_text(app.screen, "#plan").split())
        assert "Replaces this measure, ruled out by your answers because it assumes that" in plan
        assert "In place of" not in plan
        await open_tab(pilot, app, "tab-precedents")
        heading = " ".join(static_text(app.screen, "#precedents").split())
        assert "None of the systems listed shares your task (Segmentation)" in heading
        assert "similar; same modality, different task)" in " ".join(static_text(app.screen, "#precedent-1").split())


async def test_each_agreeing_answer_of_a_published_system_is_said_with_its_question(bank):
    """A card's "Agreeing answers" listed labels alone ("Full access; They can be made; No usable model;
    Feasible"): a reader could not tell what had agreed. Each is said under its question's prompt."""
    walk = Walk(bank, read_answers(bank.cases()["dr-screening"], bank))
    app = GuideApp(bank)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ResultsScreen(walk))
        await pilot.pause()
        await open_tab(pilot, app, "tab-precedents")
        details = [line.strip() for line in app.screen.query_one("#precedent-details-1").render().plain.splitlines()]
        assert "• What does the model do? Screening or triage" in details
        assert "• Which imaging modality does the model take (or, for an encoding model, predict)? Fundus photograph" \
            in details


def only_text_left(bank) -> Walk:
    """A walk with every choice question on its path answered (unsure) and its text questions left empty."""
    from guide.engine import route
    from guide.model import AnswersFile

    answers: dict = {}
    while missing := [question for question in route(bank, answers)
                      if bank.questions[question].kind != "text" and question not in answers]:
        answers.update({question: [UNSURE] if bank.questions[question].kind == "multiple" else UNSURE
                        for question in missing})
    return Walk(bank, AnswersFile(title="Knee", answers=answers))


def save_in_library(walk: Walk, name: str) -> None:
    designs_dir().mkdir(parents=True, exist_ok=True)
    save_session(walk, designs_dir() / f"{name}.yaml")


async def test_text_questions_left_empty_are_counted_the_same_in_the_library_heading_and_open_questions(bank):
    """The library said "3 questions left", the results "3 question(s) not answered yet", and the Open questions
    tab counted only the unsure answers: the empty text boxes were in two counts and missing from the third."""
    walk = only_text_left(bank)
    empty = len(walk.left_empty)
    assert empty and len(walk.unanswered) == empty
    said = f"{empty} text questions left empty"
    save_in_library(walk, "knee")
    app = GuideApp(bank)
    async with app.run_test(size=(120, 40)) as pilot:
        assert design_rows(app)[0].startswith(f"Knee  unfinished, {said}  ")
        app.push_screen(ResultsScreen(walk))
        await pilot.pause()
        assert static_text(app.screen, "#results-title").endswith(f" · {said}")
        await open_tab(pilot, app, "tab-open")
        shown = static_text(app.screen, "#open")
        assert f"{said} (they change no result)" in shown
        assert all(bank.questions[question].prompt in shown for question in walk.left_empty)


async def test_a_draft_is_not_called_empty_and_the_export_says_the_document_leaves_it_out(bank):
    """Text typed for the last question and left without Enter is kept as a draft, yet the library and the results
    said "1 text question left empty", and the export said nothing: the document's "not answered" came as a
    surprise to a designer who had written the constraints down."""
    walk = only_text_left(bank)
    drafted, *empty = walk.left_empty
    walk.keep_draft(drafted, "No masks: only biopsy-confirmed lesion centres.")
    said = f"{len(empty)} text questions left empty, 1 draft not yet the answer"
    save_in_library(walk, "knee")
    app = GuideApp(bank)
    async with app.run_test(size=(120, 40)) as pilot:
        assert design_rows(app)[0].startswith(f"Knee  unfinished, {said}  ")
        app.push_screen(ResultsScreen(load_session(bank, designs_dir() / "knee.yaml")))
        await pilot.pause()
        assert static_text(app.screen, "#results-title").endswith(f" · {said}")
        await open_tab(pilot, app, "tab-open")
        shown = static_text(app.screen, "#open")
        assert bank.questions[drafted].prompt not in shown.split("1 draft")[0], "not among those left empty"
        assert "1 draft not yet the answer, so not in the document" in shown
        app.walk = app.screen.walk
        await pilot.press("e")
        await pilot.pause()
        note = " ".join(static_text(app.screen, "#draft-note").split())
        assert note.startswith("1 draft is not in the document, as it is not yet the answer")
        assert bank.questions[drafted].prompt in note


def test_the_priorities_name_the_number_beside_a_confidence_label_as_the_scores(bank):
    """"confidence medium (1.00)" over "confidence high (0.93)" read as a contradiction: the number is how much of
    the element's score is known, the label whether its priority holds."""
    from guide.engine import evaluate
    from guide.tui.results import priorities

    answers = read_answers(bank.cases()["dr-screening"], bank)
    result = evaluate(bank, answers.revised(answers={**answers.answers, "downstream_action": UNSURE}))
    localization = next(line for line in priorities(bank, result, 120).plain.splitlines() if line.startswith("L "))
    assert localization.endswith("confidence medium (score 100% known)")


def test_the_results_lead_with_the_family_that_draws_a_segmenters_contours(bank):
    from guide.engine import evaluate
    from guide.model import AnswersFile
    from guide.tui.results import priorities

    result = evaluate(bank, AnswersFile(answers=CARDIAC_SEGMENTATION))
    shown = " ".join(priorities(bank, result, 200).plain.split())
    assert ("Recommended combination: Segment- or detect-first pipelines, Uncertainty for deferral "
            + result.output_family_note) in shown


def test_the_plan_says_once_why_a_segmenters_map_tests_are_absent(bank):
    from guide.engine import evaluate
    from guide.model import AnswersFile
    from guide.tui.results import plan

    planned = plan(bank, evaluate(bank, AnswersFile(answers=CARDIAC_SEGMENTATION)), 200).plain.splitlines()
    # The measure and the check of one name, apart in the document, are one line here.
    assert sum(line.startswith("• Not planned: faithfulness tests of a map") for line in planned) == 1


def test_the_open_questions_tab_counts_in_words_and_keeps_elements_apart_from_what_the_families_need(bank):
    """"1 open question(s)", and "Affects: Localization, Physical attribution, The output, its explanation or the
    alignment rests on named anatomical points": elements and a need in one list."""
    from guide.engine import evaluate
    from guide.tui.results import open_questions

    answers = read_answers(bank.cases()["dr-screening"], bank)
    one = evaluate(bank, answers)
    assert len(one.open_questions) == 1
    assert open_questions(bank, one, []).plain.startswith("1 open question lowers the confidence of the results\n")
    result = evaluate(bank, answers.revised(answers={**answers.answers, "finding_extent": UNSURE}))
    shown = open_questions(bank, result, []).plain
    assert shown.startswith("2 open questions lower the confidence of the results\n")
    extent = shown.split(bank.questions["finding_extent"].prompt, 1)[1]
    assert "\n  Affects: Localization, Physical attribution\n" in extent
    assert f"\n  Decides whether: {bank.needs['named_points_matter'].label.lower()}\n" in extent


def test_the_answers_tabs_wrapped_lines_stay_under_their_own_text(bank):
    """Wrapped, an answer's lines started at the margin, where they read as a new item; a note's under the note."""
    from guide.engine import evaluate
    from guide.tui.results import answers

    preset = read_answers(bank.cases()["dr-screening"], bank)
    question = next(iter(preset.answers))
    result = evaluate(bank, preset.revised(notes={question: "a note long enough to wrap " * 4}))
    lines = answers(result, 40).plain.splitlines()
    assert len(lines) > len(result.answers) + 3, "something wrapped"
    for line in lines[1:]:
        assert line.startswith(("• ", "  ")), line
    note = next(index for index, line in enumerate(lines) if line.startswith("  note: "))
    assert lines[note + 1].startswith("    ") and lines[note + 1][4] != " "


def test_the_plans_wrapped_lines_stay_under_their_own_text(bank):
    """On a narrow screen an item's wrapped lines are indented under its text, a conflict's under its label;
    none falls back to the margin, where it would read as a new item."""
    from guide.bank import read_answers
    from guide.engine import evaluate
    from guide.tui.results import plan

    answers = read_answers(bank.cases()["dr-screening"], bank)
    result = evaluate(bank, answers.revised(answers={**answers.answers, "region_annotations": "not_feasible"}))
    assert any(step.conflict for step in [*result.acceptance, *result.evaluation]) and result.answer_checks
    lines = plan(bank, result, 50).plain.splitlines()
    starts = ("• ", "Accept when: ", "  ")
    for before, line in zip(lines, lines[1:]):
        if before.startswith(starts) and line:
            assert line.startswith(starts), f"{line!r} after {before!r}"
    assert max(len(line) for line in lines) <= 50


async def test_the_plan_tab_leads_each_element_with_its_acceptance_criteria(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(100, 40)) as pilot:
        await results_of_a_copied_preset(pilot, app)
        app.screen.query_one("#tabs").active = "tab-plan"
        await pilot.pause()
        text = str(app.screen.query_one("#plan").render())
        localization = text.split("Localization (Essential)")[1]
        assert localization.lstrip().startswith("Accept when: Share of held-out cases whose map points")
        assert "Threshold to agree on:" in localization and "Who judges:" in localization


async def test_the_export_dialog_keeps_its_buttons_on_a_60x20_screen(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(60, 20)) as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        for button in ("#cancel", "#go"):
            region = app.screen.query_one(button).region
            assert region.height and region.bottom <= 20, f"{button} is on screen"
        await pilot.click("#go")  # a click raises on a widget off screen
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog)


async def test_the_palette_exports_html_and_json_and_has_one_theme_command(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Theme" not in titles and "Light or dark theme" in titles
        for format, title in (("html", "Export as HTML"), ("json", "Export as JSON")):
            await choose_in_palette(pilot, title)
            assert isinstance(app.screen, ExportDialog)
            assert app.screen.query_one("#path", Input).value.endswith(f".{format}")
            assert app.screen.query_one("#format", RadioSet).pressed_button.id == f"format-{format}"
            await pilot.press("escape")


async def test_the_light_or_dark_choice_is_kept_for_the_next_run(bank):
    async with GuideApp(bank).run_test() as pilot:
        first = pilot.app.theme
        await pilot.press("ctrl+t")
    async with GuideApp(bank).run_test() as pilot:
        assert pilot.app.theme != first and pilot.app.theme in (LIGHT, DARK)


async def test_an_export_goes_to_documents_not_into_the_checkout_then_to_the_last_folder(bank, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "Documents").mkdir()
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        path = app.screen.query_one("#path", Input)
        assert path.value == str(tmp_path / "Documents" / "automated-diabetic-retinopathy-screening-my-copy.md")
        (tmp_path / "reviews").mkdir()
        path.value = str(tmp_path / "reviews" / "design.md")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("e")
        assert app.screen.query_one("#path", Input).value.startswith(str(tmp_path / "reviews") + os.sep)
    assert (tmp_path / "reviews" / "design.md").is_file()


async def test_an_export_asks_before_replacing_a_file(bank, tmp_path):
    existing = tmp_path / "design.md"
    existing.write_text("my own notes\n")
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        app.screen.query_one("#path", Input).value = str(existing)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, Confirm) and "design.md" in static_text(app.screen, ".dialog-title")
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog), "kept open to give another name"
        assert existing.read_text() == "my own notes\n"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert not isinstance(app.screen, (Confirm, ExportDialog))
    assert existing.read_text().startswith("---")


async def test_a_second_enter_in_the_export_dialog_exports_once_and_asks_nothing(bank, tmp_path):
    """Queued behind the first, a second Enter found the file just written: it asked to replace it, and
    agreeing closed the results beneath."""
    target = tmp_path / "design.md"
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        results = app.screen
        await pilot.press("e")
        path = app.screen.query_one("#path", Input)
        path.value = str(target)
        go = app.screen.query_one("#go", Button)
        for _ in range(2):  # both queued before either is handled
            go.post_message(Button.Pressed(go))
        await pilot.pause()
        await pilot.pause()
        assert app.screen is results
    assert target.read_text().startswith("---")


def key_bar(app) -> list[str]:
    return [entry.display for entry in app.screen.query_one(KeyBar).keys]


async def test_a_new_design_is_named_once_and_the_name_is_kept(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n")
        await pilot.pause()
        assert static_text(app.screen, ".dialog-title") == "Name your design"
        await pilot.press(*"Fundus screening")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        assert load_saved(bank).answers.title == "Fundus screening"
        assert "t" in key_bar(app), "renamed later with t, as the key bar says"


async def test_the_key_bars_show_resume_rename_why_panel_and_quit_at_80_columns(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "r" not in key_bar(app), "nothing to resume yet"
        await pilot.press("n", "enter")
        await pilot.pause()
        assert {"t", "p", "^q", "?", "←→", "u", "v", "s"} <= set(key_bar(app))
        assert "h: why we ask this" in static_text(app.screen, "#help-hint"), "h is on the screen where help is hidden"
        await pilot.resize_terminal(100, 40)
        await pilot.pause()
        assert "h" in key_bar(app)
        await pilot.press("n")
        await pilot.pause()
        keys = app.screen.query_one(KeyBar).keys
        assert ("⏎", "Keep the note, back to the answer") in [(entry.display, entry.description) for entry in keys]
        app.pop_screen()
        await pilot.pause()
        assert isinstance(app.screen, StartScreen) and "r" in key_bar(app)


async def test_help_names_every_key_on_every_key_bar(bank):
    """Start screen, a design of one's own, a worked example, the results, the note box: each key shown is in help."""
    spelled = {"^q": "ctrl+q", "^t": "ctrl+t", "⏎": "Enter", "esc": "Esc", "f1": "F1"}
    help_keys = set()
    for keys, what in KEYS_HELP:
        help_keys |= {keys, *keys.replace(",", " ").split()}
        help_keys |= {word.strip(",") for word in what.split() if len(word.strip(",")) == 1}  # "e exports", "b goes"
    shown = set()
    app = GuideApp(bank)
    async with app.run_test(size=(120, 40)) as pilot:
        shown |= set(key_bar(app))
        await pilot.press("n", "enter", "n")
        await pilot.pause()
        shown |= set(key_bar(app))
        await pilot.press("escape", "s")
        await pilot.pause()
        shown |= set(key_bar(app))
        app.open_preset("dr-screening")
        await pilot.pause()
        shown |= set(key_bar(app))
    missing = {key for key in shown if spelled.get(key, key) not in help_keys}
    assert not missing, f"keys on a key bar that help does not explain: {missing}"
    for key in ("l", "c", "b", "Tab"):
        assert key in help_keys


async def test_review_starts_at_the_first_question_and_stops_at_the_ends(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter")
        for _ in range(3):
            await answer_current(pilot, app)
        await pilot.press("v")
        await pilot.pause()
        review = app.screen.query_one("#review-list", OptionList)
        assert review.highlighted == 0
        await pilot.press("up")
        assert review.highlighted == 0, "no wrapping round to the last question"
        await pilot.press("end", "down")
        assert review.highlighted == review.option_count - 1


@pytest.mark.parametrize("size", [(100, 30), (60, 20)])
async def test_an_answer_changed_from_the_review_is_confirmed_with_what_it_did(bank, size):
    question_id, old, new, dropped = first_dropping_change(bank)
    app = GuideApp(bank)
    async with app.run_test(size=size) as pilot:
        await pilot.press("n", "enter")
        await change_answer(pilot, app, question_id, old)
        while not all(other in app.walk.answers.answers for other in dropped):
            await answer_current(pilot, app)
        await pilot.press("v")
        await pilot.pause()
        review = app.screen.query_one("#review-list", OptionList)
        review.highlighted = app.walk.path.index(question_id)
        await pilot.press("enter")
        await pilot.pause()
        choices = [choice.id for choice in bank.questions[question_id].choices]
        app.screen.query_one(ChoiceList).highlighted = choices.index(new)
        await pilot.press("enter", "y")
        await pilot.pause()
        notice = next(item for item in app._notifications if item.title == "Answer changed")
        question = bank.questions[question_id]
        assert f"“{question.prompt}”, is now: {question.choice(new).label}." in notice.message
        if size[1] >= 30:
            for other in dropped:
                assert bank.questions[other].prompt in notice.message, "names the later questions it takes off the path"
        else:  # the prompts would cover a small screen
            count = f"{len(dropped)} question{'s' if len(dropped) != 1 else ''}."
            assert f"Set aside, off the path (they return if you change it back): {count}" in notice.message
            assert notice.message.count("\n") <= 2


async def test_answers_back_on_the_path_are_told_in_one_notice(bank):
    """Changing an answer back said "Back on the path with their answers" in the "Answer changed" notice, and again
    "1 set-aside answer(s) are back on your path." in a second one under it, covering the choices at 80x24."""
    question_id, old, new, dropped = first_dropping_change(bank)
    app = GuideApp(bank)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("n", "enter")
        await change_answer(pilot, app, question_id, old)
        while not all(other in app.walk.answers.answers for other in dropped):
            await answer_current(pilot, app)
        await change_answer(pilot, app, question_id, new)
        await pilot.press("y")
        await pilot.pause()
        app.clear_notifications()
        await change_answer(pilot, app, question_id, old)
        assert all(other in app.walk.answers.answers for other in dropped)
        told = [item for item in app._notifications if "back on" in item.message.lower()]
        assert len(told) == 1 and told[0].title == "Answer changed"


async def test_enter_in_the_note_box_keeps_the_note_of_an_answered_question(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter", "enter", "left", "n", *"checked with Dr A", "enter")
        await pilot.pause()
        assert isinstance(app.screen.focused, ChoiceList)
        assert load_saved(bank).answers.notes == {app.walk.path[0]: "checked with Dr A"}
        assert not app.has_unsaved


async def test_before_any_answer_moves_an_element_the_walk_says_nothing_yet_not_a_level(bank):
    """At the first question no answer has moved anything: "Not needed" there reads as a conclusion."""
    app = GuideApp(bank)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n", *"Knee", "enter")
        await pilot.pause()
        bars = app.screen.query_one(ElementBars)
        assert all("Nothing yet" in line.plain and "Not needed" not in line.plain for line in bars.lines)
        await answer_current(pilot, app)
        moved = [line.plain for line in bars.lines if "Nothing yet" not in line.plain]
        assert moved and all("Nothing yet" not in line for line in moved)


def test_a_score_that_reaches_a_level_draws_longer_than_the_score_below_it(bank):
    """Score 3 (important) and score 2 (optional) drew the same two cells when halves rounded to even: a bar
    must show that a level was reached."""
    from guide.tui.widgets import level_bar

    for level in (level for level in bank.meta.levels if level.min_score):
        assert level_bar(bank, level.min_score).count("█") > level_bar(bank, level.min_score - 1).count("█"), level.id


@pytest.mark.parametrize("case", ["dr-screening", "breast-cancer-detection", "brain-encoding"])
async def test_bars_of_different_scores_look_different_and_the_evidence_names_an_answer_once(bank, case):
    app = GuideApp(bank)
    async with app.run_test(size=(250, 60)) as pilot:  # wide: no evidence line wraps
        app.open_preset(case)
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        result = app.screen.result
        text = static_text(app.screen, "#priorities")
        bars = {element.score: re.search("[█░]+▸?", next(line for line in text.splitlines()
                                                         if line.startswith(f"{element.short} "))).group()
                for element in result.elements}
        assert len(set(bars.values())) == len(bars), f"scores {sorted(bars)} drawn as {bars}"
        top = 2 * next(level.min_score for level in bank.meta.levels if level.min_score is not None)
        assert all(bar.endswith("▸") == (score > top) for score, bar in bars.items()), "past the scale: ▸"
        reasons = text.split("Why each level")[1]
        starts = [reasons.index(f"\n{bank.elements[element.id].name}: {element.level_label} (score")
                  for element in result.elements] + [len(reasons)]
        for number, element in enumerate(result.elements):
            block = reasons[starts[number]:starts[number + 1]]
            for answer in {item.answer_text for item in element.evidence}:
                lines = [re.sub(r"^[+-][\d.]+ ", "", line) for line in block.splitlines()]
                assert lines.count(answer) == 1, f"{answer!r} said once under {element.id}"


async def test_the_start_screen_and_presets_cut_after_a_whole_word_with_an_ellipsis(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(60, 20)) as pilot:
        lines = static_text(app.screen, "#glance").splitlines()[1:]
        for element, line in zip(bank.elements.values(), lines):
            shown = line.split("  ", 1)[1]
            if shown != element.question:
                kept = shown.removesuffix("…")
                assert element.question.startswith(kept) and not element.question[len(kept)].isalnum(), shown
        await pilot.press("p")
        await pilot.pause()
        presets = app.screen.query_one("#preset-list", OptionList)
        for index in range(presets.option_count):
            description = str(presets.get_option_at_index(index).prompt).split("\n  ", 1)[1]
            assert len(description) <= 160 and description.endswith(("…", ".")), description


def test_run_app_uses_the_bank_option(bank_copy, monkeypatch):
    from guide.tui import app as tui_app

    opened = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(tui_app.GuideApp, "run", lambda self: opened.append(self.bank.directory))
    assert tui_app.run_app(argparse.Namespace(bank=bank_copy)) == 0
    assert opened == [bank_copy]


async def test_export_in_another_format(bank, tmp_path):
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        app.screen.query_one("#path", Input).value = str(tmp_path / "design.md")
        await pilot.press("tab", "right", "space")  # from the file name, Tab reaches the format
        await pilot.pause()
        assert app.screen.query_one("#path", Input).value == str(tmp_path / "design.html")
        await pilot.click("#go")
        await pilot.pause()
    assert "<html" in (tmp_path / "design.html").read_text()


@pytest.fixture
def empty_folder(tmp_path, monkeypatch) -> Path:
    """The current folder, empty (GUIDE_HOME is beside it), where a name typed without a folder is written."""
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    return out


@pytest.mark.parametrize("name, format, starts", [
    ("pt3.json", "json", "{"), ("pt3.HTM", "html", "<!DOCTYPE html>"), ("pt3.markdown", "md", "---"),
    ("pt3.txt", "md", "---"), ("pt3", "md", "---"),
])
async def test_the_export_writes_the_format_the_typed_name_says_and_the_radio_shows_it(bank, empty_folder, name,
                                                                                      format, starts):
    """As `guide run --out`: the name's suffix decides; a name that says none gets the radio's format as typed."""
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.query_one("#format", RadioSet).pressed_button.id == "format-md"
        app.screen.query_one("#path", Input).value = ""
        await pilot.press(*name)
        await pilot.pause()
        assert app.screen.query_one("#format", RadioSet).pressed_button.id == f"format-{format}"
        assert app.screen.query_one("#path", Input).value == name, "the name stays as typed"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog)
    assert [path.name for path in empty_folder.iterdir()] == [name]
    assert (empty_folder / name).read_text(encoding="utf-8").startswith(starts)


async def test_a_name_typed_fast_into_the_export_dialog_is_written_as_typed(bank, empty_folder):
    """Typed at once (a paste, a fast typist), `z.html.md` became `z.html.html`: the radio's change for `.html`
    came back after `.md` was typed and gave the name its suffix again, and an HTML file was written."""
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        app.screen.query_one("#path", Input).value = ""
        typed_at_once(app, " ".join("z.html.md") + " enter")
        await typed_keys_handled(pilot, app)
        assert not isinstance(app.screen, ExportDialog), app.screen.query_one("#path", Input).value
    assert [path.name for path in empty_folder.iterdir()] == ["z.html.md"]
    assert (empty_folder / "z.html.md").read_text(encoding="utf-8").startswith("---")


async def test_an_export_named_for_a_format_it_cannot_write_is_refused_in_one_line(bank, empty_folder):
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        for name, refusal, why in [
            ("graph.mmd", "graph.mmd: the name says Mermaid, but the export writes Markdown, HTML or JSON",
             "a name another format of guide's ends in is not written"),
            ("design.pdf", "design.pdf: the export writes Markdown, HTML or JSON: end the name in .md, .html or "
                           ".json, not .pdf", "a name no format of guide's ends in is not written"),
            ("newfolder/", "newfolder/: ends in /: give a file name",
             "a name ending in / is a folder's: no file named newfolder"),
            ("design.md.", "design.md.: the name ends in a dot, which says no format: drop the dot",
             "a typo, written as named, said no format"),
            ("d" * 297 + ".md", f"{'d' * 39}…{'d' * 17}.md: the name is too long (300 bytes; a file name takes at "
                                "most 255): give a shorter one", "the write failed: File name too long"),
        ]:
            app.screen.query_one("#path", Input).value = name
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ExportDialog), why
            assert static_text(app.screen, "#error") == refusal
    assert list(empty_folder.iterdir()) == []


@pytest.mark.parametrize("name", ["", ".", "  "])
async def test_changing_the_format_with_no_file_name_leaves_it_to_the_export_to_ask(bank, name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a name made of the suffix alone would land
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        app.screen.query_one("#path", Input).value = name
        await pilot.press("tab", "right", "space", "shift+tab")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        assert static_text(app.screen, "#error") in ("Give a file name.", ".: is a folder; give a file name")
    assert not list(tmp_path.glob("*.html")), "nothing written where the app runs"


WITHOUT_A_FOLDER = "The browser saves the download in its own folder: give a file name without /."


@pytest.mark.parametrize(("name", "error"), [(".", "Give a file name."), ("..", "Give a file name."),
                                             ("notes/mine.md", WITHOUT_A_FOLDER), ("evil[/].html", WITHOUT_A_FOLDER),
                                             ("notes/..", WITHOUT_A_FOLDER),
                                             ("mine.md.", "mine.md.: the name ends in a dot, which says no format: drop the dot"),
                                             ("m" * 297 + ".md", f"{'m' * 39}…{'m' * 17}.md: the name is too long "
                                                                 "(300 bytes; a file name takes at most 255): give a "
                                                                 "shorter one")])
async def test_a_download_needs_a_file_name_not_a_folders(bank, name, error, delivered):
    """In a browser the name typed is the download's. "..", or "." (whose name is empty), was sent and said to be
    ("Sent .. to your browser."): Chromium saved it as "root", or under a made-up name, without a suffix. The part
    of a name before a "/" was dropped without a word: "notes/mine.md" was sent as "mine.md", "evil[/].html" as
    "].html". The dialog says why, and keeps the name."""
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        app.screen.query_one("#path", Input).value = name
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        assert static_text(app.screen, "#error") == error
        assert app.screen.query_one("#path", Input).value == name
    assert not delivered


@pytest.mark.parametrize("size", [(40, 12), (50, 14), (60, 16)])
async def test_the_export_dialogs_file_name_is_in_view_on_a_short_terminal(bank, size, tmp_path, monkeypatch):
    """Below about 20 rows the buttons covered the file name box, which has the focus: what was typed went into
    a box no one could see. The fields now scroll above the buttons, and the one with the focus is in view, when
    the dialog opens and after the terminal shrinks under it; an error, as it appears."""
    monkeypatch.setenv("GUIDE_HOME", str(tmp_path))

    def in_view(widget=None, line: int = 1) -> bool:
        """The widget's text line is what the screen shows there, not a button or the screen beneath."""
        widget = widget or app.focused
        return app.screen.get_widget_at(widget.region.x + 2, widget.region.y + line)[0] is widget

    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test(size=size) as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        assert app.focused.id == "path" and in_view()
        await pilot.press("escape")
        await pilot.resize_terminal(100, 30)
        await pilot.press("e")
        await pilot.pause()
        await pilot.resize_terminal(*size)
        await pilot.pause()
        assert app.focused.id == "path" and in_view()
        app.focused.value = ""
        await pilot.press("enter")  # an error says why nothing was written, where it can be read
        await pilot.pause()
        assert static_text(app.screen, "#error") == "Give a file name."
        assert in_view(app.screen.query_one("#error"), line=0)


async def test_paths_with_an_unknown_home_are_one_line_in_the_export_and_open_dialogs(bank):
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await pilot.press("o")
        app.screen.query_one("#entry", Input).value = "~nosuchuser/design.md"
        await pilot.press("enter")
        await pilot.pause()
        assert static_text(app.screen, "#error") == "~nosuchuser/design.md: no home folder for this ~ (no such user?)"
        await pilot.press("escape")
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        app.screen.query_one("#path", Input).value = "~nosuchuser/design.md"
        await pilot.press("enter")
        await pilot.pause()
        assert static_text(app.screen, "#error") == "~nosuchuser/design.md: no home folder for this ~ (no such user?)"


async def test_export_writes_through_what_it_does_not_own_and_never_waits_on_it(bank, tmp_path, monkeypatch):
    """The app writes with the same writer as --out: a FIFO stays a FIFO, and one that nothing reads is an
    error instead of a frozen screen; `-` (standard output) is the screen itself."""
    monkeypatch.chdir(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e")
        for target, error in ((str(fifo), f"{fifo}: nothing is reading from this FIFO"),
                              ("-", "- means standard output, which this screen is using: give a file name.")):
            app.screen.query_one("#path", Input).value = target
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ExportDialog)
            assert static_text(app.screen, "#error") == error
    assert fifo.is_fifo()
    assert not (tmp_path / "-").exists(), "nothing written to a file named -"


async def test_a_click_on_text_leaves_the_keys_acting_where_they_did(bank):
    """A browser user clicks the page to type into it, often on text. The click gave the focus to the scroll
    container around the text (the question's, the reasoning panel's, the export dialog's fields, the start
    screen's): Enter then answered nothing, a file name typed in the export dialog went nowhere, and Enter on
    the start screen resumed no design."""
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        first = app.walk.position
        for clicked in ("#prompt", EvidenceView):
            await pilot.click(clicked)
            await pilot.press("3", "enter")
            await pilot.pause()
            assert app.walk.answers.answers.get(first) == bank.questions[first].choices[2].id, clicked
            await pilot.press("left")  # back to the first question, to answer it again after the next click
            await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        path = app.screen.query_one("#path", Input)
        path.value = ""
        path.focus()
        await pilot.click(app.screen.query(".dialog-fields Static").first())
        await pilot.press("k", "n", "e", "e")
        assert path.value == "knee"
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.click("#start-intro")
        await pilot.press("enter")  # the design listed and highlighted
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen), "Enter resumed nothing after a click on the start screen"


async def test_mouse_answers_a_question(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.click("#menu", offset=(4, 0))
        await pilot.pause()
        await pilot.click("#go")  # the title is asked first; left as it is
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        first = app.walk.position
        await pilot.click(ChoiceList, offset=(8, 2))
        await pilot.pause()
        assert app.walk.answers.answers[first] == bank.questions[first].choices[2].id
        await pilot.click("#back-button")
        await pilot.pause()
        assert app.walk.position == first
        # The key bar's keys are clickable too: "u Unsure" answers the question as unsure.
        bar = app.screen.query_one(KeyBar)
        unsure = next(start for start, _, key in bar.spans if key == "u")
        await pilot.hover(KeyBar, offset=(unsure + 1, 0))
        assert bar.hovered == "u"
        await pilot.click(KeyBar, offset=(unsure + 1, 0))
        await pilot.pause()
        assert app.walk.answers.answers[first] == UNSURE


async def test_hostile_bank_text_shows_inert(bank_copy):
    from guide.load import load_bank

    flow = bank_copy / "flow" / "1-use-case.yaml"
    flow.write_text(flow.read_text().replace(
        "prompt: What does the model do?", 'prompt: "[bold red]What[/] does the \\e[31mmodel [link=http://x]do?[/link]"'))
    app = GuideApp(load_bank(bank_copy))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "enter")
        shown = static_text(app.screen, "#prompt")
        assert shown == "[bold red]What[/] does the model [link=http://x]do?[/link]"
        await pilot.press("v")
        assert "[bold red]What[/]" in str(app.screen.query_one("#review-list", OptionList).get_option_at_index(0).prompt)


async def test_open_an_answers_file(bank, tmp_path):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("o")
        app.screen.query_one("#entry", Input).value = str(tmp_path / "missing.yaml")
        await pilot.press("enter")
        await pilot.pause()
        assert "missing.yaml" in static_text(app.screen, "#error"), "the dialog says what is wrong and stays"
        app.screen.query_one("#entry", Input).value = str(bank.cases()["breast-cancer-detection"])
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen), "a complete design opens at its results"
        assert not app.walk.read_only
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.walk.position == app.walk.path[-1]
        preset = read_answers(bank.cases()["breast-cancer-detection"], bank)
        assert load_saved(bank).answers.answers == preset.answers, "an opened file becomes the saved design"


async def test_a_finished_design_looked_over_says_all_answered_not_how_many_more(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("o")
        app.screen.query_one("#entry", Input).value = str(bank.cases()["breast-cancer-detection"])
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        progress = static_text(app.screen, "#progress")
        assert f"of {len(app.walk.path)}, all answered" in progress and "more on this path" not in progress


async def test_an_answers_file_of_another_bank_is_refused_before_it_becomes_a_design(bank, tmp_path):
    """Opened, it would be saved under the other bank and could not be resumed with this one."""
    other = tmp_path / "other.yaml"
    other.write_text("answers:\n  task: unsure\nbank_id: other\n")
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("o")
        app.screen.query_one("#entry", Input).value = str(other)
        await pilot.press("enter")
        await pilot.pause()
        error = static_text(app.screen, "#error")
        assert "other.yaml" in error and ":3:" in error and "bank_id" in error and "'other'" in error
        assert app.walk is None, "no design was started"


async def test_a_title_the_design_cannot_take_is_refused_in_the_rename_dialog(bank):
    """Said in the dialog, in the field's words, and the design keeps its title (a box filled other than by typing
    or pasting can hold more than the limit)."""
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter", "t")
        await pilot.pause()
        app.screen.query_one("#entry", Input).value = "x" * 301
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RenameDialog)
        assert static_text(app.screen, "#error") == "title: at most 300 characters are taken, and this has 301"
        assert app.walk.answers.title == load_saved(bank).answers.title == "Untitled design"


async def test_rename_the_design_from_the_questions(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter", "t")
        entry = app.screen.query_one("#entry", Input)
        assert entry.value == "Untitled design", "the dialog starts from the current title"
        await pilot.press("ctrl+u")
        entry.post_message(events.Paste("x" * 301))
        await pilot.pause()
        assert entry.value == "x" * 300, "a title is kept to the limit"
        entry.value = "Fundus screening, site B"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        assert app.walk.answers.title == "Fundus screening, site B"
        assert load_saved(bank).answers.title == "Fundus screening, site B", "the new title is saved at once"
        await pilot.press("s", "t")
        app.screen.query_one("#entry", Input).value = "Fundus screening, site C"
        await pilot.press("enter")
        await pilot.pause()
        assert "site C" in static_text(app.screen, "#results-title"), "the results show the new title at once"
        await pilot.press("e")
        await pilot.pause()
        title = app.screen.query_one("#title", Input)
        title.focus()
        await pilot.press("ctrl+u")
        title.post_message(events.Paste("z" * 400))
        await pilot.pause()
        assert title.value == "z" * 300, "the export dialog's title box keeps to the limit too, and says so"
        assert static_text(app.screen, "#error") == "At most 300 characters: what went past that was left out."
        await pilot.press("escape", "b")
        await pilot.pause()
        app.open_preset("dr-screening")
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen), "a worked example keeps its title"


async def test_a_failed_save_is_said_once_and_quitting_asks(bank):
    """A toast on every answer piled up over the quit dialog's buttons at 80x24: once is enough, and quitting asks."""
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        app.design_file.unlink()
        app.design_file.mkdir()  # the design's file can no longer be replaced
        for _ in range(3):
            await answer_current(pilot, app)
        assert app.save_failed
        assert [str(note.message) for note in app._notifications if note.title == "Not saved"] == [
            f"{app.design_file}: cannot save the session: Is a directory"]
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.click("#yes")
    assert app.return_code == 0


async def test_a_state_folder_that_cannot_hold_designs_is_said_before_a_design_starts(bank, tmp_path, monkeypatch):
    """It used to start the design and toast "Not saved" on every answer; now it says why at once, before a
    title is typed for nothing."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("GUIDE_HOME", str(blocker))
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen) and app.walk is None
        assert [str(note.message) for note in app._notifications] == [
            f"{blocker / 'designs'}: cannot make the designs folder: Not a directory"]


@pytest.mark.parametrize("reached", ["as it is", "through a link", "through .."])
async def test_an_export_never_replaces_a_saved_design(bank, tmp_path, reached):
    """Exporting over the open design's own file was one "Replace?" away from losing its drafts, position and
    set-aside answers (and listing it as broken): the dialog says where not to write, keeping what was typed."""
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        own = app.design_file
        before = own.read_bytes()
        # Its own name (.yaml) is refused by the name already; a document's name there is refused as well.
        name = own.with_suffix(".md").name
        if reached == "through a link":
            (tmp_path / "link").symlink_to(designs_dir())
            typed = str(tmp_path / "link" / name)
        else:
            typed = str(designs_dir() / ".." / "designs" / name) if reached == "through .." else str(own.parent / name)
        await pilot.press("e")
        app.screen.query_one("#path", Input).value = typed
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog), "no question to replace it: the answer is no"
        assert static_text(app.screen, "#error") == (f"{typed}: is in {designs_dir()}, the folder that holds guide's "
                                                     "saved designs; write the document elsewhere")
        assert app.screen.query_one("#path", Input).value == typed
    assert own.read_bytes() == before
    assert sorted(designs_dir().iterdir()) == [own]


async def test_the_reasoning_follows_the_last_answer(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter", "1", "enter")
        await pilot.pause()
        panel = app.screen.query_one(ReasoningPanel)
        moved = [element.id for element in panel.elements if element.score]
        assert panel.selected_element() in moved, "the panel shows the element the answer moved"
        evidence = app.screen.query_one(EvidenceView).text
        assert "raised by:" in evidence and "new +" in evidence
        bars = app.screen.query_one(ElementBars)
        assert "▲" in bars.lines[bars.highlighted].plain, "the bar of the element it moved shows by how much"
        await pilot.press("left")
        await pilot.pause()
        assert "new +" not in app.screen.query_one(EvidenceView).text, "moving around changes nothing"


async def type_and_leave_the_first_text_question(pilot, app, key: str):
    """Start a design, type a paragraph on its first text question, leave the box with Esc and press `key`."""
    await start_and_reach(pilot, app, "text")
    question = app.walk.question
    await pilot.press(*"Fundus photographs", "escape", key)
    await pilot.pause()
    return question


async def test_out_of_a_text_box_the_key_bar_does_not_offer_unsure(bank):
    """Unsure does nothing on a text question (it is answered in words or left empty), so neither the key bar
    nor the help offers u there; on a choice question it does."""
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await type_and_leave_the_first_text_question(pilot, app, "escape")
        assert app.walk.question.kind == "text"
        assert "u" not in key_bar(app)
        await pilot.press("right", "enter")
        await pilot.pause()
        assert app.walk.question.kind != "text" and "u" in key_bar(app)


async def test_going_on_from_an_edited_text_answer_keeps_it(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        question = await type_and_leave_the_first_text_question(pilot, app, "right")
        assert app.walk.answers.answers[question.id] == "Fundus photographs"
        assert app.walk.position != question.id


async def test_text_left_with_back_is_kept_as_a_draft_shown_again_and_answered_with_enter(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        question = await type_and_leave_the_first_text_question(pilot, app, "left")
        assert "kept as a draft, not as the answer" in list(app._notifications)[-1].message
        saved = load_saved(bank)
        assert question.id not in saved.answers.answers, "a draft is never an answer"
        assert saved.drafts == {question.id: "Fundus photographs"}, "kept with the session, to survive a crash"
        await pilot.press("right")
        await pilot.pause()
        assert app.walk.position == question.id
        assert app.screen.query_one(ParagraphInput).text == "Fundus photographs"
        assert "Your draft, not yet the answer" in static_text(app.screen, "#about")
        await pilot.press(*" in clinics")  # typing goes on where the draft ends, not in front of it
        assert app.screen.query_one(ParagraphInput).text == "Fundus photographs in clinics"
        await pilot.press("enter")
        await pilot.pause()
        saved = load_saved(bank)
        assert saved.answers.answers[question.id] == "Fundus photographs in clinics" and saved.drafts == {}


async def test_a_closed_browser_tab_keeps_the_text_and_note_typed_but_not_confirmed(bank):
    """Closing the tab makes textual-serve ask the app to quit (ExitApp, through the web driver): the paragraph
    typed and the note were lost, where a closed terminal keeps them. Both are kept now, for an instructor to
    recover from the tab's file; the draft is never an answer."""
    from textual import messages

    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await start_and_reach(pilot, app, "text")
        question = app.walk.question
        await pilot.press(*"Fundus photographs")
        app.screen.query_one("#note", Input).value = "from the grading centre"
        app.post_message(messages.ExitApp())
        await pilot.pause()
    saved = load_saved(bank)
    assert question.id not in saved.answers.answers
    assert saved.drafts == {question.id: "Fundus photographs"}
    assert saved.answers.notes[question.id] == "from the grading centre"


async def test_a_paste_too_long_for_the_design_is_kept_beside_it_and_said_when_it_opens(bank):
    """25,000 pasted characters (with what Textual would read as markup) on a text question, then Esc and ←: the
    app ended with a traceback and the paste was lost. The design cannot hold it (20,000 at most): it goes to a
    file beside the design, named in a notice now and each time the design opens; the design stays readable."""
    pasted = "[b]x[/b] [type=string_too_long] " * 800
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await start_and_reach(pilot, app, "text")
        question, design = app.walk.question, app.design_file
        app.screen.query_one(ParagraphInput).load_text(pasted)
        await pilot.press("enter")
        await pilot.pause()
        assert question.id not in app.walk.answers.answers and app.walk.position == question.id
        assert [note.title for note in app._notifications] == ["Not saved"], "the first Enter says so"
        await pilot.press("escape", "left")
        await pilot.pause()
        recovered = design.with_name(design.name + ".recovered.txt")
        assert pasted.strip() in recovered.read_text(encoding="utf-8") and question.prompt in recovered.read_text()
        said = [note for note in app._notifications if note.title == "Not kept in the design"]
        assert said and str(recovered) in said[0].message and "over the 20,000 a draft may have" in said[0].message
        assert all(not note.markup for note in app._notifications)
        assert load_session(bank, design).drafts == {}, "the design is saved as it was, still readable"
        app.action_start_screen()
        await pilot.pause()
        assert not design.with_name(design.name + ".lock").exists()
        await pilot.press("r")
        await pilot.pause()
        assert any(note.title == "Kept beside the design" and str(recovered) in note.message
                   for note in app._notifications)


async def test_in_a_browser_text_the_design_cannot_hold_is_also_offered_as_a_download(bank, monkeypatch):
    """Under `guide serve` the recovery file lies on the class's server, out of the student's reach."""
    delivered = []
    monkeypatch.setattr(GuideApp, "is_web", property(lambda app: True))
    monkeypatch.setattr(GuideApp, "deliver_text", lambda app, stream, **how: delivered.append((stream.read(), how)))
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await start_and_reach(pilot, app, "text")
        app.screen.query_one(ParagraphInput).load_text("too long " * 2500)
        await pilot.press("escape", "left")
        await pilot.pause()
        [(text, how)] = delivered
        assert ("too long " * 2500).strip() in text and how["save_filename"].endswith(".recovered.txt")
        [said] = [note for note in app._notifications if note.title == "Not kept in the design"]
        assert f"offered to you as the download {how['save_filename']}" in said.message


async def test_the_same_notice_is_not_stacked_when_a_key_is_pressed_again(bank):
    """Enter on a several-choice question with nothing ticked, five times: one notice, not five over the panel."""
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter")
        while not app.screen.query_one(ChoiceList).multiple:
            await pilot.press("enter")
            await pilot.pause()
        for _ in range(5):
            await pilot.press("enter")
            await pilot.pause()
        assert [note.message for note in app._notifications].count(ChoiceList.NOTHING_TICKED) == 1


async def test_a_resume_comes_back_to_the_question_the_user_went_back_to(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter", "enter", "enter", "left")  # two answers, then back to the second
        await pilot.pause()
        assert load_saved(bank).position == app.walk.position == app.walk.path[1]
        await pilot.press("right")
        await pilot.pause()
        assert load_saved(bank).position == app.walk.path[2]


async def test_a_note_left_on_an_open_question_is_kept(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter", "enter", "n", *"ask the lead", "escape", "left")
        await pilot.pause()
        second = app.walk.path[1]
        assert app.walk.position == app.walk.path[0]
        await pilot.press("right")
        await pilot.pause()
        assert app.screen.query_one("#note", Input).value == "ask the lead"
        assert load_saved(bank).answers.notes == {second: "ask the lead"}
        await pilot.press("n", *" first")  # the note goes on where it ends
        assert app.screen.query_one("#note", Input).value == "ask the lead first"
        await pilot.press("escape", "n", *" today")  # also after leaving it, which shows the note from its start
        assert app.screen.query_one("#note", Input).value == "ask the lead first today"


async def test_confirm_answers_to_y_and_n(bank):
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await start_and_reach(pilot, app, "multiple")
        await pilot.press("space", "ctrl+q")  # a tick not answered: quitting asks
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen), "n stays"
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
    assert app.return_code == 0


async def test_arrow_keys_on_the_bars_pick_an_element_and_its_reasons_wrap_under_their_indent(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "enter", "1", "enter")
        await pilot.pause()
        panel = app.screen.query_one(ReasoningPanel)
        bars = app.screen.query_one(ElementBars)
        shown = panel.selected_element()
        bars.focus()
        await pilot.press("up" if bars.highlighted else "down")
        await pilot.pause()
        picked = panel.selected_element()
        assert picked != shown
        assert bank.elements[picked].name in app.screen.query_one(EvidenceView).text
        await pilot.press("down" if bars.highlighted < len(bank.elements) - 1 else "up")
        await pilot.pause()
        assert panel.selected_element() != picked, "arrows keep moving"
        # On an element with evidence, a reason that wraps continues under its own first word.
        target = next(index for index, element in enumerate(panel.elements) if element.evidence)
        while bars.highlighted != target:
            await pilot.press("down" if bars.highlighted < target else "up")
        await pilot.pause()
        view = app.screen.query_one(EvidenceView)
        width = view.scrollable_content_region.width
        reason, indent = next((paragraph.plain, indent) for paragraph, indent in view.paragraphs
                              if indent and indent + len(paragraph.plain) > width)
        lines = view.text.splitlines()
        start = next(number for number, line in enumerate(lines) if line.startswith(" " * indent + reason[:10]))
        assert lines[start + 1].startswith(" " * indent) and lines[start + 1].strip(), "the wrapped line is indented"


async def test_the_evidence_can_be_selected_with_the_mouse_to_copy(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "enter", "1", "enter")
        await pilot.pause()
        view = app.screen.query_one(EvidenceView)
        lines = view.text.splitlines()
        await pilot.mouse_down("#evidence", offset=(0, 3))
        await pilot.hover("#evidence", offset=(12, 4))
        await pilot.mouse_up("#evidence", offset=(12, 4))
        await pilot.pause()
        assert app.screen.get_selected_text() == lines[3] + "\n" + lines[4][:13]


async def test_a_click_on_an_element_shows_its_evidence_and_enter_its_lesson(bank):
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "enter", "1", "enter")
        await pilot.pause()
        elements = list(bank.elements)
        await pilot.click("#bars", offset=(2, 0))
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        assert app.screen.query_one(ReasoningPanel).selected_element() == elements[0]
        assert bank.elements[elements[0]].name in app.screen.query_one(EvidenceView).text
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LearnScreen)
        assert bank.elements[elements[0]].name in static_text(app.screen, "#learn-text")


async def test_moving_between_elements_repaints_only_the_two_bars_it_changes(bank):
    """The bars are drawn a line at a time and kept: ↓ sends the terminal the bar it leaves and the bar it
    reaches, not all five again (the evidence below changes with it)."""
    app = GuideApp(bank)
    sent_rows: list[int] = []
    display = app._display

    def noted_display(screen, update) -> None:
        display(screen, update)
        sent_rows.extend(y for y, _, _ in getattr(update, "spans", []))

    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "enter", "1", "enter")
        await pilot.click("#bars", offset=(2, 0))
        await pilot.pause()
        bars = app.screen.query_one(ElementBars)
        top = bars.region.y
        app._display = noted_display
        await pilot.press("down")
        await pilot.pause()
        assert bars.highlighted == 1
        assert {row - top for row in sent_rows if top <= row < top + len(bars.lines)} == {0, 1}


async def test_the_evidence_asks_for_the_mouse_selection_once_a_frame_not_once_a_row(bank, monkeypatch):
    """Every answer draws some 30 rows of evidence; what each row needs from the screen (its width, the mouse's
    selection) is looked up once for the frame."""
    app = GuideApp(bank)
    asked = []
    selection = Widget.text_selection
    monkeypatch.setattr(EvidenceView, "text_selection", property(lambda view: asked.append(1) or selection.fget(view)))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "enter", "1", "enter")
        await pilot.pause()
        view = app.screen.query_one(EvidenceView)
        asked.clear()
        view.refresh()
        await pilot.pause()
        assert view.size.height > 10 and 0 < len(asked) <= 2
        await pilot.mouse_down("#evidence", offset=(0, 3))  # a selection still shows and copies, row by row
        await pilot.hover("#evidence", offset=(12, 4))
        await pilot.mouse_up("#evidence", offset=(12, 4))
        assert app.screen.get_selected_text()


# Starts the app as `guide` does (run_app), and notes what was imported and on screen when the bank began to load.
STARTED_FROM_THE_CACHE = """
import asyncio, sys
from guide.load import PendingBank, pending_bank
from guide.tui.app import GuideApp

load, seen = PendingBank.load, []

def noted_load(self):
    seen.append((sorted({"pydantic", "guide.model"} & sys.modules.keys()), app.screen.query_one("#menu").option_count))
    return load(self)

PendingBank.load = noted_load
app = GuideApp(pending_bank())

async def start():
    async with app.run_test() as pilot:
        await pilot.press("n")
        print(seen, type(app.screen).__name__)

asyncio.run(start())
"""


def test_the_start_screen_is_painted_before_the_bank_models_are_imported(guide_home):
    """Importing pydantic and the bank's models takes longer than Textual takes to paint: with the bank in the
    cache and no designs to list, the start screen is on screen before either is imported, and the bank
    loaded right after, in time for the first key."""
    assert run_guide("run", "--case", "dr-screening").returncode == 0  # the bank is now in the cache
    started = subprocess.run([sys.executable, "-c", STARTED_FROM_THE_CACHE], capture_output=True, text=True,
                             cwd=ROOT, timeout=120)
    assert started.stdout.split("\n")[-2] == "[([], 5)] AskDialog", started.stderr


async def test_a_bank_found_broken_after_the_start_screen_is_painted_ends_the_app_with_status_2(bank, bank_copy):
    """The bank the start screen was painted from is loaded after it; broken by then, the app ends with exit
    status 2 and the problem naming the file (which `guide` prints as its one line)."""
    (bank_copy / "elements.yaml").write_text("elements: [\n")
    app = GuideApp(PendingBank(bank_copy, at_a_glance(bank)))
    async with app.run_test() as pilot:
        await pilot.press("n")
    assert app.return_code == 2 and app.bank is None
    assert str(app.bank_problem).startswith(f"{bank_copy / 'elements.yaml'}:2: YAML:")


_TMUX_SERVERS = itertools.count()
_tmux_server = f"guide-tests-{os.getpid()}"


def tmux(*args: str) -> str:
    # A server of each app's own: another run's kill-server must not end this run's app, and the last test's
    # kill-server, still ending its server, must not refuse this test's new session.
    global _tmux_server
    if args[0] == "new-session":
        _tmux_server = f"guide-tests-{os.getpid()}-{next(_TMUX_SERVERS)}"
    return subprocess.run(["tmux", "-L", _tmux_server, *args], capture_output=True, text=True, check=True).stdout


def wait_for(condition, what: str) -> None:
    for _ in range(300):
        if condition():
            return
        time.sleep(0.1)
    try:  # what the screen showed instead, so that a failure under load can be read
        seen = tmux("capture-pane", "-p", "-t", "app")
    except subprocess.CalledProcessError:
        seen = "(no app session)"
    raise AssertionError(f"never {what}; the screen showed:\n{seen}")


@needs_programs("tmux", install="apt-get install -y tmux")
def test_a_state_folder_others_could_change_is_said_on_the_start_screen_with_a_cached_bank(tmp_path, monkeypatch):
    """The start screen painted before the bank loads still tells why there is no library, as it always did."""
    state = shared_state_home(tmp_path, "writable by anyone above")
    monkeypatch.delenv("GUIDE_HOME", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert run_guide("run", "--case", "dr-screening").returncode == 0  # the bank is now in the cache
    tmux("new-session", "-d", "-s", "app", "-x", "100", "-y", "30", "-e", f"XDG_STATE_HOME={state}", "-e",
         f"XDG_CACHE_HOME={tmp_path / 'cache'}", "-e", "GUIDE_HOME=", f"{shlex.quote(sys.executable)} -m guide")
    try:
        wait_for(lambda: "Help: keys and the framework" in tmux("capture-pane", "-p", "-t", "app"), "showed the start screen")
        screen = " ".join(tmux("capture-pane", "-p", "-t", "app").split())
        assert f"The saved designs cannot be listed: {state}: other users can write in it" in screen
    finally:
        tmux("kill-server")


@needs_programs("tmux", "timeout", install="apt-get install -y tmux coreutils")
@pytest.mark.parametrize("start", ["timeout 120 {guide}", "set -m; {guide} & wait $!"])
def test_an_app_started_in_the_background_says_so_and_ends(start, guide_home):
    """Out of the terminal's foreground (timeout runs a command in a process group of its own), the app would be
    stopped by the kernel as it set the terminal up, and never end: it says what to do instead, exit status 2."""
    command = start.format(guide=f"{shlex.quote(sys.executable)} -m guide")
    tmux("new-session", "-d", "-s", "app", "-x", "150", "-y", "30", "-e", f"GUIDE_HOME={guide_home}",
         f"{command}; echo exit status $?; sleep 60")
    try:
        wait_for(lambda: "exit status" in tmux("capture-pane", "-p", "-J", "-t", "app"), "exited")
        screen = tmux("capture-pane", "-p", "-J", "-t", "app")
        assert "guide: the terminal: guide runs in its background (started with & or by a program such as timeout), " \
               "where it would be stopped: run guide in the foreground, or use guide --plain\n" in screen
        assert "exit status 2" in screen
    finally:
        tmux("kill-server")


@needs_programs("tmux", install="apt-get install -y tmux")
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_a_killed_app_gives_the_terminal_back(signal_name, guide_home):
    """Killed, or its terminal hung up, the app leaves the alternate screen and stops mouse reporting."""
    terminal_state = "#{alternate_on} #{mouse_any_flag} #{mouse_button_flag} #{mouse_sgr_flag}"
    tmux("new-session", "-d", "-s", "app", "-x", "100", "-y", "30", "-e", f"GUIDE_HOME={guide_home}",
         f"{shlex.quote(sys.executable)} -m guide; echo exit status $?; sleep 60")
    try:
        wait_for(lambda: "Start a new design" in tmux("capture-pane", "-p", "-t", "app"), "showed the start screen")
        assert tmux("display", "-p", "-t", "app", terminal_state).split()[:2] == ["1", "1"]
        shell = tmux("display", "-p", "-t", "app", "#{pane_pid}").strip()
        app = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()
        os.kill(int(app[0]), getattr(signal, signal_name))
        wait_for(lambda: "exit status" in tmux("capture-pane", "-p", "-t", "app"), "exited")
        assert tmux("display", "-p", "-t", "app", terminal_state).split() == ["0", "0", "0", "0"]
        assert f"exit status {128 + getattr(signal, signal_name)}" in tmux("capture-pane", "-p", "-t", "app")
    finally:
        tmux("kill-server")


def test_a_killed_app_ends_even_when_its_terminal_stopped_reading(guide_home):
    """A stalled connection stops reading the terminal: the screen's writes queue up behind it until the app
    waits on them, where a signal handled by its loop is never acted on. SIGTERM still ends it."""
    import fcntl
    import pty
    import struct
    import termios

    def set_size(fd: int, rows: int, columns: int) -> None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    master, terminal = pty.openpty()
    set_size(terminal, 30, 100)
    app = subprocess.Popen([sys.executable, "-m", "guide"], stdin=terminal, stdout=terminal, stderr=terminal,
                           env={**os.environ, "GUIDE_HOME": str(guide_home), "TERM": "xterm-256color"},
                           start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(terminal)
    try:
        os.read(master, 100)  # the app has begun to draw; from here nothing reads what it writes
        for step in range(200):  # the window resized again and again: a screen drawn at each size
            set_size(master, 20 + step % 20, 60 + step % 60)
            time.sleep(0.02)
        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=120) == 128 + signal.SIGTERM
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        os.close(master)


@needs_programs("tmux", install="apt-get install -y tmux")
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_a_killed_app_keeps_the_text_and_note_typed_but_not_confirmed(bank, signal_name, guide_home):
    """The terminal closed while typing: the paragraph is kept as a draft (never an answer) and the note as a note."""
    walk = Walk(bank)
    while walk.question.kind != "text":
        walk.answer(walk.position, [UNSURE] if walk.question.kind == "multiple" else UNSURE)
    question = walk.question
    designs_dir().mkdir(parents=True)
    save_session(walk, designs_dir() / "typed.yaml")
    tmux("new-session", "-d", "-s", "app", "-x", "100", "-y", "30", "-e", f"GUIDE_HOME={guide_home}",
         f"{shlex.quote(sys.executable)} -m guide; echo exit status $?; sleep 60")
    try:
        wait_for(lambda: "Resume" in tmux("capture-pane", "-p", "-t", "app"), "showed the start screen")
        tmux("send-keys", "-t", "app", "r")
        wait_for(lambda: question.prompt[:40] in " ".join(tmux("capture-pane", "-p", "-t", "app").split()),
                 "showed the text question")
        tmux("send-keys", "-t", "app", "-l", "Fundus photographs")
        tmux("send-keys", "-t", "app", "Escape")  # alone: Esc and n sent together would read as alt+n
        wait_for(lambda: "Review" in tmux("capture-pane", "-p", "-t", "app"), "left the text box")
        tmux("send-keys", "-t", "app", "n")
        # As a person would, type once the note box has the cursor (its keys show in the bar).
        wait_for(lambda: "Keep the note" in tmux("capture-pane", "-p", "-t", "app"), "moved to the note")
        tmux("send-keys", "-t", "app", "-l", "ask the lead")
        wait_for(lambda: "ask the lead" in tmux("capture-pane", "-p", "-t", "app"), "showed the note")
        shell = tmux("display", "-p", "-t", "app", "#{pane_pid}").strip()
        app = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()
        os.kill(int(app[0]), getattr(signal, signal_name))
        wait_for(lambda: "exit status" in tmux("capture-pane", "-p", "-t", "app"), "exited")
    finally:
        tmux("kill-server")
    saved = load_session(bank, designs_dir() / "typed.yaml")
    assert saved.drafts == {question.id: "Fundus photographs"}
    assert question.id not in saved.answers.answers
    assert saved.answers.notes == {question.id: "ask the lead"}


@needs_programs("tmux", install="apt-get install -y tmux")
def test_a_killed_app_keeps_a_paste_too_long_for_the_design_beside_it(bank, guide_home, tmp_path):
    """SIGTERM with 25,000 pasted characters in the box, more than a design holds: they were dropped without a
    word; they are kept in the file beside the design that opening it names, and the design stays readable."""
    walk = Walk(bank)
    while walk.question.kind != "text":
        walk.answer(walk.position, [UNSURE] if walk.question.kind == "multiple" else UNSURE)
    designs_dir().mkdir(parents=True)
    design = save_session(walk, designs_dir() / "typed.yaml")
    pasted = tmp_path / "pasted.txt"
    pasted.write_text("b" * 25000)
    tmux("new-session", "-d", "-s", "app", "-x", "100", "-y", "30", "-e", f"GUIDE_HOME={guide_home}",
         f"{shlex.quote(sys.executable)} -m guide; echo exit status $?; sleep 60")
    try:
        wait_for(lambda: "Resume" in tmux("capture-pane", "-p", "-t", "app"), "showed the start screen")
        tmux("send-keys", "-t", "app", "r")
        wait_for(lambda: walk.question.prompt[:40] in " ".join(tmux("capture-pane", "-p", "-t", "app").split()),
                 "showed the text question")
        tmux("load-buffer", str(pasted))
        tmux("paste-buffer", "-p", "-t", "app")
        wait_for(lambda: "bbbbbbbbbb" in tmux("capture-pane", "-p", "-t", "app"), "showed the paste")
        shell = tmux("display", "-p", "-t", "app", "#{pane_pid}").strip()
        app = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()
        os.kill(int(app[0]), signal.SIGTERM)
        wait_for(lambda: "exit status" in tmux("capture-pane", "-p", "-t", "app"), "exited")
    finally:
        tmux("kill-server")
    assert "b" * 25000 in design.with_name("typed.yaml.recovered.txt").read_text()
    assert load_session(bank, design).drafts == {}


@needs_programs("tmux", install="apt-get install -y tmux")
def test_a_paste_holding_an_escape_is_text_for_the_box_it_is_pasted_into(bank, guide_home, tmp_path):
    """Textual's reader, meeting an escape inside a terminal's bracketed paste, typed the rest of the paste as
    keys: pasted into a note, `red` and a line break left the box, `s` opened the results and `e` the export
    dialog, and the paste's start landed last, in the export's file name. Its control characters are taken out
    (as xterm does, and as the classroom server does for a browser): the note gets the text, nothing else acts."""
    walk = Walk(bank)
    designs_dir().mkdir(parents=True)
    design = save_session(walk, designs_dir() / "pasted.yaml")
    pasted = tmp_path / "pasted.txt"
    pasted.write_text("note one \x1b[31mred\nsecond line")
    tmux("new-session", "-d", "-s", "app", "-x", "100", "-y", "30", "-e", f"GUIDE_HOME={guide_home}",
         f"{shlex.quote(sys.executable)} -m guide; echo exit status $?; sleep 60")
    try:
        wait_for(lambda: "Resume" in tmux("capture-pane", "-p", "-t", "app"), "showed the start screen")
        tmux("send-keys", "-t", "app", "r")
        wait_for(lambda: walk.question.prompt in tmux("capture-pane", "-p", "-t", "app"), "showed the first question")
        tmux("send-keys", "-t", "app", "n")
        wait_for(lambda: "Keep the note" in tmux("capture-pane", "-p", "-t", "app"), "moved to the note")
        tmux("load-buffer", str(pasted))
        tmux("paste-buffer", "-p", "-t", "app")
        wait_for(lambda: "note one [31mred" in tmux("capture-pane", "-p", "-t", "app"), "showed the paste in the note")
        tmux("send-keys", "-t", "app", "Enter")
        wait_for(lambda: "Keep the note" not in tmux("capture-pane", "-p", "-t", "app"), "kept the note")
        screen = tmux("capture-pane", "-p", "-t", "app")
        assert walk.question.prompt in screen and "Export the design document" not in screen
    finally:
        tmux("kill-server")
    assert load_session(bank, design).answers.notes[walk.question.id].startswith("note one [31mred")


def rows_sent(app) -> list[int]:
    """The screen rows of every frame the app sends its terminal from now on."""
    sent: list[int] = []
    display = app._display

    def noted_display(screen, update) -> None:
        display(screen, update)
        sent.extend(y for y, _, _ in getattr(update, "spans", []))

    app._display = noted_display
    return sent


async def test_a_tick_draws_only_the_choice_it_ticks(bank, monkeypatch):
    """Ticking sets the list's options again, which makes Textual's option list draw every row again: the
    choices keep each row they drew, so only the ticked row is drawn anew, and it shows its tick."""
    app = GuideApp(bank)
    drawn: list[str] = []
    draw = ChoiceList._draw_option
    monkeypatch.setattr(ChoiceList, "_draw_option", lambda choices, option, *args: drawn.append(option.id)
                        or draw(choices, option, *args))
    async with app.run_test() as pilot:
        await start_and_reach(pilot, app, "multiple")
        await pilot.pause()
        choices = app.screen.query_one(ChoiceList)
        assert choices.option_count > 3
        await pilot.press("3")
        await pilot.pause()
        drawn.clear()
        await pilot.press("space")
        await pilot.pause()
        assert drawn == [app.walk.question.choices[2].id]
        assert "[x]" in choices.render_line(2).text and "[x]" not in choices.render_line(1).text
        await pilot.press("2")
        await pilot.pause()
        drawn.clear()
        await pilot.press("3")  # back to rows as they were drawn before: kept
        await pilot.pause()
        assert drawn == [] and choices.highlighted == 2


async def evidence_after_the_first_answer(pilot, app) -> EvidenceView:
    await pilot.press("n", "enter", "1", "enter")
    await pilot.pause()
    return app.screen.query_one(EvidenceView)


async def test_the_evidence_sends_only_the_rows_that_changed(bank):
    """When the evidence changes, its rows that stay the same are not drawn and sent to the terminal again."""
    app = GuideApp(bank)
    async with app.run_test(size=(100, 30)) as pilot:
        view = await evidence_after_the_first_answer(pilot, app)
        paragraphs = list(view.paragraphs)
        assert len(view.lines) > 4
        title_rows = view.text.splitlines().index("")  # the element's name and score, then a blank line
        sent = rows_sent(app)
        title, indent = paragraphs[0]
        view.show([(Content(title.plain.replace("score", "Score")), indent), *paragraphs[1:]])  # its score moved
        await pilot.pause()
        assert [row - view.region.y for row in sent if view.region.y <= row < view.region.bottom] == \
            list(range(title_rows))
        assert "Score" in view.text


async def test_an_answer_lays_the_screen_out_once(bank, monkeypatch):
    """After the layout and frame of an answer, Textual used to lay the screen out once or twice more, changing
    no cell: for each text whose size changed, and for the choices, whose scrollbar it worked out from the last
    question's height; the choices then drew all their rows again. (A scrollbar that appears still costs Textual
    a second layout of its own.)"""
    app = GuideApp(bank)
    layouts = []
    reflow = Compositor.reflow
    monkeypatch.setattr(Compositor, "reflow", lambda compositor, *args: layouts.append(1) or reflow(compositor, *args))
    drawn: list[str] = []  # the choices drawn before the answer's frame (those drawn ahead after it are not)
    painted: list[bool] = []
    draw = ChoiceList._draw_option

    def noted_draw(choices, option, *args):
        if not painted:
            print("draw", option.id, app.walk.question.id, choices.question.id, [o.id for o in choices.options][:3])
            drawn.append(option.id)
        return draw(choices, option, *args)

    monkeypatch.setattr(ChoiceList, "_draw_option", noted_draw)
    async with app.run_test(size=(120, 40)) as pilot:
        display = app._display
        app._display = lambda screen, update: painted.append(True) or display(screen, update)
        await start_and_reach(pilot, app, "single")
        checked = 0
        while checked < 5:
            question = app.walk.question
            scrolled = app.screen.query_one(ChoiceList).show_vertical_scrollbar
            if question.kind == "multiple":
                await pilot.press("space")
                await pilot.pause()
            layouts.clear()
            drawn.clear()
            painted.clear()
            await pilot.press("enter")
            await pilot.pause()
            after = app.walk.question
            assert isinstance(app.screen, QuestionScreen) and after.kind != "text" and after.id != question.id
            if app.screen.query_one(ChoiceList).show_vertical_scrollbar != scrolled:
                continue
            checked += 1
            assert len(layouts) == 1, f"{question.id} to {after.id}"
            print(question.id, after.id, drawn, [c.id for c in after.choices])
            assert len(drawn) == len(set(drawn)) and set(drawn) <= {choice.id for choice in after.choices}, \
                "each choice drawn once at most (a row drawn before, say Unsure in the same place, is kept)"


async def test_the_evidence_scrolls_and_a_shorter_one_shows_from_its_start(bank):
    """Evidence longer than the panel scrolls (Tab to it, then End); when the next evidence is shorter than
    where it was scrolled to, the view goes back to show it, and its rows are drawn."""
    app = GuideApp(bank)
    clock = FrameClock(app)
    async with app.run_test(size=(100, 24)) as pilot:
        view = await evidence_after_the_first_answer(pilot, app)
        while len(view.lines) <= view.size.height:
            await answer_current(pilot, app)
        for _ in range(6):
            if app.screen.focused is view:
                break
            await pilot.press("tab")
        assert app.screen.focused is view
        await pilot.press("end")
        await pilot.pause()
        assert view.scroll_y == len(view.lines) - view.size.height > 0

        def shown() -> list[str]:
            clock.changes()
            return ["".join(clock.cells[(x, view.region.y + row)][0] for x in range(view.region.x, view.region.right - 1))
                    .strip() for row in range(view.size.height)]

        assert shown()[-1] == view.lines[-1].text.strip()
        view.show(view.paragraphs[:1])
        await pilot.pause()
        assert view.scroll_y == 0 and not view.show_vertical_scrollbar, "rows it no longer covers are cleared"
        assert shown() == [line.text.strip() for line in view.lines] + [""] * (view.size.height - len(view.lines))


async def test_the_kept_choice_rows_follow_the_mouse_and_the_theme_and_answer_a_click(bank):
    """The choices' rows are kept once drawn: the row under the mouse, a new theme and a click still work."""
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await start_and_reach(pilot, app, "single")
        await pilot.pause()
        choices = app.screen.query_one(ChoiceList)

        def looks_of(row: int) -> list:
            return [segment.style for segment in choices.render_line(row)]

        plain = looks_of(2)
        await pilot.hover("#choices", offset=(8, 2))
        await pilot.pause()
        hovered = looks_of(2)
        assert hovered != plain, "the row under the mouse is drawn in its hover colours"
        await pilot.hover("#progress")
        await pilot.pause()
        assert looks_of(2) == plain, "the row the mouse left is drawn as before"
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert looks_of(2) != plain, "a new theme draws the rows in its colours"
        question = app.walk.question
        await pilot.click("#choices", offset=(8, 2))
        await pilot.pause()
        assert app.walk.answers.answers[question.id] == question.choices[2].id


class DrawsBeforeTheFrame:
    """The widgets (their ids) that draw text or a choice's rows from `start` until the next frame the app sends
    its terminal: what an answer makes the user wait for."""

    WATCHED = ("choices", "prompt", "help", "about", "evidence", "bars", "progress")

    def __init__(self, app, monkeypatch) -> None:
        self.drawn: list[str] = []
        self.painted = True
        display, to_strips = app._display, Visual.to_strips

        def noted_display(screen, update) -> None:
            self.painted = True
            display(screen, update)

        def noted_to_strips(_visual_class, widget, *args, **kwargs):
            if not self.painted and widget.id in self.WATCHED:
                self.drawn.append(widget.id)
            return to_strips(widget, *args, **kwargs)

        app._display = noted_display
        monkeypatch.setattr(Visual, "to_strips", classmethod(noted_to_strips))

    def start(self) -> list[str]:
        self.painted = False
        self.drawn.clear()
        return self.drawn


async def test_the_next_question_is_drawn_while_the_user_reads(bank, monkeypatch):
    """While the user reads a question, the next one's prompt, help, choices and the note under them are drawn
    ahead, and the reasoning panel's evidence as the highlighted (or ticked) answer would leave it: the
    answer's frame only swaps them in, and shows the next question as it would have drawn it."""
    app = GuideApp(bank)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        draws = DrawsBeforeTheFrame(app, monkeypatch)
        for _ in range(4):
            question = app.walk.question
            if question.kind == "text":
                break
            if question.kind == "multiple":
                await pilot.press("space")  # Enter answers with the ticked choices
                await pilot.pause()
            drawn = draws.start()
            await pilot.press("enter")
            await pilot.pause()
            assert app.walk.question is not question
            assert drawn == [], f"the answer to {question.id} drew {drawn} before its frame"
        shown = [strip.text for strip in app.screen.query_one(ChoiceList).render_lines(Region(0, 0, 98, 3))]
        prompt = [strip.text for strip in app.screen.query_one("#prompt").render_lines(Region(0, 0, 60, 1))]
    fresh = GuideApp(bank)
    async with fresh.run_test(size=(100, 40)) as pilot:
        fresh.begin(Walk(bank, app.walk.answers, app.walk.position))
        await pilot.pause()
        assert [strip.text for strip in fresh.screen.query_one(ChoiceList).render_lines(Region(0, 0, 98, 3))] == shown
        assert [strip.text for strip in fresh.screen.query_one("#prompt").render_lines(Region(0, 0, 60, 1))] == prompt


async def test_an_answer_other_than_the_one_worked_out_ahead_shows_its_own_reasoning(bank, monkeypatch):
    """The panel is worked out ahead for the highlighted choice; answering with another one at once (or after
    a pause, or with a tick changed) shows the reasoning of the answer given, as an app that works nothing out
    ahead shows it."""
    async def panels(ahead: bool) -> list[tuple[str, str]]:
        if not ahead:
            monkeypatch.setattr(QuestionScreen, "_answer_ahead", lambda screen: iter(()))
        app = GuideApp(bank)
        shown = []
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n", "enter")
            await pilot.pause()
            for keys in (["3"], ["down", "down"], [], ["2"], ["down"]):
                question = app.walk.question
                if question.kind == "text":
                    break
                if question.kind == "multiple":
                    keys = [*keys, "space"]
                await pilot.pause()  # the panel is worked out for the highlighted choice
                await pilot.press(*keys, "enter")  # another choice, answered at once
                await pilot.pause()
                assert app.walk.question is not question
                panel = app.screen.query_one(ReasoningPanel)
                shown.append((panel.query_one(EvidenceView).text, str(panel.query_one(ElementBars).lines)))
        return shown

    assert await panels(ahead=True) == await panels(ahead=False)


@pytest.mark.parametrize("change", ["theme", "size"])
async def test_a_question_prepared_before_a_new_theme_or_size_is_drawn_in_it(bank, change):
    """The next question is drawn ahead at the width and in the theme of that moment; after a new theme or
    terminal size, the answer shows it in the new one, cell for cell as an app started in it."""
    async def answered_screen(before_reaching: bool) -> dict:
        app = GuideApp(bank)
        clock = FrameClock(app)
        async with app.run_test(size=(120, 40)) as pilot:
            async def changed() -> None:
                if change == "theme":
                    app.theme = LIGHT  # as ctrl+t does, without keeping it for the next app
                else:
                    await pilot.resize_terminal(112, 40)  # narrower, in the same breakpoints (no new styles)
                await pilot.pause()

            if before_reaching:
                await changed()
            await pilot.press("n", "enter")
            await pilot.pause()  # the next question is drawn ahead here
            if not before_reaching:
                await changed()
            await pilot.press("enter")
            await pilot.pause()
            clock.changes()
            width, height = app.size  # (cells that a wider screen drew stay in the clock's grid)
            return {(x, y): cell for (x, y), cell in clock.cells.items() if x < width and y < height}

    assert await answered_screen(before_reaching=False) == await answered_screen(before_reaching=True)


async def test_an_answer_highlights_the_next_questions_choice_once(bank, monkeypatch):
    """Showing a question highlights its choice once: each highlight scrolls the list and tells the screen."""
    app = GuideApp(bank)
    highlights: list[int] = []
    watch = ChoiceList.watch_highlighted
    monkeypatch.setattr(ChoiceList, "watch_highlighted",
                        lambda choices, highlighted: highlighted is None or highlights.append(highlighted)
                        or watch(choices, highlighted))
    async with app.run_test() as pilot:
        await pilot.press("n", "enter", "3")
        await pilot.pause()
        highlights.clear()
        await pilot.press("enter")  # the third choice answers; the next question shows with its first highlighted
        await pilot.pause()
        assert highlights == [0]


async def test_a_key_pressed_while_the_next_questions_are_drawn_ahead_is_handled_first(bank, monkeypatch):
    """The questions an answer can lead to are drawn ahead in small steps, after the frame: a key waiting for
    the app is handled before the next step, not after all of them."""
    app = GuideApp(bank)
    order: list[str] = []
    prepare, highlight = TextBlock.prepare, ChoiceList.highlight_number

    def noted_prepare(block, content) -> None:
        if block.id == "prompt":
            order.append("drew a question ahead")
            if order.count("drew a question ahead") == 1:
                # The user pressed 2 while it is drawn: the key waits for the app (one from the terminal reaches
                # the app's queue at the next pause, at most PREPARING_STEP later).
                key = events.Key("2", "2")
                key.set_sender(app)
                app.post_message(key)
        prepare(block, content)

    def noted_highlight(choices, index: int) -> None:
        order.append("handled the key")
        highlight(choices, index)

    monkeypatch.setattr(TextBlock, "prepare", noted_prepare)
    monkeypatch.setattr(ChoiceList, "highlight_number", noted_highlight)
    async with app.run_test() as pilot:
        app.begin(Walk(bank))  # the first question: an answer to it leads to one of three
        await pilot.pause()
        assert order[:2] == ["drew a question ahead", "handled the key"], order
        assert order.count("drew a question ahead") == 3, "each question it can lead to is drawn ahead"
        assert app.screen.query_one(ChoiceList).highlighted == 1


def typed_at_once(app: GuideApp, keys: str) -> None:
    """Keys as a fast typist or a paste sends them: all in the app's queue before the first is handled."""
    for key in keys.split():
        event = events.Key(key, " " if key == "space" else key if len(key) == 1 else None)
        event.set_sender(app)
        app.post_message(event)


async def typed_keys_handled(pilot, app: GuideApp) -> None:
    """Wait until every key typed ahead has been handled (they are handed on one at a time)."""
    for _ in range(100):
        await pilot.pause()
        if not getattr(app, "keys_waiting", ()):
            await pilot.pause()
            return
    raise AssertionError(f"keys still waiting: {list(app.keys_waiting)}")


async def test_keys_typed_ahead_reach_the_field_an_earlier_key_moved_the_focus_to(bank, tmp_path, monkeypatch):
    """Each key acts on what is shown when it is handled, also when a key before it moved the focus: keys
    typed at once after `n` reach the note box (and after its Enter, the choices), after a text answer's Enter
    the next question's choices, and after `n` on the start screen the title box of the dialog it opens. They
    reached the field focused when the app read them and were lost: no title, no note, no answer."""
    monkeypatch.setenv("GUIDE_HOME", str(tmp_path))
    task = bank.questions["task"]
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        typed_at_once(app, "n M y space T i t l e enter 2 enter")
        await typed_keys_handled(pilot, app)
        assert app.walk.answers.title == "My Title"
        assert app.walk.answers.answers == {"task": task.choices[1].id}
        typed_at_once(app, "left n x y enter 3 enter")
        await typed_keys_handled(pilot, app)
        assert app.walk.answers.notes == {"task": "xy"}
        assert app.walk.answers.answers == {"task": task.choices[2].id}
        # A paste is one event, not keys: it waits in line too (right after n it reached the choices, and was lost).
        typed_at_once(app, "left n ctrl+u")
        paste = events.Paste("pasted note")
        paste.set_sender(app)
        app.post_message(paste)
        typed_at_once(app, "enter 4 enter")
        await typed_keys_handled(pilot, app)
        assert app.walk.answers.notes == {"task": "pasted note"}
        assert app.walk.answers.answers == {"task": task.choices[3].id}
        while app.walk.question.kind != "text":
            await answer_current(pilot, app)
        text_question = app.walk.question.id
        typed_at_once(app, "a b c enter 2 space enter")
        await typed_keys_handled(pilot, app)
        after = bank.questions[app.walk.path[app.walk.path.index(text_question) + 1]]
        assert app.walk.answers.answers[text_question] == "abc"
        assert app.walk.answers.answers[after.id] == [after.choices[1].id]


async def test_a_paste_of_several_lines_into_a_one_line_box_keeps_every_line(bank, guide_home):
    """Textual's one-line box keeps only a paste's first line: a note pasted from a document lost the rest without
    a word, and so did a title. The lines are joined with spaces, so nothing pasted is lost."""
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n", "enter", "n")
        await pilot.pause()
        app.focused.post_message(events.Paste("first line\nsecond line\r\n\nthird"))
        await pilot.press("enter")
        await pilot.pause()
        assert app.walk.answers.notes == {"task": "first line second line third"}
        await pilot.press("t", "ctrl+u")
        app.screen.query_one("#entry", Input).post_message(events.Paste("Knee\nstudy"))
        await pilot.press("enter")
        await pilot.pause()
        assert app.walk.answers.title == "Knee study"


async def test_a_paste_of_several_lines_into_the_export_file_name_keeps_every_line(bank, tmp_path):
    """The file-name box kept only the first line of a paste, without a word: it shows every line, joined."""
    app = GuideApp(bank, date=FIXED_DATE)
    async with app.run_test() as pilot:
        await results_of_a_copied_preset(pilot, app)
        await pilot.press("e", "ctrl+u")
        box = app.screen.query_one("#path", Input)
        box.post_message(events.Paste(f"{tmp_path}/knee\nstudy.md"))
        await pilot.pause()
        assert box.value == f"{tmp_path}/knee study.md"


async def test_keys_typed_right_after_enter_act_on_the_next_question(bank, tmp_path, monkeypatch):
    """A number and Enter typed before the next question is shown answer that question with its own choice:
    never a choice of the question before, saved under the next one (the design would not load again)."""
    monkeypatch.setenv("GUIDE_HOME", str(tmp_path))
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        app.begin(Walk(bank))
        await pilot.pause()
        typed_at_once(app, "1 enter 2 enter enter down enter")
        await pilot.pause()
        task, modality, inputs = (bank.questions[question_id] for question_id in ("task", "modality", "inputs"))
        assert app.walk.answers.answers["task"] == task.choices[0].id
        assert app.walk.answers.answers["modality"] == modality.choices[1].id
        assert "inputs" not in app.walk.answers.answers  # Enter with nothing ticked answers nothing
        assert app.walk.question.id == "inputs"


async def test_text_and_keys_typed_right_after_a_text_answer_go_where_they_were_meant(bank, tmp_path, monkeypatch):
    """A paragraph, Enter, then ↓, space and Enter, typed in one go: the paragraph answers the text question
    whole, and the tick answers the question after it. Before, the keys after the text's Enter reached the
    text box before the next question showed, and were lost with it (the next question went unanswered)."""
    monkeypatch.setenv("GUIDE_HOME", str(tmp_path))
    walk = Walk(bank)
    while walk.question.kind != "text":
        walk.answer(walk.position, [UNSURE] if walk.question.kind == "multiple" else UNSURE)
    text_question = walk.question.id
    following = bank.questions[walk.path[walk.path.index(text_question) + 1]]
    assert following.kind == "multiple"
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        app.begin(walk)
        await pilot.pause()
        typed_at_once(app, "F u n d i enter down space enter")
        for _ in range(3):
            await pilot.pause()
        assert app.walk.answers.answers[text_question] == "Fundi"
        assert app.walk.answers.answers[following.id] == [following.choices[1].id]


async def test_a_title_and_keys_typed_right_after_it_start_the_design_and_answer_its_first_question(bank, tmp_path,
                                                                                                 monkeypatch):
    """A title, Enter, then 3 and Enter typed in one go: the design is named, and question 1 is answered
    with its third choice. Before, the keys after the dialog's Enter reached the dialog's box or the start
    screen before the first question showed and were lost; in a browser the Enter after a lost 3 answered
    with the first choice."""
    monkeypatch.setenv("GUIDE_HOME", str(tmp_path))
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        await pilot.press("n")
        typed_at_once(app, "K n e e enter 3 enter")
        for _ in range(3):
            await pilot.pause()
        assert app.walk.answers.title == "Knee"
        assert app.walk.answers.answers == {"task": bank.questions["task"].choices[2].id}


def test_a_choice_of_another_question_is_refused_not_saved(bank):
    walk = Walk(bank)
    with pytest.raises(ValueError, match="unknown choice 'diagnosis_classification'"):
        walk.answer("modality", "diagnosis_classification")
    assert "modality" not in walk.answers.answers


async def test_a_click_or_text_meant_for_a_question_no_longer_shown_is_dropped(bank, tmp_path, monkeypatch):
    """A click and a text's Enter reach the screen as messages; by then keys may have moved on. What was meant
    for the question before is not given to the one now shown."""
    monkeypatch.setenv("GUIDE_HOME", str(tmp_path))
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        app.begin(Walk(bank))
        await pilot.pause()
        task = app.walk.question
        await pilot.press("enter")
        choices = app.screen.query_one(ChoiceList)
        choices.post_message(ChoiceList.Chosen(task, task.choices[1].id))
        app.screen.query_one(ParagraphInput).post_message(ParagraphInput.Submitted("typed for another", task.id))
        await pilot.pause()
        assert app.walk.question.id == "modality" and "modality" not in app.walk.answers.answers
        choices.action_select()  # a click on a choice of the question shown answers it
        await pilot.pause()
        assert app.walk.answers.answers["modality"] == bank.questions["modality"].choices[0].id


@needs_programs("tmux", install="apt-get install -y tmux")
def test_starting_the_app_and_listing_an_empty_library_make_no_folder(guide_home):
    """Only a design saved needs the designs folder: a look at the library leaves a fresh state folder as it was."""
    assert run_guide("designs").returncode == 0
    tmux("new-session", "-d", "-s", "app", "-x", "100", "-y", "30", "-e", f"GUIDE_HOME={guide_home}",
         f"{shlex.quote(sys.executable)} -m guide; echo exit status $?; sleep 60")
    try:
        wait_for(lambda: "Help: keys and the framework" in tmux("capture-pane", "-p", "-t", "app"), "showed the start screen")
        tmux("send-keys", "-t", "app", "C-q")
        wait_for(lambda: "exit status 0" in tmux("capture-pane", "-p", "-t", "app"), "quit")
    finally:
        tmux("kill-server")
    assert not (guide_home / "designs").exists()


def test_a_family_passed_over_as_an_alternative_to_the_design_s_model_says_so_in_the_app(bank):
    """The breast preset builds a concept bottleneck and passes over the prototype network ranked above a family it
    builds: both would be the model itself. The methods tab says so on the family's line and in its detail, as the
    document does, so its rank does not read as a family the design forgot."""
    from guide.engine import evaluate

    result = evaluate(bank, read_answers(bank.cases()["breast-cancer-detection"], bank))
    prototypes = next(method for method in result.methods if method.id == "prototypes")
    line = next(option for option in method_options(result) if option.id == "prototypes")
    assert "#3 · score 7.9 · alternative to #1" in str(line.prompt)  # the concept bottleneck is ranked first
    detail = " ".join(str(method_detail(bank, result, prototypes)).split())
    assert "An alternative to Concept bottleneck models, not an addition: each replaces the standard network." in detail


async def test_the_delete_dialog_quotes_a_broken_designs_long_problem_short(bank, guide_home):
    """The delete dialog quoted a broken design's whole problem (here the bank's every task), said "broken" twice,
    and at 80x24 pushed its own buttons' explanation down the dialog. It quotes the problem's start, as it quotes a
    long title: enough to recognize the file; the library shows the problem whole."""
    designs_dir().mkdir(parents=True)
    (designs_dir() / "listy.yaml").write_text("title: Listy\nanswers: {task: nonsense}\n")
    app = GuideApp(bank)
    async with app.run_test() as pilot:
        [row] = design_rows(app)
        assert "parameter_mapping" in design_detail(app), "the library shows the whole problem"
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        body = " ".join(static_text(app.screen, ".dialog-body Static").split())
        assert "The broken file listy.yaml is deleted for good (line 2: answers.task: unknown choice 'nonsense'" in body
        assert "parameter_mapping" not in body and "(broken" not in body


def test_textuals_colour_cache_keeps_no_widgets_drawn_lines():
    """Textual caches the two background styles of a widget's colours (`StylesCache.get_inner_outer`, 1,024 entries)
    with the widget's StylesCache in the key, and with it every line the widget last drew: a tab walking design
    after design kept each walk's lines, about 1 MiB a walk. The styles depend on the colours alone."""
    from textual._styles_cache import StylesCache
    from textual.color import Color

    lines = StylesCache()
    held = sys.getrefcount(lines)
    inner, outer = lines.get_inner_outer(Color(10, 20, 30), Color(40, 50, 60, 0.5))
    assert sys.getrefcount(lines) == held, "the colour cache keeps a widget's StylesCache"
    assert (inner, outer) == StylesCache().get_inner_outer(Color(10, 20, 30), Color(40, 50, 60, 0.5))
