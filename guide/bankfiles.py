"""Which files make a bank, and the hash of their bytes: what the bank cache is keyed by.

Kept apart from `guide.bank` and its models, so that the terminal app can find a checked bank in the
cache, and paint its start screen, before it imports pydantic and the models.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator

from guide.source import GuideError, read_limited

# The files of a bank besides its folders, in the order they are read (`guide.bank.BANK_FILES` gives each its model).
BANK_FILE_NAMES = ("bank.yaml", "elements.yaml", "rules.yaml", "needs.yaml", "methods.yaml", "references.yaml")
FLOW_DIR = "flow"
CASES_DIR = "cases"
PRECEDENTS_DIR = "precedents"


def _builtin_bank() -> Path:
    # A wheel carries the bank inside the package; a source checkout keeps it at the top level.
    packaged = Path(__file__).resolve().parent / "_bank"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "questions"


BUILTIN_BANK = _builtin_bank()


def bank_files(directory: Path) -> Iterator[Path]:
    for name in BANK_FILE_NAMES:
        yield directory / name
    yield from sorted((directory / FLOW_DIR).glob("*.yaml"))
    yield from sorted((directory / PRECEDENTS_DIR).glob("*.yaml"))


def missing_file_problem(path: Path) -> str | None:
    """Why a bank file is not there to be read, or None when it is."""
    if path.exists():
        return None
    if path.is_symlink():
        return "a link to nothing: its target is missing, or the links loop"
    return "required bank file is missing"


def folder_problems(directory: Path) -> list[tuple[Path, str]]:
    """A bank's folders that are something else, and files in them that are not read for their name."""
    problems = []
    for name in (FLOW_DIR, CASES_DIR, PRECEDENTS_DIR):
        folder = directory / name
        if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
            problems.append((folder, f"{name} must be a folder of .yaml files"))
        elif folder.is_dir():
            problems += [(path, f"not read: the bank reads only files ending in .yaml (rename it to {path.stem}.yaml)")
                         for path in sorted(folder.glob("*.yml"))]
    return problems


def content_digest(directory: Path) -> str:
    """The hash of every bank file's name and bytes (`Bank.content_hash` is its start)."""
    digest = hashlib.sha256()
    for path in bank_files(directory):
        name = path.relative_to(directory).as_posix().encode() + b"\0"
        try:
            digest.update(name + read_limited(path) + b"\0")
        except GuideError as error:
            # Hashed too, so a bank with a file it cannot read never matches the cached bank without that
            # file: the loader then reports the file.
            digest.update(name + b"cannot be read: " + error.problem.encode() + b"\0")
    return digest.hexdigest()
