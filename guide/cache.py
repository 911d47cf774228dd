"""A cache of checked banks, so `guide run` does not parse, validate and check an unchanged bank.

Parsing and checking the built-in bank costs more than everything else `guide run` does, and
the checks need networkx, whose import alone is most of the command's start-up. A bank that
loaded with every check passing is pickled under a key made of the bank's bytes and of the code
that reads and checks banks, so a change to either misses the cache and the bank is loaded from
its files again. The pickled bank has no parsed `documents` (only `guide lint` uses them, and it
loads with `check=False`, which never uses the cache). `guide.load` decides what is stored and what
kind of object it expects back; this module knows nothing of banks, so it sits below the loader.
An entry may be several pickles one after the other, each read back by its place: the bank is stored
after its elements at a glance, which the app's start screen reads without importing the models.

Loading a pickle runs code, so an entry is only unpickled once it proves it was written by this
user: each is signed (HMAC-SHA256 over its name and bytes) with a random key that only the user
can read. A file put in the cache's place by anyone else, by a race on a folder above it or
otherwise, fails the signature and is only a missed cache; the bank is loaded from its files and
the entry written again. A data-only format would need the bank validated again on every load,
which is the cost the cache exists to avoid; pickle is the fast way back to the same objects.

Nothing is opened by a path that could change between a check and an open. The folders from `/`
down are opened one inside the other without following links, and each must belong to root or the
user and be writable by no one else (unless sticky, as /tmp is); the cache folder, which the tool
creates 0700, and every file in it must be the user's, and the files readable by no one else. Files
are opened inside the folder's descriptor without following links and without blocking (a FIFO
must not hang `guide run`), checked with fstat and read from the descriptor. Links above the cache
folder (a ~/.cache on another disk) are resolved first, then the real folders are checked.

Where: $GUIDE_HOME/cache, else $XDG_CACHE_HOME/guide (when absolute: the XDG spec ignores a relative one),
else ~/.cache/guide; the KEEP most recently stored banks are kept. GUIDE_NO_CACHE=1 (or true, yes, on) turns
the cache off.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import pickle
import stat
import sys
from pathlib import Path
from typing import TypeVar

from guide import __version__
from guide.files import open_private_folder
from guide.places import home_folder, xdg_folder

# The modules that decide what a loaded, checked bank is.
CODE = ("model.py", "source.py", "yamlfile.py", "bankfiles.py", "bank.py", "graph.py", "load.py", "cache.py")
# Banks kept; storing another removes the oldest, so banks in passing folders do not pile up.
KEEP = 8
SIGNING_KEY_FILE = "signing-key"
SIGNING_KEY_BYTES = 32
SIGNATURE_BYTES = hashlib.sha256().digest_size
TRUE_WORDS = ("1", "true", "yes", "on")

READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
OTHERS_ANY = stat.S_IRWXG | stat.S_IRWXO

Entry = TypeVar("Entry")


def cache_dir() -> Path | None:
    """Where the cache is; None, and no cache, when there is no home to put it in."""
    if os.environ.get("GUIDE_HOME"):
        return Path(os.environ["GUIDE_HOME"]) / "cache"
    if (cache := xdg_folder("XDG_CACHE_HOME")) is not None:
        return cache / "guide"
    home = home_folder()
    return None if home is None else home / ".cache" / "guide"


def cache_key(content_digest: str) -> str | None:
    """The cache file name for a bank with these contents, or None when caching is off."""
    if os.environ.get("GUIDE_NO_CACHE", "").strip().lower() in TRUE_WORDS:
        return None
    key = hashlib.sha256(f"{content_digest}\0{__version__}\0{sys.version}\0".encode())
    package = Path(__file__).resolve().parent
    for name in CODE:
        key.update((package / name).read_bytes())
    return f"bank-{key.hexdigest()[:32]}.pickle"


def load_cached(key: str | None, kind: type[Entry], part: int = 0) -> Entry | None:
    """The entry stored under `key` (its `part`-th, when several were stored together) if it is a `kind`;
    None when there is none, or none to be trusted. The parts before it are unpickled too, the ones after
    it not: a small part first can be read without what the large one would import."""
    if key is None:
        return None
    folder = _open_cache_folder(create=False)
    if folder is None:
        return None
    try:
        signing_key, signed = _read_signing_key(folder), _read_private(folder, key)
    finally:
        os.close(folder)
    if signing_key is None or signed is None:
        return None
    signature, data = signed[:SIGNATURE_BYTES], signed[SIGNATURE_BYTES:]
    if not hmac.compare_digest(signature, _sign(signing_key, key, data)):
        return None
    stream = io.BytesIO(data)
    try:
        for _ in range(part + 1):
            entry = pickle.load(stream)
    except Exception:  # the user's own entry, pickled with other versions of the libraries: only a missed cache
        return None
    return entry if isinstance(entry, kind) else None


def store(key: str | None, *entries: object) -> None:
    """Store `entries` together, each read back by its place (`load_cached`'s `part`). Best effort: a cache
    that cannot be written is not an error."""
    if key is None:
        return
    folder = _open_cache_folder(create=True)
    if folder is None:
        return
    try:
        signing_key = _read_signing_key(folder)
        if signing_key is None:
            # Two first runs at once each write a key; entries signed with the one replaced are only missed once.
            signing_key = os.urandom(SIGNING_KEY_BYTES)
            _write_private(folder, SIGNING_KEY_FILE, signing_key)
        data = b"".join(pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL) for entry in entries)
        _write_private(folder, key, _sign(signing_key, key, data) + data)
        _remove_oldest(folder)
    except OSError:
        return
    finally:
        os.close(folder)


def _read_signing_key(folder: int) -> bytes | None:
    signing_key = _read_private(folder, SIGNING_KEY_FILE)
    return signing_key if signing_key is not None and len(signing_key) == SIGNING_KEY_BYTES else None


def _sign(signing_key: bytes, key: str, data: bytes) -> bytes:
    # The name is signed too, so a good entry cannot stand in for another bank's.
    return hmac.digest(signing_key, key.encode() + b"\0" + data, "sha256")


def _open_cache_folder(create: bool) -> int | None:
    """A descriptor of the cache folder, or None when it, or a folder on its way, is missing or not safe.

    With `create`, missing folders are made (the cache folder itself 0700).
    """
    folder = cache_dir()
    if folder is None:
        return None
    try:
        return open_private_folder(folder, create=create)
    except OSError:
        return None


def _read_private(folder: int, name: str) -> bytes | None:
    """The bytes of a regular file of the user's that no one else can read or write, else None."""
    try:
        with open(os.open(name, READ_FLAGS, dir_fd=folder), "rb") as stream:
            info = os.fstat(stream.fileno())
            if not (stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & OTHERS_ANY):
                return None
            return stream.read()
    except OSError:
        return None


def _write_private(folder: int, name: str, data: bytes) -> None:
    """Write a new 0600 file and rename it over `name`, all inside the folder's descriptor.

    Not fsynced: a file a crash leaves torn fails its signature, which is only a missed cache.
    """
    temporary = f".{name}.{os.urandom(8).hex()}.tmp"
    descriptor = os.open(temporary, CREATE_FLAGS, 0o600, dir_fd=folder)
    try:
        with open(descriptor, "wb") as stream:
            stream.write(data)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        os.unlink(temporary, dir_fd=folder)
        raise


def _remove_oldest(folder: int) -> None:
    entries = [name for name in os.listdir(folder) if name.startswith("bank-") and name.endswith(".pickle")]
    entries.sort(key=lambda name: os.stat(name, dir_fd=folder, follow_symlinks=False).st_mtime_ns, reverse=True)
    for name in entries[KEEP:]:
        os.unlink(name, dir_fd=folder)
