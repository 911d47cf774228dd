"""The state folder's files and the library's folder in it (`guide.places` says where they are, `guide.session`
what the files are).

Kept apart from the sessions and the library, which need the bank's models, so that the app can tell
whether there are designs to list before it imports them (an empty library needs no bank to show).
"""

from __future__ import annotations

import os
from pathlib import Path

from guide.files import UnsafeFolder, open_private_folder
from guide.places import designs_dir, session_dir
from guide.source import GuideError

SESSION_FILE = "session.yaml"
SUFFIX = ".yaml"


def session_path() -> Path:
    """Where guide kept its one design before the library (`guide.library` moves it in)."""
    return session_dir() / SESSION_FILE


def make_private_folder(folder: Path, *, create: bool = True) -> None:
    """Create the session folder if missing (without `create`, a missing one is FileNotFoundError, once the
    folders above it are checked). A GuideError when it, or a folder above it, is one another user could change
    (a shared XDG_STATE_HOME): they could read the design, or replace it with theirs."""
    try:
        os.close(open_private_folder(Path(os.path.realpath(folder)), create=create))
    except UnsafeFolder as error:
        raise GuideError(error.folder, None, None, f"{error.reason}, so a design saved there is not private; "
                                                   "set GUIDE_HOME to a folder of your own") from None


def design_files(folder: Path) -> list[Path]:
    """The designs in the library's folder."""
    return [path for path in folder.glob(f"*{SUFFIX}") if not path.name.startswith(".")]


def library_is_empty() -> bool:
    """No design to list: no single session of earlier versions waits to be moved in, and the library's folder
    is missing or holds none. Nothing is made: a look at an empty library leaves the state folder as it was.
    False whenever that cannot be told, or the folder is not the user's alone (opening the library says why)."""
    try:
        old = session_path()
        if old.is_file() or old.is_symlink():
            return False
        folder = designs_dir()
        make_private_folder(folder, create=False)
        return not design_files(folder)
    except FileNotFoundError:
        return True
    except (GuideError, OSError):
        return False
