"""Where guide keeps its state, and the library's folder in it (`guide.session` says what the files are).

Where the state folder is (first that applies):
  $GUIDE_HOME
  $XDG_STATE_HOME/guide
  ~/.local/state/guide

Kept apart from the sessions and the library, which need the bank's models, so that the app can tell
whether there are designs to list before it imports them (an empty library needs no bank to show).
"""

from __future__ import annotations

import os
from pathlib import Path

from guide.files import UnsafeFolder, home_folder, open_private_folder
from guide.source import GuideError

SESSION_FILE = "session.yaml"
DESIGNS = "designs"
SUFFIX = ".yaml"


def session_dir() -> Path:
    if os.environ.get("GUIDE_HOME"):
        return Path(os.environ["GUIDE_HOME"])
    if os.environ.get("XDG_STATE_HOME"):
        return Path(os.environ["XDG_STATE_HOME"]) / "guide"
    home = home_folder()
    if home is None:
        raise GuideError("~", None, None, f"no home folder to save the design in (HOME is not set and user id "
                                          f"{os.getuid()} has no entry in the password database); set HOME or GUIDE_HOME")
    return home / ".local" / "state" / "guide"


def session_path() -> Path:
    """Where guide kept its one design before the library (`guide.library` moves it in)."""
    return session_dir() / SESSION_FILE


def designs_dir() -> Path:
    return session_dir() / DESIGNS


def make_private_folder(folder: Path) -> None:
    """Create the session folder if missing. A GuideError when it, or a folder above it, is one another user
    could change (a shared XDG_STATE_HOME): they could read the design, or replace it with theirs."""
    try:
        os.close(open_private_folder(Path(os.path.realpath(folder)), create=True))
    except UnsafeFolder as error:
        raise GuideError(error.folder, None, None, f"{error.reason}, so a design saved there is not private; "
                                                   "set GUIDE_HOME to a folder of your own") from None


def design_files(folder: Path) -> list[Path]:
    """The designs in the library's folder."""
    return [path for path in folder.glob(f"*{SUFFIX}") if not path.name.startswith(".")]


def library_is_empty() -> bool:
    """No design to list: the library's folder (made if missing, as opening the library does) holds none, and no
    single session of earlier versions waits to be moved in. False whenever that cannot be told, or the folder
    is not the user's alone (the library then says why)."""
    try:
        folder = designs_dir()
        make_private_folder(folder)
        old = session_path()
        return not (old.is_file() or old.is_symlink() or design_files(folder))
    except (GuideError, OSError):
        return False
