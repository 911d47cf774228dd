"""The committed JSON Schemas are what editors and other tools validate against: they must match the models."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from guide.schemas import SCHEMA_DIR, generate, stale_schemas

from .conftest import ROOT, run_guide


def test_committed_schemas_match_the_models():
    assert stale_schemas() == [], "run `guide schema` and commit schemas/"


def test_schema_check_reports_drift(tmp_path):
    for name, text in generate().items():
        (tmp_path / name).write_text(text)
    current = run_guide("schema", "--check", "--out", str(tmp_path))
    assert current.returncode == 0 and current.stdout == ""
    assert current.stderr == f"{tmp_path}: all {len(generate())} schemas current\n", "a summary on stderr, as lint's"
    (tmp_path / "rules.schema.json").write_text("{}\n")
    result = run_guide("schema", "--check", "--out", str(tmp_path))
    assert result.returncode == 1
    assert "rules.schema.json: out of date" in result.stdout
    assert result.stderr == f"{tmp_path}: 1 of {len(generate())} schemas out of date\n"
    assert SCHEMA_DIR.name == "schemas"


def test_schema_check_names_a_missing_schema_and_folder_as_missing(tmp_path):
    """A deleted schema was reported "out of date with the models", and a folder that is not there as eleven
    stale schemas: the user looked for a difference in a file that does not exist."""
    for name, text in generate().items():
        (tmp_path / name).write_text(text)
    (tmp_path / "rules.schema.json").unlink()
    result = run_guide("schema", "--check", "--out", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout == f"{tmp_path / 'rules.schema.json'}: missing (run `guide schema` to write it)\n"
    assert result.stderr == f"{tmp_path}: 1 of {len(generate())} schemas missing\n"
    nowhere = tmp_path / "nowhere"
    result = run_guide("schema", "--check", "--out", str(nowhere))
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"guide: {nowhere}: no such folder to check\n")


@pytest.mark.parametrize("case", ["a file", "nowhere", "not UTF-8"])
def test_an_out_that_cannot_be_written_or_read_is_one_line(tmp_path, case):
    """Each of these was a traceback (exit 1)."""
    folder = tmp_path / "schemas"
    if case == "a file":
        folder.write_text("mine\n")
        args, named, problem = [], folder, "is not a folder; give a folder to write the schemas into"
    elif case == "nowhere":
        folder = Path("/proc/nope")
        args, named, problem = [], folder, "No such file or directory"
    else:
        folder.mkdir()
        (folder / "bank.schema.json").write_bytes(b'{"title": "caf\xe9"}\n')
        args, named = ["--check"], f"{folder / 'bank.schema.json'}:1"
        problem = "not UTF-8 text; run `guide schema` to write it again"
    result = run_guide("schema", *args, "--out", str(folder))
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"guide: {named}: {problem}\n")
    if case == "a file":
        assert folder.read_text() == "mine\n"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """guide as a wheel installs it (not the editable checkout): the wheel built from this tree, unpacked."""
    built = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(built), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    site = tmp_path_factory.mktemp("site-packages")
    with zipfile.ZipFile(next(built.glob("*.whl"))) as wheel:
        wheel.extractall(site)
    return site


def run_installed(site: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m guide ARGS` (or `python -c CODE`) with the unpacked wheel first on the path."""
    command = list(args) if args[0] == "-c" else ["-m", "guide", *args]
    return subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=120,
                          cwd=site.parent, env={**os.environ, "PYTHONPATH": str(site)})


def test_an_installed_guide_checks_its_own_schemas_and_does_not_write_over_them(installed):
    located = run_installed(installed, "-c", "import guide; print(guide.__file__)")
    assert located.stdout.startswith(str(installed)), "the test runs the unpacked wheel, not the checkout"
    check = run_installed(installed, "schema", "--check")
    assert (check.returncode, check.stdout) == (0, "")
    assert check.stderr.endswith("guide/_schemas: all 11 schemas current\n")
    before = sorted(path.relative_to(installed) for path in installed.rglob("*") if "__pycache__" not in path.parts)
    write = run_installed(installed, "schema")
    assert (write.returncode, write.stdout) == (2, "")
    assert write.stderr == (f"guide: {installed}/guide/_schemas: these are the schemas installed with guide, not written "
                            "over; give --out DIR to write them elsewhere\n")
    assert sorted(path.relative_to(installed) for path in installed.rglob("*") if "__pycache__" not in path.parts) == before
    elsewhere = run_installed(installed, "schema", "--out", str(installed.parent / "mine"))
    assert elsewhere.returncode == 0 and len(list((installed.parent / "mine").iterdir())) == len(generate())
