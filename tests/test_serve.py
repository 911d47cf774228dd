"""`guide serve`: the app in a browser, as a student in a classroom meets it.

Everything runs on the loopback interface. The browser test drives Debian's Chromium through the
Python `playwright` package (never `playwright install`) and skips when either is missing; the
websocket smoke test needs no browser.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from guide.commands.serve import app_command
from guide.engine import route

from .conftest import ROOT, run_guide
from .test_custom_bank import mini_bank  # noqa: F401 - a fixture: the small bank of test_custom_bank

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
STARTUP_TRIES = 300  # 0.1 s apart: a slow machine gets time, a broken server still fails the test


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
    stopped afterwards. GUIDE_HOME keeps the real home untouched."""
    servers: list[subprocess.Popen] = []

    def start(*args: str) -> int:
        port = _free_port()
        environment = {**os.environ, "GUIDE_HOME": str(tmp_path / "guide-home")}
        log = tmp_path / f"serve-{port}.log"  # a file, not a pipe: a pipe nobody reads could stall the server
        with log.open("wb") as output:
            server = subprocess.Popen([sys.executable, "-m", "guide", "serve", "--host", "127.0.0.1",
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


def test_app_command_uses_this_python_and_passes_the_bank(tmp_path):
    assert app_command(None).split() == [sys.executable, "-m", "guide"]
    odd = tmp_path / "my bank; rm -rf ~"
    assert app_command(odd).endswith(f"--bank '{odd.resolve()}'")


def test_serve_refuses_a_broken_bank_at_once(bank_copy):
    (bank_copy / "rules.yaml").write_text("rules: [\n")
    result = run_guide("serve", "--bank", str(bank_copy), "--port", str(_free_port()))
    assert result.returncode == 2
    assert result.stderr.startswith(f"guide: {bank_copy / 'rules.yaml'}:")


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_serve_rejects_bad_ports(port):
    result = run_guide("serve", "--port", port)
    assert result.returncode == 2 and "--port" in result.stderr


def test_page_points_the_browser_back_at_the_address_it_used(serve):
    """With --host 0.0.0.0 a student connects by the server's name or address; the page's websocket
    address must be that one, not the address the server listens on."""
    from urllib.request import Request, urlopen

    request = Request(f"http://127.0.0.1:{serve()}/", headers={"Host": "classroom-pc.local:8123"})
    with urlopen(request, timeout=60) as response:
        html = response.read().decode()
    assert 'data-session-websocket-url="ws://classroom-pc.local:8123/ws"' in html


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
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed")
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


def test_browser_answers_the_first_question_and_downloads_the_document(serve, bank, tmp_path):
    """A student opens the page, starts a new design and picks the first choice of the first question:
    the page shows the next question (the screenshot changes), and the tab's own session file on the
    server holds the answer. Exporting from the results reaches the student as a browser download, and
    that document holds the answer too."""
    import base64

    sync_playwright = _playwright()
    port = serve()
    first = bank.questions[bank.meta.start]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800}, accept_downloads=True)
            # The page asks for a web font; nothing but this server is reachable or wanted.
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                f"http://127.0.0.1:{port}/") or route.request.url.startswith(f"ws://127.0.0.1:{port}/")
                else route.abort())
            page.goto(f"http://127.0.0.1:{port}/")
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
            next_screen(results, tmp_path / "4-export.png")
            with page.expect_download(timeout=60_000) as download:
                page.keyboard.press("Enter")
            document_path = tmp_path / "download.md"
            download.value.save_as(document_path)
            filename = download.value.suggested_filename
        finally:
            browser.close()
    # The answer moved the walk on: a visibly different screen, and still a drawn terminal, not a blank page.
    assert difference["changed"] > 0.01, difference
    assert difference["colours"] > 4, difference
    # The download is the design document, and it carries the answer given in the browser.
    assert filename.endswith(".md")
    document = document_path.read_text(encoding="utf-8")
    front = yaml.safe_load(document.split("---\n")[1])
    assert front["answers"][first.id] == first.choices[0].id
    assert "\n## Element evidence" in document
    # The tab saved its own session on the server after the answer; no other tab is offered it.
    saved = sorted((tmp_path / "guide-home" / "browser").glob("*.yaml"))
    assert len(saved) == 1, saved
    assert yaml.safe_load(saved[0].read_text(encoding="utf-8"))["answers"][first.id] == first.choices[0].id
    assert not (tmp_path / "guide-home" / "session.yaml").exists()
