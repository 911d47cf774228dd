"""One module per `guide` subcommand."""

import argparse
from pathlib import Path

ANSWERS_HELP = "answers file (YAML), a session the app saved, or design document (.md or .json)"


def input_path(text: str) -> Path:
    """A file or folder to read, as argparse takes it: Path("") would silently be the current folder, and
    `-` a file named `-`, where a user may expect standard input."""
    if not text:
        raise argparse.ArgumentTypeError("the path is empty")
    if text == "-":
        raise argparse.ArgumentTypeError("standard input is not accepted: give a file name")
    return Path(text)
