"""What the terminal app remembers between runs besides the design: the light or dark theme and the
folder of the last export. A small YAML file beside the session (`preferences.yaml` in the state
folder); it is only a convenience, so one that cannot be read or written is ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

import guide
from guide.files import write_atomically
from guide.report.frontmatter import dump_yaml
from guide.source import GuideError, read_yaml, validate
from guide.state import session_dir

PREFERENCES_FILE = "preferences.yaml"
# The folder that holds the package: a checkout, or site-packages. An export belongs elsewhere.
INSTALLED_AT = Path(guide.__file__).resolve().parent.parent


class Preferences(BaseModel):
    model_config = ConfigDict(extra="ignore")

    theme: Literal["light", "dark"] | None = None
    export_folder: str | None = None


def preferences_path() -> Path:
    return session_dir() / PREFERENCES_FILE


def load_preferences() -> Preferences:
    path = preferences_path()
    if not path.is_file():
        return Preferences()
    try:
        return validate(read_yaml(path), Preferences)
    except GuideError:
        return Preferences()


def remember(**changes: str) -> None:
    """Keep these preferences with the others, for the next run."""
    current = load_preferences().model_copy(update=changes)
    try:
        preferences_path().parent.mkdir(parents=True, exist_ok=True)
        write_atomically(preferences_path(), dump_yaml(current.model_dump(exclude_none=True), for_people=True))
    except OSError:
        pass  # the app works the same without them; the next run starts from the defaults


def export_folder(cwd: Path | None = None) -> Path:
    """Where an export goes unless the user says otherwise: the folder of the last export while it exists,
    else the current folder unless it is where guide is installed, else ~/Documents, else the home folder."""
    remembered = load_preferences().export_folder
    if remembered and Path(remembered).is_dir():
        return Path(remembered)
    here = (cwd or Path.cwd()).resolve()
    if not here.is_relative_to(INSTALLED_AT):
        return here
    documents = Path.home() / "Documents"
    return documents if documents.is_dir() else Path.home()
