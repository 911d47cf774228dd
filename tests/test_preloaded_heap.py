"""The preloaded process's objects are made immortal where the interpreter has immortal objects (CPython 3.12 and
later), so that a tab forked from it reads them without copying their pages; under 3.11 they are left as they are.

Each interpreter runs `guide/commands/preloaded.py` loaded from its file, which needs nothing but the standard
library, so a bare interpreter is enough. A class served from the newer one is in test_serve.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT

PRELOADED_FILE = ROOT / "guide" / "commands" / "preloaded.py"
# The start of every script here: `preloaded`, loaded from PRELOADED_FILE (its first argument) with no package.
LOAD_PRELOADED = r"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("preloaded", sys.argv[1])
preloaded = importlib.util.module_from_spec(spec)
spec.loader.exec_module(preloaded)
"""

# A heap of 40,000 small records, forked; the fork reads every record as a tab reads what it inherits (looks up
# its fields, hashes its name, calls its function) and reports how many KiB of private memory that cost it.
READ_IN_A_FORK = LOAD_PRELOADED + r"""
import gc, os

def private_kib():
    with open("/proc/self/smaps_rollup") as rollup:
        return sum(int(line.split()[1]) for line in rollup if line.startswith("Private_"))

records = [{"name": f"record {n}", "values": (n * 1000, f"value {n}"), "read": lambda n=n: n} for n in range(40_000)]
gc.collect()
made = preloaded.make_immortal() if sys.argv[2] == "immortal" else 0
gc.freeze()
report, reported = os.pipe()
if os.fork() == 0:
    before = private_kib()
    total = 0
    for record in records:
        total += hash(record["name"]) % 7 + record["values"][0] + record["read"]()
    os.write(reported, str(private_kib() - before).encode())
    os._exit(0)
os.wait()
print(made, os.read(report, 64).decode())
"""


def copied_kib(python: str, how: str) -> tuple[int, int]:
    """How many objects `python` made immortal (`how`: "immortal" or "left") and the KiB the fork copied."""
    done = subprocess.run([python, "-c", READ_IN_A_FORK, str(PRELOADED_FILE), how], capture_output=True, text=True,
                          timeout=120, check=True)
    made, copied = done.stdout.split()
    return int(made), int(copied)


def test_this_python_leaves_counts_alone_where_it_has_no_immortal_objects():
    """Under an interpreter without immortal objects (3.11, which the suite runs under), nothing is marked: a count
    written there would only keep every object forever."""
    made, _ = copied_kib(sys.executable, "immortal")
    assert (made == 0) == (sys.version_info < (3, 12)), f"{made} objects made immortal under {sys.version}"


def test_a_fork_reads_immortal_objects_without_copying_their_pages(bare_newer_python):
    """Under Python 3.12 or newer, a fork that reads 40,000 preloaded records copies a small part of what it copies
    when they are left mortal, where every reference it takes is written into the record's page."""
    left_made, left_copied = copied_kib(bare_newer_python, "left")
    made, copied = copied_kib(bare_newer_python, "immortal")
    assert left_made == 0 and made > 40_000 * 4  # records, their names, values and functions
    assert left_copied > 8 * 1024, f"reading mortal records copied only {left_copied} KiB: the fork read too little"
    assert copied < left_copied / 8, f"{copied} KiB copied with immortal records, {left_copied} KiB without"


# What a tab inherits, after the preloaded process's preparation: the bank, the app's class and code, Textual's code.
INHERITED_COUNTS = """
import sys
from guide.load import load_bank
bank = load_bank()
from guide.commands.preloaded import prepare_to_fork
prepare_to_fork()
from textual.app import App
from guide.tui.app import GuideApp
print(*(sys.getrefcount(item) for item in (bank, bank.questions, GuideApp, GuideApp.compose, App.run)))
"""


@pytest.mark.parametrize("which", ["this python", "a newer python"])
def test_what_a_tab_inherits_is_immortal_only_under_a_python_with_immortal_objects(which, request):
    """The preloaded process's preparation makes the bank and the app's code immortal under Python 3.12 or newer,
    and leaves them counted under 3.11."""
    python = sys.executable if which == "this python" else request.getfixturevalue("newer_python")
    done = subprocess.run([python, "-c", INHERITED_COUNTS], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    version = subprocess.run([python, "-c", "import sys; print(sys.version_info >= (3, 12))"], capture_output=True,
                             text=True, check=True).stdout.strip()
    counts = [int(count) for count in done.stdout.split()]
    immortal = [count >= 2**31 for count in counts]
    assert immortal == [version == "True"] * len(counts), f"{python}: reference counts {counts}"


# `immortal_objects_supported` under an interpreter as another build would show it: `sys` attributes replaced first.
SUPPORTED_AS = LOAD_PRELOADED + r"""
exec(sys.argv[2])
print(preloaded.immortal_objects_supported())
"""


def supported_as(python: str, setup: str) -> bool:
    done = subprocess.run([python, "-c", SUPPORTED_AS, str(PRELOADED_FILE), setup], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip() == "True"


@pytest.mark.parametrize("build", ["sys.maxsize = 2**31 - 1", "sys.byteorder = 'big'"])
def test_a_32_bit_or_big_endian_build_declines_before_writing_a_count(build, bare_newer_python):
    """A 32-bit CPython keeps its immortal mark in 30 bits and compares it exactly: the 32 bits written there would
    be -1, mortal, and the probe would free its list while it still holds it. A big-endian build keeps the low half
    of the count second. Both decline before they write anything."""
    assert supported_as(bare_newer_python, "")  # this 64-bit little-endian build has them
    assert not supported_as(bare_newer_python, build)


def test_the_probe_reads_the_count_it_takes_not_what_getrefcount_says(bare_newer_python):
    """CPython 3.14 borrows the references of locals it passes (LOAD_FAST_BORROW), so `sys.getrefcount` of a
    local can say one less than it did; the probe must still find the count, or every tab copies the heap while
    the banner tells the instructor to use a newer Python."""
    # One less than the real function says of a local; two less here, where the wrapper holds one more reference.
    counting_less = "sys.getrefcount = (lambda counted: lambda item: counted(item) - 2)(sys.getrefcount)"
    assert supported_as(bare_newer_python, counting_less)


MARK_UNDER = LOAD_PRELOADED + r"""
sys.version_info = tuple(map(int, sys.argv[2].split(".")))
print(preloaded.immortal_mark())
"""


@pytest.mark.parametrize(("version", "mark"), [("3.12", 0xFFFFFFFF), ("3.13", 0xFFFFFFFF), ("3.14", 3 << 30)])
def test_objects_are_marked_with_the_interpreters_own_immortal_count(version, mark):
    """From 3.14 CPython gives an immortal object 3 << 30, the middle of the immortal range, and its debug build
    takes a count near 2**32 for freed memory (a fatal error on the next decrement); 3.12 and 3.13 use all ones.
    (Only the mark chosen is checked: no 3.14 here to mark with it.)"""
    done = subprocess.run([sys.executable, "-c", MARK_UNDER, str(PRELOADED_FILE), version], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == mark
