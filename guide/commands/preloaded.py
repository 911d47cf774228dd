"""Browser tabs' apps forked from one preloaded process, for `guide serve`.

Started as a fresh Python each, every tab's app imported Textual and the guide, loaded the bank and
parsed its stylesheet on its own: about 60 MiB and a second of CPU per student. Here one process does
that work once, before the server's event loop starts, and forks each tab's app from itself. A fork
shares the preloaded pages with its parent until it writes them (`gc.freeze()` keeps the collector from
writing them), and is still a process of its own: a crash or hostile input in one tab reaches no other.

The server asks over a Unix socket, passing the tab's pipes as file descriptors (SCM_RIGHTS); the
preloaded process answers with a pidfd of the new app, through which the server waits for it and kills it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import select
import signal
import socket
import sys
import sysconfig
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guide.bank import Bank

REAP_INTERVAL = 1.0  # seconds between looks for ended apps, so none stays a zombie for long
# Process names (as `ps` and `top` show them), so an instructor can tell the processes of `guide serve` apart.
PRELOADED_NAME, APP_NAME = "guide-preload", "guide-tab"


class PreloadedApps:
    """The server's handle on the preloaded process; `start` it before any event loop or thread exists."""

    def __init__(self) -> None:
        self._socket: socket.socket | None = None
        self._pid = 0
        self._lock = threading.Lock()  # one request and its answer at a time on the one socket

    def start(self, bank: Bank, environment: dict[str, str]) -> None:
        """Fork the preloaded process. `environment` is what every app runs with (Textual reads its
        settings when it is imported)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush(), sys.stderr.flush()
        self._pid = os.fork()
        if self._pid == 0:
            ours.close()
            _serve_forks(theirs, bank, environment)  # never returns
        theirs.close()
        self._socket = ours

    async def open_app(self, columns: int, rows: int, tab: str | None = None) -> ForkedApp:
        """A new app for a tab of this size (and this name, `BROWSER_TAB`, if the page gave one), its standard
        streams connected to the returned process."""
        if self._socket is None:
            raise ConnectionError("the preloaded process was not started")
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        theirs, ours = [stdin_read, stdout_write, stderr_write], [stdin_write, stdout_read, stderr_read]
        request = json.dumps({"columns": columns, "rows": rows, "tab": tab}).encode()
        asking = asyncio.get_running_loop().run_in_executor(None, self._ask, request, theirs)
        try:
            pidfd = await asyncio.shield(asking)
        except asyncio.CancelledError:
            # The tab went (the server is ending) while the thread asks. It may still send these pipes: closed now,
            # their numbers could name another tab's pipes by then, handed to an app no one waits for. They are
            # closed once it is done, and the app it started is ended.
            asking.add_done_callback(lambda asked: _end_unwanted(asked, theirs + ours))
            raise
        except BaseException as error:
            _close(theirs + ours)
            if isinstance(error, OSError):  # the preloaded process is gone: it must not stay a zombie
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(self._pid, os.WNOHANG)
            raise
        _close(theirs)  # the app holds its ends now; the pipes end when the app does
        return await ForkedApp.connect(pidfd, *ours)

    def _ask(self, request: bytes, fds: list[int]) -> int:
        with self._lock:
            socket.send_fds(self._socket, [request], fds)
            answer, pidfds, _, _ = socket.recv_fds(self._socket, 64, 1)
        if not pidfds:
            raise ConnectionError(f"the preloaded process could not start an app: {answer.decode(errors='replace')}")
        return pidfds[0]


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def _end_unwanted(asked: asyncio.Future, fds: list[int]) -> None:
    """Once the preloaded process has answered for a tab that is gone: the tab's pipes closed, and the app it
    started killed (no one will wait for it or ask it to quit)."""
    _close(fds)
    if not asked.cancelled() and asked.exception() is None:
        _end_app(asked.result())


def _end_app(pidfd: int) -> None:
    """Kill the app behind `pidfd` (the preloaded process reaps it) and close the pidfd."""
    with contextlib.suppress(ProcessLookupError):
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    os.close(pidfd)


class ForkedApp:
    """A forked app, as much of `asyncio.subprocess.Process` as textual-serve's AppService uses."""

    def __init__(self, pidfd: int, stdin: asyncio.StreamWriter, stdout: asyncio.StreamReader,
                 stderr: asyncio.StreamReader) -> None:
        self.pidfd, self.stdin, self.stdout, self.stderr = pidfd, stdin, stdout, stderr
        self.returncode: int | None = None
        self._ended = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().add_reader(pidfd, self._on_end)  # a pidfd turns readable when its process ends

    @classmethod
    async def connect(cls, pidfd: int, stdin: int, stdout: int, stderr: int) -> ForkedApp:
        """The app behind `pidfd`, its streams made from its pipes. Cancelled meanwhile (the tab is gone), it closes
        the pipes and the pidfd and ends the app: no one else holds them."""
        loop = asyncio.get_running_loop()
        stdin_file, stdout_file, stderr_file = open(stdin, "wb", 0), open(stdout, "rb", 0), open(stderr, "rb", 0)
        transports: list[asyncio.BaseTransport] = []

        async def reader(file) -> asyncio.StreamReader:
            stream = asyncio.StreamReader(limit=2 ** 16)
            transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), file)
            transports.append(transport)
            return stream

        try:
            transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, stdin_file)
            transports.append(transport)
            writer = asyncio.StreamWriter(transport, protocol, None, loop)
            return cls(pidfd, writer, await reader(stdout_file), await reader(stderr_file))
        except BaseException:
            for transport in transports:
                transport.close()  # stops watching its pipe at once, so the pipe can be closed now
            for file in (stdin_file, stdout_file, stderr_file):
                file.close()
            _end_app(pidfd)
            raise

    def _on_end(self) -> None:
        asyncio.get_running_loop().remove_reader(self.pidfd)
        os.close(self.pidfd)
        self.stdin.close()
        self.returncode = -1  # not its parent, the server cannot learn the status; that it ended is enough
        self._ended.set_result(self.returncode)

    async def wait(self) -> int:
        return await asyncio.shield(self._ended)

    def kill(self) -> None:
        if self._ended.done():
            raise ProcessLookupError("the app has ended")
        signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)


# --- the preloaded process -----------------------------------------------------------------------

def _serve_forks(requests: socket.socket, bank: Bank, environment: dict[str, str]) -> None:
    """Preload, then fork an app for every request until the server is gone."""
    _name_process(PRELOADED_NAME)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the server's terminal is the server's to handle
    os.environ.update(environment)
    prepare_to_fork()
    status = 0
    try:
        while True:
            ready, _, _ = select.select([requests], [], [], REAP_INTERVAL)
            _reap()
            if not ready:
                continue
            request, fds, _, _ = socket.recv_fds(requests, 1024, 3)
            if not request:
                break  # the server has ended
            try:
                pidfd = _fork_app(requests, bank, json.loads(request), fds)
            except OSError as error:
                socket.send_fds(requests, [str(error).encode()], [])
            else:
                socket.send_fds(requests, [b"started"], [pidfd])
                os.close(pidfd)
            finally:
                for fd in fds:
                    os.close(fd)
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        os._exit(status)


def prepare_to_fork() -> None:
    """Import what every app imports, then leave the heap as each tab should inherit it: collected, immortal where
    the interpreter has immortal objects, kept from the collector (`gc.freeze()`), and offered to the kernel's page
    merging."""
    _preload()
    gc.collect()
    make_immortal()
    gc.freeze()
    mark_mergeable()


def _preload() -> None:
    """Import here, once, what every app imports, down to what Textual and Rich import only as a screen
    is first drawn, so that no app holds a copy of its own."""
    import importlib

    from rich.cells import cell_len

    from guide.model import build_deferred_models
    from guide.tui.app import LATER_IMPORTS

    for module in (*LATER_IMPORTS, "textual.drivers.web_driver", "guide.tui.web", "textual.layouts.factory",
                   "textual.layouts.horizontal", "textual.layouts.stream", "textual.scrollbar"):
        importlib.import_module(module)
    build_deferred_models()
    cell_len("→ ░")  # loads Rich's table of character widths


def immortal_mark() -> int:
    """The low 32 bits of the reference count CPython itself gives an object it makes immortal (PEP 683): all ones
    in 3.12 and 3.13; from 3.14 3 << 30, the middle of the immortal range, whose debug build takes a count near
    2**32 for freed memory."""
    return 0xFFFFFFFF if sys.version_info < (3, 14) else 3 << 30


def make_immortal() -> int:
    """Make every object this process holds immortal, where the interpreter has immortal objects; how many were made.

    A tab copies the pages of the objects it inherits when it writes them, and Python writes the reference count
    of every object it reads: a tab forked after a bare `gc.freeze()` copied most of the preloaded heap. Since
    3.12 CPython leaves the count of an immortal object alone (PEP 683, whose case is this one: a server that
    preloads, then forks). No API makes an object immortal, so its count is written here, through ctypes, where
    `immortal_objects_supported` found that it lives and is honoured. Every object reachable from the collector's
    is made so, code objects' constants and names included, and each string's hash is computed on the way, which
    a tab would otherwise write too. These objects are then never freed; the preloaded process holds all of them
    for as long as it runs anyway, and a tab that drops one leaves it on a page it shares.
    """
    if not immortal_objects_supported():
        return 0
    import ctypes
    from types import CodeType

    mark, made, waiting = immortal_mark(), 0, gc.get_objects()
    while waiting:
        item = waiting.pop()
        count = ctypes.c_uint32.from_address(id(item))
        if count.value >= 0x80000000:  # immortal already (or reached before): None, small ints, interned strings
            continue
        count.value = mark
        made += 1
        if type(item) is str:
            hash(item)
        if isinstance(item, CodeType):  # a code object is not the collector's, so it names no referents
            waiting.extend((*item.co_consts, *item.co_names, *item.co_varnames, *item.co_cellvars, *item.co_freevars,
                            item.co_filename, item.co_name, item.co_qualname, item.co_linetable,
                            item.co_exceptiontable))
        else:
            waiting.extend(gc.get_referents(item))
    return made


def immortal_objects_supported() -> bool:
    """Whether this interpreter keeps an object's reference count in the first 32 bits of the object and leaves it
    alone once they hold `immortal_mark`: CPython 3.12 and later with the global interpreter lock (a free-threaded
    build keeps its counts elsewhere), 64-bit and little-endian (a 32-bit build marks an immortal count with 30
    bits, which the 32 written here would turn into -1; a big-endian one keeps the low half second). Tried on an
    object of its own before any other is touched."""
    if sys.implementation.name != "cpython" or sys.version_info < (3, 12):
        return False
    if sys.maxsize < 2**63 - 1 or sys.byteorder != "little":
        return False
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        return False
    import ctypes

    probe, mark = [None], immortal_mark()
    count = ctypes.c_uint32.from_address(id(probe))
    mortal = count.value
    more = [probe] * 3  # three references, seen in the count itself: 3.14's sys.getrefcount misses borrowed ones
    if count.value != mortal + 3:  # not a reference count where one was looked for
        return False
    del more
    count.value = mark  # if it is not honoured, this one list is never freed
    more = [probe] * 3  # three more references, which an honoured count does not record
    return count.value == mark and more[0] is probe


MADV_MERGEABLE = 12  # madvise(2): the kernel's page merging (KSM) may merge this range's identical pages
KSM_RUN = "/sys/kernel/mm/ksm/run"  # 1 while the kernel merges pages


def mark_mergeable() -> None:
    """Offer the kernel's page merging (KSM) every private writable mapping of this process: its heap,
    pymalloc's arenas, the writable data of libpython and of extension modules.

    A forked tab copies most of the pages it inherits (Python writes reference counts and warm-up counters
    into the code and objects it runs through), yet many copies end byte-identical to the parent's or to
    other tabs' copies. With KSM on (/sys/kernel/mm/ksm/run is 1), the kernel merges such pages back into
    one; forks inherit the mark on every mapping. With KSM off the mark does nothing. A system that refuses
    it loses only the saving, so a failure is skipped quietly. (Marking every mapping a tab makes later as
    well, which root may with prctl(PR_SET_MEMORY_MERGE), merged no more in a class of 20: docs/classroom-server.md.)
    """
    import ctypes

    try:
        madvise = ctypes.CDLL(None).madvise
        maps = Path("/proc/self/maps").read_text().splitlines()
    except (OSError, AttributeError):  # no /proc, or a C library without madvise
        return
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    for line in maps:
        addresses, permissions = line.split()[:2]
        if permissions == "rw-p":  # KSM never merges shared or read-only mappings
            start, end = (int(address, 16) for address in addresses.split("-"))
            madvise(start, end - start, MADV_MERGEABLE)  # refused (a kernel without KSM): that mapping is not merged


def page_merging_off() -> bool:
    """Whether the kernel could merge tabs' identical pages but is told not to: its page merging (KSM) is
    built in and off. GUIDE_KSM_RUN names another file than the kernel's switch (tests use their own)."""
    try:
        return Path(os.environ.get("GUIDE_KSM_RUN", KSM_RUN)).read_text().strip() != "1"
    except OSError:  # no KSM in this kernel, or no /sys: nothing to turn on
        return False


def _name_process(name: str) -> None:
    with contextlib.suppress(OSError):  # a name is a convenience; a system without /proc runs without it
        with open("/proc/self/comm", "w") as comm:
            comm.write(name)


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _fork_app(requests: socket.socket, bank: Bank, request: dict, fds: list[int]) -> int:
    pid = os.fork()
    if pid == 0:
        requests.close()
        _run_app(bank, request, fds)  # never returns
    return os.pidfd_open(pid)  # before the next _reap, so the pid still names this app


def _run_app(bank: Bank, request: dict, fds: list[int]) -> None:
    """In the forked child: become the app of the tab the server's `request` describes (its columns, rows and
    name), on the tab's pipes, and end with it."""
    status = 1
    try:
        _name_process(APP_NAME)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # nothing of the server or of other tabs stays open
        # Standard streams as a freshly started Python would make them on these pipes.
        sys.stdin = sys.__stdin__ = open(0, "r", encoding="utf-8", closefd=False)
        sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", errors="backslashreplace",
                                           closefd=False, buffering=1)
        os.environ["COLUMNS"], os.environ["ROWS"] = str(request["columns"]), str(request["rows"])
        if request.get("tab"):
            from guide.session import BROWSER_TAB_VARIABLE

            os.environ[BROWSER_TAB_VARIABLE] = request["tab"]
        from guide.tui.app import GuideApp

        app = GuideApp(bank)
        app.run()
        status = app.return_code or 0
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)
