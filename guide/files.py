"""Writing files so that a crash, a kill or a full disk never leaves half a file behind."""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from pathlib import Path

STALE_AFTER_SECONDS = 600


def write_atomically(path: Path, data: str | bytes, *, private: bool = False) -> None:
    """Write to a temporary file beside `path`, flush and fsync it, rename it over `path`, fsync the folder.

    Readers see the old file or the new one, never a mix. A `private` file stays readable by its owner
    only (mkstemp's 0600); otherwise it gets the permissions the user's umask gives any new file.
    """
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def move_aside(path: Path, suffix: str) -> Path:
    """Rename `path` to the first free name of `path` + suffix, then + suffix + ".1", ".2", ...

    Never over an existing file: a hard link claims the new name (and fails if the name is taken,
    even when another process took it a moment ago), then the old name is removed.
    """
    names = (path.with_name(path.name + suffix + (f".{number}" if number else "")) for number in itertools.count())
    for target in names:
        try:
            os.link(path, target, follow_symlinks=False)
        except FileExistsError:
            continue
        break
    path.unlink()
    _fsync_folder(path.parent)
    return target


def remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files a killed writer left beside `path`.

    Only old ones: a temporary file younger than STALE_AFTER_SECONDS may belong to a writer that is
    still running in another process.
    """
    cutoff = time.time() - STALE_AFTER_SECONDS
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass


def _fsync_folder(folder: Path) -> None:
    # The rename is only durable once the folder's entry is on disk too (POSIX; a no-op elsewhere).
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
