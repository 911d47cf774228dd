"""`guide serve`: the app in a browser, as a student in a classroom meets it.

Everything runs on the loopback interface. The browser test drives Debian's Chromium through the
Python `playwright` package (never `playwright install`) and skips when either is missing; the
websocket smoke test needs no browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from textual.cache import FIFOCache
from textual.strip import Strip

from guide.commands.preloaded import APP_NAME, PRELOADED_NAME
from guide.commands.serve import app_command
from guide.engine import route
from guide.session import SessionLock
from guide.tui.app import GuideApp

from .conftest import ROOT, free_port, missing_tool, run_guide
from .test_custom_bank import mini_bank  # noqa: F401 - a fixture: the small bank of test_custom_bank

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
NEVER = r"(?!)"  # a pattern nothing matches: read_until(NEVER, limit=1) reads one message
DOWNLOAD_NAME = 'Bericht "Prüfung"; Ü'  # quotes, a semicolon, non-ASCII letters: each can break a header
STARTUP_TRIES = 300  # 0.1 s apart: a slow machine gets time, a broken server still fails the test


def _wait_for(predicate, tries: int = STARTUP_TRIES):
    for _ in range(tries):
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def serve(tmp_path):
    """Start `guide serve [ARGS]` on a free loopback port and return the port; every server started is
    stopped afterwards. GUIDE_HOME (tmp_path/guide-home unless `home` is given) keeps the real home untouched;
    `environment` adds variables."""
    servers: list[subprocess.Popen] = []

    def start(*args: str, home: Path | None = None, environment: dict[str, str] | None = None,
              python: str = sys.executable) -> int:
        port = free_port()
        environment = {**os.environ, "GUIDE_HOME": str(home or tmp_path / "guide-home"), **(environment or {})}
        log = tmp_path / f"serve-{port}.log"  # a file, not a pipe: a pipe nobody reads could stall the server
        with log.open("wb") as output:
            server = subprocess.Popen([python, "-m", "guide", "serve", "--host", "127.0.0.1",
                                       "--port", str(port), *args],
                                      cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT)
        servers.append(server)

        def listening() -> bool:
            if server.poll() is not None:
                return True  # exited: reported below
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        _wait_for(listening)
        if server.poll() is not None:
            pytest.fail(f"guide serve exited: {log.read_text(errors='replace')}")
        return port

    yield start
    for server in servers:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


WALK_AFTER_THE_PRELOAD = """
import asyncio, sys
from guide.commands.preloaded import _preload
from guide.load import load_bank
_preload()
from pydantic._internal._mock_val_ser import MockValSer
from guide.model import Strict
models, deferred = [Strict], []
while models:
    model = models.pop()
    models += model.__subclasses__()
    if isinstance(model.__pydantic_validator__, MockValSer):
        deferred.append(model.__name__)
bank = load_bank()
from guide.tui.app import GuideApp
before = set(sys.modules)

async def walk():
    app = GuideApp(bank)
    async with app.run_test(size=(100, 40)) as pilot:
        app.open_preset("dr-screening")
        await pilot.press("s")
        for tab in ("tab-methods", "tab-precedents", "tab-plan", "tab-open", "tab-answers"):
            app.screen.query_one("#tabs").active = tab
            await pilot.pause()
        await pilot.press("e")
        await pilot.press("escape", "b", "l")
        await pilot.pause()

asyncio.run(walk())
print(sorted(name for name in set(sys.modules) - before if name.startswith("guide")))
print(sorted(deferred))
"""


def test_a_forked_tab_imports_nothing_of_guide_the_preload_has_not(guide_home):
    """Whatever a tab's app imports or builds after the fork is a copy of its own: the preload imports what the app
    imports where it is first used (LATER_IMPORTS), and builds the models' validators put off at import."""
    result = subprocess.run([sys.executable, "-c", WALK_AFTER_THE_PRELOAD], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "GUIDE_HOME": str(guide_home)})
    assert result.returncode == 0, result.stderr
    # Nor does it build a model's validator of its own: those put off at import (defer_build) are built before.
    assert result.stdout.split() == ["[]", "[]"]


async def test_a_drawn_line_keeps_only_the_caches_it_used(bank, guide_home):
    """Every screen on the stack keeps the lines (Strips) it drew, thousands in a tab; a line that made all seven
    of its caches up front cost a browser tab about 4 MiB of the server's memory, most of it caches never used."""
    app = GuideApp(bank)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_preset("dr-screening")
        await pilot.press("s")  # the results, over the question screen, over the start screen
        await pilot.pause()
        objects = gc.get_objects()
        lines = sum(isinstance(thing, Strip) for thing in objects)
        caches = sum(isinstance(thing, FIFOCache) for thing in objects)
    assert lines > 500  # the start, question and results screens are all drawn and kept
    assert caches < lines


def test_app_command_uses_this_python_and_passes_the_bank(tmp_path):
    assert app_command(None).split() == ["exec", sys.executable, "-m", "guide"]
    odd = tmp_path / "my bank; rm -rf ~"
    assert app_command(odd).endswith(f"--bank '{odd.resolve()}'")


def test_serve_refuses_a_broken_bank_at_once(bank_copy):
    (bank_copy / "rules.yaml").write_text("rules: [\n")
    result = run_guide("serve", "--bank", str(bank_copy), "--port", str(free_port()))
    assert result.returncode == 2
    assert result.stderr.startswith(f"guide: {bank_copy / 'rules.yaml'}:")


@pytest.mark.parametrize("host", ["", "  "])
def test_serve_refuses_an_empty_host_that_would_listen_everywhere(host):
    result = run_guide("serve", "--host", host, "--port", str(free_port()))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "--host" in result.stderr and "every interface" in result.stderr


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_serve_rejects_bad_ports(port):
    result = run_guide("serve", "--port", port)
    assert result.returncode == 2 and "--port" in result.stderr


@pytest.mark.parametrize(("option", "address"), [("--allow-origin", "notaurl"), ("--allow-origin", "ftp://course.example"),
                                                ("--allow-origin", "https://course.example/page"),
                                                ("--public-url", "class.example:8000"), ("--public-url", "https://?x")])
def test_serve_rejects_addresses_no_browser_could_match(option, address):
    """An origin or public address that is no web address was taken silently: the course site it was meant to let
    in was then refused, with nothing said at start."""
    result = run_guide("serve", option, address)
    assert result.returncode == 2, result.stderr
    assert f"argument {option}: '{address}'" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "999.1.1.1"])
def test_an_address_that_cannot_be_listened_on_is_one_line(host, tmp_path):
    """A port another server holds (a second class, a server not yet stopped), or a host that is no address,
    ended `guide serve` with a Python traceback and exit status 1; then the error came after the whole start
    banner ("Serving ... Press Ctrl+C to quit"), printed before the server tried to listen."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_guide("serve", "--host", host, "--port", str(port), env={"GUIDE_HOME": str(tmp_path)})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"guide: {host}:{port}: cannot listen here: "), line
    assert result.stdout == "", "a banner for a server that never listened"


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_the_banner_comes_once_the_server_listens_and_ctrl_c_ends_it(number, tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen([sys.executable, "-m", "guide", "serve", "--port", str(port)], cwd=ROOT,
                                  env={**os.environ, "GUIDE_HOME": str(tmp_path)}, stdout=output,
                                  stderr=subprocess.STDOUT)
    try:
        assert _wait_for(lambda: "Press Ctrl+C to quit" in log.read_text(errors="replace")), log.read_text()
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) == 0, "the banner came before the server listened"
        server.send_signal(number)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_page_points_the_browser_back_at_the_address_it_used(serve):
    """With --host 0.0.0.0 a student connects by the server's name or address; the page's websocket
    address must be that one, not the address the server listens on."""
    from urllib.request import Request, urlopen

    request = Request(f"http://127.0.0.1:{serve()}/", headers={"Host": "classroom-pc.local:8123"})
    with urlopen(request, timeout=60) as response:
        html = response.read().decode()
    assert 'data-session-websocket-url="ws://classroom-pc.local:8123/ws"' in html


def test_the_page_asks_no_other_host_for_anything(serve):
    """textual-serve's page loaded its font from fonts.googleapis.com: an offline classroom got no font, and each
    student's address reached Google. Everything the page loads comes from this server, the font included."""
    import re
    from urllib.request import urlopen

    origin = f"http://127.0.0.1:{serve()}"
    with urlopen(f"{origin}/", timeout=60) as response:
        html = response.read().decode()
    addresses = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)|url\(\s*["']?([^"')]+)""", html)
    loaded = [first or second for first, second in addresses]
    assert any("fonts/" in address for address in loaded), "the font is the server's own"
    for address in loaded:
        assert address.startswith((f"{origin}/", "/")) and not address.startswith("//"), address
        with urlopen(address if address.startswith("http") else origin + address, timeout=60) as part:
            assert part.status == 200, address
    assert "googleapis" not in html


async def _websocket_walk(port: int, first_prompt: str, next_prompt: str) -> bool:
    """Open the app over the websocket as the browser page does, answer the first question with the
    first choice; True once the app has drawn the next question."""
    import aiohttp

    received: list[str] = []

    async def read_until(websocket, pattern: str, limit: int = STARTUP_TRIES) -> bool:
        for _ in range(limit):
            try:
                message = await websocket.receive(timeout=0.1)
            except asyncio.TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                received.append(message.data.decode("utf-8", "replace"))
            elif message.type == aiohttp.WSMsgType.TEXT:
                received.append(message.data)
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return False
            if re.search(pattern, ANSI.sub("", "".join(received))):
                return True
        return False

    async with aiohttp.ClientSession() as client:
        async with client.get(f"http://127.0.0.1:{port}/") as page:
            html = await page.text()
        assert page.status == 200
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in html
        async with client.ws_connect(f"http://127.0.0.1:{port}/ws?width=110&height=36") as websocket:
            assert await read_until(websocket, "Start a new design"), "the start screen never appeared"
            await websocket.send_json(["stdin", "n"])
            await websocket.send_json(["stdin", "\r"])  # the new design keeps its default title
            assert await read_until(websocket, re.escape(first_prompt)), "the first question never appeared"
            await websocket.send_json(["stdin", "1"])  # highlight the first choice
            await websocket.send_json(["stdin", "\r"])  # and answer with it
            drawn = await read_until(websocket, re.escape(next_prompt))
            await websocket.send_json(["ping", "smoke"])
            assert await read_until(websocket, "pong"), "the server stopped answering"
    return drawn


def test_websocket_smoke_answers_the_first_question(serve, bank):
    port = serve()
    first = bank.questions[bank.meta.start]
    following = route(bank, {first.id: first.choices[0].id})[1]
    # Wide enough that the first words of a prompt stay on one line.
    drawn = asyncio.run(_websocket_walk(port, " ".join(first.prompt.split()[:3]),
                                        " ".join(bank.questions[following].prompt.split()[:3])))
    assert drawn, f"the app never drew the next question, '{following}'"


def test_websocket_smoke_with_an_own_bank(serve, mini_bank):
    """`--bank` reaches the app in every tab: the walk asks the custom bank's questions."""
    port = serve("--bank", str(mini_bank))
    assert asyncio.run(_websocket_walk(port, "What is the model for?", "Can the model be retrained?"))


# ---------------------------------------------------------------------------------------------
# A real browser.


def _playwright():
    if not Path(CHROMIUM).exists():
        missing_tool(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright  # in the test extra

    return sync_playwright


COMPARE_SCREENSHOTS = """async ([before, after]) => {
    const load = (data) => new Promise((resolve, reject) => {
        const image = new Image();
        image.onload = () => resolve(image);
        image.onerror = reject;
        image.src = "data:image/png;base64," + data;
    });
    const pixels = (image) => {
        const canvas = document.createElement("canvas");
        canvas.width = image.width;
        canvas.height = image.height;
        const context = canvas.getContext("2d");
        context.drawImage(image, 0, 0);
        return context.getImageData(0, 0, image.width, image.height).data;
    };
    const [first, second] = (await Promise.all([load(before), load(after)])).map(pixels);
    let changed = 0;
    const colours = new Set();
    for (let index = 0; index < second.length; index += 4) {
        if (first[index] !== second[index] || first[index + 1] !== second[index + 1] || first[index + 2] !== second[index + 2]) {
            changed += 1;
        }
        colours.add((second[index] << 16) | (second[index + 1] << 8) | second[index + 2]);
    }
    return {changed: changed / (second.length / 4), colours: colours.size};
}"""


@dataclass
class BrowserWalk:
    """What a student's browser saw: the screen change an answer made, the download and its headers."""
    difference: dict
    filename: str
    headers: list[dict]
    document: str
    cookies: list[dict]


def browser_walk(url: str, tmp_path: Path) -> BrowserWalk:
    """A student opens the page at `url`, starts a new design, picks the first choice of the first question,
    opens the results and exports the design under DOWNLOAD_NAME, which reaches them as a browser download."""
    import base64

    sync_playwright = _playwright()
    origin = url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800}, accept_downloads=True)
            headers = []  # of the download's response

            def only_this_server(route):
                """Nothing but this server is reachable or wanted (a classroom may have no internet)."""
                if not route.request.url.startswith((f"{origin}/", "ws" + origin.removeprefix("http") + "/")):
                    route.abort()
                elif "/download/" in route.request.url:
                    response = route.fetch()
                    headers.append(response.headers)
                    route.fulfill(response=response)
                else:
                    route.continue_()

            page.context.route("**/*", only_this_server)  # the context's: a download opens in a new tab
            page.goto(f"{origin}/")
            page.wait_for_selector("body.-first-byte", timeout=60_000)
            terminal = page.locator("#terminal")
            terminal.click()

            def settled_screenshot(path: Path) -> bytes:
                """A screenshot once two in a row agree: the app has finished drawing."""
                previous = None
                for _ in range(STARTUP_TRIES):
                    shot = terminal.screenshot(path=str(path))
                    if shot == previous:
                        return shot
                    previous = shot
                    page.wait_for_timeout(200)
                return previous

            def next_screen(previous: bytes, path: Path) -> bytes:
                """The next settled screenshot that differs from `previous`: the app has moved on."""
                return _wait_for(lambda: (shot := settled_screenshot(path)) != previous and shot, tries=100)

            start = settled_screenshot(tmp_path / "0-start.png")
            page.keyboard.press("n")
            page.keyboard.press("Enter")  # the new design keeps its default title
            question = next_screen(start, tmp_path / "1-question.png")
            assert question, "the first question never appeared"
            page.keyboard.press("1")
            page.keyboard.press("Enter")
            answered = next_screen(question, tmp_path / "2-answered.png")
            assert answered, "answering changed nothing on the screen"
            encoded = [base64.b64encode(shot).decode() for shot in (question, answered)]
            difference = page.evaluate(COMPARE_SCREENSHOTS, encoded)

            page.keyboard.press("s")  # the results
            results = next_screen(answered, tmp_path / "3-results.png")
            page.keyboard.press("e")  # export: a dialog with a file name
            dialog = next_screen(results, tmp_path / "4-export.png")
            page.keyboard.press("Control+a")
            page.keyboard.press("Control+k")
            page.keyboard.type(DOWNLOAD_NAME)  # no suffix: the type must come from the format chosen
            next_screen(dialog, tmp_path / "5-named.png")
            with page.expect_download(timeout=60_000) as download:
                page.keyboard.press("Enter")
            document_path = tmp_path / "download.md"
            download.value.save_as(document_path)
            return BrowserWalk(difference, download.value.suggested_filename, headers,
                               document_path.read_text(encoding="utf-8"), page.context.cookies())
        finally:
            browser.close()


def test_browser_answers_the_first_question_and_downloads_the_document(serve, bank, tmp_path):
    """A student opens the page, starts a new design and picks the first choice of the first question:
    the page shows the next question (the screenshot changes), and the tab's own session file on the
    server holds the answer. Exporting from the results reaches the student as a browser download, and
    that document holds the answer too."""
    from urllib.parse import quote

    port = serve()
    first = bank.questions[bank.meta.start]
    walk = browser_walk(f"http://127.0.0.1:{port}/", tmp_path)
    # The answer moved the walk on: a visibly different screen, and still a drawn terminal, not a blank page.
    assert walk.difference["changed"] > 0.01, walk.difference
    assert walk.difference["colours"] > 4, walk.difference
    # The download is the design document, and it carries the answer given in the browser. Its name
    # reaches the browser whole (RFC 6266 `filename*`), its type is the format's, whatever the name.
    assert walk.filename == DOWNLOAD_NAME.replace('"', "_"), walk.filename  # Chromium's stand-in for a quote
    (header,) = walk.headers
    assert header["content-type"] == "text/markdown; charset=utf-8"
    assert header["content-disposition"].startswith("attachment; ")
    assert f"; filename*=UTF-8''{quote(DOWNLOAD_NAME, safe='')}" in header["content-disposition"]
    front = yaml.safe_load(walk.document.split("---\n")[1])
    assert front["answers"][first.id] == first.choices[0].id
    assert "\n## Element evidence" in walk.document
    # The tab saved its own session on the server after the answer; no other tab is offered it.
    saved = sorted((tmp_path / "guide-home" / "browser").glob("*.yaml"))
    assert len(saved) == 1, saved
    assert yaml.safe_load(saved[0].read_text(encoding="utf-8"))["answers"][first.id] == first.choices[0].id
    assert not (tmp_path / "guide-home" / "session.yaml").exists()


# ---------------------------------------------------------------------------------------------
# A classroom's limits: what one tab, another web site or a dropped client can do to the server.


class Screen:
    """A websocket session as the browser page opens it; `text` is everything drawn so far, escapes removed."""

    def __init__(self, websocket):
        self.websocket, self.raw, self.messages = websocket, "", []

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw)

    async def read_until(self, pattern: str, limit: int = STARTUP_TRIES) -> bool:
        import aiohttp

        for _ in range(limit):
            if re.search(pattern, self.text):
                return True
            try:
                message = await self.websocket.receive(timeout=0.1)
            except asyncio.TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                self.raw += message.data.decode("utf-8", "replace")
            elif message.type == aiohttp.WSMsgType.TEXT:
                self.messages.append(message.json())
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return False
        return bool(re.search(pattern, self.text))

    async def keys(self, *keys: str) -> None:
        for key in keys:
            await self.websocket.send_json(["stdin", key])


async def _handshake_status(port: int, **headers) -> int:
    """The HTTP status a websocket handshake gets (101 once it is open)."""
    import aiohttp

    async with aiohttp.ClientSession() as client:
        try:
            async with client.ws_connect(f"http://127.0.0.1:{port}/ws", headers=headers):
                return 101
        except aiohttp.WSServerHandshakeError as error:
            return error.status


def test_sessions_beyond_the_cap_see_a_page_saying_the_class_is_full(serve):
    import aiohttp

    port = serve("--max-sessions", "1")

    async def scenario():
        async with aiohttp.ClientSession() as client:
            async with client.ws_connect(f"http://127.0.0.1:{port}/ws") as websocket:
                assert await Screen(websocket).read_until("Start a new design")
                async with client.get(f"http://127.0.0.1:{port}/") as page:
                    full = page.status, await page.text()
                refused = await _handshake_status(port)
            # The tab closed: its place is free again.
            for _ in range(STARTUP_TRIES):
                async with client.get(f"http://127.0.0.1:{port}/") as page:
                    if page.status == 200:
                        break
                await asyncio.sleep(0.1)
            return full, refused, page.status

    (status, html), refused, afterwards = asyncio.run(scenario())
    assert status == 503 and "The class is full" in html and "--max-sessions" in html
    assert refused == 503
    assert afterwards == 200


def test_a_reloaded_tabs_websocket_in_a_full_class_gets_the_seat_its_old_one_gives_back(serve):
    """A reload closes the tab's session as its new websocket comes; the seat being given back must not make
    the class look full to the tab itself, while it stays full for anyone else."""
    import aiohttp

    port = serve("--max-sessions", "1")
    tab = f"http://127.0.0.1:{port}/ws/{'c' * 32}"

    async def scenario():
        async with aiohttp.ClientSession() as client:
            async with client.ws_connect(tab) as websocket:
                assert await Screen(websocket).read_until("Start a new design")
            async with client.ws_connect(tab) as websocket:  # before the fix: 503, the class is full
                assert await Screen(websocket).read_until("Start a new design")
                return await _handshake_status(port)

    assert asyncio.run(scenario()) == 503


def test_a_reloaded_page_in_a_full_class_gets_the_app_again(serve, tmp_path):
    """Chromium asks for the reloaded page before the old page has closed its session, so the page finds
    the class full; the full page of a tab that had a session tries again by itself and gets the app."""
    sync_playwright = _playwright()
    port = serve("--max-sessions", "1")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("body.-first-byte")
            page.reload()
            page.wait_for_selector("body.-first-byte", timeout=STARTUP_TRIES * 100)  # the app again, not the full page
        finally:
            browser.close()


def test_a_page_whose_scripts_are_blocked_says_why_nothing_starts(serve):
    """With JavaScript off, the page stayed on "guide: starting…" with nothing said (outside9b): it says what to do."""
    sync_playwright = _playwright()
    port = serve()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(java_script_enabled=False).new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            assert "runs in this page with JavaScript" in " ".join(page.inner_text("body").split())
        finally:
            browser.close()


def test_a_tab_whose_websocket_finds_the_class_full_says_so(serve):
    """A page served a moment before the last place went: its websocket is refused. The tab must say that the
    class is full, not "Session ended." for a session that never began."""
    sync_playwright = _playwright()
    port = serve("--max-sessions", "1")
    address = f"http://127.0.0.1:{port}/"
    page_while_free = urllib.request.urlopen(address).read()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            first = browser.new_page()
            first.goto(address)
            first.wait_for_selector("body.-first-byte")
            late = browser.new_page()
            # The page as it was served while a place was free; everything after it comes from the server.
            late.route(address, lambda route: route.fulfill(status=200, body=page_while_free, content_type="text/html"))
            late.goto(address)
            late.unroute(address)
            late.wait_for_selector("text=The class is full", timeout=STARTUP_TRIES * 100)
        finally:
            browser.close()


def test_websockets_from_other_web_sites_are_refused(serve):
    """A page of any site a student has open could otherwise start sessions here from their browser."""
    port = serve("--allow-origin", "https://course.example/")

    async def statuses():
        return [await _handshake_status(port, Origin=origin)
                for origin in ("http://evil.example", f"http://127.0.0.1:{port + 1}", "null",
                               f"http://127.0.0.1:{port}", "https://course.example")]

    assert asyncio.run(statuses()) == [403, 403, 403, 101, 101]


def test_absurd_terminal_sizes_are_bounded(serve):
    """A client asking for a huge terminal, on connecting or later, gets the largest one served: the app
    never draws past row 200."""
    import aiohttp

    port = serve()

    def rows_drawn(screen: Screen) -> int:
        return max(int(row) for row in re.findall(r"\x1b\[(\d+);\d+H", screen.raw))

    async def scenario():
        async with aiohttp.ClientSession() as client:
            async with client.ws_connect(f"http://127.0.0.1:{port}/ws?width=120&height=400") as websocket:
                screen = Screen(websocket)
                assert await screen.read_until("Quit"), "the start screen never appeared"
                first = rows_drawn(screen)
                screen.raw = ""
                await websocket.send_json(["resize", {"width": 120, "height": 10 ** 9}])
                await websocket.send_json(["resize", {"width": "wide", "height": 10 ** 9}])
                assert await screen.read_until("Quit"), "the app stopped drawing"
                await websocket.send_json(["ping", "alive"])
                assert await screen.read_until("") and await _pong(screen)
                return first, rows_drawn(screen)

    assert asyncio.run(scenario()) == (200, 200)


def test_a_message_no_browser_sends_is_one_log_line_and_the_tab_lives_on(serve, tmp_path):
    """Malformed websocket messages (not JSON, the wrong shape, a resize without sizes) are ignored with one
    line each in the server's log, not a traceback that ended the tab: the app still answers afterwards."""
    import aiohttp

    port = serve()
    bad = ['not json', '[]', '[1]', '[[1]]', '[{}]', '"stdin"', '["stdin", 5]', '["resize", "x"]',
           '["resize", {"width": 80}]', '{}', '[' * 100_000]

    async def scenario():
        async with aiohttp.ClientSession() as client:
            async with client.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as websocket:
                screen = Screen(websocket)
                assert await screen.read_until("Quit"), "the start screen never appeared"
                for text in bad:
                    await websocket.send_str(text)
                await websocket.send_bytes(b"\x00\xff")
                await websocket.send_json(["ping", "alive"])
                assert await _pong(screen), "the tab ended"
                screen.raw = ""
                await websocket.send_json(["resize", {"width": 90, "height": 28}])
                return await screen.read_until("Quit")

    assert asyncio.run(scenario()), "the app stopped drawing"
    log = (tmp_path / f"serve-{port}.log").read_text(errors="replace")
    assert "Traceback" not in log
    assert log.count("ignored a websocket message no browser page sends") == len(bad)
    assert log.count("ignored a binary websocket message") == 1


def test_a_message_over_the_size_limit_ends_the_tab_with_one_log_line(serve, tmp_path):
    """aiohttp closes a websocket whose message is over 4 MiB (a paste of a huge file, say); the tab then ended
    with no word in the server's log."""
    import aiohttp

    port = serve()

    async def scenario():
        async with aiohttp.ClientSession() as client:
            websocket = await client.ws_connect(f"http://127.0.0.1:{port}/ws")
            assert await Screen(websocket).read_until("Quit"), "the start screen never appeared"
            with contextlib.suppress(ConnectionError):  # the server drops the connection
                await websocket.send_json(["stdin", "x" * (5 * 1024 * 1024)])
                await websocket.receive()
                await websocket.close()

    def log() -> str:
        return " ".join((tmp_path / f"serve-{port}.log").read_text(errors="replace").split())

    asyncio.run(scenario())
    assert _wait_for(lambda: "websocket failed, which ends the tab: Message size" in log()), log()
    assert "exceeds limit" in log() and "Traceback" not in log()


def test_a_paste_holding_escape_characters_arrives_as_text(serve, tmp_path):
    """The page sends a paste bracketed (ESC [200~ ... ESC [201~) with any escape character inside it as it is.
    Textual met such an escape, gave up on the paste and took the rest as keys: the paste's end was typed, its
    line break was an Enter that answered, and the text before the escape was lost. The server takes the escape
    characters out of a paste, as terminals do: the title box gets the paste whole (its lines joined, as a one-line
    box joins them), and nothing answers."""
    import aiohttp

    port = serve()
    pasted = "\x1b[200~Knee \x1b[31mOA\x1b[0m grading\rsecond line\x1b[201~"

    async def scenario() -> bool:
        async with aiohttp.ClientSession() as client:
            async with client.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as websocket:
                screen = Screen(websocket)
                assert await screen.read_until("Start a new design"), "the start screen never appeared"
                await screen.keys("n")
                assert await screen.read_until("Name your design"), "the naming dialog never appeared"
                await screen.keys(pasted)
                assert await screen.read_until("grading"), "the pasted title never showed"
                assert not await screen.read_until("What does the model do", limit=20), "the paste answered"
                await screen.keys("\r")
                return await screen.read_until("What does the model do")

    assert asyncio.run(scenario()), "the design never started"
    (saved,) = (tmp_path / "guide-home" / "browser").glob("*.yaml")
    assert yaml.safe_load(saved.read_text(encoding="utf-8"))["title"] == "Knee [31mOA[0m grading second line"


def test_a_plain_request_to_the_websocket_address_gets_400_and_one_log_line(serve, tmp_path):
    """A browser opening /ws, or a health check, is not a websocket upgrade: it is told so, not left with an
    empty reply and a traceback in the log."""
    port = serve()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/ws", timeout=10)
    assert refused.value.code == 400 and b"open the page at /" in refused.value.read()
    log = (tmp_path / f"serve-{port}.log").read_text(errors="replace")
    assert "Traceback" not in log and log.count("not a websocket upgrade") == 1


async def _pong(screen: Screen) -> bool:
    for _ in range(STARTUP_TRIES):
        if ["pong", "alive"] in screen.messages:
            return True
        await screen.read_until(NEVER, limit=1)
    return False


def _descendants(pid: int) -> list[int]:
    children = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            children.append(int(status.parent.name))
    return children + [grandchild for child in children for grandchild in _descendants(child)]


def _apps(server: int) -> list[int]:
    """The app processes of a `guide serve` process: its descendants but the preloaded one they fork from."""
    return [pid for pid in _descendants(server) if _name(pid) != PRELOADED_NAME]


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""  # ended meanwhile


def _writing_to_a_full_pipe(pids: list[int]) -> bool:
    """Whether a thread of these processes waits in the kernel for room in a pipe."""
    for pid in pids:
        for wchan in Path(f"/proc/{pid}/task").glob("*/wchan"):
            with contextlib.suppress(OSError):
                if "pipe_write" in wchan.read_text():
                    return True
    return False


def test_an_app_whose_browser_is_gone_is_ended(serve):
    """A client asks for big frames, reads none, and drops its connection (a reset) once the app is blocked
    writing a frame the server cannot pass on. The server's writes to the client fail; the app must still
    end, not stay blocked forever on its output."""
    import base64
    import struct

    port = serve()
    server = next(pid for pid in _descendants(os.getpid())
                  if f"--port\0{port}" in Path(f"/proc/{pid}/cmdline").read_text())

    def frame(payload: str) -> bytes:
        data = payload.encode()
        mask = os.urandom(4)
        return struct.pack("!BBH", 0x81, 0xFE, len(data)) + mask + bytes(
            byte ^ mask[index % 4] for index, byte in enumerate(data))

    with socket.socket() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a client that takes almost nothing
        client.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        client.sendall(f"GET /ws?width=500&height=200 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                       f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        assert b" 101 " in client.recv(1024).split(b"\r\n")[0]
        assert _wait_for(lambda: _apps(server)), "no app was started"
        resizes = iter(range(STARTUP_TRIES))

        def blocked() -> bool:
            """Ask for one more whole frame (a new width); true once the app cannot write its output."""
            client.sendall(frame(f'["resize", {{"width": {500 - next(resizes) % 2}, "height": 200}}]'))
            return _writing_to_a_full_pipe(_apps(server))

        assert _wait_for(blocked, tries=STARTUP_TRIES - 1), "the app never filled its output pipe"
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
    assert _wait_for(lambda: not _apps(server), tries=600), "an app outlived its browser"


def test_browser_sessions_have_unguessable_names_and_expire(serve, tmp_path, bank):
    """A tab's session file is named by the time and 128 random bits; files not saved for longer than
    --session-days are removed as new sessions begin."""
    browser = tmp_path / "guide-home" / "browser"
    browser.mkdir(parents=True, mode=0o700)
    tmp_path.joinpath("guide-home").chmod(0o700)
    old, recent, open_old = browser / "old.yaml", browser / "recent.yaml", browser / "open-old.yaml"
    for path, age in ((old, 3 * 86400), (recent, 3600), (open_old, 3 * 86400)):
        path.write_text("answers: {}\n")
        os.utime(path, (time.time() - age, time.time() - age))
    student_still_at_it = SessionLock(open_old)  # a tab's app has it open: kept, however old its last answer
    # Lock files: a killed app's, beside no session (swept); one still held by an app (kept); a session's own.
    orphan = browser / "killed.yaml.lock"
    orphan.write_text("4242\n")
    held = SessionLock(browser / "open-elsewhere.yaml")
    recent_lock = browser / "recent.yaml.lock"
    recent_lock.write_text("")
    port = serve("--session-days", "2")
    first = bank.questions[bank.meta.start]
    following = route(bank, {first.id: first.choices[0].id})[1]
    assert asyncio.run(_websocket_walk(port, " ".join(first.prompt.split()[:3]),
                                       " ".join(bank.questions[following].prompt.split()[:3])))
    names = sorted(path.name for path in browser.glob("*.yaml"))
    assert "old.yaml" not in names and "recent.yaml" in names and "open-old.yaml" in names
    assert not orphan.exists() and held.lock.exists() and recent_lock.exists()
    held.release()
    student_still_at_it.release()
    (saved,) = [name for name in names if name not in ("recent.yaml", "open-old.yaml")]
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{32}\.yaml", saved), saved


def test_a_reloaded_tab_is_offered_its_own_design_and_no_other_tab_is(serve, tmp_path, bank):
    """The page names its tab in the websocket's address (`/ws/<32 hex digits>`, kept across reloads). A reload
    started a new empty design, and the student's place was lost; now the tab's start screen offers its design,
    and Enter continues it where it was. Another tab's name, or none, is offered nothing."""
    import aiohttp

    port = serve()
    tab, other = "5" * 32, "a" * 32
    first = bank.questions[bank.meta.start]
    following = bank.questions[route(bank, {first.id: first.choices[0].id})[1]]

    def opening(question) -> str:
        return re.escape(" ".join(question.prompt.split()[:3]))

    async def scenario() -> tuple[bool, bool, bool]:
        async with aiohttp.ClientSession() as client:
            async def tab_at(path: str):
                return client.ws_connect(f"http://127.0.0.1:{port}{path}?width=100&height=30")

            async with await tab_at(f"/ws/{tab}") as websocket:
                screen = Screen(websocket)
                assert await screen.read_until("Start a new design"), "the start screen never appeared"
                await screen.keys("n")
                assert await screen.read_until("Name your design")
                await screen.keys("\r")
                assert await screen.read_until(opening(first)), "the first question never appeared"
                await screen.keys("1", "\r")
                assert await screen.read_until(opening(following)), "the answer did not move the walk on"
            async with await tab_at(f"/ws/{tab}") as websocket:  # the page reloaded
                screen = Screen(websocket)
                offered = await screen.read_until("Designs:") and await screen.read_until("unfinished")
                await screen.keys("\r")
                continued = await screen.read_until(opening(following))
            others = []
            for path in (f"/ws/{other}", "/ws"):
                async with await tab_at(path) as websocket:
                    screen = Screen(websocket)
                    assert await screen.read_until("Start a new design")
                    others.append(await screen.read_until("Designs:", limit=20))
            return offered, continued, any(others)

    offered, continued, others_offered = asyncio.run(scenario())
    assert offered, "the reloaded tab was not offered its design"
    assert continued, "Enter did not continue the design at its next question"
    assert not others_offered, "another tab was offered the design"
    (saved,) = (tmp_path / "guide-home" / "browser").glob(f"*-{tab}.yaml")
    assert yaml.safe_load(saved.read_text(encoding="utf-8"))["answers"] == {first.id: first.choices[0].id}


def test_a_new_design_in_a_tab_keeps_the_tabs_earlier_design_and_both_are_offered(serve, tmp_path, bank):
    """With a reload offering the tab's design, n beside it started a new design in the same file: the design
    listed a moment before was overwritten. A new design gets a file of its own; the tab offers both."""
    import aiohttp

    port = serve()
    tab = "b" * 32
    first = bank.questions[bank.meta.start]
    prompt = re.escape(" ".join(first.prompt.split()[:3]))

    async def design(client, title: str) -> str:
        async with client.ws_connect(f"http://127.0.0.1:{port}/ws/{tab}?width=100&height=30") as websocket:
            screen = Screen(websocket)
            assert await screen.read_until("Start a new design")
            await screen.keys("n")
            assert await screen.read_until("Name your design")
            await screen.keys(f"{title}\r")
            assert await screen.read_until(prompt)
            await screen.keys("1", "\r")
            await screen.read_until(NEVER, limit=10)  # the answer saved
            return screen.text

    async def scenario() -> str:
        async with aiohttp.ClientSession() as client:
            await design(client, "Knee first")
            await design(client, "Hip second")  # after a reload
            async with client.ws_connect(f"http://127.0.0.1:{port}/ws/{tab}?width=100&height=30") as websocket:
                screen = Screen(websocket)
                assert await screen.read_until("Designs:")
                await screen.read_until("Knee first", limit=20)
                return screen.text

    listed = asyncio.run(scenario())
    saved = [yaml.safe_load(path.read_text(encoding="utf-8"))["title"]
             for path in (tmp_path / "guide-home" / "browser").glob(f"*-{tab}.yaml")]
    assert sorted(saved) == ["Hip second", "Knee first"], saved
    assert "Knee first" in listed and "Hip second" in listed


def test_an_app_whose_server_is_gone_keeps_what_is_typed_and_ends(tmp_path):
    """A server killed (SIGKILL, the OOM killer, a crash) closes every app's input without asking it to quit. The
    app went on waiting for keys that could never come, and ended only when a write to the dead server failed,
    losing the note typed and not confirmed. It now ends as when its tab closes, keeping what is typed."""
    import threading

    from guide.commands.serve import app_environment

    environment = {**os.environ, **app_environment(), "COLUMNS": "100", "ROWS": "30",
                   "GUIDE_HOME": str(tmp_path / "guide-home")}
    app = subprocess.Popen([sys.executable, "-m", "guide"], cwd=ROOT, env=environment, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    drawn = bytearray()
    reader = threading.Thread(target=lambda: [drawn.extend(chunk) for chunk in iter(lambda: app.stdout.read1(65536), b"")],
                              daemon=True)
    reader.start()

    def keys(text: str) -> None:
        data = text.encode()
        app.stdin.write(b"D" + len(data).to_bytes(4, "big") + data)
        app.stdin.flush()

    def shows(text: str) -> bool:
        return _wait_for(lambda: text in ANSI.sub("", drawn.decode("utf-8", "replace")))

    try:
        assert shows("Start a new design")
        keys("n")
        assert shows("Name your design")
        keys("\r")
        assert shows("What does the model do")
        keys("n")
        keys("typed, not confirmed")
        assert shows("typed, not confirmed")
        app.stdin.close()  # the server is gone
        ended = _wait_for(lambda: app.poll() is not None)
    finally:
        if app.poll() is None:
            app.kill()
        app.wait()
    assert ended, "the app went on after its server was gone"
    (saved,) = (tmp_path / "guide-home" / "browser").glob("*.yaml")
    assert yaml.safe_load(saved.read_text(encoding="utf-8"))["notes"] == {"task": "typed, not confirmed"}


def test_a_duplicated_tab_is_refused_the_open_design_and_starts_its_own_in_a_file_of_its_own(serve, tmp_path, bank):
    """A browser's "Duplicate tab" copies the tab's name. Two apps on the tab's file would overwrite each other's
    answers: the copy is told the design is open in the other tab; a new design there has a file of its own."""
    import aiohttp

    port = serve()
    tab = "d" * 32
    first = bank.questions[bank.meta.start]
    prompt = re.escape(" ".join(first.prompt.split()[:3]))

    async def scenario() -> str:
        async with aiohttp.ClientSession() as client:
            address = f"http://127.0.0.1:{port}/ws/{tab}?width=100&height=30"
            async with client.ws_connect(address) as websocket:
                screen = Screen(websocket)
                assert await screen.read_until("Start a new design")
                await screen.keys("n")
                assert await screen.read_until("Name your design")
                await screen.keys("Original\r")
                assert await screen.read_until(prompt)
                async with client.ws_connect(address) as copy:
                    duplicate = Screen(copy)
                    assert await duplicate.read_until("Designs:"), "the copy was not offered the tab's design"
                    await duplicate.keys("\r")
                    assert await duplicate.read_until("open in another tab"), duplicate.text[-2000:]
                    said = duplicate.text
                    await duplicate.keys("n")
                    assert await duplicate.read_until("Name your design")
                    await duplicate.keys("Copy\r")
                    assert await duplicate.read_until(prompt), "the copy could not start a design of its own"
                    await duplicate.keys("1", "\r")
                    await duplicate.read_until(NEVER, limit=10)  # the answer saved
                return said

    said = asyncio.run(scenario())
    assert str(tmp_path) not in said, "the server's folders are nothing to a student"
    saved = {yaml.safe_load(path.read_text(encoding="utf-8"))["title"]: path.name
             for path in (tmp_path / "guide-home" / "browser").glob("*.yaml")}
    assert set(saved) == {"Original", "Copy"}
    assert saved["Original"] != saved["Copy"]


def test_the_page_keeps_its_tabs_name_across_a_reload_and_a_new_tab_draws_its_own(serve):
    """What leads a reloaded tab back to its design: the page's websocket address names the tab, the same after
    a reload, another in a new tab."""
    sync_playwright = _playwright()
    port = serve()
    addresses: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()

            def open_tab():
                page = context.new_page()
                page.on("websocket", lambda websocket: addresses.append(websocket.url))
                return page

            def connected(page, count: int) -> None:
                for _ in range(STARTUP_TRIES):
                    if len(addresses) >= count:
                        return
                    page.wait_for_timeout(100)

            page = open_tab()
            page.goto(f"http://127.0.0.1:{port}/")
            connected(page, 1)
            page.reload()
            connected(page, 2)
            other = open_tab()
            other.goto(f"http://127.0.0.1:{port}/")
            connected(other, 3)
        finally:
            browser.close()
    names = [re.fullmatch(rf"ws://127\.0\.0\.1:{port}/ws/([0-9a-f]{{32}})\?width=\d+&height=\d+", address)
             for address in addresses]
    assert all(names) and len(names) == 3, addresses
    first, reloaded, new_tab = (name.group(1) for name in names)
    assert first == reloaded and new_tab != first



# ---------------------------------------------------------------------------------------------
# Isolation: every tab's app is a process of its own, forked from one preloaded process.


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _pipes(pid: int) -> set[str]:
    links = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            links.add(os.readlink(fd))
    return {link for link in links if link.startswith("pipe:")}


async def _draws_on_a_key(screen: Screen) -> bool:
    """Whether the tab's app draws anything when a key is pressed: a new design's title box."""
    await screen.read_until(NEVER, limit=20)  # what was drawn before the key
    screen.raw = ""
    with contextlib.suppress(ConnectionError):
        await screen.keys("n")
    return await screen.read_until(r"\w", limit=50)


def test_each_tab_is_an_app_process_of_its_own_and_a_killed_one_stops_no_other(serve):
    """Two tabs: two app processes forked from the preloaded process, sharing no pipe. Killing one (a crash)
    stops that tab only; the other draws on, and a new tab still opens."""
    import aiohttp

    port = serve()
    server = next(pid for pid in _descendants(os.getpid())
                  if f"--port\0{port}" in Path(f"/proc/{pid}/cmdline").read_text())

    async def scenario():
        async with aiohttp.ClientSession() as client:
            url = f"http://127.0.0.1:{port}/ws?width=110&height=36"
            async with client.ws_connect(url) as first_socket, client.ws_connect(url) as second_socket:
                first, second = Screen(first_socket), Screen(second_socket)
                assert await first.read_until("Start a new design") and await second.read_until("Start a new design")
                apps = _apps(server)
                assert len(apps) == 2 and server not in apps, apps
                for app in apps:
                    assert _name(app) == APP_NAME
                    assert _name(_parent(app)) == PRELOADED_NAME and _parent(_parent(app)) == server
                assert not _pipes(apps[0]) & _pipes(apps[1]), "two tabs' apps share a pipe"
                os.kill(apps[0], 9)
                assert _wait_for(lambda: apps[0] not in _apps(server)), "the killed app is still there"
                drawing = [await _draws_on_a_key(screen) for screen in (first, second)]
                closed = [socket.closed for socket in (first_socket, second_socket)]
            async with client.ws_connect(url) as third_socket:
                reopened = await Screen(third_socket).read_until("Start a new design")
            return drawing, closed, reopened

    drawing, closed, reopened = asyncio.run(scenario())
    assert sorted(drawing) == [False, True], "killing one tab's app must stop that tab, and only that one"
    assert closed == [not drew for drew in drawing], "the dead app's tab is told its session ended, not left frozen"
    assert reopened, "no new tab opens after an app was killed"


def test_tabs_still_open_when_the_preloaded_process_is_gone(serve):
    """Should the preloaded process end (killed by an out-of-memory killer, say), a new tab's app is started
    as a fresh Python instead."""
    import aiohttp

    port = serve()
    server = next(pid for pid in _descendants(os.getpid())
                  if f"--port\0{port}" in Path(f"/proc/{pid}/cmdline").read_text())
    (preloaded,) = [pid for pid in _descendants(server) if _name(pid) == PRELOADED_NAME]
    os.kill(preloaded, 9)
    assert _wait_for(lambda: not _alive(preloaded))

    async def scenario():
        async with aiohttp.ClientSession() as client:
            async with client.ws_connect(f"http://127.0.0.1:{port}/ws?width=110&height=36") as websocket:
                return await Screen(websocket).read_until("Start a new design")

    assert asyncio.run(scenario()), "no tab opens without the preloaded process"
    assert not Path(f"/proc/{preloaded}").exists(), "the preloaded process was left a zombie"


def test_the_start_banner_says_tabs_are_forked_from_the_preloaded_process(serve, tmp_path):
    """The banner tells an instructor how each tab's app starts: forked from the preloaded process, the
    command only should that process be gone."""
    port = serve()
    banner = _banner(port, tmp_path)
    assert f"on http://127.0.0.1:{port}: every browser tab gets an app process of its own, forked from the " \
           f"preloaded process ({PRELOADED_NAME})" in banner, banner
    assert f"Serving '{app_command(None)}'" not in banner


def test_the_start_banner_names_a_newer_python_only_under_one_without_immortal_objects(serve, tmp_path):
    """Under Python 3.11 every tab copies most of what it inherits; the banner tells an instructor that a newer
    Python takes less memory a student, and where to read more. Under a newer one it says nothing of it."""
    banner = _banner(serve(), tmp_path)
    hint = (f"Under Python {sys.version_info.major}.{sys.version_info.minor} every tab copies most of the memory it "
            "inherits from the preloaded process; served from Python 3.12 or newer, a student takes about a quarter "
            "less memory (see the project's docs/classroom-server.md, \"One process per tab\")")
    assert (hint in banner) == (sys.version_info < (3, 12)), banner
    assert ("Python 3.12 or newer" in banner) == (sys.version_info < (3, 12)), banner


def test_a_class_served_from_a_newer_python_walks_and_exports(serve, newer_python, tmp_path, monkeypatch):
    """Under Python 3.12 or newer the preloaded process makes its objects immortal before it forks tabs. Two
    students walk a whole design and download it, as the bench's class does: nothing of the app is disturbed by
    objects that are never freed. The banner says nothing of a newer Python."""
    from bench import bench

    monkeypatch.setattr(bench, "READING", (0.05, 0.1))
    monkeypatch.setattr(bench, "ARRIVAL", 0.5)
    port = serve(python=newer_python)
    server = next(pid for pid in _descendants(os.getpid())
                  if f"--port\0{port}" in Path(f"/proc/{pid}/cmdline").read_text())
    students, _ = asyncio.run(bench.classroom(port, server, 2))
    log = (tmp_path / f"serve-{port}.log").read_text(errors="replace")
    assert [(student.stalled, student.exported) for student in students] == [(False, True)] * 2, log
    assert "Python 3.12 or newer" not in _banner(port, tmp_path)


def _banner(port: int, tmp_path: Path) -> str:
    """What the server printed on starting, as one line however the console wrapped it."""
    log = tmp_path / f"serve-{port}.log"
    assert _wait_for(lambda: "Ctrl+C" in log.read_text(errors="replace"))
    return " ".join(log.read_text(errors="replace").split())


def test_the_start_banner_says_how_to_turn_the_kernels_page_merging_on_when_it_is_off(serve, tmp_path):
    """Off, the kernel's page merging (KSM) would save memory if turned on: the banner says so, and how, in
    one line. On, nothing is said. The kernel's switch is read from a file of the test's own."""
    switch = tmp_path / "ksm-run"
    banners = {}
    for state in ("0", "1"):
        switch.write_text(f"{state}\n")
        banners[state] = _banner(serve(environment={"GUIDE_KSM_RUN": str(switch)}), tmp_path)
    # Both settings the documented saving needs; the docs named as the project's (a pip install has no docs/).
    hint = "Tabs would share more of their memory with the kernel's page merging (KSM) on: " \
           "echo 1000 | sudo tee /sys/kernel/mm/ksm/pages_to_scan; echo 1 | sudo tee /sys/kernel/mm/ksm/run " \
           "(see the project's docs/classroom-server.md, \"The kernel's page merging\")"
    assert hint in banners["0"], banners["0"]
    assert "page merging" not in banners["1"], banners["1"]


def _mapping_flags(pid: int, name: str) -> list[str]:
    """The VmFlags of a process's mapping called `name` (such as [heap]) in /proc/PID/smaps."""
    mapping = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
            mapping = line.split()[-1] if len(line.split()) > 5 else ""
        elif line.startswith("VmFlags:") and mapping == name:
            return line.split()[1:]
    return []


@pytest.mark.skipif(not Path("/sys/kernel/mm/ksm").exists(), reason="this kernel has no page merging (KSM)")
def test_tabs_offer_the_kernels_page_merging_the_memory_they_inherit(serve):
    """The preloaded process marks its heap mergeable (`mg`) before it forks, and each tab's app inherits the
    mark, so that with KSM on the pages tabs copied and left identical are merged again. Read only: the
    test changes no kernel setting."""
    import aiohttp

    if not Path("/sys/kernel/mm/ksm").is_dir():
        pytest.skip("this kernel has no page merging (KSM): it refuses the mark, and nothing could merge")
    port = serve()
    server = next(pid for pid in _descendants(os.getpid())
                  if f"--port\0{port}" in Path(f"/proc/{pid}/cmdline").read_text())

    async def flags_of_a_tab() -> dict[str, list[str]]:
        async with aiohttp.ClientSession() as client:
            async with client.ws_connect(f"http://127.0.0.1:{port}/ws?width=110&height=36") as websocket:
                assert await Screen(websocket).read_until("Start a new design")
                (app,) = _apps(server)
                (preloaded,) = [pid for pid in _descendants(server) if _name(pid) == PRELOADED_NAME]
                return {"preloaded": _mapping_flags(preloaded, "[heap]"), "tab": _mapping_flags(app, "[heap]")}

    for process, flags in asyncio.run(flags_of_a_tab()).items():
        assert "mg" in flags, f"the {process} process's heap is not mergeable: {flags}"


def test_an_app_that_ignores_the_end_after_its_browser_left_is_killed(serve):
    """A tab's app that does not end when its browser leaves (stopped here, as a hung app would be) is
    killed after a grace period: it must not keep its memory for the rest of the lesson."""
    import aiohttp

    port = serve()
    server = next(pid for pid in _descendants(os.getpid())
                  if f"--port\0{port}" in Path(f"/proc/{pid}/cmdline").read_text())

    async def leave_a_stopped_app() -> int:
        async with aiohttp.ClientSession() as client:
            async with client.ws_connect(f"http://127.0.0.1:{port}/ws?width=110&height=36") as websocket:
                assert await Screen(websocket).read_until("Start a new design")
                (app,) = _apps(server)
                os.kill(app, signal.SIGSTOP)  # it can read no quit message now
        return app

    app = asyncio.run(leave_a_stopped_app())
    assert _wait_for(lambda: not _alive(app), tries=600), "an app that ignored the end outlived its browser"


def _live(pids: list[int]) -> list[int]:
    """Those of `pids` that run: not ended, not a zombie waiting to be reaped."""
    def state(pid: int) -> str:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return "gone"
    return [pid for pid in pids if state(pid) not in ("Z", "gone")]


def test_a_tab_gone_while_its_app_is_asked_for_leaves_no_app_and_hands_on_no_other_pipes(bank, guide_home):
    """A tab's start cancelled (the server ending) while a thread asks the preloaded process for its app closed
    the tab's pipes at once, though the thread had still to send them: by then their numbers were new pipes of
    the server's, which an app no one waits for, nor asks to quit, was started on. It outlived everything that
    could end it. The pipes are now closed once the thread is done, and the app started for the gone tab ended."""
    import threading

    from guide.commands.preloaded import PreloadedApps
    from guide.commands.serve import app_environment

    preloaded = PreloadedApps()
    preloaded.start(bank, app_environment())  # before any event loop: the forked apps start their own
    go_on, answered = threading.Event(), threading.Event()
    ask, started = preloaded._ask, []

    def ask_once_told(request: bytes, fds: list[int]) -> int:
        go_on.wait(60)  # as behind another tab's request
        try:
            started.append(ask(request, fds))
            return started[-1]
        finally:
            answered.set()

    preloaded._ask = ask_once_told
    others: list[tuple[int, int]] = []

    async def start_and_leave() -> None:
        starting = asyncio.create_task(preloaded.open_app(80, 24))
        await asyncio.sleep(0)  # the request is with the thread
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        others.extend(os.pipe() for _ in range(3))  # the server's next pipes, as another tab's would be
        go_on.set()
        await asyncio.to_thread(answered.wait, 60)
        for _ in range(10):  # what the loop runs once the thread is done
            await asyncio.sleep(0)

    try:
        asyncio.run(start_and_leave())
        assert started, "the preloaded process started an app for the tab"
        assert _wait_for(lambda: not _live(_descendants(preloaded._pid))), "an app no one waits for is running"
    finally:
        for pipe in others:
            for fd in pipe:
                os.close(fd)
        preloaded._socket.close()  # the preloaded process ends with the server's end of its socket
        os.waitpid(preloaded._pid, 0)


def _open_fds(kind: str) -> set[int]:
    """This process's descriptors whose target names `kind` ("pipe", "pidfd")."""
    fds = set()
    for entry in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            if kind in os.readlink(entry):
                fds.add(int(entry.name))
    return fds


def test_a_tab_gone_while_its_app_is_connected_ends_the_app_and_closes_its_pidfd_and_pipes(bank, guide_home):
    """A tab's start cancelled after the preloaded process had handed back the app's pidfd, while the server still
    made the app's stream readers and writers, kept the pidfd and the pipes open until the server ended, and the
    app it was given ran on with no one to wait for it. A cancelled connect now closes what it holds and ends the
    app."""
    from guide.commands.preloaded import PreloadedApps
    from guide.commands.serve import app_environment

    preloaded = PreloadedApps()
    preloaded.start(bank, app_environment())  # before any event loop: the forked apps start their own
    held_before: dict[str, set[int]] = {}

    async def start_and_leave_while_connecting() -> None:
        loop = asyncio.get_running_loop()
        held_before.update(pipe=_open_fds("pipe"), pidfd=_open_fds("pidfd"))
        connecting = asyncio.Event()
        connect_write_pipe = loop.connect_write_pipe

        async def write_pipe_then_say_so(*args):
            connected = await connect_write_pipe(*args)
            connecting.set()  # the app's pidfd is in hand; the readers are made next
            return connected

        loop.connect_write_pipe = write_pipe_then_say_so
        starting = asyncio.create_task(preloaded.open_app(80, 24))
        await connecting.wait()
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        for _ in range(10):  # what the loop runs once the transports close
            await asyncio.sleep(0)

    try:
        asyncio.run(start_and_leave_while_connecting())
        assert _open_fds("pidfd") <= held_before["pidfd"], "the gone tab's app's pidfd is still open"
        assert _open_fds("pipe") <= held_before["pipe"], "the gone tab's pipes are still open"
        assert _wait_for(lambda: not _live(_descendants(preloaded._pid))), "an app no one waits for is running"
    finally:
        preloaded._socket.close()  # the preloaded process ends with the server's end of its socket
        os.waitpid(preloaded._pid, 0)
