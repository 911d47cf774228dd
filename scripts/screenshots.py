"""Regenerate the documentation's screenshots: the app's own SVG exports, taken through Textual's Pilot.

    python scripts/screenshots.py [--out DIR]     (default: docs/images)

Each picture is what the app shows after the keys a user would press, at a fixed size, with the built-in
bank, a fixed date and an empty GUIDE_HOME (so no saved design of yours appears, and none is touched).
Run it after a change to a screen or to the bank's text, look at the new pictures, and commit them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = (100, 30)
DATE = "2026-01-15"


@dataclass(frozen=True)
class Shot:
    name: str  # the file is docs/images/NAME.svg
    title: str  # the window title drawn in the picture
    preset: str | None  # a worked example to open first, or None for the start screen
    keys: tuple[str, ...]


SHOTS = (
    Shot("start", "guide: the start screen", None, ()),
    Shot("walkthrough", "guide: a worked example, question by question", "dr-screening", ("enter",) * 16),
    Shot("results", "guide: the results of a worked example", "dr-screening", ("s",)),
    Shot("learn", "guide: the five elements, taught", None, ("l",)),
)


async def take(shot: Shot, bank, out: Path) -> Path:
    from guide.tui.app import GuideApp

    app = GuideApp(bank, date=DATE)
    async with app.run_test(size=SIZE) as pilot:
        if shot.preset:
            app.open_preset(shot.preset)
            await pilot.pause()
        await pilot.press(*shot.keys)
        await pilot.pause()
        path = out / f"{shot.name}.svg"
        path.write_text(app.export_screenshot(title=shot.title), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description="Regenerate the documentation's screenshots of the app.")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the SVG files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="guide-screenshots-") as home:
        os.environ["GUIDE_HOME"] = home
        from guide.bankfiles import BUILTIN_BANK
        from guide.load import load_bank

        bank = load_bank(BUILTIN_BANK)
        for shot in SHOTS:
            print(asyncio.run(take(shot, bank, args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
