"""Snapshots of the start, question and results screens at 80x24 (Textual is pinned exactly).

Deterministic by construction: an empty GUIDE_HOME (no resume entry), a fixed date, the built-in
bank, and no clock or path on screen. After a deliberate change to a screen or to the bank's text,
look at the new SVGs and accept them with `pytest tests/test_tui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest

from guide.tui.app import GuideApp

from .conftest import FIXED_DATE

pytestmark = pytest.mark.usefixtures("guide_home")


def test_start_screen(snap_compare, bank):
    assert snap_compare(GuideApp(bank, date=FIXED_DATE), terminal_size=(80, 24))


def test_question_screen_after_one_answer(snap_compare, bank):
    assert snap_compare(GuideApp(bank, date=FIXED_DATE), press=["n", "enter", "1", "enter"], terminal_size=(80, 24))


def test_results_screen_of_a_worked_example(snap_compare, bank):
    async def open_dr_screening(pilot):
        pilot.app.open_preset("dr-screening")
        await pilot.pause()

    assert snap_compare(GuideApp(bank, date=FIXED_DATE), run_before=open_dr_screening, press=["s"],
                        terminal_size=(80, 24))


def test_start_screen_with_designs_at_60x20(snap_compare, bank, monkeypatch):
    """The library on a small terminal: a finished design, an unfinished one, one of another bank, a broken file."""
    import os
    import time

    from guide.state import designs_dir
    from guide.model import UNSURE
    from guide.session import Walk, save_session

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    folder = designs_dir()
    folder.mkdir(parents=True)
    finished = Walk(bank)
    finished.retitle("Fundus screening")
    while finished.first_open() != "end":
        question = bank.questions[finished.first_open()]
        finished.answer(question.id, [UNSURE] if question.kind == "multiple" else UNSURE)
    save_session(finished, folder / "fundus-screening.yaml")
    started = Walk(bank)
    started.retitle("Knee OA grading")
    started.answer(bank.meta.start, UNSURE)
    save_session(started, folder / "knee-oa-grading.yaml")
    (folder / "course.yaml").write_text("title: Course design\nbank_id: course-bank\nanswers:\n  task: unsure\n")
    (folder / "broken.yaml").write_text("answers: [\n")
    for minutes, name in enumerate(["broken", "course", "fundus-screening", "knee-oa-grading"]):
        os.utime(folder / f"{name}.yaml", (1_800_000_000 + 60 * minutes,) * 2)
    assert snap_compare(GuideApp(bank, date=FIXED_DATE), terminal_size=(60, 20))
