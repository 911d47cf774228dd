"""`guide schema`: write or check the JSON Schemas of bank files, answers files and results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "schema", help="write or check the JSON Schemas generated from the models",
        description="Write the JSON Schemas of bank files, answers files and results (for editors and other "
                    "tools), or check that the committed ones match the models.",
    )
    parser.add_argument("--out", metavar="DIR", type=Path, default=None,
                        help="folder to write the schemas into, or to check (default: the project's schemas/ "
                             "folder; installed, the schemas that came with guide, which only --check reads)")
    parser.add_argument("--check", action="store_true",
                        help="check instead of writing: one line per missing or stale schema on stdout, a one-line "
                             "summary on stderr (as guide lint does); exit 1 if any")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from guide.files import refuse_designs_folder, write_output
    from guide.frontend import NOT_PRINTABLE
    from guide.schemas import INSTALLED, SCHEMA_DIR, generate, stale_schemas
    from guide.source import GuideError, shown_name, unprintable_in

    directory = args.out or SCHEMA_DIR
    if args.check:
        if not directory.is_dir():
            raise GuideError(directory, None, None, "no such folder to check")
        stale = stale_schemas(directory)
        missing = [name for name in stale if not (directory / name).is_file()]
        for name in stale:
            print(f"{shown_name(directory / name)}: missing (run `guide schema` to write it)" if name in missing else
                  f"{shown_name(directory / name)}: out of date with the models (run `guide schema` to regenerate)")
        how = " or ".join(word for word, some in (("missing", missing), ("out of date", len(missing) < len(stale)))
                          if some)
        count = len(generate())
        print(f"{shown_name(directory)}: {len(stale)} of {count} schemas {how}" if stale else
              f"{shown_name(directory)}: all {count} schemas current", file=sys.stderr)
        return 1 if stale else 0
    if INSTALLED and args.out is None:
        raise GuideError(directory, None, None, "these are the schemas installed with guide, not written over; "
                                                "give --out DIR to write them elsewhere")
    if unprintable_in(str(directory)):
        raise GuideError(directory, None, None, NOT_PRINTABLE)
    refuse_designs_folder(directory, "schemas")  # before the folder is made: an empty one there would list as a design
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise GuideError(directory, None, None, "is not a folder; give a folder to write the schemas into") from None
    except OSError as error:
        raise GuideError(directory, None, None, error.strerror or "cannot be made") from None
    texts = generate()
    for name, text in texts.items():
        write_output(text, directory / name)
    print(f"wrote {len(texts)} schemas to {shown_name(directory)}")
    return 0
