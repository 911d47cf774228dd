"""bench.py metric 5's students: however a server behaves, a class ends and every student is counted.

Each server here is a few lines of aiohttp on a free loopback port that misbehaves in one way. The
students' stall limit is lowered so that the class ends soon; how long it takes is never checked,
only that it ends, with the misbehaving tabs counted as stalled. The outer bound (`CLASS_ENDS_WITHIN`)
only turns a class that would wait forever into a failure instead of a hung test run.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bench import bench
from .conftest import free_port

CLASS_ENDS_WITHIN = 60.0  # seconds; far above what these classes need once their waits are bounded
# A stall bound for the classes that must not stall: what they wait for comes after 0.5 s, so on a loaded
# machine a bound of 1 s (the quick classes' own, for the tests that expect a stall) could be timing, not behaviour.
NEVER_STALLS = 20.0


@pytest.fixture
def quick_class(monkeypatch):
    monkeypatch.setattr(bench, "ARRIVAL", 0.0)
    monkeypatch.setattr(bench, "STALL", 1.0)
    monkeypatch.setattr(bench, "QUIET", 0.1)


async def _serving(handle_websocket, handle_download=None) -> tuple[web.AppRunner, int]:
    application = web.Application()
    application.router.add_get("/ws", handle_websocket)
    if handle_download is not None:
        application.router.add_get("/download/{key}", handle_download)
    runner = web.AppRunner(application)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


async def _class_of(students: int, handle_websocket, handle_download=None) -> list[bench.Student]:
    runner, port = await _serving(handle_websocket, handle_download)
    try:
        members, _ = await asyncio.wait_for(bench.classroom(port, 0, students), CLASS_ENDS_WITHIN)
        return members
    finally:
        await runner.cleanup()


async def _pinging_and_never_answering(request: web.Request) -> web.WebSocketResponse:
    """A tab whose app drew its start screen and then never answers a key, while the server's
    heartbeat pings the browser more often than a student waits for an answer."""
    websocket = web.WebSocketResponse(heartbeat=0.2)
    await websocket.prepare(request)
    await websocket.send_bytes(b"the start screen")
    async for _ in websocket:
        pass
    return websocket


async def test_a_student_whose_key_is_never_answered_stalls_though_the_server_pings(quick_class):
    members = await _class_of(2, _pinging_and_never_answering)
    assert all(member.stalled and not member.exported for member in members)


def _first_tab_sent_what_no_page_reads():
    """The first tab is sent a message its page cannot read, which ends that student's lesson with an
    error; the other tabs never answer a key, so their students stall and wait for the class to end."""
    tabs = 0

    async def handle_websocket(request: web.Request) -> web.WebSocketResponse:
        nonlocal tabs
        tabs += 1
        if tabs > 1:
            return await _pinging_and_never_answering(request)
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        await websocket.send_str("not JSON")
        async for _ in websocket:
            pass
        return websocket
    return handle_websocket


async def test_a_student_whose_lesson_fails_is_counted_as_stalled_and_the_class_still_ends(quick_class):
    members = await _class_of(3, _first_tab_sent_what_no_page_reads())
    assert all(member.stalled and not member.exported for member in members)


def _offering_the_document_after_the_screen_settled():
    """Every key draws the results' key bar; Enter (in the export dialog) offers the document only once the
    screen has been quiet for longer than a student waits for it to settle, as an app writing a long
    document on a busy server does."""
    async def handle_websocket(request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        await websocket.send_bytes(b"the start screen")
        async for message in websocket:
            keys = message.json()[1]
            await websocket.send_bytes(b"Export")
            if keys == "\r":
                await asyncio.sleep(bench.QUIET * 5)
                await websocket.send_json(["deliver_file_start", "the-key"])
        return websocket

    async def handle_download(request: web.Request) -> web.Response:
        return web.Response(text="## Element evidence" if request.match_info["key"] == "the-key" else "",
                            content_type="text/markdown")
    return handle_websocket, handle_download


async def test_a_document_offered_after_the_screen_settled_is_still_downloaded(quick_class, monkeypatch):
    monkeypatch.setattr(bench, "READING", (0.0, 0.0))
    monkeypatch.setattr(bench, "STALL", NEVER_STALLS)
    handle_websocket, handle_download = _offering_the_document_after_the_screen_settled()
    members = await _class_of(2, handle_websocket, handle_download)
    assert all(member.exported and not member.stalled for member in members)


def _drawing_the_results_key_bar_after_the_screen_settled():
    """The first answer leads to the results, whose key bar is drawn only once the screen has been quiet
    for longer than a student waits for it to settle, as on a busy server; the results ignore space and
    Enter. e opens the export dialog, whose Enter offers the document."""
    async def handle_websocket(request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        await websocket.send_bytes(b"the start screen")
        answered = False
        async for message in websocket:
            keys = message.json()[1]
            if keys == " \r" and not answered:
                answered = True
                await websocket.send_bytes(b"the results")
                await asyncio.sleep(bench.QUIET * 5)
                await websocket.send_bytes(b"Export")
            elif keys in ("n", "e"):
                await websocket.send_bytes(b"a dialog")
            elif keys == "\r":
                await websocket.send_json(["deliver_file_start", "the-key"])
        return websocket

    async def handle_download(request: web.Request) -> web.Response:
        return web.Response(text="## Element evidence", content_type="text/markdown")
    return handle_websocket, handle_download


async def test_results_whose_key_bar_comes_after_the_screen_settled_are_still_seen(quick_class, monkeypatch):
    monkeypatch.setattr(bench, "READING", (bench.QUIET * 10, bench.QUIET * 10))
    monkeypatch.setattr(bench, "STALL", NEVER_STALLS)
    members = await _class_of(2, *_drawing_the_results_key_bar_after_the_screen_settled())
    assert all(member.exported and not member.stalled and len(member.answers) == 1 for member in members)
