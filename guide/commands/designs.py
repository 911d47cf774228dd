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
    parser.add_argument("--format", choices=("md", "json"), default="md", help="Markdown table or JSON (default: md)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from guide.files import write_output
    from guide.frontend import load_bank_option
    from guide.library import list_designs
    from guide.state import designs_dir

    designs = list_designs(load_bank_option(args))
    write_output((_json if args.format == "json" else _markdown)(designs, designs_dir()), None)
    return 0


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


def _json(designs, folder) -> str:
    from guide.source import shown_name

    return json.dumps([{"name": shown_name(design.name), "title": design.title, "state": design.kind,
                        "questions_left": len(design.walk.unanswered) if design.walk is not None else None,
                        "description": design.state, "changed": design.changed_text,
                        "file": shown_name(design.path)} for design in designs], ensure_ascii=False, indent=2) + "\n"
