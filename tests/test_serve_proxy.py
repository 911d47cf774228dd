"""A class larger than one machine: several `guide serve` instances behind HAProxy, with the configuration
docs/proxy/haproxy.cfg ships (only its ports changed to free ones), so the documented file is the tested one.

Each instance keeps its sessions in a GUIDE_HOME of its own, so where a student's design was saved shows
which instance ran their app. Skips only when HAProxy is not installed (apt-get install haproxy).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from guide.engine import route

from .conftest import ROOT, free_port, missing_tool
from .test_serve import NEVER, STARTUP_TRIES, Screen, _wait_for, browser_walk
from .test_serve import serve  # noqa: F401 - a fixture

CONFIG = ROOT / "docs" / "proxy" / "haproxy.cfg"
INSTANCES = ("guide1", "guide2")  # the cookie values the configuration gives its two servers


def _haproxy() -> str:
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        missing_tool("HAProxy is not installed (apt-get install haproxy)")
    return found


@pytest.fixture
def proxy(tmp_path):
    """Start HAProxy with the shipped configuration in front of the instances on `ports` (guide1, guide2)
    and return the address students use; it is stopped afterwards."""
    binary = _haproxy()
    started: list[subprocess.Popen] = []

    def start(ports: tuple[int, int]) -> str:
        port = free_port()
        text = CONFIG.read_text(encoding="utf-8")
        # Each documented address must be there exactly once, or this test no longer runs the documented file.
        for documented, tested in (("bind :8000", f"bind 127.0.0.1:{port}"),
                                   ("127.0.0.1:8001", f"127.0.0.1:{ports[0]}"),
                                   ("127.0.0.1:8002", f"127.0.0.1:{ports[1]}")):
            assert text.count(documented) == 1, f"{CONFIG} no longer says '{documented}' once"
            text = text.replace(documented, tested)
        config = tmp_path / "haproxy.cfg"
        config.write_text(text, encoding="utf-8")
        log = tmp_path / "haproxy.log"
        with log.open("wb") as output:
            started.append(subprocess.Popen([binary, "-f", str(config)], stdout=output, stderr=subprocess.STDOUT))

        def listening() -> bool:
            with socket.socket() as probe:
                return started[-1].poll() is not None or probe.connect_ex(("127.0.0.1", port)) == 0

        _wait_for(listening)
        if started[-1].poll() is not None:
            pytest.fail(f"haproxy exited: {log.read_text(errors='replace')}")
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def _instances(serve, tmp_path, *max_sessions: int) -> tuple[int, int]:
    """Two instances, each with its own GUIDE_HOME (tmp_path/guide1, tmp_path/guide2) and session cap."""
    return tuple(serve("--max-sessions", str(cap), home=tmp_path / name)
                 for name, cap in zip(INSTANCES, max_sessions))


def _saved_by(tmp_path: Path, instance: str) -> list[dict]:
    return [yaml.safe_load(path.read_text(encoding="utf-8"))
            for path in (tmp_path / instance / "browser").glob("*.yaml")]


class Student:
    """One student's browser tab through the proxy: the page, then its websocket, then an export's download,
    all with the cookies the proxy set, as a browser sends them."""

    def __init__(self, address: str, name: str):
        self.address, self.name = address, name

    async def open(self, client) -> int:
        """Load the page; its HTTP status. The proxy's cookie names the instance that served it."""
        async with client.get(f"{self.address}/") as page:
            self.page = await page.text()
            return page.status

    async def walk_and_export(self, client, websocket, prompts: tuple[str, str]) -> str:
        """Start a design named after the student, answer the first question, export it: the download.
        `prompts`: the start of the first question's prompt and of the one after it."""
        screen = Screen(websocket)
        for keys, shown in (((), "Start a new design"), (("n",), "Name your design"),
                            ((self.name, "\r"), re.escape(prompts[0])),
                            (("1", "\r"), re.escape(prompts[1])),
                            (("s",), "Priorities"), (("e",), "Export the design document"),
                            ((self.name,), re.escape(self.name))):  # the file name: empty until typed
            screen.raw = ""  # only what these keys drew: a screen beneath a dialog may show the text already
            await screen.keys(*keys)
            assert await screen.read_until(shown), f"{self.name} never saw '{shown}'"
        await screen.keys("\r")  # Download
        assert await _delivered(screen), "the export never reached the browser"
        (key,) = [data for kind, data in screen.messages if kind == "deliver_file_start"]
        async with client.get(f"{self.address}/download/{key}") as download:
            assert download.status == 200, f"{self.name}'s download went astray: {download.status}"
            return await download.text()


async def _delivered(screen: Screen) -> bool:
    for _ in range(STARTUP_TRIES):
        if any(kind == "deliver_file_start" for kind, _ in screen.messages):
            return True
        await screen.read_until(NEVER, limit=1)
    return False


def _front_matter(document: str) -> dict:
    return yaml.safe_load(document.split("---\n")[1])


def _instance_of(client) -> str:
    cookies = [cookie.value for cookie in client.cookie_jar if cookie.key == "GUIDE_INSTANCE"]
    assert len(cookies) == 1, "the proxy set no cookie naming the instance: nothing keeps a tab on one"
    return cookies[0]


def test_students_behind_the_proxy_each_stay_on_one_instance(serve, proxy, bank, tmp_path):
    """Four students, one after another, each keeping their tab open: guide1 takes one session, guide2
    three. Every student is served (a full instance's 503 sends them to the other one), both instances
    serve someone, and each student's page, websocket and download reach the same instance: the design is
    saved there and the download, which only the instance running the app knows, holds their own design.
    A fifth student finds both full and sees the page saying so."""
    import aiohttp

    address = proxy(_instances(serve, tmp_path, 1, 3))
    first = bank.questions[bank.meta.start]
    following = bank.questions[route(bank, {first.id: first.choices[0].id})[1]]
    # The terminal is wide enough to keep three words of a prompt on one line.
    prompts = " ".join(first.prompt.split()[:3]), " ".join(following.prompt.split()[:3])

    async def scenario():
        placed = {}
        async with contextlib.AsyncExitStack() as tabs:
            for number in range(1, 5):
                student = Student(address, f"Student {number}")
                client = await tabs.enter_async_context(
                    aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)))  # unsafe: an IP address
                assert await student.open(client) == 200
                assert f'data-session-websocket-url="ws{address.removeprefix("http")}/ws"' in student.page
                page_instance = _instance_of(client)
                websocket = await tabs.enter_async_context(
                    client.ws_connect(f"{address}/ws?width=110&height=36", headers={"Origin": address}))
                document = await student.walk_and_export(client, websocket, prompts)
                placed[student.name] = page_instance, _instance_of(client), document
            full = Student(address, "Student 5")
            async with aiohttp.ClientSession() as client:
                status = await full.open(client)
        return placed, status, full.page

    placed, status, page = asyncio.run(scenario())
    for name, (page_instance, last_instance, document) in placed.items():
        assert page_instance == last_instance, f"{name} moved from {page_instance} to {last_instance}"
        assert _front_matter(document)["title"] == name, f"{name} downloaded someone else's design"
        assert name in [saved["title"] for saved in _saved_by(tmp_path, page_instance)], \
            f"{name}'s design is not saved where the proxy said they were"
    assert sorted(instance for instance, _, _ in placed.values()) == ["guide1", "guide2", "guide2", "guide2"]
    assert status == 503 and "The class is full" in page


def test_a_browser_through_the_proxy_answers_and_downloads(serve, proxy, bank, tmp_path):
    """Chromium through the proxy: the page, its websocket and the download (which opens in a new tab)
    all reach the instance the proxy's cookie names."""
    address = proxy(_instances(serve, tmp_path, 5, 5))
    walk = browser_walk(address, tmp_path)
    first = bank.questions[bank.meta.start]
    assert walk.difference["changed"] > 0.01, walk.difference
    assert _front_matter(walk.document)["answers"][first.id] == first.choices[0].id
    (instance,) = [cookie["value"] for cookie in walk.cookies if cookie["name"] == "GUIDE_INSTANCE"]
    (saved,) = _saved_by(tmp_path, instance)
    assert saved["answers"][first.id] == first.choices[0].id
    assert not _saved_by(tmp_path, *set(INSTANCES) - {instance})


def test_a_tabs_download_and_reload_reach_its_instance_after_another_tab_moved_the_browsers_cookie(
        serve, proxy, bank, tmp_path):
    """One browser, two tabs, instances of one session each: tab B finds tab A's instance full and the proxy
    moves the browser's cookie to the other instance. Tab A's export (whose key only its own instance knows)
    and, once tab B has closed, tab A's reload must still reach tab A's instance, by the tab's name: the
    download's `?instance=` (which the page adds from the server's `instance_id`) and the websocket's path."""
    import aiohttp

    address = proxy(_instances(serve, tmp_path, 1, 1))
    tab_a, tab_b = "a" * 32, "b" * 32
    first = bank.questions[bank.meta.start]
    prompt = " ".join(first.prompt.split()[:3])

    async def tab(client, name: str):
        for _ in range(STARTUP_TRIES):  # a seat just given back may take a moment to be free
            try:
                websocket = await client.ws_connect(f"{address}/ws/{name}?width=110&height=36",
                                                    headers={"Origin": address})
                return websocket, Screen(websocket)
            except aiohttp.WSServerHandshakeError:
                await asyncio.sleep(0.1)
        pytest.fail(f"tab {name} never got a session")

    async def scenario():
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            assert (await browser.get(f"{address}/")).status == 200
            instance_a = _instance_of(browser)
            websocket_a, screen_a = await tab(browser, tab_a)
            for keys, shown in (((), "Start a new design"), (("n",), "Name your design"),
                                (("Tab A", "\r"), re.escape(prompt)), (("s",), "Priorities"),
                                (("e",), "Export the design document")):
                await screen_a.keys(*keys)
                assert await screen_a.read_until(shown), f"tab A never saw '{shown}'"
            assert (await browser.get(f"{address}/")).status == 200  # tab B: tab A's instance is full
            assert _instance_of(browser) != instance_a
            websocket_b, screen_b = await tab(browser, tab_b)
            assert await screen_b.read_until("Start a new design")
            await screen_a.keys("\r")  # Download
            assert await _delivered(screen_a), "the export never reached the browser"
            (key,) = [data for kind, data in screen_a.messages if kind == "deliver_file_start"]
            instances = [data for kind, data in screen_a.messages if kind == "instance_id"]
            query = f"?instance={instances[0]}" if instances else ""  # what textual-serve's page adds
            async with browser.get(f"{address}/download/{key}{query}") as download:
                downloaded = download.status, await download.text()
            await websocket_b.close()
            await websocket_a.close()
            _, reloaded = await tab(browser, tab_a)
            assert await reloaded.read_until("Start a new design")
            return downloaded, reloaded.text

    (status, document), reloaded = asyncio.run(scenario())
    assert status == 200, f"tab A's download went to the other instance: {status}"
    assert _front_matter(document)["title"] == "Tab A"
    assert "Tab A" in reloaded, "the reloaded tab reached an instance without its design"
