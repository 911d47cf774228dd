"""Loading a bank for use: read from its files, checked across its graph, and cached once it passes.

The bank layer reads files into models, the graph layer checks them, and the cache below both keeps
what passed; this module puts the three together, so none of them needs to know of the others.
"""

from __future__ import annotations

import dataclasses
import gc
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from guide.bankfiles import BUILTIN_BANK, content_digest
from guide.cache import cache_key, load_cached, store
from guide.source import GuideError

if TYPE_CHECKING:
    from guide.bank import Bank

# An element as the start screen shows it at a glance: its letter, its name and its question.
ElementLine = tuple[str, str, str]


def load_bank(directory: str | Path = BUILTIN_BANK, *, check: bool = True) -> Bank:
    """Read and validate every file of a bank; with `check`, the first graph error is raised too."""
    with _collector_paused():
        return _load_bank(Path(directory), check)


def at_a_glance(bank: Bank) -> tuple[ElementLine, ...]:
    return tuple((element.short, element.name, element.question) for element in bank.elements.values())


@dataclasses.dataclass(frozen=True)
class PendingBank:
    """A bank in the cache (so it passed every check) that is not loaded yet: its elements at a glance, read
    without the models, so that the app can paint its start screen before it imports them."""

    directory: Path
    elements: tuple[ElementLine, ...]

    def load(self) -> Bank:
        return load_bank(self.directory)


def pending_bank(directory: str | Path = BUILTIN_BANK) -> PendingBank | None:
    """The bank in `directory` if it is in the cache, not loaded yet; None when it is not in the cache."""
    directory = Path(directory)
    if not directory.is_dir():
        return None
    elements = load_cached(_cache_file(directory, content_digest(directory)), tuple, part=0)
    return None if elements is None else PendingBank(directory, elements)


def _cache_file(directory: Path, digest: str) -> str | None:
    # The directory is part of the key: locations and cases() name files under it.
    return cache_key(f"{directory}\0{digest}")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading builds a large tree of long-lived objects (parsed YAML, models, the graph) and no reference
    cycles. Python's cyclic collector would scan that tree again and again while it grows, and again
    later; at 5,000 questions that doubled the time to load, lint and route. So it is paused while a bank
    loads, and what exists then is frozen out of its later scans. Reference counting still frees
    whatever is dropped, but cyclic garbage that exists when it is frozen is never freed (networkx leaves
    some the first time it runs a function), so a process that loads banks again (a server, the
    benchmark, the tests) collects it first."""
    enabled = gc.isenabled()
    if gc.get_freeze_count():  # not the first load: `guide run` need not scan everything it imported
        gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def require_bank_directory(directory: Path) -> None:
    """A GuideError unless `directory` is a folder with a bank.yaml, saying what it is instead.

    Every command that reads a bank comes here first, so a folder that is no bank is told in one wording."""
    if not directory.is_dir():
        raise GuideError(directory, None, None, "not a directory; a bank is a folder of YAML files"
                         if directory.exists() else "bank directory not found")
    try:
        (directory / "bank.yaml").lstat()  # a link to nothing is the bank file's own problem, told with it
    except FileNotFoundError:
        raise GuideError(directory, None, None, "not a question bank (no bank.yaml)") from None
    except OSError as error:
        raise GuideError(directory, None, None, error.strerror or "cannot be read") from None


def _load_bank(directory: Path, check: bool) -> Bank:
    require_bank_directory(directory)
    from guide.bank import Bank, read_bank  # pydantic and the models: not before the app's first paint

    digest = content_digest(directory)
    cache_file = _cache_file(directory, digest) if check else None
    cached = load_cached(cache_file, Bank, part=1)
    if cached is not None:
        return cached
    bank = read_bank(directory, digest)
    if check:
        from guide.graph import check_bank  # networkx: only when a bank is not in the cache

        errors = [finding for finding in check_bank(bank) if finding.severity == "error"]
        if errors:
            raise errors[0].as_error()
        # The elements first: the start screen reads them without unpickling the bank (`pending_bank`).
        store(cache_file, at_a_glance(bank), dataclasses.replace(bank, documents={}))
    return bank
