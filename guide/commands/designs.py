"""`guide designs`: the library of saved designs, with each one's state."""

from __future__ import annotations

import argparse
import json


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "designs", parents=[common], help="list the saved designs",
        description="List the designs saved in the state folder, the most recently changed first: name (for "
                    "guide --plain --design NAME), title, state (finished; unfinished with how many questions "
                    "are left on its path; saved with another question bank; or broken, with the problem), "
                    "when it was last changed, and its file.")
    parser.add_argument("--format", choices=("text", "md", "json"), default="text",
                        help="columns to read in a terminal (a long title or problem cut short), a Markdown table "
                             "or JSON (default: text)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from guide.files import write_output
    from guide.frontend import load_bank_option
    from guide.library import list_designs
    from guide.state import designs_dir

    designs = list_designs(load_bank_option(args))
    write_output({"text": _text, "md": _markdown, "json": _json}[args.format](designs, designs_dir()), None)
    return 0


# The widest a title and a state are shown in the text table (a state, or a YAML problem, fits whole): a broken
# design's problem can list every choice of a question, and a title can be 300 characters, which made every row as
# wide and wrapped each several times in a terminal. --format md and json keep them whole.
TITLE_WIDTH, STATE_WIDTH = 40, 100


def _text(designs, folder) -> str:
    """Aligned columns, every character as it is: Markdown's escapes (`o6a\\_home`, `'\\]'`) would show in a
    terminal as stray backslashes."""
    from guide.report.text import inert, shorten, shown_title
    from guide.source import shown_name

    if not designs:
        return f"No saved designs in {inert(shown_name(folder))}.\n"
    rows = [("Name", "Title", "State", "Changed", "File")]
    rows += [(inert(shown_name(design.name)), shorten(shown_title(design.title), TITLE_WIDTH),
              _shown_state(inert(design.state)), design.changed_text, inert(shown_name(design.path.name)))
             for design in designs]
    cells = len
    if not all(text.isascii() for row in rows for text in row):
        from rich.cells import cell_len as cells  # a wide character (CJK, emoji) takes two columns of the terminal
    widths = [max(cells(row[column]) for row in rows) for column in range(4)]
    lines = ["  ".join([*(text + " " * (width - cells(text)) for text, width in zip(row, widths)), row[4]])
             for row in rows]
    return f"Designs in {inert(shown_name(folder))}, the most recently changed first:\n\n" + "\n".join(lines) + "\n"


def _shown_state(state: str) -> str:
    """A long state cut to STATE_WIDTH. A problem ends with what to do about it ("...: open it with a guide whose
    bank is version 99.0.0 or later)"): where that last part fits, the cut falls before it rather than in it."""
    from guide.report.text import shorten

    if len(state) <= STATE_WIDTH:
        return state
    before, colon, last = state.rpartition(": ")
    if colon and len(last) <= STATE_WIDTH * 2 // 3:
        return shorten(before, STATE_WIDTH - len(colon) - len(last)) + colon + last
    return shorten(state, STATE_WIDTH)


def _markdown(designs, folder) -> str:
    from guide.report.text import md, shown_title
    from guide.source import shown_name

    if not designs:
        return f"No saved designs in {md(shown_name(folder))}.\n"
    rows = [f"Designs in {md(shown_name(folder))}, the most recently changed first:", "",
            "| Name | Title | State | Changed | File |", "| --- | --- | --- | --- | --- |"]
    rows += [f"| {md(shown_name(design.name))} | {md(shown_title(design.title))} | {md(design.state)} | "
             f"{design.changed_text} | {md(shown_name(design.path.name))} |" for design in designs]
    return "\n".join(rows) + "\n"


def _json(designs, folder) -> str:  # folder: every writer takes it; a JSON list has no place for it
    from guide.source import shown_name

    return json.dumps([{"name": shown_name(design.name), "title": design.title, "state": design.kind,
                        "questions_left": len(design.walk.unanswered) if design.walk is not None else None,
                        "description": design.state, "changed": design.changed_text,
                        "file": shown_name(design.path)} for design in designs], ensure_ascii=False, indent=2) + "\n"
