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
