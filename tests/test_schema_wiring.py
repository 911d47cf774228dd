"""Editors check bank files against the committed JSON Schemas: the wiring must point at the right schema.

Each bank file starts with a `# yaml-language-server: $schema=...` line (read by the YAML language
server behind VS Code's YAML extension and other editors); docs/authoring/index.md shows the `yaml.schemas`
setting for files without that line. What an editor would underline is what the schema rejects.
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import jsonschema
import pytest

from guide.bank import BANK_FILES
from guide.bankfiles import BUILTIN_BANK, CASES_DIR, FLOW_DIR
from guide.schemas import MODELS, SCHEMA_DIR
from guide.yamlfile import read_yaml

from .conftest import ROOT

MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)\n")
SCHEMA_OF = {name: name.removesuffix(".yaml") + ".schema.json" for name in BANK_FILES}


def _bank_files() -> list[tuple[Path, str]]:
    """Every file of the built-in bank with the schema it should name."""
    files = [(BUILTIN_BANK / name, schema) for name, schema in SCHEMA_OF.items()]
    files += [(path, "questions.schema.json") for path in sorted((BUILTIN_BANK / FLOW_DIR).glob("*.yaml"))]
    files += [(path, "answers.schema.json") for path in sorted((BUILTIN_BANK / CASES_DIR).glob("*.yaml"))]
    return files


def _schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("path, schema", _bank_files(), ids=lambda item: getattr(item, "name", item))
def test_bank_file_names_its_schema_and_satisfies_it(path, schema):
    assert schema in MODELS
    match = MODELINE.match(path.read_text(encoding="utf-8"))
    assert match, f"{path.name} does not start with a yaml-language-server line"
    assert (path.parent / match[1]).resolve() == (SCHEMA_DIR / schema).resolve()
    errors = list(jsonschema.Draft202012Validator(_schema(schema)).iter_errors(read_yaml(path).data))
    assert errors == []


@pytest.mark.parametrize("mistake, expected", [
    ({"colour": "red"}, "Additional properties are not allowed ('colour' was unexpected)"),
    ({"kind": "several"}, "'several' is not one of ['single', 'multiple', 'text']"),
])
def test_schema_rejects_what_the_loader_rejects(bank, mistake, expected):
    """What the editor underlines: an unknown key, a kind that does not exist."""
    document = read_yaml(BUILTIN_BANK / FLOW_DIR / sorted(p.name for p in (BUILTIN_BANK / FLOW_DIR).glob("*.yaml"))[0])
    data = {**document.data, "questions": [{**document.data["questions"][0], **mistake}]}
    messages = [error.message for error in jsonschema.Draft202012Validator(_schema("questions.schema.json"))
                .iter_errors(data)]
    assert any(expected in message for message in messages), messages


def test_the_documented_editor_settings_cover_every_bank_file():
    page = (ROOT / "docs" / "authoring" / "index.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(\{\n  \"yaml\.schemas\".*?)\n```", page, re.DOTALL)
    assert block, "docs/authoring/index.md shows no yaml.schemas setting"
    settings = json.loads(block[1])["yaml.schemas"]
    for schema in settings:
        assert (ROOT / schema).is_file(), schema
    for path, schema in _bank_files():
        relative = path.relative_to(ROOT).as_posix()
        matching = [Path(name).name for name, pattern in settings.items() if fnmatch.fnmatch(relative, pattern)]
        assert matching == [schema], relative
