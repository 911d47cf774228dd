"""Where guide keeps its state: the state folder, and the designs folder in it that the library owns.

Where the state folder is (first that applies):
  $GUIDE_HOME
  $XDG_STATE_HOME/guide (when it is an absolute path)
  ~/.local/state/guide

Below `guide.files`, which keeps every document it writes out of the designs folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from guide.source import GuideError

DESIGNS = "designs"


def home_folder() -> Path | None:
    """The user's home: $HOME, else the password database's entry; None when there is neither (no HOME and
    a user id missing from /etc/passwd, as in some containers), where `~` would stay a folder named `~`."""
    home = os.path.expanduser("~")
    return None if home == "~" else Path(home)


def xdg_folder(variable: str) -> Path | None:
    """The folder an XDG base-directory variable names, or None when it is unset or relative: the XDG Base
    Directory spec has a relative path ignored (it would put the state in whatever folder guide starts in)."""
    value = os.environ.get(variable, "")
    return Path(value) if os.path.isabs(value) else None


def session_dir() -> Path:
    if os.environ.get("GUIDE_HOME"):
        return Path(os.environ["GUIDE_HOME"])
    if (state := xdg_folder("XDG_STATE_HOME")) is not None:
        return state / "guide"
    home = home_folder()
    if home is None:
        raise GuideError("~", None, None, f"no home folder to save the design in (HOME is not set and user id "
                                          f"{os.getuid()} has no entry in the password database); set HOME or GUIDE_HOME")
    return home / ".local" / "state" / "guide"


def designs_dir() -> Path:
    return session_dir() / DESIGNS
