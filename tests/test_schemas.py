"""The committed JSON Schemas are what editors and other tools validate against: they must match the models."""

from guide.schemas import SCHEMA_DIR, generate, stale_schemas

from .conftest import run_guide


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
