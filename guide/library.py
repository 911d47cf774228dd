"""The library of saved designs: each design its own session file in `designs/` of the state folder.

  designs/<name>.yaml       one design, written as `guide.session` writes a session (atomically)
  designs/<name>.yaml.lock  held by the guide that has the design open (`SessionLock`), gone after

A name is made from the title when a design is created (lower-case letters, digits and dashes, made
unique with -2, -3, ...) and stays when the design is renamed, so `guide --plain --design NAME` keeps
finding it. A name given by the user is one plain file name in that folder, nothing else: no `/`, no
leading dot, no control characters (spaces, capitals and any letters are fine: the user chose the name,
and guide quotes it where it says how to go on); `NAME.yaml` is the same design as `NAME`.

The single `session.yaml` that guide kept before there was a library is moved into it the first time
the library is opened, whatever it holds: a broken one is listed as broken, not lost.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from guide.bank import Bank
from guide.model import AnswersFile, SessionFile
from guide.report.text import inert, shown_title
from guide.session import OtherBankSession, SessionLock, Walk, changed, load_session, new_title, save_session
from guide.source import GuideError, shown_name, validate
from guide.state import SUFFIX, design_files, designs_dir, library_is_empty, make_private_folder, session_path
from guide.yamlfile import read_yaml

NAME_LENGTH = 40


def open_library() -> Path:
    """The designs folder, made (private) if missing, with the single session of earlier versions moved in.
    A GuideError when the state folder is not the user's alone, or the folder cannot be made."""
    folder = designs_dir()
    try:
        make_private_folder(folder)
    except OSError as error:
        raise GuideError(folder, None, None, f"cannot make the designs folder: {error.strerror or error}") from None
    old = session_path()
    if old.is_file() or old.is_symlink():
        target = reserve(folder, title_of(old))
        try:
            os.replace(old, target)  # over the empty file just reserved for it
        except FileNotFoundError:  # another guide moved it a moment ago
            target.unlink()
        except OSError as error:
            target.unlink()
            raise GuideError(old, None, None, f"cannot move the saved design into {folder}: "
                                              f"{error.strerror or error}") from None
    return folder


def title_of(path: Path) -> str:
    """The title saved in a session file, or '' when it cannot be read."""
    try:
        return validate(read_yaml(path), SessionFile).title
    except GuideError:
        return ""


def name_from_title(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", shown_title(title).lower()).strip("-")[:NAME_LENGTH].strip("-")
    return slug or "design"


def reserve(folder: Path, title: str) -> Path:
    """A new, empty design file named after `title`; created exclusively, so that two guides never take one name."""
    stem = name_from_title(title)
    number = 1
    while True:
        path = folder / f"{stem}{'' if number == 1 else f'-{number}'}{SUFFIX}"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
            return path
        except FileExistsError:
            number += 1
        except OSError as error:
            raise GuideError(path, None, None, f"cannot create the design: {error.strerror or error}") from None


def design_path(name: str) -> Path:
    """The file of the design called `name` (with or without .yaml); a GuideError when the name could
    reach outside the folder or be mistaken for something else."""
    stem = name.removesuffix(SUFFIX)
    # A space at either end would make two names that list alike (' knee' and 'knee').
    if (not stem or stem != Path(stem).name or stem.startswith(".") or not stem.isprintable() or len(stem) > 200
            or stem != stem.strip()):
        raise GuideError(designs_dir(), None, None, f"'{shown_name(name)[:60]}' is not a design name: a name is one "
                                                    "plain file name in the designs folder, with no '/', no leading "
                                                    "dot, no control characters, no space at either end and at most "
                                                    "200 characters")
    return open_library() / f"{stem}{SUFFIX}"


@dataclass(frozen=True)
class Design:
    """One file of the library as it reads with this bank: a walk to resume, or why it cannot be resumed."""

    path: Path
    walk: Walk | None
    problem: GuideError | None
    changed: float | None  # seconds since the epoch; None when the file cannot be looked at

    @property
    def changed_text(self) -> str:
        """When the design was last changed, in local time, for people (and the designs listing)."""
        return "unknown" if self.changed is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(self.changed))

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(SUFFIX)

    @property
    def title(self) -> str:
        if self.walk is not None:
            return self.walk.answers.title
        if isinstance(self.problem, OtherBankSession):
            return self.problem.saved.title
        return self.name

    @property
    def kind(self) -> str:
        if self.walk is not None:
            return "finished" if not self.walk.unanswered else "unfinished"
        return "other bank" if isinstance(self.problem, OtherBankSession) else "broken"

    @property
    def state(self) -> str:
        """The state in words, for people."""
        if self.walk is not None:
            left = self.walk.left_in_words()
            return f"unfinished, {left}" if left else "finished"
        if isinstance(self.problem, OtherBankSession):
            return f"saved with question bank '{inert(self.problem.saved.bank_id)}'"
        return f"broken ({self.problem_text})"

    @property
    def problem_text(self) -> str:
        """Why the design cannot be read, with the line and field where the file says them."""
        assert self.problem is not None
        where = f"line {self.problem.line}: " if self.problem.line else ""
        field = f"{inert(self.problem.field)}: " if self.problem.field else ""
        return f"{where}{field}{inert(self.problem.problem)}"


def read_design(bank: Bank, path: Path) -> Design:
    changed = None
    for look in (path.stat, path.lstat):  # a link to nothing still has a time of its own
        with contextlib.suppress(OSError):
            changed = look().st_mtime
            break
    try:
        return Design(path, load_session(bank, path), None, changed)
    except GuideError as error:
        return Design(path, None, error, changed)


def list_designs(bank: Bank) -> list[Design]:
    """Every design in the library, the most recently changed first. A listing makes no folder: an empty
    library is said without opening it (a state folder others could change is still said, by `open_library`)."""
    if library_is_empty():
        return []
    return newest_first(read_design(bank, path) for path in design_files(open_library()))


def newest_first(designs: Iterable[Design]) -> list[Design]:
    return sorted(designs, key=lambda design: (-(design.changed or 0.0), design.name))


def new_design_file(title: str) -> Path:
    """A new file of the library for a design called `title`; a GuideError when the designs folder cannot be
    made, said before anything is asked, since no answer could be saved."""
    return reserve(open_library(), title)


def refuse_unresumable(design: Design, action: str) -> None:
    """A GuideError, in the listing's words, when this bank cannot resume the design to be `action` (duplicated,
    renamed): broken, with its problem, or saved with another bank."""
    if design.walk is None:
        raise GuideError(design.path, None, None, f"cannot be {action} here: it is {design.state}")


def duplicate_design(design: Design) -> Path:
    refuse_unresumable(design, "duplicated")
    copy = Walk(design.walk.bank, design.walk.answers, design.walk.position, drafts=design.walk.drafts)
    with contextlib.suppress(ValueError):  # a title at its length limit already: the copy keeps it
        copy.retitle(f"{copy.answers.title} (copy)")
    path = reserve(open_library(), copy.answers.title)
    try:
        return save_session(copy, path)
    except GuideError:
        with contextlib.suppress(OSError):
            path.unlink()
        raise


def refuse_unrenamable(design: Design) -> None:
    """`refuse_unresumable`, except for a design broken by its title alone (one edited by hand past its length
    limit): a new title mends it, and nothing else in the app could."""
    if not (design.problem is not None and design.problem.field == "title"
            and not isinstance(design.problem, OtherBankSession)):
        refuse_unresumable(design, "renamed")


def rename_design(design: Design, title: str, bank: Bank) -> None:
    """Give a design a new title (its file keeps its name); refused while another guide has it open. The file is
    read again with the new title in place of the saved one, so a title that broke it is mended, and any other
    problem still refuses the rename, with the file as it was."""
    refuse_unrenamable(design)
    title = new_title(title, design.title)
    changed(AnswersFile(), title=title)  # told as the title typed (ValueError), whatever the file holds now
    with SessionLock(design.path):
        walk = load_session(bank, design.path, title=title)
        save_session(walk, design.path)


def refuse_undeletable(design: Design) -> None:
    """A GuideError saying what the design's path is when it is a folder (`dir.yaml/`, listed as broken): guide
    removes files, not folders and what they hold."""
    with contextlib.suppress(OSError):
        if stat.S_ISDIR(design.path.lstat().st_mode):
            raise GuideError(design.path, None, None, "is a folder, not a design's file: guide does not delete "
                                                      "folders; remove it yourself if it is not wanted")


def delete_design(design: Design) -> None:
    """Remove a design's file (its lock file goes when the lock is let go); refused while another guide has
    it open."""
    refuse_undeletable(design)
    with SessionLock(design.path):
        try:
            design.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as error:
            raise GuideError(design.path, None, None, f"cannot delete it: {error.strerror or error}") from None
