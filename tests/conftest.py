from __future__ import annotations

import atexit
import functools
import os
import re
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


def newer_interpreter() -> str | None:
    """A CPython 3.12 or newer that runs on this machine, the oldest found: on the PATH (where pyenv's shims may
    name one they cannot start), else among pyenv's installed versions."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    installed = sorted((folder for folder in versions.glob("3.*") if re.fullmatch(r"3\.(1[2-9])\.\d+", folder.name)),
                       key=lambda folder: [int(part) for part in folder.name.split(".")])
    candidates = [shutil.which(f"python3.{minor}") for minor in (12, 13, 14)]
    candidates += [str(folder / "bin" / "python3") for folder in installed]
    for candidate in filter(None, candidates):
        try:
            subprocess.run([candidate, "-c", "import sys; assert sys.version_info >= (3, 12)"], check=True,
                           capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            continue
        return candidate
    return None


@pytest.fixture(scope="session")
def bare_newer_python() -> str:
    """`newer_interpreter`, with nothing installed: enough for what needs only the standard library. Skipped (or
    failed, see `missing_tool`) where there is none."""
    interpreter = newer_interpreter()
    if interpreter is None:
        missing_tool("needs CPython 3.12 or newer (python3.12 on the PATH, or pyenv's)")
    return interpreter


@pytest.fixture(scope="session")
def newer_python(request, tmp_path_factory) -> str:
    """A Python 3.12 or newer with guide's dependencies, for what only an interpreter with immortal objects does:
    GUIDE_NEWER_PYTHON if it names one, else a virtual environment made here from `bare_newer_python`."""
    if os.environ.get("GUIDE_NEWER_PYTHON"):
        return os.environ["GUIDE_NEWER_PYTHON"]
    interpreter = request.getfixturevalue("bare_newer_python")
    folder = tmp_path_factory.mktemp("newer-python")
    try:
        subprocess.run([interpreter, "-m", "venv", str(folder)], check=True, capture_output=True, timeout=300)
        subprocess.run([str(folder / "bin" / "pip"), "install", "-q", "-e", str(ROOT)], check=True,
                       capture_output=True, timeout=900)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        missing_tool(f"could not install guide under {interpreter}: {error}")
    return str(folder / "bin" / "python")


def free_port() -> int:
    """A port no one listens on now, for a server a test starts."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
