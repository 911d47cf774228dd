"""What the terminal app remembers between runs besides the design: the light or dark theme and the
folder of the last export. A small YAML file beside the session (`preferences.yaml` in the state
folder); it is only a convenience, so one that cannot be read or written is ignored.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import guide
from guide.files import write_atomically
from guide.source import GuideError
from guide.state import session_dir

PREFERENCES_FILE = "preferences.yaml"
# The folder that holds the package: a checkout, or site-packages. An export belongs elsewhere.
INSTALLED_AT = Path(guide.__file__).resolve().parent.parent


THEMES = ("light", "dark")


# A dataclass, not a pydantic model: the app reads the theme before its first paint, which pydantic's
# import would delay by tens of milliseconds.
@dataclass(frozen=True)
class Preferences:
    theme: str | None = None  # one of THEMES
    export_folder: str | None = None

    @classmethod
    def from_data(cls, data: object) -> Preferences:
        """The preferences a file holds; the defaults when it holds anything else. Unknown keys are ignored."""
        if not isinstance(data, dict):
            return cls()
        theme, folder = data.get("theme"), data.get("export_folder")
        if theme not in (None, *THEMES) or not (folder is None or isinstance(folder, str)):
            return cls()
        return cls(theme, folder)


def preferences_path() -> Path:
    return session_dir() / PREFERENCES_FILE


def load_preferences() -> Preferences:
    path = preferences_path()
    if not path.is_file():
        return Preferences()
    try:
        from guide.yamlfile import read_yaml  # PyYAML: not imported before the app's first paint without a file to read

        return Preferences.from_data(read_yaml(path).data)
    except GuideError:
        return Preferences()


def remember(**changes: str) -> None:
    """Keep these preferences with the others, for the next run."""
    from guide.yamlfile import dump_yaml  # PyYAML, which the app's first paint does not need

    current = dataclasses.asdict(dataclasses.replace(load_preferences(), **changes))
    try:
        preferences_path().parent.mkdir(parents=True, exist_ok=True)
        kept = {key: value for key, value in current.items() if value is not None}
        write_atomically(preferences_path(), dump_yaml(kept, for_people=True))
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
