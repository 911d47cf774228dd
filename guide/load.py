"""Loading a bank for use: read from its files, checked across its graph, and cached once it passes.

The bank layer reads files into models, the graph layer checks them, and the cache below both keeps
what passed; this module puts the three together, so none of them needs to know of the others.
"""

from __future__ import annotations

import dataclasses
import gc
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from guide.bank import BUILTIN_BANK, Bank, content_digest, read_bank
from guide.cache import cache_key, load_cached, store
from guide.source import GuideError


def load_bank(directory: str | Path = BUILTIN_BANK, *, check: bool = True) -> Bank:
    """Read and validate every file of a bank; with `check`, the first graph error is raised too."""
    with _collector_paused():
        return _load_bank(Path(directory), check)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading builds a large tree of long-lived objects (parsed YAML, models, the graph) and no reference
    cycles. Python's cyclic collector would scan that tree again and again while it grows, and again
    later; at 5,000 questions that doubled the time to load, lint and route. So it is paused while a bank
    loads, and what exists then is frozen out of its later scans. Reference counting still frees
    whatever is dropped, but cyclic garbage that exists when it is frozen is never freed (linting the
    built-in bank leaves about 29,000 such objects), so a process that loads banks again (a server, the
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


def _load_bank(directory: Path, check: bool) -> Bank:
    if not directory.is_dir():
        raise GuideError(directory, None, None, "bank directory not found")
    digest = content_digest(directory)
    # The directory is part of the key: locations and cases() name files under it.
    cache_file = cache_key(f"{directory}\0{digest}") if check else None
    cached = load_cached(cache_file, Bank)
    if cached is not None:
        return cached
    bank = read_bank(directory, digest)
    if check:
        from guide.graph import check_bank  # networkx: only when a bank is not in the cache

        errors = [finding for finding in check_bank(bank) if finding.severity == "error"]
        if errors:
            raise errors[0].as_error()
        store(cache_file, dataclasses.replace(bank, documents={}))
    return bank
