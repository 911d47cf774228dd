"""JSON Schemas generated from the pydantic models: for editors, for other tools, and drift tests.

The committed copies live in `schemas/`; `guide schema --check` (and a test) fails when a model
changes without the committed schema being regenerated.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from guide import bank as bank_files
from guide.model import AnswersFile, BankMeta, Precedent, Result
from guide.source import GuideError, decode
from guide.report.jsondoc import DesignDocument

# A wheel carries the schemas inside the package (read-only: they belong to the installed version); a
# source checkout keeps them at the top level, where `guide schema` regenerates them.
PACKAGED_SCHEMA_DIR = Path(__file__).resolve().parent / "_schemas"
INSTALLED = PACKAGED_SCHEMA_DIR.is_dir()
SCHEMA_DIR = PACKAGED_SCHEMA_DIR if INSTALLED else Path(__file__).resolve().parent.parent / "schemas"

MODELS: dict[str, type[BaseModel]] = {
    "bank.schema.json": BankMeta,
    "elements.schema.json": bank_files.ElementsFile,
    "questions.schema.json": bank_files.QuestionsFile,
    "rules.schema.json": bank_files.RulesFile,
    "needs.schema.json": bank_files.NeedsFile,
    "methods.schema.json": bank_files.MethodsFile,
    "references.schema.json": bank_files.ReferencesFile,
    "answers.schema.json": AnswersFile,
    "precedent.schema.json": Precedent,
    "result.schema.json": Result,
    "design-document.schema.json": DesignDocument,
}
WRITTEN_BY_GUIDE = (Result, DesignDocument)


def generate() -> dict[str, str]:
    """File name -> schema text, exactly as committed (sorted keys, two-space indent, newline)."""
    texts = {}
    for name, model in MODELS.items():
        # Bank and answers files are read by us (validation mode); results are written by us.
        mode = "serialization" if model in WRITTEN_BY_GUIDE else "validation"
        schema = model.model_json_schema(mode=mode, by_alias=True)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = name
        texts[name] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return texts


def stale_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of committed schema files that are missing or differ from the models; a GuideError naming a
    schema file that cannot be read as text."""
    return [name for name, text in generate().items() if _committed_text(directory / name) != text]


def _committed_text(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        return decode(path, path.read_bytes())
    except OSError as error:
        raise GuideError(path, None, None, error.strerror or "cannot be read") from None
    except GuideError as error:
        raise GuideError(path, error.line, None, f"{error.problem}; run `guide schema` to write it again") from None
