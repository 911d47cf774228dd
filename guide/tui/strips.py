"""Textual's lines (`Strip`) make their seven small caches when one is first used, not when the line is made.

Every line a widget draws is a Strip, and every screen on the stack keeps the lines it drew: a tab under
`guide serve` holds 2,000-4,500 of them after a walk. Each made seven FIFOCaches (with a dict each) as it
was made, about 1.1 KB a line, most never used: 3-4 MiB of every tab. Textual's `Content` already makes its
cache when first used; this does the same for `Strip`, in this one place, once, for every app of the process.
A line is also made without building those caches at all (Textual's own `__init__` built seven and threw
them away): an answer makes a few thousand lines, and building their caches was about 3 ms of it.
"""

from __future__ import annotations

from functools import lru_cache

from textual._styles_cache import StylesCache
from textual.cache import FIFOCache
from textual.strip import Strip


class _MadeWhenUsed:
    """A Strip's cache slot that stays empty until the cache is first read."""

    def __init__(self, slot, maxsize: int) -> None:
        self.slot, self.maxsize = slot, maxsize  # Textual's own slot, where the cache is kept once made

    def __get__(self, strip: Strip | None, owner: type | None = None):
        if strip is None:
            return self
        try:
            return self.slot.__get__(strip, owner)
        except AttributeError:
            cache = FIFOCache(self.maxsize)
            self.slot.__set__(strip, cache)
            return cache

    def __set__(self, strip: Strip, cache: FIFOCache) -> None:
        # Strip.__init__ sets every cache, empty; only a cache with something in it is worth keeping.
        if cache:
            self.slot.__set__(strip, cache)


CACHES = ("_divide_cache", "_crop_cache", "_style_cache", "_filter_cache", "_line_length_cache", "_crop_extend_cache",
          "_offsets_cache")
OTHER_SLOTS = {"_segments", "_cell_length", "_render_cache", "_link_ids", "_cell_count"}  # what _made_bare sets


def _made_bare(strip: Strip, segments, cell_length: int | None = None) -> None:
    """Textual's `Strip.__init__` without its caches: `_MadeWhenUsed` makes each when it is first read."""
    strip._segments = list(segments)
    strip._cell_length = cell_length
    strip._render_cache = None
    strip._link_ids = None
    strip._cell_count = None


def make_strip_caches_when_used() -> None:
    """Once per process, before the first line is drawn."""
    sample = Strip([])  # the sizes Textual gives each cache
    for name in CACHES:
        setattr(Strip, name, _MadeWhenUsed(Strip.__dict__[name], getattr(sample, name)._maxsize))
    if set(Strip.__slots__) == {*CACHES, *OTHER_SLOTS}:  # another Textual's lines may hold more: keep its own
        Strip.__init__ = _made_bare


def cache_colours_without_their_widgets() -> None:
    """Once per process. Textual caches a widget's two background styles (`StylesCache.get_inner_outer`, an
    lru_cache of 1,024 on a method) with the widget's StylesCache in the key, and with it every line that widget
    last drew: a tab walking design after design kept each walk's lines, about 1 MiB a walk, until 1,024 widgets
    had drawn. The styles depend on the colours alone, so they are cached by those."""
    styles_of = StylesCache.get_inner_outer.__wrapped__  # Textual's own function; it never reads the StylesCache
    by_colours = lru_cache(1024)(lambda base_background, background: styles_of(None, base_background, background))
    StylesCache.get_inner_outer = lambda _lines, base_background, background: by_colours(base_background, background)
