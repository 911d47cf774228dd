"""The bank cache: a second load of an unchanged bank skips parsing and checks, and nothing else does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from guide.bank import BUILTIN_BANK, load_bank
from guide.cache import cache_dir

from .conftest import ROOT


@pytest.fixture
def cache(guide_home) -> Path:
    return cache_dir()


def cached_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("bank-*.pickle")) if cache.is_dir() else []


def test_second_load_comes_from_the_cache_and_equals_the_first(bank_copy, cache):
    first = load_bank(bank_copy)
    assert len(cached_files(cache)) == 1
    second = load_bank(bank_copy)
    assert second.documents == {} and first.documents
    for field in ("directory", "meta", "elements", "questions", "rules", "needs", "methods", "references",
                  "locations", "content_hash"):
        assert getattr(second, field) == getattr(first, field), field


def test_a_cached_run_imports_neither_networkx_nor_textual(guide_home):
    probe = ("import sys, runpy; sys.argv = ['guide', 'run', '--case', 'dr-screening']\n"
             "try: runpy.run_module('guide', run_name='__main__')\n"
             "except SystemExit: pass\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'networkx', 'textual'}), file=sys.stderr)")
    environment = {**os.environ, "GUIDE_HOME": str(guide_home)}
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=environment)
            for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout and runs[0].stdout.startswith("---\n")
    assert runs[0].stderr.splitlines()[-1] == "['networkx']"  # the first run checks the bank
    assert runs[1].stderr.splitlines()[-1] == "[]"


def test_a_changed_bank_misses_the_cache_and_is_checked_again(bank_copy, cache):
    load_bank(bank_copy)
    rules = bank_copy / "rules.yaml"
    rules.write_text(rules.read_text().replace("weight: 3", "weight: 33", 1))
    with pytest.raises(Exception, match="less than or equal to 5"):
        load_bank(bank_copy)


def test_the_same_bank_in_another_folder_is_its_own_entry(bank_copy, tmp_path, cache):
    load_bank(bank_copy)
    other = tmp_path / "other"
    shutil.copytree(bank_copy, other)
    assert load_bank(other).directory == other
    assert len(cached_files(cache)) == 2


@pytest.mark.parametrize("spoil", ["shared", "damaged"])
def test_a_cache_file_others_could_write_or_that_is_damaged_is_ignored(bank_copy, cache, spoil):
    load_bank(bank_copy)
    (pickle,) = cached_files(cache)
    if spoil == "shared":
        # A pickle runs code when loaded: one that another user could have written is never read.
        pickle.write_bytes(b"cos\nsystem\n(S'touch " + str(cache / "pwned").encode() + b"'\ntR.")
        pickle.chmod(0o666)
    else:
        pickle.write_bytes(pickle.read_bytes()[:100])
    assert load_bank(bank_copy).documents, "loaded from the files, not the cache"
    assert not (cache / "pwned").exists()


def test_builtin_bank_is_unchanged_by_caching(bank, guide_home):
    assert load_bank(BUILTIN_BANK).content_hash == load_bank(BUILTIN_BANK).content_hash == bank.content_hash


def test_only_the_most_recent_banks_are_kept(tmp_path, cache):
    from bench.bankgen import generate_bank
    from guide.cache import KEEP

    for index in range(KEEP + 3):
        load_bank(generate_bank(tmp_path / f"bank{index}", 3, seed=index))
    assert len(cached_files(cache)) == KEEP
