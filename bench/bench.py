"""The speed of `guide`, measured as ratios within one run: `python bench/bench.py`.

Prints one line per metric, `name value target`, on stdout (details go to stderr). Every time is
the best of several repeats, taken in alternation with its baseline, so a busy machine slows both
sides of a ratio alike. This script is not part of the test suite and never fails it.

  1. run_vs_import_floor       `guide run --case dr-screening` as a whole process vs the import
                               of its own dependencies; Textual must not be imported on this path.
  2. launch_vs_label_app       `guide` started in a 120x40 pseudo-terminal to its first painted
                               start screen, whole process, vs a one-label Textual app to its label.
     first_question_vs_stock_widgets
                               a running guide to its first question on screen vs a running app to
                               the question screen's layout built from Textual's own widgets with
                               no guide code: the floor any app with this screen starts from.
  3. answer_vs_stock_widgets   Enter to the updated screen, median of 100 answers, vs the same on
     answer_to_screen_ms       the stock-widget screen (its choices and prompt swapped); and the
                               median itself, in milliseconds. Taken in alternating rounds of 20.
  4. bank_5000q_25000e         load, lint, route and score a generated bank of 5,000 questions and
                               25,000 edges (seconds), and the time ratio to a 500-question bank.
     bank_5000q_peak_mib       the peak of that work's memory (tracemalloc, in a child process).
  5. classroom_100_*           100 students (--students N) on one `guide serve` over the websocket,
                               each reading 5-15 s (seeded) before every answer, walking a whole
                               design and downloading its document: 95th percentile of answer to
                               settled screen, students stalled, and server memory (PSS and USS
                               over the server and its processes) per added student. With the
                               kernel's page merging (KSM) on, read PSS: a merged page is in no
                               USS. Whether KSM was on, its settings and ksmd's CPU are printed.
  6. results_screen_ms         s on a question of a whole design to the last frame of its results.
Metrics 2, 3 and 6 end at the last frame that changed the screen (see FrameClock), not when Pilot's
idle waits end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
FLOOR_IMPORTS = "import pydantic, networkx, markdown_it, yaml"


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def report(name: str, value: str, target: str) -> None:
    print(f"{name} {value} {target}", flush=True)


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


# --- 1 -------------------------------------------------------------------------------------------

def run_vs_import_floor(repeats: int) -> None:
    run = [PYTHON, "-m", "guide", "run", "--case", "dr-screening"]
    floor = [PYTHON, "-c", FLOOR_IMPORTS]
    wall(run), wall(floor)  # warm the file cache and the bytecode caches
    run_times, floor_times = [], []
    for _ in range(repeats):
        run_times.append(wall(run))
        floor_times.append(wall(floor))
    modules = subprocess.run(
        [PYTHON, "-c", "import sys, runpy; sys.argv = ['guide', 'run', '--case', 'dr-screening'];\n"
                       "try: runpy.run_module('guide', run_name='__main__')\n"
                       "except SystemExit: pass\n"
                       "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'}), file=sys.stderr)"],
        capture_output=True, text=True, cwd=ROOT).stderr.strip().splitlines()[-1]
    note(f"1: guide run best {min(run_times):.3f} s, import floor best {min(floor_times):.3f} s; "
         f"Textual/Rich imported on this path: {modules}")
    ratio = min(run_times) / min(floor_times)
    report("run_vs_import_floor", f"{ratio:.2f}" + ("" if modules == "[]" else "(textual_imported!)"), "<=1.3")


# --- 4 -------------------------------------------------------------------------------------------

def bank_work(directory: Path) -> float:
    """Seconds to load, lint (every check of the loader and graph, and lint's own), route and score one
    generated bank, each once."""
    from guide.bank import read_answers
    from guide.engine import route, score
    from guide.lint import lint_loaded_bank
    from guide.load import load_bank

    started = time.perf_counter()
    bank = load_bank(directory, check=False)
    findings = [finding for finding in lint_loaded_bank(bank) if finding.severity == "error"]
    answers = read_answers(bank.cases()["case-0"], bank)
    path = route(bank, answers.answers)
    scored = score(bank, answers.answers)
    elapsed = time.perf_counter() - started
    assert not findings and path == scored.path
    return elapsed


def generated_bank(folder: Path, questions: int) -> Path:
    from bench.bankgen import generate_bank

    # One rule for every 7.5 questions makes the graph five edges per question.
    return generate_bank(folder / f"bank{questions}", questions, seed=1, elements=5, methods=12,
                         rules=questions * 2 // 15)


def large_bank() -> None:
    from guide.graph import build_graph
    from guide.load import load_bank

    os.environ["GUIDE_NO_CACHE"] = "1"  # measure the work, not the bank cache
    with tempfile.TemporaryDirectory() as folder:
        small, large = generated_bank(Path(folder), 500), generated_bank(Path(folder), 5000)
        graph = build_graph(load_bank(large))
        # Alternated, as the other ratios are: a busy spell then slows both sides alike.
        rounds = [(bank_work(small), bank_work(large)) for _ in range(5)]
        small_time, large_time = (min(times) for times in zip(*rounds))
        peak = int(subprocess.run([PYTHON, "-c", BANK_MEMORY, str(large)], check=True, capture_output=True,
                                  text=True, cwd=ROOT).stdout)
    del os.environ["GUIDE_NO_CACHE"]
    note(f"4: 5,000 questions, {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges: "
         f"{large_time:.2f} s; 500 questions: {small_time:.3f} s; peak of the memory the work allocates "
         f"(tracemalloc, after the imports) {peak / 2**20:.1f} MiB")
    report("bank_5000q_25000e", f"{large_time:.2f}s/x{large_time / small_time:.1f}", "<=2s/x<=12")
    report("bank_5000q_peak_mib", f"{peak / 2**20:.1f}", "<=60")


# The peak of bank_work's allocations in a process of its own, its modules imported before tracing.
BANK_MEMORY = """
import sys, tracemalloc
from pathlib import Path
import guide.bank, guide.engine, guide.graph, guide.lint, guide.load
from bench.bench import bank_work
tracemalloc.start()
bank_work(Path(sys.argv[1]))
print(tracemalloc.get_traced_memory()[1])
"""


# --- 2, 3 and 6: the terminal app ---------------------------------------------------------------

SIZE = (120, 40)  # columns, rows


def painted(command: list[str], marker: bytes, home: str) -> float:
    """Seconds from starting `command` in a pseudo-terminal of SIZE to the output that paints `marker`."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    environment = {**os.environ, "GUIDE_HOME": home, "TERM": "xterm-256color", "COLUMNS": "", "LINES": ""}
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=terminal, stdout=terminal, stderr=terminal, cwd=ROOT,
                               env=environment, start_new_session=True)
    os.close(terminal)
    output = b""
    try:
        while marker not in output:
            if not select.select([controller], [], [], 30)[0]:
                raise RuntimeError(f"{command} painted no {marker!r} in 30 s")
            output += os.read(controller, 1 << 16)
        return time.perf_counter() - started
    finally:
        process.kill()
        process.wait()
        os.close(controller)


LABEL_APP = ("from textual.app import App\nfrom textual.widgets import Label\n"
             "class OneLabel(App):\n    def compose(self):\n        yield Label('What does the model do?')\n"
             "OneLabel().run()")


def launch(repeats: int) -> None:
    guide = ([PYTHON, "-m", "guide"], b"Help: keys and the framework")  # the start menu's last line
    label = ([PYTHON, "-c", LABEL_APP], b"What does the model do?")
    with tempfile.TemporaryDirectory() as home:
        painted(*guide, home), painted(*label, home)  # warm the file, bytecode and bank caches
        rounds = [(painted(*guide, home), painted(*label, home)) for _ in range(repeats)]
    guide_time, label_time = (min(times) for times in zip(*rounds))
    note(f"2: in a {SIZE[0]}x{SIZE[1]} pseudo-terminal, process start to its first painted start screen best "
         f"{guide_time * 1000:.0f} ms; a one-label Textual app to its label {label_time * 1000:.0f} ms")
    report("launch_vs_label_app", f"{guide_time / label_time:.2f}", "<=1.5")


class FrameClock:
    """When each frame of an app under Pilot was ready, and what it changed on screen.

    Pilot itself sleeps in steps of 20 ms until the process looks idle, so timing `press` and `pause`
    measures those sleeps more than the app. This clock ends a measurement at the frame that last
    changed the screen instead: the moment the user sees the final picture. Each frame is also turned
    into the bytes a terminal would receive (the headless driver skips that work), and it is replayed
    onto a grid of cells, so that a frame which repaints the same cells does not count as a change.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.frames: list[tuple[float, object]] = []
        self.cells: dict[tuple[int, int], tuple[str, object]] = {}
        display = app._display

        def timed_display(screen, update) -> None:
            display(screen, update)
            if update is not None:
                update.render_segments(app.console)
                self.frames.append((time.perf_counter(), update))

        app._display = timed_display

    def changes(self) -> list[float]:
        """The times of the frames, since the previous call, that changed a cell on screen."""
        changed = [when for when, update in self.frames if self._replay(update)]
        self.frames.clear()
        return changed

    def last_change(self) -> float | None:
        """The time of the last frame, since the previous call, that changed a cell on screen."""
        return (self.changes() or [None])[-1]

    def _replay(self, update) -> bool:
        from rich.cells import cell_len
        from rich.segment import ControlType

        changed, x, y = False, 0, 0
        for segment in update.__rich_console__(self.app.console, self.app.console.options):
            if segment.control:
                for control in segment.control:
                    if control[0] == ControlType.CURSOR_MOVE_TO:
                        x, y = control[1], control[2]
            elif segment.text != "\n":
                for character in segment.text:
                    if self.cells.get((x, y)) != (character, segment.style):
                        self.cells[(x, y)] = (character, segment.style)
                        changed = True
                    x += cell_len(character)
        return changed


async def timed(clock: FrameClock, pilot, act) -> float:
    """Seconds from `act` (a call, or a key pressed) to the last frame that changed the screen."""
    await pilot.pause()
    clock.last_change()
    started = time.perf_counter()
    if isinstance(act, str):
        await pilot.press(act)
    else:
        act()
    await pilot.pause()
    return clock.last_change() - started


def stock_question_screen():
    """The question screen's layout built from Textual's own widgets, with no guide code: what any
    app showing a question, its help, its choices, a text box, a note, buttons and a side panel costs.
    Enter on a choice answers: the next question's prompt and choices replace the ones shown."""
    from textual import on
    from textual.containers import Horizontal, Vertical, VerticalScroll
    from textual.screen import Screen
    from textual.widgets import Button, Input, OptionList, Static, TextArea

    help_text = "The task decides what an explanation has to point at. " * 3

    class StockQuestion(Screen):
        answered = 0

        def compose(self):
            yield Static("Step 1/5: Use case")
            with Horizontal():
                with VerticalScroll():
                    yield Static("What does the model do?", id="prompt")
                    yield Static(help_text)
                    yield OptionList(*self.choices())
                    yield TextArea()
                    yield Static(help_text)
                    yield Input(placeholder="Note")
                    with Horizontal():
                        yield Button("Back")
                        yield Button("Answer")
                        yield Button("Unsure")
                with Vertical():
                    yield Static("Priorities so far")
                    yield Static("\n".join(f"{letter} ░░░░░░░░░░ Not needed" for letter in "LVPTA"))
                    yield Static(help_text)
            yield Static("← Back  → Next  u Unsure")

        def choices(self) -> list[str]:
            return [f"{number} ( ) choice {number} of question {self.answered}" for number in range(9 - self.answered % 4)]

        def on_mount(self) -> None:
            self.query_one(OptionList).highlighted = 0
            self.query_one(OptionList).focus()

        @on(OptionList.OptionSelected)
        def answer(self) -> None:
            self.answered += 1
            choices = self.query_one(OptionList)
            choices.set_options(self.choices())
            choices.highlighted = 0
            self.query_one("#prompt", Static).update(f"Question {self.answered}: what does the model do?")

    return StockQuestion()


def label_app():
    from textual.app import App
    from textual.widgets import Label

    class OneLabel(App):
        def compose(self):
            yield Label("What does the model do?")

    return OneLabel()


def first_question(repeats: int) -> None:
    from guide.load import load_bank
    from guide.session import Walk
    from guide.tui.app import GuideApp

    bank = load_bank()

    async def guide_question() -> float:
        app = GuideApp(bank)
        async with app.run_test(size=SIZE) as pilot:  # from the start screen, as a new design begins
            return await timed(FrameClock(app), pilot, lambda: app.begin(Walk(bank)))

    async def stock_question() -> float:
        app = label_app()
        async with app.run_test(size=SIZE) as pilot:
            return await timed(FrameClock(app), pilot, lambda: app.push_screen(stock_question_screen()))

    with tempfile.TemporaryDirectory() as home:
        os.environ["GUIDE_HOME"] = home
        asyncio.run(guide_question()), asyncio.run(stock_question())  # warm imports and caches
        rounds = [(asyncio.run(guide_question()), asyncio.run(stock_question())) for _ in range(repeats)]
    guide_time, stock_time = (min(times) for times in zip(*rounds))
    note(f"2: a running app to its first question painted best {guide_time * 1000:.0f} ms; the question screen's "
         f"layout in Textual's own widgets with no guide code {stock_time * 1000:.0f} ms")
    report("first_question_vs_stock_widgets", f"{guide_time / stock_time:.2f}", "<=1.3")


async def guide_answers(bank, answers: int) -> list[float]:
    """Seconds from each Enter to the last frame that changed the screen."""
    from guide.session import Walk
    from guide.tui.app import GuideApp
    from guide.tui.question import QuestionScreen

    app = GuideApp(bank)
    clock = FrameClock(app)
    times = []
    async with app.run_test(size=SIZE) as pilot:
        while len(times) < answers:
            if not isinstance(app.screen, QuestionScreen):  # not yet begun, or reached the results: start again
                app.begin(Walk(bank))
                await pilot.pause()
            asked = app.walk.position
            if app.walk.question.kind == "text":
                app.screen.query_one("#paragraph").load_text("A paragraph about the project.")
                app.screen.query_one("#paragraph").focus()
            if app.walk.question.kind == "multiple":  # Enter answers with the ticked choices
                await pilot.press("space")
            times.append(await timed(clock, pilot, "enter"))
            assert app.walk.position != asked, "the answer did not move the walk on"
    return times


async def stock_answers(answers: int) -> list[float]:
    app = label_app()
    clock = FrameClock(app)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(stock_question_screen())
        return [await timed(clock, pilot, "enter") for _ in range(answers)]


def answer(rounds: int = 5, answers: int = 20) -> None:
    from guide.load import load_bank

    bank = load_bank()
    guide_times, stock_times = [], []
    with tempfile.TemporaryDirectory() as home:
        os.environ["GUIDE_HOME"] = home
        for _ in range(rounds):
            guide_times += asyncio.run(guide_answers(bank, answers))
            stock_times += asyncio.run(stock_answers(answers))
    guide_median, stock_median = statistics.median(guide_times), statistics.median(stock_times)
    note(f"3: {len(guide_times)} answers, Enter to the last frame that changed the screen: median "
         f"{guide_median * 1000:.1f} ms, 90th percentile {statistics.quantiles(guide_times, n=10)[-1] * 1000:.1f} ms, "
         f"slowest {max(guide_times) * 1000:.1f} ms; on the stock-widget screen (its choices and prompt swapped) "
         f"median {stock_median * 1000:.1f} ms")
    report("answer_vs_stock_widgets", f"{guide_median / stock_median:.2f}", "<=1.5")
    report("answer_to_screen_ms", f"{guide_median * 1000:.1f}", "<=30")


def results_screen(repeats: int) -> None:
    from guide.bank import read_answers
    from guide.load import load_bank
    from guide.session import Walk
    from guide.tui.app import GuideApp
    from guide.tui.results import ResultsScreen

    bank = load_bank()
    preset = read_answers(bank.cases()["dr-screening"], bank)

    async def openings() -> list[float]:
        app = GuideApp(bank)
        clock = FrameClock(app)
        times = []
        async with app.run_test(size=SIZE) as pilot:
            app.begin(Walk(bank, preset, bank.meta.start))
            for _ in range(repeats + 1):  # the first opening warms what the others reuse
                times.append(await timed(clock, pilot, "s"))
                assert isinstance(app.screen, ResultsScreen)
                await pilot.press("b")
        return times[1:]

    with tempfile.TemporaryDirectory() as home:
        os.environ["GUIDE_HOME"] = home
        times = asyncio.run(openings())
    note(f"6: s on a question of a whole design (dr-screening) to the last frame of its results: best "
         f"{min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms of {len(times)}")
    report("results_screen_ms", f"{min(times) * 1000:.0f}", "<=100")


# --- 5 -------------------------------------------------------------------------------------------

STUDENTS = 100
READING = (5.0, 15.0)  # seconds a student reads a question before answering it
ARRIVAL = 30.0  # students open their tab within this many seconds of the lesson's start
SEED = 15
QUIET = 0.4  # seconds without output after which a screen counts as settled
STALL = 20.0  # seconds from a key (or from opening the tab) to a settled screen, beyond which the session stalled
MOST_ANSWERS = 80  # a walk that has not reached the results by then is stuck


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def memory_kib(pid: int) -> tuple[int, int, int]:
    """(PSS, USS, merged) of a process in KiB: its share of every page it maps, the pages only it maps, and
    the pages it maps that the kernel's page merging (KSM) merged with others."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:  # the process has just ended
        return 0, 0, 0
    fields = {line.split(":")[0]: int(line.split()[1]) for line in lines[1:]}
    return fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"], fields.get("KSM", 0)


KSM = Path("/sys/kernel/mm/ksm")
KSM_SETTINGS = ("run", "pages_to_scan", "sleep_millisecs")
KSM_COUNTERS = ("pages_shared", "pages_sharing", "general_profit", "full_scans")


def ksm_values(names: tuple[str, ...]) -> dict[str, int]:
    """The kernel's page merging (KSM) files of `names` as numbers; none on a kernel without KSM."""
    try:
        return {name: int((KSM / name).read_text()) for name in names}
    except (OSError, ValueError):
        return {}


def ksmd_cpu_ticks() -> int | None:
    """CPU time ksmd, the kernel's merging thread, has used (user + system, in clock ticks)."""
    for process in Path("/proc").glob("[0-9]*"):
        try:
            if (process / "comm").read_text().strip() == "ksmd":
                return sum(int(field) for field in (process / "stat").read_text().rsplit(")", 1)[1].split()[11:13])
        except OSError:
            continue
    return None


def ksm_condition() -> str:
    settings = ksm_values(KSM_SETTINGS)
    if not settings:
        return "the kernel's page merging (KSM) is not available"
    if settings["run"] != 1:
        return "the kernel's page merging (KSM) is off"
    return (f"the kernel's page merging (KSM) is on, scanning {settings['pages_to_scan']} pages every "
            f"{settings['sleep_millisecs']} ms")


def server_memory_kib(server_pid: int) -> tuple[int, int, int]:
    """PSS, USS and merged memory summed over the server and every process under it."""
    pss, uss, merged = zip(*(memory_kib(pid) for pid in [server_pid, *descendants(server_pid)]))
    return sum(pss), sum(uss), sum(merged)


def descendants(pid: int) -> list[int]:
    children = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(child) for child in (task / "children").read_text().split()]
    except OSError:
        return []
    return [pid for child in children for pid in (child, *descendants(child))]


def decoded(message):
    """A websocket message as the page takes it: screen output as text (escapes left in), others as JSON;
    None for a close or an error."""
    import aiohttp

    if message.type == aiohttp.WSMsgType.BINARY:
        return message.data.decode("utf-8", "replace")
    if message.type == aiohttp.WSMsgType.TEXT:
        return message.json()
    return None


def showing_results(messages: list) -> bool:
    """Whether screen output among `messages` draws the key bar of the results."""
    return "Export" in "".join(message for message in messages if isinstance(message, str))


class Student:
    """One browser tab: opens the app, walks a whole design answering after reading each question, and
    exports the design document as a download."""

    def __init__(self, number: int, port: int) -> None:
        import random

        self.port, self.random = port, random.Random(SEED * 1000 + number)
        self.arrival = self.random.uniform(0, ARRIVAL)
        self.socket = None
        self.start: float | None = None  # seconds from opening the tab to its settled start screen
        self.answers: list[float] = []  # seconds from each answer to its settled screen
        self.stalled = self.exported = False
        self.doing = "arriving"  # what the student last did, said when the student stalls

    def stall(self, why: str) -> None:
        self.stalled = True
        note(f"5: a student stalled, {why}, after {len(self.answers)} answers ({self.doing})")

    async def attend(self, class_done: asyncio.Event) -> None:
        """The lesson of one student; the tab stays open until `class_done`, as a class keeps its tabs.
        Every wait is bounded: a lesson that cannot go on, whatever the reason, ends as a stall."""
        import aiohttp

        await asyncio.sleep(self.arrival)
        # A request that never ends would hold the class open forever: each gets a minute, then counts as a stall.
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=60, sock_read=60)) as client:
            try:
                self.doing = "opening the tab"
                async with client.ws_connect(f"ws://127.0.0.1:{self.port}/ws?width=120&height=40") as socket:
                    self.socket = socket
                    opened = time.perf_counter()
                    settled, _ = await self.settle()
                    self.start = None if settled is None else settled - opened
                    if not await self.walk() or not await self.export(client):
                        self.stall("no settled screen or no document")
                    self.doing = "waiting for the class"
                    while not class_done.is_set():
                        if await self.read(1.0) is None:
                            self.stall("the server closed a tab the student still has open")
                            break
            except (OSError, aiohttp.ClientError) as error:  # TimeoutError included
                self.stall(f"the connection was lost: {error!r}")
            except Exception as error:  # a lesson that failed must neither pass as walked nor hold the class
                self.stall(f"the lesson failed: {error!r}")

    async def receive(self, deadline: float):
        """The next message from the server, or None once `deadline` (time.perf_counter()) has passed.
        aiohttp restarts a receive's own timeout at every ping the server sends (every 15 s, as the
        server's heartbeat), so `socket.receive(timeout=20)` on a screen that never answers waits forever."""
        try:
            async with asyncio.timeout(deadline - time.perf_counter()):
                return await self.socket.receive()
        except TimeoutError:
            return None

    async def settle(self) -> tuple[float | None, list]:
        """Wait for the screen to stop changing: the time of its last change (None if nothing came, or if it
        was still changing STALL seconds on) and the messages received meanwhile (screen output as text,
        escapes left in; others as JSON)."""
        last, messages = None, []
        stalled_at = time.perf_counter() + STALL
        while True:
            quiet_at = stalled_at if last is None else last + QUIET
            message = await self.receive(min(quiet_at, stalled_at))
            if message is None:
                settled = last is not None and quiet_at <= stalled_at
                return (last if settled else None), messages
            if (content := decoded(message)) is None:  # closed
                return last, messages
            messages.append(content)
            last = time.perf_counter()

    async def read(self, seconds: float) -> list | None:
        """Take what the server sends for `seconds`, as an open page does (it answers the server's pings
        meanwhile): the messages, or None once the connection is closed."""
        deadline, messages = time.perf_counter() + seconds, []
        while (message := await self.receive(deadline)) is not None:
            if (content := decoded(message)) is None:
                return None
            messages.append(content)
        return messages

    async def keys(self, keys: str) -> tuple[float | None, list]:
        """Type `keys`; seconds to the settled screen (None: stalled) and what came meanwhile."""
        self.doing = f"typed {keys!r}"
        sent = time.perf_counter()
        await asyncio.wait_for(self.socket.send_json(["stdin", keys]), STALL)
        settled, messages = await self.settle()
        return (None if settled is None else settled - sent), messages

    async def walk(self) -> bool:
        """A new design, answered to the results; whether the results were reached without a stall."""
        if (await self.keys("n"))[0] is None:  # a new design: the first question
            return False
        for _ in range(MOST_ANSWERS):
            reading = await self.read(self.random.uniform(*READING))
            if reading is None:
                return False
            if self.answers and showing_results(reading):
                return True  # drawn after the screen of the last answer had settled, as a busy app may
            # Space ticks the highlighted choice where several apply; on one choice it does nothing, and
            # in a text box Enter strips it (the question is left open, as with Enter alone).
            seconds, messages = await self.keys(" \r")
            if seconds is None:
                return False
            self.answers.append(seconds)
            if showing_results(messages):
                return True
        return False

    async def offered_download(self, messages: list) -> str | None:
        """The key of the download the app offers, from `messages` or from what comes within STALL seconds:
        writing the document can take longer than the screen takes to settle, and a page takes the offer
        whenever it comes. None if none came, or the tab was closed."""
        deadline = time.perf_counter() + STALL
        while True:
            for message in messages:
                if isinstance(message, list) and message[0] == "deliver_file_start":
                    return message[1]
            message = await self.receive(deadline)
            if message is None or (content := decoded(message)) is None:
                return None
            messages = [content]

    async def export(self, client) -> bool:
        """Export with the dialog's defaults and download the document, as the browser page does."""
        import aiohttp

        if await self.read(self.random.uniform(*READING)) is None or (await self.keys("e"))[0] is None:
            return False
        _, messages = await self.keys("\r")
        key = await self.offered_download(messages)
        if key is None:
            return False
        self.doing = "downloading the document"
        async with client.get(f"http://127.0.0.1:{self.port}/download/{key}",
                              timeout=aiohttp.ClientTimeout(total=3 * STALL)) as response:
            self.exported = response.status == 200 and "## Element evidence" in await response.text()
        return self.exported


async def classroom(port: int, server_pid: int, students: int) -> tuple[list[Student], tuple]:
    """Run a class; the server's memory (PSS, USS, merged), the KSM counters and ksmd's CPU ticks, all taken with
    every student's tab open and exported."""
    class_done = asyncio.Event()
    members = [Student(number, port) for number in range(students)]
    lessons = [asyncio.create_task(member.attend(class_done)) for member in members]
    while not all(member.stalled or member.exported or lesson.done() for member, lesson in zip(members, lessons)):
        await asyncio.sleep(1)
    taken = server_memory_kib(server_pid), ksm_values(KSM_COUNTERS), ksmd_cpu_ticks()
    class_done.set()
    await asyncio.gather(*lessons)  # each ends within a second of `class_done`: a lesson's every wait is bounded
    return members, taken


def percentile(values: list[float], share: float) -> float:
    return sorted(values)[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


def classroom_metric(students: int) -> None:
    import socket

    port = free_port()
    condition, merging = ksm_condition(), ksm_values(("run",)).get("run") == 1
    note(f"5: {condition}")
    ksm_before, ksmd_before = ksm_values(KSM_COUNTERS), ksmd_cpu_ticks()
    with tempfile.TemporaryDirectory() as home:
        server = subprocess.Popen([PYTHON, "-m", "guide", "serve", "--port", str(port), "--max-sessions",
                                   str(students)], cwd=ROOT, env={**os.environ, "GUIDE_HOME": home},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            time.sleep(2)  # the preloaded process has imported the app
            idle_pss, idle_uss, _ = server_memory_kib(server.pid)
            members, ((pss, uss, merged), ksm_after, ksmd_after) = asyncio.run(classroom(port, server.pid, students))
        finally:
            server.terminate()
            server.wait(timeout=60)
    answers = [seconds for member in members for seconds in member.answers]
    starts = [member.start for member in members if member.start is not None]
    stalled = sum(member.stalled or not member.exported for member in members)
    p95 = percentile(answers, 0.95) * 1000
    pss_per_student, uss_per_student = ((now - idle) / students / 1024 for now, idle in ((pss, idle_pss), (uss, idle_uss)))
    # Under Python 3.12 and newer the preloaded objects are immortal and a tab copies less of them: the memory depends
    # on the interpreter the server runs under, which is this one.
    note(f"5: {students} students on a server under Python {platform.python_version()}, reading {READING[0]:g}-"
         f"{READING[1]:g} s per question, arriving within {ARRIVAL:g} s: "
         f"{len(answers)} answers; answer to settled screen median {statistics.median(answers) * 1000:.0f} ms, "
         f"95th percentile {p95:.0f} ms, slowest {max(answers) * 1000:.0f} ms (settled: {QUIET} s without output); "
         f"tab opened to settled start screen median {statistics.median(starts) * 1000:.0f} ms, slowest "
         f"{max(starts) * 1000:.0f} ms; {students - stalled} walked to the results and downloaded the document; "
         f"server memory idle PSS {idle_pss / 1024:.0f} MiB (USS {idle_uss / 1024:.0f}), with every tab open PSS "
         f"{pss / 1024:.0f} MiB (USS {uss / 1024:.0f}): per student {pss_per_student:.1f} MiB PSS, "
         f"{uss_per_student:.1f} MiB USS")
    # A page the kernel merged is in no process's USS (each tab maps it, none alone), but in PSS shared out
    # among its mappers: PSS sums to the memory the class takes, so it is the headline when KSM is on.
    if merging:
        ticks = "?" if ksmd_before is None or ksmd_after is None else ksmd_after - ksmd_before
        note(f"5: {condition}; over the class ksmd used {ticks} clock ticks of CPU "
             f"({os.sysconf('SC_CLK_TCK')} a second); the server's processes map {merged / 1024:.0f} MiB of merged "
             f"pages; at the end " + ", ".join(
                 f"{name} {ksm_after[name]:,}" + (f" (+{ksm_after[name] - ksm_before[name]:,})"
                                                   if name == "full_scans" else "") for name in KSM_COUNTERS)
             + f" (pages of 4 KiB; general_profit in bytes); merged pages are in no USS, and in PSS shared out")
    report(f"classroom_{students}_p95_ms", f"{p95:.0f}", "<=250")
    report(f"classroom_{students}_stalled", str(stalled), "0")
    report("classroom_pss_mib_per_student", f"{pss_per_student:.1f}", "<=25")
    report("classroom_uss_mib_per_student", f"{uss_per_student:.1f}", "<=25")


METRICS = {
    "1": lambda args: run_vs_import_floor(args.repeats),
    "2": lambda args: (launch(args.repeats), first_question(args.repeats)),
    "3": lambda args: answer(),
    "4": lambda args: large_bank(),
    "5": lambda args: classroom_metric(args.students),
    "6": lambda args: results_screen(args.repeats),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("metrics", nargs="*", default=list(METRICS), help="which metrics (default: all)")
    parser.add_argument("--repeats", type=int, default=9, help="repeats of each timed process (default: 9)")
    parser.add_argument("--students", type=int, default=STUDENTS, help=f"students of metric 5 (default: {STUDENTS})")
    args = parser.parse_args()
    os.chdir(ROOT)
    # An installed guide runs from cached bytecode; with this set, the warm-up runs cannot write it and every
    # timed process compiles guide's modules again (about 60 ms), which the baselines' installed packages never do.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for metric in args.metrics:
        METRICS[metric](args)


if __name__ == "__main__":
    main()
