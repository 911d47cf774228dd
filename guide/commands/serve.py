"""`guide serve`: the terminal app in a browser, for a classroom where students only have a browser.

Every browser tab gets an app process of its own, so each student gets their own walk: forked from one
preloaded process (see `guide.commands.preloaded`), or, should that process be gone, started by
textual-serve with the same Python that runs this command. Documents the app exports reach the student
as downloads.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from guide.frontend import PasteFilter
from guide.source import GuideError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_SESSIONS = 150  # each tab is an app process of 20-35 MiB of its own (docs/classroom-server.md)
DEFAULT_SESSION_DAYS = 30.0
# A terminal a browser may ask for: a 4K screen at a small font is about 400 x 120 cells. A client asking
# for more (or for nonsense) gets the nearest bound instead: one absurd frame could hold the app for minutes.
COLUMNS = (10, 500)
ROWS = (5, 200)
QUIT_GRACE = 5.0  # seconds an app has to end once its browser is gone, before it is killed
SEAT_WAIT = QUIT_GRACE + 1.0  # by then a closing tab's app has ended or been killed, and its seat is free
# A reloaded page's websocket comes about when the old page's closes, at times before the server sees that close:
# a full class waits this long for a tab to start closing before it refuses a websocket.
RELOAD_GRACE = 2.0


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "serve", parents=[common], help="serve the app to web browsers",
        description="Serve the guide app over HTTP so it can be used in a web browser: every browser tab gets "
                    "its own app. Bind to 0.0.0.0 (--host) to let other machines of a classroom connect; the "
                    "app has no login, so do that only on a network you trust.",
    )
    parser.add_argument("--host", type=_host, default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port to listen on (default: {DEFAULT_PORT})")
    parser.add_argument("--public-url", metavar="URL", type=_web_address(origin=False), default=None,
                        help="the address browsers use, when it is not the one they connected to (behind a proxy)")
    parser.add_argument("--max-sessions", metavar="N", type=_positive(int), default=DEFAULT_MAX_SESSIONS,
                        help=f"browser tabs served at once; one more is shown a page saying the class is full "
                             f"(default: {DEFAULT_MAX_SESSIONS})")
    parser.add_argument("--allow-origin", metavar="URL", type=_web_address(origin=True), action="append", default=[],
                        help="a web page address (scheme://host[:port]) besides this server's own that may open "
                             "sessions; repeat for several")
    parser.add_argument("--session-days", metavar="DAYS", type=_positive(float), default=DEFAULT_SESSION_DAYS,
                        help="remove a browser tab's saved design this many days after its last answer "
                             f"(default: {DEFAULT_SESSION_DAYS:g})")
    parser.set_defaults(handler=run)


def _host(text: str) -> str:
    # An empty host (an unset variable in a class's script, say) would listen on every interface, v4 and v6.
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty address would listen on every interface: name one "
                                         f"(default {DEFAULT_HOST}; 0.0.0.0 for every machine of a classroom)")
    return text


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def _web_address(origin: bool):
    """An http(s) address as browsers name it: an address that is not one would never match a page, and the
    pages it let in would be refused with no hint why. An origin (`scheme://host[:port]`) has no path."""
    def parse(text: str) -> str:
        parts = urlsplit(text.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise argparse.ArgumentTypeError(f"'{text}' is not a web address (http://host[:port] or https://...)")
        if (origin and parts.path.strip("/")) or parts.query or parts.fragment:
            shape = "scheme://host[:port]" if origin else "scheme://host[:port][/path]"
            raise argparse.ArgumentTypeError(f"'{text}' has more than {shape}")
        return text
    return parse


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} is not above 0")
        return value
    return parse


def app_command(bank: Path | None) -> str:
    """The shell command textual-serve runs for each browser tab: this Python, this bank. `exec` makes the
    app the process textual-serve holds, so ending that process ends the app, not only a shell around it."""
    words = [sys.executable, "-m", "guide"]
    if bank is not None:
        words += ["--bank", str(bank.resolve())]
    return "exec " + shlex.join(words)


def app_environment() -> dict[str, str]:
    """What textual-serve runs every app with (its driver, colours, frame rate); each tab's size is added later."""
    from textual_serve.app_service import AppService

    unused = AppService("", write_bytes=None, write_str=None, close=None, download_manager=None)
    environment = unused._build_environment()
    del environment["COLUMNS"], environment["ROWS"]
    return environment


def run(args: argparse.Namespace) -> int:
    from guide.commands.preloaded import PreloadedApps
    from guide.frontend import load_bank_option
    from guide.session import browser_sessions_dir

    bank = load_bank_option(args)  # a broken bank fails here, once, not in every tab
    browser_sessions_dir()  # so does a machine with no folder for the tabs' designs
    preloaded = PreloadedApps()
    preloaded.start(bank, app_environment())
    server = make_server(app_command(args.bank), args.host, args.port, args.public_url, bank.meta.title,
                         Limits(args.max_sessions, tuple(args.allow_origin), args.session_days * 86400), preloaded)
    try:
        server.serve()
    except OSError as error:  # the port is another server's, or the host no address of this machine
        reason = (error.strerror or str(error)).rsplit(": ", 1)[-1]
        raise GuideError(f"{args.host}:{args.port}", None, None, f"cannot listen here: {reason}") from None
    return 0


@dataclass(frozen=True)
class Limits:
    max_sessions: int = DEFAULT_MAX_SESSIONS
    allowed_origins: tuple[str, ...] = ()
    session_seconds: float = DEFAULT_SESSION_DAYS * 86400


def bounded(value, limits: tuple[int, int]) -> int:
    """A terminal dimension a client sent, as a number within `limits` (the lower bound for nonsense)."""
    low, high = limits
    try:
        return min(max(int(value), low), high)
    except (TypeError, ValueError, OverflowError):
        return low


# What a browser's page sends over the websocket: the message type and whether it carries data.
BROWSER_MESSAGES = {"stdin": True, "resize": True, "ping": True, "blur": False, "focus": False}


def browser_message(text: str) -> tuple[str, object] | None:
    """A websocket text message as the page sends it, `[type, data]`, or None for anything else (the
    message is then ignored, not the end of the tab)."""
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        return None
    if not (isinstance(envelope, list) and envelope and isinstance(envelope[0], str)
            and envelope[0] in BROWSER_MESSAGES):
        return None
    kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
    if BROWSER_MESSAGES[kind] and len(envelope) < 2:
        return None
    if kind == "stdin" and not isinstance(data, str):
        return None
    if kind == "resize" and not (isinstance(data, dict) and "width" in data and "height" in data):
        return None
    return kind, data


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased, as a browser sends it in an Origin header."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def content_disposition(disposition: str, file_name: str) -> str:
    """RFC 6266: an ASCII `filename` for old clients and the exact name as UTF-8 in `filename*`, so that
    spaces, quotes, semicolons or non-ASCII letters in a name can neither break nor extend the header."""
    fallback = "".join(char if char.isascii() and char.isprintable() and char not in '"\\' else "_"
                       for char in file_name)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def unless_gone(send):
    """`send` to a browser, doing nothing once the browser is gone. textual-serve stops reading an app's
    output when a send fails; an app left writing to a full pipe is blocked forever, unable even to
    see the quit it is sent. Its output is read, and dropped, to the end instead."""
    async def send_unless_gone(data) -> None:
        with contextlib.suppress(ConnectionError):
            await send(data)
    return send_unless_gone


# Both settings the documented saving was measured with (the kernel scans 100 pages a round by default, too
# few for a class). pyproject names no project URL, and a pip install ships no docs/: the project's docs are named.
PAGE_MERGING_OFF = ("Tabs would share more of their memory with the kernel's page merging (KSM) on: "
                    "echo 1000 | sudo tee /sys/kernel/mm/ksm/pages_to_scan; echo 1 | sudo tee /sys/kernel/mm/ksm/run "
                    "(see the project's docs/classroom-server.md, \"The kernel's page merging\")")

# Under Python 3.11 a tab writes the reference count of every object it reads, so it copies the preloaded pages it
# reads; 3.12 and later leave the preloaded objects alone once they are immortal (preloaded.make_immortal).
OLDER_PYTHON = ("Under Python {version} every tab copies most of the memory it inherits from the preloaded process; "
                "served from Python 3.12 or newer, a student takes about a quarter less memory "
                "(see the project's docs/classroom-server.md, \"One process per tab\")")

FULL_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>The class is full</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>The class is full</h1>
<p>This server already serves {count} browser tabs, as many as it is set to. This page tries again by itself
every few seconds and opens the app once someone has closed a tab; or ask the instructor to raise
<code>--max-sessions</code>.</p>
<p id="kept" hidden>This tab's designs are kept on the server: they are offered again once it is in.</p>
<script>
  // A tab with a name (the app's page drew it) was reloaded or lost its connection: its own place is most likely
  // on its way back (a browser asks for the new page before the old one has closed its session), so it tries
  // again after a second. A new tab waits longer between tries.
  const named = /^[0-9a-f]{{32}}$/.test(sessionStorage.getItem("guide-tab") || "");
  document.getElementById("kept").hidden = !named;
  setTimeout(() => location.reload(), named ? 1000 : 10000);
</script>
</body></html>
"""


def make_server(command: str, host: str, port: int, public_url: str | None, title: str, limits: Limits = Limits(),
                preloaded=None):
    import asyncio  # here, not at the top: every command module is imported on every start, and asyncio costs 40 ms

    from aiohttp import WSMsgType, web
    from textual_serve.app_service import AppService
    from textual_serve.server import LOGO, Server, log

    from guide.commands.preloaded import PRELOADED_NAME, immortal_objects_supported, page_merging_off
    from guide.session import BROWSER_TAB, BROWSER_TAB_VARIABLE, expire_browser_sessions
    from guide.source import one_line

    class GuideAppService(AppService):
        """One tab's app; it keeps within the terminal bounds and never outlives its browser. `tab` is the name
        the tab's page gave itself (`BROWSER_TAB`), which leads a reloaded tab's app to the tab's design."""

        tab: str | None = None

        async def start(self, width: int, height: int) -> None:
            await super().start(bounded(width, COLUMNS), bounded(height, ROWS))

        def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
            environment = super()._build_environment(width, height)
            if self.tab is not None:
                environment[BROWSER_TAB_VARIABLE] = self.tab
            return environment

        async def _open_app_process(self, width: int = 80, height: int = 24):
            if preloaded is not None:
                try:
                    self._process = await preloaded.open_app(width, height, self.tab)
                    self._stdin = self._process.stdin
                    return self._process
                except OSError as error:  # ConnectionError included: the preloaded process is gone
                    log.warning("starting the app without the preloaded process: %s", error)
            return await super()._open_app_process(width, height)

        async def set_terminal_size(self, width, height) -> None:
            await super().set_terminal_size(bounded(width, COLUMNS), bounded(height, ROWS))

        async def run(self) -> None:
            await super().run()
            # An app that ended without saying so (killed, crashed) would leave its tab a frozen screen: the
            # browser is told the session is over, as when the app quits.
            await self.remote_close()

        async def stop(self) -> None:
            # The grace period times the process, not textual-serve's stop: that waits on a task which
            # swallows its cancellation, so a timeout around it would never fire.
            quitting = asyncio.create_task(super().stop())  # asks the app to quit and reads its output to the end
            process = self._process
            if process is not None:
                try:
                    await asyncio.wait_for(process.wait(), QUIT_GRACE)
                except asyncio.TimeoutError:
                    with contextlib.suppress(ProcessLookupError):  # ended on its own meanwhile
                        process.kill()  # an app that does not quit when asked must not keep its memory forever
                    await process.wait()
            await quitting

    class GuideServer(Server):
        """A textual-serve Server with a classroom's limits.

        textual-serve writes `http://HOST:PORT` into the page as the websocket address; with
        `--host 0.0.0.0` that address is unusable from a student's machine. Unless a public URL is
        given, each page is built for the host name the browser asked for.
        """

        sessions = 0
        closing = 0  # sessions whose browser has gone and whose app is ending: each gives its seat back soon
        seats: asyncio.Condition  # made in `_make_app`, in the server's loop; told whenever a seat comes back

        async def on_startup(self, app: web.Application) -> None:
            """Nothing: textual-serve prints its banner here, before the server listens (see `serve`)."""

        def serve(self, debug: bool = False) -> None:
            """textual-serve's own, except that the banner is printed once the server listens (aiohttp's `print`
            comes after the bind), so that a port in use or a host that is no address is the one-line error alone."""
            self.debug = debug
            self.initialize_logging()
            loop = asyncio.get_event_loop()
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(number, self.request_exit)
            web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop,
                        print=lambda _running: self.banner())

        def banner(self) -> None:
            """textual-serve's banner, saying how tabs' apps start: it would name the command, which runs
            only should the preloaded process be gone."""
            how = f"started as {self.command}" if preloaded is None else (
                f"forked from the preloaded process ({PRELOADED_NAME}), or started as {self.command} "
                f"should that process be gone")
            self.console.print(LOGO, highlight=False)
            self.console.print(f"Serving {title} on {self.public_url}: every browser tab gets an app process of its "
                               f"own, {how}", highlight=False, markup=False)
            if preloaded is not None and not immortal_objects_supported():
                version = ".".join(map(str, sys.version_info[:2]))
                self.console.print(OLDER_PYTHON.format(version=version), highlight=False, markup=False)
            if preloaded is not None and page_merging_off():
                self.console.print(PAGE_MERGING_OFF, highlight=False, markup=False)
            self.console.print("\n[cyan]Press Ctrl+C to quit")

        def full(self) -> bool:
            return self.sessions >= limits.max_sessions

        async def seat_free(self) -> bool:
            """Whether a session may start. A full class waits for the seats its closing tabs are giving back: a
            reloaded page's websocket comes as its old one closes, and must not find the class full because of its
            own seat."""
            async with self.seats:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.seats.wait_for(lambda: not self.full() or self.closing), RELOAD_GRACE)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.seats.wait_for(lambda: not (self.full() and self.closing)), SEAT_WAIT)
            return not self.full()

        async def seats_changed(self, sessions: int = 0, closing: int = 0) -> None:
            async with self.seats:
                self.sessions += sessions
                self.closing += closing
                self.seats.notify_all()

        def full_page(self) -> web.Response:
            return web.Response(status=503, text=FULL_PAGE.format(count=self.sessions), content_type="text/html",
                                headers={"Retry-After": "60"})

        def origin_allowed(self, request: web.Request) -> bool:
            """A browser names the page that opens a websocket; any other site's page (one a student has open
            in another tab) must not start sessions here. A client that is no browser sends no Origin."""
            origin = request.headers.get("Origin")
            if origin is None:
                return True
            allowed = {origin_of(item) for item in (*limits.allowed_origins, *filter(None, [public_url]))}
            allowed.add(f"{request.scheme}://{request.host}".lower())  # the page this server gave the browser
            return origin_of(origin) in allowed

        async def _process_messages(self, websocket: web.WebSocketResponse, app_service: AppService) -> None:
            """textual-serve's own, except that a message no browser page sends is logged in one line and
            ignored: it raised, which logged a traceback and ended the tab. A paste's control characters are
            taken out (`PasteFilter`)."""
            pastes = PasteFilter()
            async for message in websocket:
                if message.type == WSMsgType.BINARY:
                    log.warning("ignored a binary websocket message (a browser page sends text): %d bytes",
                                len(message.data))
                    continue
                if message.type == WSMsgType.ERROR:  # a message over aiohttp's 4 MiB, say: the connection is closed
                    log.warning("a tab's websocket failed, which ends the tab: %s", one_line(str(message.data)))
                    continue
                if message.type != WSMsgType.TEXT:
                    continue
                parsed = browser_message(message.data)
                if parsed is None:
                    log.warning("ignored a websocket message no browser page sends: %s", one_line(message.data[:80]))
                    continue
                kind, data = parsed
                if kind == "stdin":
                    await app_service.send_bytes(pastes.feed(data).encode("utf-8", "replace"))
                elif kind == "resize":
                    await app_service.set_terminal_size(data["width"], data["height"])
                elif kind == "ping":
                    await websocket.send_json(["pong", data])
                elif kind == "blur":
                    await app_service.blur()
                else:
                    await app_service.focus()

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            self.seats = asyncio.Condition()
            # The page's websocket names its tab, so that a reloaded tab's app finds the tab's design.
            app.router.add_get(f"/ws/{{tab:{BROWSER_TAB.pattern}}}", self.handle_websocket)
            return app

        async def handle_index(self, request):
            # No waiting for a seat here: a reloading browser closes its old page's session only once this
            # page has come (the full page then tries again by itself).
            if self.full():
                return self.full_page()
            if public_url is None:
                # No await happens before the page is rendered, so no other request sees this value.
                self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

        async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
            """textual-serve's own, with GuideAppService, the limits checked before anything starts, and
            old browser sessions swept away as a new one begins."""
            if not self.origin_allowed(request):
                return web.Response(status=403, text=f"websocket from {request.headers['Origin']} refused: "
                                                     f"not this server's page (see --allow-origin)")
            if not await self.seat_free():
                return self.full_page()
            websocket = web.WebSocketResponse(heartbeat=15)
            if not websocket.can_prepare(request).ok:
                # A plain GET (a browser opening the address, a health check) would raise in prepare().
                log.warning("refused a request to %s that is not a websocket upgrade", request.path)
                return web.Response(status=400, text="this address takes websocket connections only; "
                                                     "open the page at / instead\n")
            self.sessions += 1
            try:
                expire_browser_sessions(limits.session_seconds)
                app_service = GuideAppService(self.command, write_bytes=unless_gone(websocket.send_bytes),
                                              write_str=unless_gone(websocket.send_str), close=websocket.close,
                                              download_manager=self.download_manager, debug=self.debug)
                app_service.tab = request.match_info.get("tab")
                try:
                    await websocket.prepare(request)
                    if app_service.tab is not None:
                        # The page adds it to its downloads' addresses (`?instance=`): a proxy in front of several
                        # servers sends them, by the tab's name, to the server running the tab's app.
                        await websocket.send_json(["instance_id", app_service.tab])
                    await app_service.start(request.query.get("width", 80), request.query.get("height", 24))
                    await self._process_messages(websocket, app_service)
                except asyncio.CancelledError:
                    await websocket.close()
                except Exception as error:
                    log.exception(error)
                finally:
                    await self.seats_changed(closing=1)
                    await app_service.stop()
                    await self.seats_changed(closing=-1)
                return websocket
            finally:
                await self.seats_changed(sessions=-1)

        async def handle_download(self, request: web.Request) -> web.StreamResponse:
            """textual-serve's own, with a Content-Disposition that any file name survives."""
            key = request.match_info["key"]
            try:
                download = await self.download_manager.get_download_metadata(key)
            except KeyError:
                raise web.HTTPNotFound(text="no such download") from None
            response = web.StreamResponse()
            response.headers["Content-Type"] = download.mime_type + (
                f"; charset={download.encoding}" if download.encoding else "")
            response.headers["Content-Disposition"] = content_disposition(
                "inline" if download.open_method == "browser" else "attachment", download.file_name)
            await response.prepare(request)
            async for chunk in self.download_manager.download(key):
                await response.write(chunk)
            await response.write_eof()
            return response

    # A page of guide's own: textual-serve's asks fonts.googleapis.com for its font.
    return GuideServer(command, host=host, port=port, title=title, public_url=public_url,
                       templates_path=Path(__file__).with_name("serve_page"))
