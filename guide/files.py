"""Writing files so that a crash, a kill or a full disk never leaves half a file behind, and writing
documents wherever the user points: a file, a link, a FIFO or device, standard output."""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from guide.places import designs_dir
from guide.source import GuideError, read_as, shown_name

STALE_AFTER_SECONDS = 600
STDOUT = "-"
# Bytes that are not UTF-8 in a file name or the environment reach Python's strings as lone surrogates.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


class UnsafeFolder(OSError):
    """A folder another user could change: what is in it may not be the user's own."""

    def __init__(self, folder: Path, reason: str) -> None:
        super().__init__(f"{folder}: {reason}")
        self.folder, self.reason = folder, reason


def open_private_folder(folder: Path, *, create: bool) -> int:
    """A descriptor of `folder`, a folder of the user's that no one else can write, reached from `/` down
    one folder inside the other without following links (nothing checked by path can be swapped before
    it is opened). Every folder above must belong to root or the user and be writable by no one else,
    unless sticky, as /tmp is. UnsafeFolder (an OSError) names the first folder that is not so; any other
    OSError (a missing folder) is left to the caller. With `create`, missing folders are made, `folder`
    itself 0700. Links above `folder` (a ~/.cache on another disk) are resolved first; a link in
    `folder`'s own place is not followed.
    """
    names = [*Path(os.path.realpath(folder.parent)).parts[1:], folder.name]
    reached = Path("/")
    descriptor = os.open(reached, FOLDER_FLAGS)
    try:
        for index, name in enumerate(names):
            _check_owner(reached, os.fstat(descriptor), above=True)
            outer, descriptor = descriptor, -1
            try:
                mode = (0o700 if index == len(names) - 1 else 0o777) if create else None
                descriptor = _open_folder_inside(outer, name, mode)
            finally:
                os.close(outer)
            reached /= name
        _check_owner(reached, os.fstat(descriptor), above=False)
    except BaseException:
        if descriptor >= 0:
            os.close(descriptor)
        raise
    return descriptor


def _check_owner(folder: Path, info: os.stat_result, *, above: bool) -> None:
    owners = (0, os.getuid()) if above else (os.getuid(),)
    if info.st_uid not in owners:
        raise UnsafeFolder(folder, f"belongs to another user (uid {info.st_uid})")
    # Above, a sticky folder's entries cannot be moved by others; the folder itself must be the user's alone.
    if info.st_mode & OTHERS_WRITE and not (above and info.st_mode & stat.S_ISVTX):
        raise UnsafeFolder(folder, "other users can write in it")


def _open_folder_inside(folder: int, name: str, mode: int | None) -> int:
    """Open the folder `name` inside `folder`, never through a link; make it with `mode` if missing and given."""
    try:
        return os.open(name, FOLDER_FLAGS, dir_fd=folder)
    except FileNotFoundError:
        if mode is None:
            raise
    with contextlib.suppress(FileExistsError):  # another guide made it meanwhile
        os.mkdir(name, mode, dir_fd=folder)
    return os.open(name, FOLDER_FLAGS, dir_fd=folder)


def write_output(text: str, out: Path | None, *, updating: Path | None = None) -> None:
    """Write a document to `out`, or to standard output when `out` is None or `-`; a GuideError naming
    `out` when it cannot be written.

    A regular file or a new path is written atomically, so a failed write never leaves half a document.
    A link is followed and the file it names is written, so the link stays a link. Anything else (a FIFO,
    /dev/null or another device) is written through, never replaced; a FIFO that nothing reads is an error
    instead of a wait (the app must not freeze on it, nor a command hang).

    A file this process read is never replaced (the user's input would be lost), except `updating`: a
    design document rewritten in its own format, which carries everything it held. Nothing is written
    into the designs folder (`refuse_designs_folder`).
    """
    if out is None or str(out) == STDOUT:
        write_stream(sys.stdout, text)
        return
    refuse_designs_folder(out)
    target = Path(os.path.realpath(out))
    try:
        try:  # `out`, not `target`: /dev/stdout on a pipe is a link to a node that realpath() cannot name
            info: os.stat_result | None = os.stat(out)
        except FileNotFoundError:
            info = None
        if info is None or stat.S_ISREG(info.st_mode):
            source = read_as(info) if info is not None else None
            if source is not None and not (updating is not None and os.path.samestat(os.stat(updating), info)):
                raise GuideError(out, None, None, f"is the same file as the input {shown_name(source)}; "
                                                  "write to another file so that the input is kept")
            if not target.parent.is_dir():
                raise GuideError(out, None, None, "the folder to write into does not exist")
            write_atomically(target, as_utf8(text), mode=None if info is None else stat.S_IMODE(info.st_mode))
        elif stat.S_ISDIR(info.st_mode):
            raise GuideError(out, None, None, "is a folder; give a file name")
        else:
            _write_through(out, as_utf8(text).encode("utf-8"))
    except BrokenPipeError:  # the reader of a pipe or FIFO went away (`| head`): not an error of ours
        raise
    except OSError as error:
        if error.errno == errno.ENXIO:  # a FIFO opened without waiting, no reader
            raise GuideError(out, None, None, "nothing is reading from this FIFO") from None
        if error.errno == errno.ENOENT:  # a folder of the path is missing, or takes no new files (/proc)
            raise GuideError(out, None, None, "the folder to write into does not exist or takes no new "
                                              "files") from None
        raise GuideError(out, None, None, error.strerror or "cannot be written") from None


def refuse_designs_folder(out: Path, what: str = "document") -> None:
    """A GuideError when `out` is in the designs folder, however it is reached (links, `..`, another mount
    of it): a file written there would replace a saved design, or be listed as a broken one. `what` names
    what was to be written there ("document", "schemas"), for the message."""
    try:
        designs = os.stat(designs_dir())
    except (GuideError, OSError):  # no home, or no designs folder yet: nothing there to keep
        return
    target = Path(os.path.realpath(out))
    for folder in (target, *target.parents):
        with contextlib.suppress(OSError):
            if os.path.samestat(os.stat(folder), designs):
                raise GuideError(out, None, None, f"is in {shown_name(designs_dir())}, the folder that holds guide's "
                                                  f"saved designs; write the {what} elsewhere")


def _write_through(path: Path, data: bytes) -> None:
    # No O_CREAT: the node exists, and is written, not replaced. O_NONBLOCK: a FIFO without a reader is ENXIO.
    descriptor = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC | os.O_NONBLOCK)
    os.set_blocking(descriptor, True)
    with open(descriptor, "wb") as stream:
        stream.write(data)


def write_stream(stream: TextIO, text: str) -> None:
    """Write and flush; a stream that cannot take it (`> /dev/full`, a full disk) is a GuideError.

    A reader that went away (BrokenPipeError) is left to the caller. After a failure the stream's
    descriptor is pointed at /dev/null, so what is still buffered does not fail again, with a
    traceback, when Python exits.
    """
    try:
        stream.write(as_utf8(text))
        stream.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        discard(stream)
        where = "standard output" if stream is sys.stdout else getattr(stream, "name", "output")
        raise GuideError(where, None, None, error.strerror or "cannot be written") from None


def discard(stream: TextIO) -> None:
    """Send whatever is still written to `stream` to /dev/null."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def as_utf8(text: str) -> str:
    """`text` with the lone surrogates of undecodable names as U+FFFD, so that it can be written as UTF-8."""
    return LONE_SURROGATE.sub("\ufffd", text)


def user_path(typed: str) -> Path:
    """A path as the user typed it, with `~` and `~user` expanded; a GuideError when there is no such home."""
    try:
        return Path(typed).expanduser()
    except RuntimeError:
        raise GuideError(typed, None, None, "no home folder for this ~ (no such user?)") from None


def write_atomically(path: Path, data: str | bytes, *, mode: int | None = None) -> None:
    """Write to a temporary file beside `path`, flush and fsync it, rename it over `path`, fsync the folder.

    Readers see the old file or the new one, never a mix. The file gets `mode`, or else the permissions
    the user's umask gives any new file.
    """
    handle, temporary = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _temporary_prefix(path: Path) -> str:
    """How the names of `path`'s temporary files start: its name, cut so that what mkstemp adds (8 characters and
    .tmp) still fits in a file name: a name of 255 bytes, which a file system takes, failed as "too long"."""
    return f".{os.fsdecode(os.fsencode(path.name)[:200])}."


def remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files a killed writer left beside `path`.

    Only old ones: a temporary file younger than STALE_AFTER_SECONDS may belong to a writer that is
    still running in another process.
    """
    cutoff = time.time() - STALE_AFTER_SECONDS
    for leftover in path.parent.glob(f"{glob.escape(_temporary_prefix(path))}*.tmp"):  # a name may hold [ or *
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
