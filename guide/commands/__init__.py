"""One module per `guide` subcommand, and `preloaded`, the process `guide serve` forks each tab's app from."""

import argparse
from pathlib import Path

from guide.frontend import FORMAT_NAMES, REFUSED_NAMES, SUFFIX_OF_FORMAT, fitting_format, or_list, typed_name

ANSWERS_HELP = "answers file (YAML), a session the app saved, or design document (.md or .json)"


def add_output_options(parser: argparse.ArgumentParser, choices: tuple[str, ...], default: str, what: str) -> None:
    """--format and --out. Without --format, the format is the one --out's name ends in, else `default`."""
    parser.add_argument("--format", choices=choices, default=None,
                        help=f"{what} (default: what the --out file's name ends in, else {default})")
    add_out_option(parser, choices, default)


def add_out_option(parser: argparse.ArgumentParser, choices: tuple[str, ...], default: str) -> None:
    """--out, whose name must fit the formats the command writes (`settle_format`)."""
    suffixes = or_list([SUFFIX_OF_FORMAT[format] for format in dict.fromkeys([*choices, "text"])])
    # Taken as typed (a Path would drop a trailing /); `settle_format` checks it and makes it a Path.
    parser.add_argument("--out", metavar="PATH",
                        help=f"write here instead of to stdout: a name ending in {suffixes} (or none); refused: "
                             f"another suffix, {REFUSED_NAMES}")
    # A mismatch of --format and --out is told with this command's usage, not the main parser's.
    parser.set_defaults(format_default=default, format_choices=choices, output_parser=parser)


def settle_format(args: argparse.Namespace) -> str | None:
    """Fill in args.format from --out's name when it was not given; return a one-line reason when --out's name
    says another format than the command would write (a file named .html holding Markdown opens as garbage)."""
    if not hasattr(args, "format_default"):
        return None
    if args.out is None:
        named = None
    elif not args.out:  # Path("") is the current folder: the name typed was empty, and is said so
        return "--out '': the name is empty; give a file name"
    else:
        try:
            named = fitting_format(args.out, args.format_choices, "this command")
        except ValueError as problem:
            return f"--out {typed_name(args.out)}: {problem}"
        args.out = Path(args.out)
    if getattr(args, "format", None) is None:  # not given, or a command that writes one format only
        args.format = named or args.format_default
        return None
    if named is not None and named != args.format:
        return (f"--out {args.out.name}: the name says {FORMAT_NAMES[named]}, but --format is {args.format}; "
                "drop --format, or give the file a name that fits")
    return None


def input_path(text: str) -> Path:
    """A file or folder to read, as argparse takes it: Path("") would silently be the current folder, and
    `-` a file named `-`, where a user may expect standard input."""
    if not text:
        raise argparse.ArgumentTypeError("the path is empty")
    if text == "-":
        raise argparse.ArgumentTypeError("standard input is not accepted: give a file name")
    return Path(text)
