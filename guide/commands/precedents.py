"""`guide precedents`: the published systems the bank is measured against, and how well it does on them."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers, common) -> None:
    from guide.commands.diff import add_report_output_options

    parser = subparsers.add_parser(
        "precedents", parents=[common], help="list the published systems the bank is measured against, or score it",
        description="List the bank's precedents: published medical-imaging systems whose setting and chosen "
                    "interpretability approach are known from their papers. With --score, run the engine on each "
                    "precedent's setting and report the rank of the family its authors built, whether an element "
                    "it serves is among the top 2, family hit@1 and hit@3, element hit@2 and a per-family table; it "
                    "also checks that no answer but the explanation form (or a task whose output is the explanation, "
                    "such as a detector's boxes) puts one family first on its own. Rows of holdout precedents are "
                    "withheld (their split's totals are the measurement; a row is what a rule could be tuned to) "
                    "unless --show-holdout is given. "
                    "Exit status: 0, 1 when a score is below the targets the bank declares or an answer decides "
                    "alone, 2 on bad input.",
    )
    parser.add_argument("--score", action="store_true", help="score the bank against the precedents")
    parser.add_argument("--split", choices=("all", "calibration", "holdout"), default="all",
                        help="which precedents (default: all; with --score, all also reports each split)")
    parser.add_argument("--show-holdout", action="store_true",
                        help="with --score, also show each holdout precedent's row and count them in the per-family "
                             "table (for auditing the split; never for tuning a rule)")
    add_report_output_options(parser, json=True)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import shutil

    from guide.files import write_output
    from guide.frontend import EXIT_FINDINGS, EXIT_OK, load_bank_option

    bank = load_bank_option(args)
    if not args.score:
        # Wrapped to a terminal's width; a file or a pipe gets one line per precedent, to grep.
        width = shutil.get_terminal_size().columns if args.out is None and sys.stdout.isatty() else None
        write_output(_listing(bank, args.split, args.format, width), args.out)
        return EXIT_OK
    from guide.calibration import lone_deciders, score_view, scorecard, shortfalls

    splits = ["all", "calibration", "holdout"] if args.split == "all" else [args.split]
    cards = [scorecard(bank, split) for split in splits]
    write_output(_scores([score_view(bank, card, args.show_holdout) for card in cards], args.format), args.out)
    if sys.stderr.isatty():  # the check below ranks every precedent once per choice: seconds, not instant
        print("guide precedents: checking that no answer but the explanation form puts a family first on its "
              "own…", file=sys.stderr, flush=True)
    missed = shortfalls(bank, cards) + [
        f"answering {item.question} = {item.choice} puts {item.family} first on its own (in {item.made_first} of "
        f"{item.settings} precedent settings where it was not first); only the explanation form may, or a task "
        "whose output is the explanation"
        for item in lone_deciders(bank)]
    for line in missed:
        print(f"guide precedents: {line}", file=sys.stderr)
    return EXIT_FINDINGS if missed else EXIT_OK


def _listing(bank, split: str, form: str, width: int | None) -> str:
    from guide.report.text import md, plain

    chosen = {key: item for key, item in bank.precedents.items() if split == "all" or item.split == split}
    # People read the families and elements by the names the app and the documents give them; JSON keeps the ids.
    built = {key: ", ".join(bank.methods[method].name for method in item.built) for key, item in chosen.items()}
    if form == "json":
        return json.dumps([{"id": key, **item.model_dump(mode="json")} for key, item in chosen.items()],
                          indent=2, ensure_ascii=False) + "\n"
    if form == "md":
        lines = ["| precedent | split | built | serves | reference |", "|---|---|---|---|---|"]
        lines += [f"| `{key}` {md(item.title)} | {item.split} | {md(built[key])} | "
                  f"{md(', '.join(bank.elements[element].name for element in item.serves))} | "
                  f"{md(item.reference.citation())} |" for key, item in chosen.items()]
        return "\n".join(lines) + "\n"
    if not chosen:
        return "This bank has no precedents.\n"
    import textwrap  # here, not at the top: every command module is imported on every start

    key_width = max(map(len, [*chosen, "precedent"]))
    explained = ("split: the bank's rules are tuned on calibration precedents only; holdout ones only measure it "
                 "(guide precedents --score)")
    described = {key: f"{plain(item.title)}  [built: {built[key]}]" for key, item in chosen.items()}
    if width is not None and width - key_width - 15 < 40:  # too narrow for columns: a block per precedent
        rows = [*textwrap.wrap(explained, width - 1), ""]
        for key, item in chosen.items():
            rows += [f"{key} ({item.split})", *textwrap.wrap(described[key], width - 1, initial_indent="  ",
                                                             subsequent_indent="  ", break_on_hyphens=False)]
        return "\n".join(rows) + "\n"
    rows = [f"{'precedent':<{key_width}}  {'split':<11}  title [built: the method families its authors built]",
            *(f"{key:<{key_width}}  {item.split:<11}  {described[key]}" for key, item in chosen.items()), explained]
    if width is not None:  # wrapped lines under the title column
        rows = [line for row in rows for line in textwrap.wrap(row, width - 1, subsequent_indent=" " * (key_width + 15),
                                                               break_on_hyphens=False)]
    return "\n".join(rows) + "\n"


def _scores(views, form: str) -> str:
    from guide.calibration import as_data

    if form == "json":
        return json.dumps([as_data(view) for view in views], indent=2, ensure_ascii=False) + "\n"
    return (_scores_md if form == "md" else _scores_text)(views)


def _summary(card) -> str:
    return (f"{card.split}: {card.count} precedents; family hit@1 {card.measured('hit1')}, "
            f"hit@3 {card.measured('hit3')}; element hit@2 {card.measured('element_hit')}")


def _withheld(view) -> list[str]:
    """The line saying whose rows are not shown, where some are not."""
    if not view.withheld:
        return []
    return [f"The {view.withheld} holdout precedents' rows are not shown, nor counted in the per-family table: the "
            "holdout is scored, never looked into (--show-holdout shows them, to audit the split).", ""]


def _rank_text(item) -> str:
    return f"#{item.family_rank}" if item.family_rank is not None else "filtered out"


def _scores_text(views) -> str:
    first = views[0]
    lines = []
    if first.precedents:  # none where only the holdout was asked for
        width = max(len(item.id) for item in first.precedents)
        lines += [f"{'precedent':<{width}}  split        built family rank  element in top 2  top 3 recommended"]
        lines += [f"{item.id:<{width}}  {item.split:<11}  {_rank_text(item):<17}  "
                  f"{'yes' if item.element_hit else 'no':<16}  {', '.join(item.top_families)}" for item in first.precedents]
        lines += [""]
    lines += [*_withheld(first), *(_summary(view.card) for view in views)]
    if first.precedents:
        lines += ["", f"{'family':<26}  built  top 3 when built  top 3 when not built"]
        lines += [f"{row.family:<26}  {row.built:>5}  {row.in_top3_when_built:>5} of {row.built:<8}  "
                  f"{row.in_top3_when_not_built:>5} of {row.not_built}" for row in first.families]
    return "\n".join(lines) + "\n"


def _scores_md(views) -> str:
    first = views[0]
    lines = []
    if first.precedents:
        lines += ["| precedent | split | built | rank of built family | element in top 2 | top 3 recommended |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| `{item.id}` | {item.split} | {', '.join(item.built)} | {_rank_text(item)} | "
                  f"{'yes' if item.element_hit else 'no'} | {', '.join(item.top_families)} |" for item in first.precedents]
        lines += [""]
    lines += [*_withheld(first), "| precedents | count | family hit@1 | family hit@3 | element hit@2 |",
              "|---|---|---|---|---|"]
    lines += [f"| {view.card.split} | {view.card.count} | {view.card.measured('hit1')} | {view.card.measured('hit3')} | "
              f"{view.card.measured('element_hit')} |" for view in views]
    if first.precedents:
        lines += ["", "| family | built by | in top 3 when built | in top 3 when not built |", "|---|---|---|---|"]
        lines += [f"| `{row.family}` | {row.built} | {row.in_top3_when_built} | {row.in_top3_when_not_built} of "
                  f"{row.not_built} |" for row in first.families]
    return "\n".join(lines) + "\n"
