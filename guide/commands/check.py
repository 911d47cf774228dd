"""`guide check DOC...`: is a committed design document (Markdown or JSON) still what its answers produce?

For a team's CI: exit 0 when every document is current, 1 when one is stale (its front matter, read
with the current bank, no longer produces the same document), 2 when one cannot be read.
"""

from __future__ import annotations

import argparse
import difflib
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from guide.commands import input_path

from guide.source import GuideError

SHOWN_DIFF_LINES = 12


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "check", parents=[common], help="check that design documents are up to date (for CI)",
        description="Re-run each design document from the answers it carries (Markdown front matter, or the "
                    "answers_file of a JSON document) with the current bank and compare. Exit status: 0 all "
                    "current, 1 some stale, 2 some unreadable.",
    )
    parser.add_argument("documents", metavar="DOC", type=input_path, nargs="+",
                        help="design document written by `guide run`, Markdown (.md) or JSON (.json)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from guide.files import write_output
    from guide.frontend import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, load_bank_option

    bank = load_bank_option(args)
    status = EXIT_OK
    for path in args.documents:
        try:
            report = check_document(path, bank)
        except GuideError as error:
            print(f"guide: {error}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        write_output(report.text, None)
        if report.stale and status == EXIT_OK:
            status = EXIT_FINDINGS
    return status


@dataclass(frozen=True)
class Report:
    stale: bool
    text: str


def check_document(path: Path, bank) -> Report:
    from guide.bank import DESIGN_DOCUMENT, DOCUMENT_FORMAT_OF_SUFFIX, HTML_SUFFIXES, bank_change, read_answers
    from guide.engine import evaluate
    from guide.report import document_date, render
    from guide.report.frontmatter import document_answers
    from guide.source import decode, read_limited, shown_name

    format = DOCUMENT_FORMAT_OF_SUFFIX.get(path.suffix.lower())
    if path.is_dir():
        raise GuideError(path, None, None, "is a folder, not a design document: give the documents in it, "
                                           f"as in `guide check {shown_name(path)}/*.md`")
    if format is None and path.suffix.lower() not in HTML_SUFFIXES:  # read_answers tells why HTML is no use
        raise GuideError(path, None, None, "guide check reads design documents in Markdown (.md) or JSON (.json); "
                                           "this is not a design document (write one with `guide run --out design.md`)")
    answers = read_answers(path, bank)
    committed = decode(path, read_limited(path)).replace("\r\n", "\n")
    if format == "json" and not _is_json_design_document(committed):
        raise GuideError(path, None, None, f'not a design document: `guide run --format json` writes one, with '
                                           f'"document": "{DESIGN_DOCUMENT}"')
    date = document_date(answers)
    fresh = render(format, evaluate(bank, answers), bank, answers, date)
    stale_approvals = _stale_approvals(document_answers(answers, bank, date))
    if committed == fresh and not stale_approvals:
        return Report(False, f"{shown_name(path)}: current (bank {bank.meta.id} {bank.meta.version}, "
                             f"content hash {bank.content_hash})\n")
    if committed == fresh:
        return Report(True, f"{shown_name(path)}: stale: approvals no longer match its answers.\n{stale_approvals}"
                            "  ask those reviewers to review it again, then record each new decision in place of the "
                            "old one, without its answers_hash and bank_hash lines, and re-run the document\n")
    change = bank_change(answers, bank)
    # With the bank it was made with, the answers or the text were edited: which one, the file cannot tell.
    cause = ("its answers now produce a different document" if change else
             "it is not what its answers produce with the bank it was made with (its answers were changed, or its "
             "text was edited by hand)")
    lines = [f"{shown_name(path)}: stale: {cause}."]
    if change:
        lines.append("  bank: " + _bank_words(change))
    if format == "md":
        lines.append("  sections that differ: " + ", ".join(f"{name} ({count} line{'' if count == 1 else 's'})"
                                                           for name, count in changed_sections(committed, fresh)))
    else:
        lines.append("  parts that differ: " + ", ".join(changed_parts(committed, fresh)))
    if stale_approvals:
        lines.append(stale_approvals.rstrip("\n"))
    lines.append("  first differences:")
    lines += [f"    {line}" for line in first_differences(committed, fresh)]
    lines.append("  updating writes it again from its answers: a line marked - that was written by hand is lost "
                 "(keep such text in an answer's note, which the document carries)")
    # A name with a line break or an escape is shown escaped: the line is then one to read, not to paste.
    lines.append("  update it with: " + shown_name(shlex.join(_update_command(path, format, bank))))
    return Report(True, "\n".join(lines) + "\n")


def _stale_approvals(carried) -> str:
    """The line naming each approval given to other answers or another bank, or "" when every one holds."""
    from guide.report.markdown import STALE_LABELS
    from guide.source import one_line

    if not (stale := carried.stale_approvals()):
        return ""
    named = [f"{one_line(review.reviewer or 'a reviewer', 80)}{f' ({one_line(review.date, 40)})' if review.date else ''}: "
             + STALE_LABELS[reason] for _, review, reason in stale]
    return "  approvals that no longer match: " + "; ".join(named) + "\n"


def _update_command(path: Path, format: str, bank) -> list[str]:
    from guide.bankfiles import BUILTIN_BANK

    command = ["guide", "run", "--answers", str(path)]
    if format != "md":
        command += ["--format", format]
    if bank.directory != BUILTIN_BANK:  # rewritten with any other bank, the document would be stale again
        command += ["--bank", str(bank.directory)]
    return command + ["--out", str(path)]


def _is_json_design_document(text: str) -> bool:
    from guide.bank import DESIGN_DOCUMENT

    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("document") == DESIGN_DOCUMENT


def _bank_words(change) -> str:
    parts = []
    if change.from_bank_id not in (None, change.to_bank_id):
        parts.append(f"made with bank {change.from_bank_id}, read with {change.to_bank_id}")
    if change.from_version not in (None, change.to_version):
        parts.append(f"version {change.from_version} → {change.to_version}")
    if change.from_hash not in (None, change.to_hash):
        parts.append(f"content hash {change.from_hash} → {change.to_hash}")
    if change.renamed:
        parts.append("renamed " + ", ".join(f"{old} → {new}" for old, new in change.renamed.items()))
    if change.removed:
        parts.append("removed " + ", ".join(change.removed))
    if change.renamed_choices:
        parts.append("renamed choices " + ", ".join(f"{question}: {old} → {new}"
                                                    for question, renames in change.renamed_choices.items()
                                                    for old, new in renames.items()))
    return "; ".join(parts)


def changed_sections(old: str, new: str) -> list[tuple[str, int]]:
    """Second-level sections of the new document with changed lines, and how many lines changed."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    section_of = []
    current = "front matter"
    for line in new_lines:
        if line.startswith("# "):
            current = "header"
        elif line.startswith("## "):
            current = line[3:].strip()
        section_of.append(current)
    counts: dict[str, int] = {}
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            continue
        name = section_of[min(new_start, len(section_of) - 1)]
        counts[name] = counts.get(name, 0) + max(old_end - old_start, new_end - new_start)
    return list(counts.items())


def changed_parts(old: str, new: str) -> list[str]:
    """The keys of a JSON design document, one level into `result` and `answers_file`, whose values differ."""
    try:
        before = json.loads(old)
    except ValueError:
        return ["the whole document (not valid JSON)"]
    after = json.loads(new)
    parts = []
    for key, value in after.items():
        previous = before.get(key) if isinstance(before, dict) else None
        if isinstance(value, dict) and isinstance(previous, dict) and key in ("result", "answers_file"):
            parts += [f"{key}.{inner}" for inner in dict.fromkeys([*value, *previous])
                      if value.get(inner) != previous.get(inner)]
        elif value != previous:
            parts.append(key)
    return parts or ["formatting only"]


def first_differences(old: str, new: str) -> list[str]:
    from guide.source import one_line

    # Skip the two file-name lines of a unified diff and its @@ hunk headers.
    diff = [line for line in list(difflib.unified_diff(old.split("\n"), new.split("\n"), lineterm="", n=0))[2:]
            if not line.startswith("@@")]
    shown = [one_line(line, 160) for line in diff[:SHOWN_DIFF_LINES]]
    if len(diff) > SHOWN_DIFF_LINES:
        shown.append(f"… and {len(diff) - SHOWN_DIFF_LINES} more changed lines")
    return shown
