"""The `guide` command: the terminal app without arguments, subcommands for everything headless.

Subcommands live in `guide.commands.*`; each module has `register(subparsers, common)`. They are
imported with this module, so they import their heavy dependencies inside their handlers. Textual is
only imported for the app itself. What the front ends share is in `guide.frontend`, below them all.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn, Sequence

from guide import __version__
from guide.commands import (cases, check, codebook, compare, designs, diff, graph, input_path, lint, precedents, run,
                            schema, serve, settle_format, what_if)
from guide.files import LONE_SURROGATE, discard, write_stream
from guide.frontend import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from guide.source import GuideError, one_line, shown_name

COMMANDS = (run, cases, designs, schema, lint, codebook, diff, what_if, check, graph, compare, precedents, serve)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")

    def _print_message(self, message: str, file=None) -> None:
        """argparse drops a failed write without a word: `--help > /dev/full` exited 0. Help and --version on
        standard output are told as every command tells it, and a reader gone away (`| head`) is no error."""
        if not message:
            return
        stream = file or sys.stderr
        if stream is not sys.stdout:  # a usage error: with stderr gone there is nowhere left to tell
            super()._print_message(message, stream)
            return
        try:
            write_stream(stream, message)
        except BrokenPipeError:
            discard(stream)
            self.exit(EXIT_OK)
        except GuideError as error:
            self.exit(EXIT_USAGE, f"guide: {error}\n")


def add_bank_option(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("--bank", metavar="DIR", type=input_path, default=default,
                        help="question bank directory (default: the built-in bank)")


def common_options() -> argparse.ArgumentParser:
    """The options of every subcommand that reads a bank."""
    common = Parser(add_help=False)
    # argparse copies every value of a subcommand's namespace over the main one, defaults included: a
    # default here would undo `guide --bank DIR COMMAND`, so the main parser alone supplies the default.
    add_bank_option(common, argparse.SUPPRESS)
    common.set_defaults(reads_bank=True)
    return common


def build_parser() -> Parser:
    common = common_options()
    parser = Parser(
        prog="guide",
        description="Decide what 'interpretable' should mean for a machine-learning model in medical imaging, "
                    "following the framework of Wang et al. (IEEE Access, 2024). Without a command, opens the "
                    "terminal walk-through.",
    )
    add_bank_option(parser, None)
    parser.add_argument("--version", action="version", version=f"guide {__version__}")
    parser.add_argument("--plain", action="store_true",
                        help="ask the questions line by line on stdin/stdout (screen readers, dumb terminals, scripts)")
    plain = parser.add_argument_group("plain mode (with --plain; without a terminal on stdin, nothing they "
                                      "settle is asked)")
    plain.add_argument("--title", type=design_title, metavar="TEXT",
                       help="the title of a new design, or the new title of the resumed one")
    plain.add_argument("--design", metavar="NAME",
                       help="the design of the library to work on, by the name guide designs lists; a new one "
                            "under that name when there is none")
    start = plain.add_mutually_exclusive_group()
    start.add_argument("--new", action="store_true",
                       help="start a new design (with --design NAME: refuses to replace that design unless --replace)")
    start.add_argument("--resume", action="store_true",
                       help="continue the latest design, or the one --design names (an error when there is none)")
    plain.add_argument("--replace", action="store_true", help="with --new --design NAME: replace that design")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.register(subparsers, common)
    # The parser whose options a mistake is about, so that the error names the command and its --help.
    parser.set_defaults(command_parser=parser)
    for command_parser in subparsers.choices.values():
        command_parser.set_defaults(command_parser=command_parser)
    return parser


def design_title(text: str) -> str:
    from guide.plain import checked_title

    try:
        return checked_title(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unrecognized = parser.parse_known_args(argv)
    if unrecognized:
        args.command_parser.error(f"unrecognized arguments: {' '.join(unrecognized)}")
    if args.command and args.bank is not None and not getattr(args, "reads_bank", False):
        parser.error(f"{args.command} reads no question bank: drop --bank")
    if not args.plain and (args.title is not None or args.design is not None or args.new or args.resume or args.replace):
        parser.error("--title, --design, --new, --resume and --replace go with --plain")
    if args.replace and not (args.new and args.design is not None):
        parser.error("--replace goes with --new --design NAME")
    # --out first: it is taken as typed (`add_out_option`) and made a Path there, which may hold any bytes.
    if (mismatch := settle_format(args)) is not None:
        args.output_parser.error(mismatch)
    refuse_undecodable_text(parser, args)
    try:
        status = dispatch(args)
        # What print() left in the buffer: a full disk behind `>` is one line here, not a traceback at exit.
        write_stream(sys.stdout, "")
        return status
    except GuideError as error:
        print(f"guide: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (for example `head` or a pager) went away; that is not an error of ours.
        discard(sys.stdout)
        return EXIT_OK


def dispatch(args: argparse.Namespace) -> int:
    if args.command:
        return args.handler(args)
    if args.plain:
        from guide.plain import run_plain

        return run_plain(args)
    from guide.tui.app import run_app

    return run_app(args)


def refuse_undecodable_text(parser: Parser, args: argparse.Namespace) -> None:
    """Bytes that are not UTF-8 may name a file, but not be the text of an option (a title, a date, an
    answer): that text goes into documents and sessions, which are UTF-8."""
    for value in vars(args).values():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and LONE_SURROGATE.search(text):
                parser.error(f"'{shown_name(text)}' is not UTF-8 text (only file names may hold other bytes)")
