"""The bank cache: a second load of an unchanged bank skips parsing and checks, and nothing else does."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from guide.bankfiles import BUILTIN_BANK
from guide.cache import cache_dir
from guide.load import load_bank

from .conftest import ROOT, run_guide


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
    with pytest.raises(Exception, match="33 is outside the range -5 to 5"):
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


def code_running_pickle(marker: Path) -> bytes:
    """A pickle that, when loaded, creates `marker`: proof that a file was unpickled."""
    return b"cbuiltins\nopen\n(S'" + str(marker).encode() + b"'\nS'w'\ntR."


def from_the_cache(bank_directory: Path) -> bool:
    return load_bank(bank_directory).documents == {}


@pytest.mark.parametrize("forged", [b"", os.urandom(32)], ids=["bare", "with a forged signature"])
def test_a_pickle_swapped_in_by_the_user_id_that_owns_the_cache_is_never_unpickled(bank_copy, cache, tmp_path, forged):
    """Whoever wins a race on a folder above the cache can put any file there; only the user's own key signs one."""
    load_bank(bank_copy)
    (entry,) = cached_files(cache)
    marker = tmp_path / "code-ran"
    swapped = tmp_path / "swapped"
    swapped.write_bytes(forged + code_running_pickle(marker))
    swapped.chmod(0o600)
    os.replace(swapped, entry)
    assert not from_the_cache(bank_copy)
    assert not marker.exists()
    assert from_the_cache(bank_copy), "the cache was rewritten with a good entry"


def test_the_cache_folder_and_its_key_are_private(bank_copy, cache):
    load_bank(bank_copy)
    from guide.cache import SIGNING_KEY_FILE

    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache / SIGNING_KEY_FILE).stat().st_mode) == 0o600


def test_a_signing_key_others_can_read_is_not_used_but_replaced(bank_copy, cache):
    from guide.cache import SIGNING_KEY_FILE

    load_bank(bank_copy)
    signing_key = cache / SIGNING_KEY_FILE
    exposed = signing_key.read_bytes()
    signing_key.chmod(0o644)
    assert not from_the_cache(bank_copy)
    assert signing_key.read_bytes() != exposed and stat.S_IMODE(signing_key.stat().st_mode) == 0o600
    assert from_the_cache(bank_copy)


def test_a_symlinked_cache_file_is_refused_and_what_it_points_to_is_left_alone(bank_copy, cache, tmp_path):
    load_bank(bank_copy)
    (entry,) = cached_files(cache)
    elsewhere = tmp_path / "elsewhere.pickle"
    os.replace(entry, elsewhere)
    entry.symlink_to(elsewhere)
    before = elsewhere.read_bytes()
    assert not from_the_cache(bank_copy)
    assert elsewhere.read_bytes() == before
    assert not entry.is_symlink() and from_the_cache(bank_copy)


def test_a_symlinked_cache_folder_is_refused_and_never_written_through(bank_copy, cache, tmp_path):
    load_bank(bank_copy)
    elsewhere = tmp_path / "elsewhere"
    os.replace(cache, elsewhere)
    cache.symlink_to(elsewhere, target_is_directory=True)
    before = sorted(elsewhere.iterdir())
    assert not from_the_cache(bank_copy)
    assert not from_the_cache(bank_copy)
    assert sorted(elsewhere.iterdir()) == before


def test_a_symlinked_folder_above_the_cache_is_followed(bank_copy, tmp_path, monkeypatch):
    """As when ~/.cache is a link to another disk: the real folders on its way are what is checked."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    monkeypatch.setenv("GUIDE_HOME", str(tmp_path / "link" / "home"))
    load_bank(bank_copy)
    assert from_the_cache(bank_copy)


@pytest.mark.parametrize("place", ["entry", "signing key"])
def test_a_fifo_in_the_cache_does_not_hang_guide_run(bank_copy, cache, place):
    from guide.cache import SIGNING_KEY_FILE

    load_bank(bank_copy)
    (entry,) = cached_files(cache)
    fifo = entry if place == "entry" else cache / SIGNING_KEY_FILE
    fifo.unlink()
    os.mkfifo(fifo, 0o600)
    result = run_guide("run", "--bank", str(bank_copy), "--case", "dr-screening")  # fails on its timeout if it hangs
    assert result.returncode == 0, result.stderr
    assert stat.S_ISREG(fifo.stat().st_mode), "replaced by a good file"


def other_user() -> int:
    return 65534  # nobody


@pytest.mark.parametrize("parent", ["world-writable", "group-writable", "another user's"])
def test_a_folder_above_the_cache_that_others_can_change_is_not_trusted(bank_copy, tmp_path, monkeypatch, parent):
    shared = tmp_path / "shared"
    shared.mkdir()
    if parent == "another user's":
        if os.getuid() != 0:
            pytest.skip("only root can give a folder to another user")
        os.chown(shared, other_user(), -1)
    else:
        shared.chmod(0o777 if parent == "world-writable" else 0o775)
    monkeypatch.setenv("GUIDE_HOME", str(shared / "home"))
    load_bank(bank_copy)
    assert not from_the_cache(bank_copy)
    assert cached_files(shared / "home" / "cache") == []


def test_a_sticky_folder_above_the_cache_is_trusted(bank_copy, tmp_path, monkeypatch):
    """Like /tmp: others can add names to it but not rename or remove the user's."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setenv("GUIDE_HOME", str(shared / "home"))
    load_bank(bank_copy)
    assert from_the_cache(bank_copy)


@pytest.mark.parametrize("value, cached", [("1", False), ("yes", False), ("0", True), ("", True)])
def test_guide_no_cache_turns_the_cache_off_only_when_set_to_a_true_value(bank_copy, cache, monkeypatch, value, cached):
    monkeypatch.setenv("GUIDE_NO_CACHE", value)
    load_bank(bank_copy)
    assert from_the_cache(bank_copy) is cached
    assert bool(cached_files(cache)) is cached
