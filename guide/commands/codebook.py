"""`guide codebook`: the question bank as a Markdown codebook for instructors."""

from __future__ import annotations

import argparse

from guide.commands import add_out_option, input_path


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "codebook", parents=[common], help="write the question bank as a Markdown codebook",
        description="Write a Markdown codebook of a question bank: every question with its help, its choices, "
                    "when it is asked, and which elements, method families and needs each choice moves.",
    )
    parser.add_argument("directory", metavar="DIR", type=input_path, nargs="?", default=None,
                        help="bank directory (default: --bank, else the built-in bank)")
    add_out_option(parser, ("md",), "md")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from guide.bankfiles import BUILTIN_BANK
    from guide.codebook import render_codebook
    from guide.files import write_output
    from guide.load import load_bank

    write_output(render_codebook(load_bank(args.directory or args.bank or BUILTIN_BANK)), args.out)
    return 0
