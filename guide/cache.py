"""A cache of checked banks, so `guide run` does not parse, validate and check an unchanged bank.

Parsing and checking the built-in bank costs more than everything else `guide run` does, and
the checks need networkx, whose import alone is most of the command's start-up. A bank that
loaded with every check passing is pickled under a key made of the bank's bytes and of the code
that reads and checks banks, so a change to either misses the cache and the bank is loaded from
its files again.

Loading a pickle runs code, so the cache only reads a file that the current user owns, in a
folder the user owns, neither writable by anyone else; anything else, and any file that fails to
load, is ignored. The pickled bank has no parsed `documents` (only `guide lint` uses them, and it
loads with `check=False`, which never uses the cache).

Where: $GUIDE_HOME/cache, else $XDG_CACHE_HOME/guide, else ~/.cache/guide; the KEEP most recently
stored banks are kept. GUIDE_NO_CACHE=1 turns the cache off.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from guide import __version__
from guide.files import write_atomically

if TYPE_CHECKING:
    from guide.bank import Bank

# The modules that decide what a loaded, checked bank is.
CODE = ("model.py", "source.py", "bank.py", "graph.py", "cache.py")
# Banks kept; storing another removes the oldest, so banks in passing folders do not pile up.
KEEP = 8


def cache_dir() -> Path:
    if os.environ.get("GUIDE_HOME"):
        return Path(os.environ["GUIDE_HOME"]) / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "guide"


def cache_key(content_digest: str) -> str | None:
    """The cache file name for a bank with these contents, or None when caching is off."""
    if os.environ.get("GUIDE_NO_CACHE"):
        return None
    key = hashlib.sha256(f"{content_digest}\0{__version__}\0{sys.version}\0".encode())
    package = Path(__file__).resolve().parent
    for name in CODE:
        key.update((package / name).read_bytes())
    return f"bank-{key.hexdigest()[:32]}.pickle"


def _private(path: Path) -> bool:
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def load_cached(key: str | None) -> Bank | None:
    if key is None:
        return None
    path = cache_dir() / key
    if not (_private(path.parent) and _private(path)):
        return None
    try:
        with open(path, "rb") as stream:
            bank = pickle.load(stream)
    except Exception:  # a damaged or outdated cache file is only a missed cache
        return None
    from guide.bank import Bank

    return bank if isinstance(bank, Bank) else None


def store(key: str | None, bank: Bank) -> None:
    """Best effort: a cache that cannot be written is not an error."""
    if key is None:
        return
    folder = cache_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            return
        data = pickle.dumps(dataclasses.replace(bank, documents={}), protocol=pickle.HIGHEST_PROTOCOL)
        write_atomically(folder / key, data, private=True)
        stored = sorted(folder.glob("bank-*.pickle"), key=lambda path: path.stat().st_mtime_ns, reverse=True)
        for old in stored[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        return
