from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from guide.bank import Bank
from guide.bankfiles import BUILTIN_BANK
from guide.load import load_bank

ROOT = Path(__file__).resolve().parent.parent
CASES = ("dr-screening", "breast-cancer-detection", "brain-encoding")
FIXED_DATE = "2026-01-15"
# A segmenter of the cardiac ventricles whose users edit its contours and asked for a flag on doubtful ones: the
# uncertainty family ranks above the segment-first family, whose contours are the output itself.
CARDIAC_SEGMENTATION = {
    "task": "segmentation", "modality": "mri", "inputs": ["single_image"], "reference_standard": "expert_consensus",
    "dimensionality": "volume_3d", "label_granularity": "pixel_level", "annotation_detail": "full_masks",
    "finding_extent": "delineated_structure", "spatial_component": "no_spatial_alignment",
    "finding_vocabulary": "no_vocabulary", "consumers": ["specialist_reader"], "explanation_form": ["confidence_flag"],
    "model_role": "decision_support", "downstream_action": ["measurement_reported"], "time_per_case": "several_minutes",
    "setting": "specialist_centre", "goals": ["safety", "output_quality_control"],
    "regulatory_context": ["medical_device_certification"], "user_correction": ["edit_outputs"],
    "error_stakes": "moderate_stakes", "error_direction": "not_yes_no", "shortcut_risk": "shortcuts_unlikely",
    "site_shift": "some_new_sites", "subgroup_disparity": "possible_untested", "data_size": "moderate_data",
    "model_status": "new_model", "explanation_priority": "accuracy_first", "white_box_access": "full_access",
    "training_data_access": "full_access", "pretrained_backbone": "from_scratch", "architecture": "convolutional",
    "concept_annotations": "not_feasible", "region_annotations": "exist", "paired_reports": "no_reports",
    "physical_model": "no_model", "compute_budget": "modest_gpu", "generative_feasibility": "not_feasible",
}
# The bank cache of this test run (and of the commands it starts) stays out of the real home.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="guide-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], ignore_errors=True)


@pytest.fixture(scope="session")
def bank() -> Bank:
    return load_bank(BUILTIN_BANK)


@pytest.fixture
def bank_copy(tmp_path: Path) -> Path:
    """A writable copy of the built-in bank, for tests that break it on purpose."""
    target = tmp_path / "bank"
    shutil.copytree(BUILTIN_BANK, target)
    return target


@pytest.fixture
def guide_home(tmp_path: Path, monkeypatch) -> Path:
    """A private folder for the saved session (GUIDE_HOME), so tests never touch the real one."""
    home = tmp_path / "guide-home"
    monkeypatch.setenv("GUIDE_HOME", str(home))
    return home


def run_guide(*args: str, stdin: str | None = None, cwd: Path | None = None,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the real `guide` command line in a child process, as a user would (`env` adds to the environment)."""
    return subprocess.run(
        [sys.executable, "-m", "guide", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env={**os.environ, **env} if env else None,
        timeout=120,
    )


def saved_path() -> Path:
    """The file of the most recently changed design in the library (GUIDE_HOME)."""
    from guide.state import designs_dir

    return max(designs_dir().glob("*.yaml"), key=lambda path: path.stat().st_mtime_ns)


def load_saved(bank: Bank):
    """The most recently changed design, as guide would resume it."""
    from guide.session import load_session

    return load_session(bank, saved_path())


def missing_tool(reason: str) -> None:
    """Skip a test whose program is not installed, or fail it where CI installed the programs the tests drive
    (`.ci/run` sets GUIDE_REQUIRE_TOOLS=1 then), so that a broken install cannot pass as a row of skips."""
    if os.environ.get("GUIDE_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason}; GUIDE_REQUIRE_TOOLS=1 says the programs the tests need were installed")
    pytest.skip(reason)


def needs_programs(*commands: str, install: str):
    """A test that runs these programs: skipped (or failed, see `missing_tool`) when one is not on the PATH."""
    def wrap(test):
        @functools.wraps(test)
        def run(*args, **kwargs):
            missing = [command for command in commands if shutil.which(command) is None]
            if missing:
                missing_tool(f"needs {' and '.join(missing)} ({install})")
            return test(*args, **kwargs)
        return run
    return wrap


def free_port() -> int:
    """A port no one listens on now, for a server a test starts."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
