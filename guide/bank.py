"""Load a bank directory into validated models, remembering where every item was defined."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, TypeVar

from pydantic import BaseModel, Field

from guide.model import (
    IDENTIFIER_MAX,
    IDENTIFIER_PATTERN,
    AnswersFile,
    BankChange,
    BankMeta,
    Element,
    Level,
    MethodFamily,
    Migration,
    Need,
    Precedent,
    Question,
    Reference,
    Rule,
    SessionFile,
    Strict,
    answer_problems,
)
from guide.bankfiles import BANK_FILE_NAMES, CASES_DIR, FLOW_DIR, PRECEDENTS_DIR, bank_files, missing_file_problem
from guide.source import GuideError, Location, YamlDocument, decode, kind_of, read_limited, validate
from guide.yamlfile import parse_yaml, read_yaml

Answers = TypeVar("Answers", bound=AnswersFile)
Derived = TypeVar("Derived")


class ElementsFile(Strict):
    elements: list[Element] = Field(min_length=1)


class QuestionsFile(Strict):
    questions: list[Question] = Field(min_length=1)


class RulesFile(Strict):
    rules: list[Rule] = Field(default_factory=list)


class NeedsFile(Strict):
    needs: list[Need] = Field(default_factory=list)


class MethodsFile(Strict):
    methods: list[MethodFamily] = Field(min_length=1)


class ReferencesFile(Strict):
    references: list[Reference] = Field(default_factory=list)


BANK_FILES: dict[str, type[BaseModel]] = dict(zip(
    BANK_FILE_NAMES, (BankMeta, ElementsFile, RulesFile, NeedsFile, MethodsFile, ReferencesFile), strict=True))
DESIGN_DOCUMENT = "guide-design-document"
# The design documents that carry their answers, by file suffix (an HTML document does not).
DOCUMENT_FORMAT_OF_SUFFIX = {".md": "md", ".markdown": "md", ".json": "json"}
HTML_SUFFIXES = (".html", ".htm")


@dataclass(frozen=True)
class Bank:
    """A validated bank. Items keep file order; `locations` maps `kind:id` to where it is defined."""

    directory: Path
    meta: BankMeta
    elements: dict[str, Element]
    questions: dict[str, Question]
    rules: dict[str, Rule]
    needs: dict[str, Need]
    methods: dict[str, MethodFamily]
    references: dict[str, Reference]
    precedents: dict[str, Precedent]
    locations: dict[str, Location]
    content_hash: str
    documents: dict[str, YamlDocument] = field(repr=False)  # parsed files; empty in a bank from the cache
    # What the layers above work out from the bank and keep with it, so that each is worked out once per
    # bank (`graph.flow`). Not stored in the cache: a copy starts without it.
    derived: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def derive(self, key: str, work_out: Callable[[], Derived]) -> Derived:
        """What `work_out` makes of this bank, made on first use and kept under `key` (see `derived`)."""
        if key not in self.derived:
            self.derived[key] = work_out()
        return self.derived[key]  # type: ignore[return-value]

    def where(self, key: str) -> Location:
        location = self.locations.get(key)
        return location if location is not None else Location(str(self.directory / "bank.yaml"), 1)

    @property
    def level_ids(self) -> list[str]:
        return [level.id for level in self.meta.levels]

    def level(self, level_id: str) -> Level:
        return self.meta.levels[self.level_ids.index(level_id)]

    @property
    def prioritized_level_ids(self) -> list[str]:
        """The levels whose elements are priorities (`prioritized` in bank.yaml), highest first."""
        return [level.id for level in self.meta.levels if level.prioritized]

    @property
    def calibration_precedents(self) -> dict[str, Precedent]:
        """The precedents rules may be tuned on, and whatever advises a rule change looks at: every one not held
        out (a holdout precedent is only ever scored)."""
        return {key: precedent for key, precedent in self.precedents.items() if precedent.split != "holdout"}

    def cases(self) -> dict[str, Path]:
        folder = self.directory / CASES_DIR
        return {path.stem: path for path in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def file_model(relative: str) -> type[BaseModel]:
    """The model a bank file (named relative to the bank) is validated against."""
    if relative.startswith(FLOW_DIR + "/"):
        return QuestionsFile
    if relative.startswith(PRECEDENTS_DIR + "/"):
        return Precedent
    return BANK_FILES[relative]


def read_bank(directory: Path, digest: str) -> Bank:
    """Read and validate every file of a bank directory whose files hash to `digest` (`content_digest`).

    Only each file's own rules are checked here; the checks across the bank's graph are `graph.check_bank`,
    and `load.load_bank` runs them.
    """
    documents: dict[str, YamlDocument] = {}
    parsed: dict[str, BaseModel] = {}
    for path in bank_files(directory):
        relative = path.relative_to(directory).as_posix()
        problem = missing_file_problem(path)
        if problem:
            raise GuideError(path, None, None, problem)
        document = read_yaml(path)
        parsed[relative] = validate(document, file_model(relative))
        # Only the line numbers are read from here on (locations, lint's findings): the parsed data is
        # as large again as the models, so it is not kept.
        documents[relative] = replace(document, data=None)
    if not any(name.startswith(FLOW_DIR + "/") for name in documents):
        raise GuideError(directory / FLOW_DIR, None, None, "no question files (flow/*.yaml)")

    locations: dict[str, Location] = _locate_settings(documents["bank.yaml"], parsed["bank.yaml"])
    collected: dict[str, dict] = {kind: {} for kind in ("element", "question", "rule", "need", "method", "reference",
                                                         "precedent")}
    for relative, model in parsed.items():
        document = documents[relative]
        if isinstance(model, Precedent):
            _collect_precedent(document, model, locations, collected["precedent"])
            continue
        for list_key, kind in (("elements", "element"), ("questions", "question"), ("rules", "rule"),
                               ("needs", "need"), ("methods", "method"), ("references", "reference")):
            items = getattr(model, list_key, None) or []
            for index, (item, line) in enumerate(zip(items, document.item_lines((list_key,), len(items)))):
                location = Location(document.path, line)
                key = f"{kind}:{item.id}"
                if key in locations:
                    raise GuideError(location.file, location.line, f"{list_key}[{index}].id",
                                     f"duplicate {kind} id '{item.id}' (first defined at {locations[key]})")
                locations[key] = location
                collected[kind][item.id] = item
                if kind == "question":
                    _locate_choices(document, index, item, locations)

    return Bank(
        directory=directory,
        meta=parsed["bank.yaml"],  # type: ignore[arg-type]
        elements=collected["element"],
        questions=collected["question"],
        rules=collected["rule"],
        needs=collected["need"],
        methods=collected["method"],
        references=collected["reference"],
        precedents=collected["precedent"],
        locations=locations,
        content_hash=digest[:12],
        documents=documents,
    )


def _locate_settings(document: YamlDocument, meta: BankMeta) -> dict[str, Location]:
    """Where bank.yaml sets what the checks across the bank read (`bank:start`, `bank:similarity_weights.task`),
    so that a problem with one is told at its line rather than at the top of the file."""
    locations = {f"bank:{setting}": Location(document.path, document.line_of((setting,)))
                 for setting in ("start", "summary_question")}
    for setting in ("similarity_weights", "nearest_share_one_of"):
        for index, question_id in enumerate(getattr(meta, setting)):
            part = question_id if isinstance(getattr(meta, setting), dict) else index
            locations[f"bank:{setting}.{question_id}"] = Location(document.path, document.line_of((setting, part)))
    return locations


def _collect_precedent(document: YamlDocument, precedent: Precedent, locations: dict[str, Location],
                       precedents: dict[str, Precedent]) -> None:
    """A precedent is named by its file; its answers are located for the checks that read them."""
    path = Path(document.path)
    if not re.match(IDENTIFIER_PATTERN, path.stem) or len(path.stem) > IDENTIFIER_MAX:
        raise GuideError(path, 1, None, f"a precedent's file name must be an id ([a-z0-9_-], starting with a letter "
                                        f"or digit), not '{path.stem}'")
    locations[f"precedent:{path.stem}"] = Location(document.path, 1)
    for key in ("reference", "built", "serves", "answers"):
        locations[f"precedent:{path.stem}.{key}"] = Location(document.path, document.line_of((key,)))
    for part in ("answers", "basis"):
        for question_id in getattr(precedent, part):
            locations[f"precedent:{path.stem}.{part}.{question_id}"] = Location(
                document.path, document.line_of((part, question_id)))
    precedents[path.stem] = precedent


def _locate_choices(document: YamlDocument, index: int, question: Question, locations: dict[str, Location]) -> None:
    seen: set[str] = set()
    lines = document.item_lines(("questions", index, "choices"), len(question.choices))
    for choice_index, (choice, line) in enumerate(zip(question.choices, lines)):
        key = f"choice:{question.id}.{choice.id}"
        if choice.id in seen:
            raise GuideError(document.path, line, f"questions[{index}].choices[{choice_index}].id",
                             f"duplicate choice id '{choice.id}' in question '{question.id}'")
        seen.add(choice.id)
        locations[key] = Location(document.path, line)


# ---------------------------------------------------------------------------------------------
# Answers files: presets, saved sessions and design documents all carry answers.


def read_answers(path: str | Path, bank: Bank) -> AnswersFile:
    """Read an answers file (YAML, a Markdown design document's front matter, or a JSON design document) and check it.
    Answers written for another question bank are refused: a document made from them with this bank would carry
    this bank's name, and a design made from them could not be resumed with this one."""
    path = Path(path)
    if path.suffix.lower() in HTML_SUFFIXES:  # said here, for every reader, rather than as a YAML error on line 9
        raise GuideError(path, None, None, "an HTML document does not carry its answers: give the Markdown (.md) "
                                           "or JSON (.json) design document, or the answers file, it was made from")
    text = decode(path, read_limited(path, "an answers file"))
    document_format = DOCUMENT_FORMAT_OF_SUFFIX.get(path.suffix.lower())
    if document_format == "md":
        yaml_text, offset = front_matter(text, path)
        if not yaml_text.strip():
            raise GuideError(path, 1, None, "no YAML front matter with answers at the top of this document")
        document = parse_yaml(path, yaml_text, offset)
    else:
        if document_format == "json":
            _refuse_broken_json(path, text)
        whole = parse_yaml(path, text, language="JSON" if document_format == "json" else "YAML")
        document = _answers_part(whole)
        if document is not whole:  # a JSON design document: its answers sit under `answers_file`
            try:
                return _checked_answers(document, bank)
            except GuideError as error:
                if error.file == document.path:  # named from the file's root, as its author wrote it
                    field = f"{ANSWERS_PART}.{error.field}" if error.field else ANSWERS_PART
                    error = GuideError(error.file, error.line, field, error.problem)
                raise error from None
    return _checked_answers(document, bank)


def _checked_answers(document: YamlDocument, bank: Bank) -> AnswersFile:
    answers = _validated_answers(document, bank)
    if answers.bank_id not in (None, bank.meta.id):
        raise GuideError(document.path, document.line_of(("bank_id",)), "bank_id",
                         f"written for question bank '{answers.bank_id}', not '{bank.meta.id}': open it with "
                         "--bank and that bank's folder, or remove this line to answer this bank")
    check_answers(answers, bank, document)
    return answers


def _refuse_broken_json(path: Path, text: str) -> None:
    """A JSON file is read by the YAML reader, for its lines, but its syntax errors are told in JSON's terms."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        end = len(text.rstrip())
        if error.pos < end:
            raise GuideError(path, error.lineno, None, f"JSON: {error.msg}") from None
        # Past the last character: the line to mend is the last one written, not the empty one after it.
        raise GuideError(path, text.count("\n", 0, end) + 1, None,
                         f"JSON: the text ends before the document does ({error.msg})") from None
    except RecursionError:
        raise GuideError(path, None, None, "JSON nested too deeply") from None
    except ValueError:  # not a syntax error: an integer longer than Python converts, which the reader places
        pass


# What every saved session holds beside an answers file's keys (`drafts` only when there is one).
SESSION_ONLY_KEYS = ("set_aside", "position")


def _validated_answers(document: YamlDocument, bank: Bank) -> AnswersFile:
    """The migrated answers of an answers file, or of a session the app saved (an answers file with more keys)."""
    data = document.data
    if isinstance(data, dict) and all(key in data for key in SESSION_ONLY_KEYS):
        saved = migrate(validate_answers(document, SessionFile, bank), bank, document)
        check_session_parts(saved, bank, document)
        return saved.answers_file()
    return migrate(validate_answers(document, AnswersFile, bank), bank, document)


def validate_answers(document: YamlDocument, model: type[Answers], bank: Bank) -> Answers:
    """`validate` for an answers file or a session, where an answer of the wrong kind is told what its question
    takes: the file's model takes text or a list for any answer, but a single-choice question takes one of its
    choices, and no list."""
    try:
        return validate(document, model)
    except GuideError as error:
        part, _, question_id = (error.field or "").rpartition(".")
        question = bank.questions.get(question_id)
        given = document.data.get(part, {}).get(question_id) if part in ("answers", "set_aside") else None
        if question is None or question.kind == "text" or given is None or isinstance(given, (str, list)):
            raise
        choices = ", ".join(choice.id for choice in question.choices[:6]) + (", …" if len(question.choices) > 6 else "")
        takes = "one of its choices" if question.kind == "single" else "a list of its choices"
        raise GuideError(error.file, error.line, error.field, f"found {kind_of(given)}, but a {question.kind}-choice "
                                                              f"question takes {takes} ({choices})") from None


def check_session_parts(saved: SessionFile, bank: Bank, document: YamlDocument) -> None:
    """What a session holds beside its answers must fit the bank: each set-aside answer its question, each draft
    a text question; an error names its line under `set_aside` or `drafts`."""
    for question_id, value in saved.set_aside.items():
        try:
            check_answers(AnswersFile(answers={question_id: value}), bank)
        except GuideError as error:
            raise GuideError(document.path, document.line_of(("set_aside", question_id)), f"set_aside.{question_id}",
                             error.problem) from None
    for question_id in saved.drafts or {}:
        question = bank.questions.get(question_id)
        if question is None or question.kind != "text":
            problem = f"unknown question '{question_id}'" if question is None else "only a text question has a draft"
            raise GuideError(document.path, document.line_of(("drafts", question_id)), f"drafts.{question_id}", problem)


ANSWERS_PART = "answers_file"


def _answers_part(document: YamlDocument) -> YamlDocument:
    """A JSON design document (`guide run --format json`) carries its answers under `answers_file`."""
    data = document.data
    if not (isinstance(data, dict) and data.get("document") == DESIGN_DOCUMENT):
        return document
    return document.part(ANSWERS_PART)


def front_matter(text: str, path: Path) -> tuple[str, int]:
    """The YAML between the leading `---` lines of a Markdown document (`path`), and its line offset.

    Only a `---` at the start of a line counts: YAML indents every line of a multi-line value, so a
    comment that contains `---` on a line of its own cannot end the front matter early.
    """
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r") != "---":
        return "", 0
    for end, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r") == "---":
            # Keep the last line's break: a literal block at the end of the front matter ends with it.
            return "".join(line + "\n" for line in lines[1:end]), 1
    raise GuideError(path, 1, None, "the front matter that opens here is not closed: put a `---` line after the "
                                    "answers, before the document's text")


def migration_from(bank: Bank, version: str | None) -> Migration | None:
    if version is None or version == bank.meta.version:
        return None
    return next((migration for migration in bank.meta.migrations if migration.from_version == version), None)


def migrate(answers: Answers, bank: Bank, document: YamlDocument | None = None) -> Answers:
    """Answers made with an older bank version, with renamed questions renamed and removed ones dropped
    (in a saved session, its set-aside answers too).

    `bank_version` keeps the version the answers were made with, so a document can say what changed.
    """
    if answers.bank_id not in (None, bank.meta.id):
        return answers
    refuse_newer_bank_version(answers, bank, document)
    migration = migration_from(bank, answers.bank_version)
    if migration is None:
        return answers
    where = document.path if document else "answers"
    moved = {}
    keyed_by_question = (("answers", "notes", "set_aside", "drafts") if isinstance(answers, SessionFile)
                         else ("answers", "notes"))
    for field_name in keyed_by_question:
        given = getattr(answers, field_name) or {}
        items: dict = {}
        for question_id, value in given.items():
            if question_id in migration.removed:
                continue
            new_id = migration.renamed.get(question_id, question_id)
            if new_id != question_id and new_id in given:
                line = document.line_of((field_name, question_id)) if document else None
                raise GuideError(where, line, f"{field_name}.{question_id}",
                                 f"'{question_id}' was renamed to '{new_id}', which is also given")
            renames = migration.renamed_choices.get(new_id) if field_name != "notes" else None
            items[new_id] = _renamed_choices(value, renames)
        moved[field_name] = items
    return answers.model_copy(update=moved)


def _version_numbers(version: str) -> tuple[int, ...] | None:
    """`2.1` as (2, 1, 0), to compare versions written with two or three numbers; None for any other text."""
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        return None
    numbers = tuple(int(part) for part in version.split("."))
    return numbers + (0,) * (3 - len(numbers))


def refuse_newer_bank_version(answers: Answers, bank: Bank, document: YamlDocument | None = None) -> None:
    """Answers made with a later version of this bank may use what this one lacks, and a re-run here would
    stamp them with the older version: they are refused rather than taken for stale."""
    made_with = _version_numbers(answers.bank_version or "")
    if answers.bank_id not in (None, bank.meta.id) or made_with is None:
        return
    if made_with <= _version_numbers(bank.meta.version):
        return
    where, line = (document.path, document.line_of(("bank_version",))) if document else ("answers", None)
    raise GuideError(where, line, "bank_version",
                     f"made with bank version {answers.bank_version}, newer than this guide's bank (version "
                     f"{bank.meta.version}): open it with a guide whose bank is version {answers.bank_version} or later")


def _renamed_choices(value, renames: dict[str, str] | None):
    """An answer with the choices a migration renamed given their new ids (a text answer is left as it is)."""
    if not renames or not isinstance(value, (str, list)):
        return value
    if isinstance(value, str):
        return renames.get(value, value)
    return list(dict.fromkeys(renames.get(choice, choice) for choice in value))


def origin_version(answers: AnswersFile, bank: Bank) -> str | None:
    """The older version of this bank the answers come from: the one they name, or the one they were migrated from."""
    if answers.bank_id not in (None, bank.meta.id):
        return None
    for version in (answers.bank_version, answers.migrated_from):
        if version not in (None, bank.meta.version):
            return version
    return None


def bank_change(answers: AnswersFile, bank: Bank) -> BankChange | None:
    """What differs between the bank named in an answers file and this bank; None when nothing does."""
    meta = bank.meta
    same_id = answers.bank_id in (None, meta.id)
    from_version = origin_version(answers, bank)
    same_hash = answers.bank_hash in (None, bank.content_hash)
    if same_id and from_version is None and same_hash:
        return None
    migration = migration_from(bank, from_version) if same_id else None
    return BankChange(
        from_bank_id=answers.bank_id, from_version=from_version or answers.bank_version, from_hash=answers.bank_hash,
        to_bank_id=meta.id, to_version=meta.version, to_hash=bank.content_hash,
        migrated=migration is not None,
        renamed=dict(migration.renamed) if migration else {},
        removed=list(migration.removed) if migration else [],
        renamed_choices={question: dict(choices) for question, choices in migration.renamed_choices.items()}
        if migration else {},
        note=migration.note if migration else None,
    )


def check_answers(answers: AnswersFile, bank: Bank, document: YamlDocument | None = None) -> None:
    """Every answer must name a question of this bank and a choice of that question."""
    where = document.path if document else "answers"
    for loc, problem in answer_problems(answers.answers, answers.notes, bank.questions):
        line = document.line_of(loc) if document else None
        question_id = loc[1]
        if question_id not in bank.questions:
            problem += _version_hint(answers, bank)
        raise GuideError(where, line, ".".join(str(part) for part in loc), problem)


def _version_hint(answers: AnswersFile, bank: Bank) -> str:
    if answers.bank_version in (None, bank.meta.version):
        return ""
    return (f" (the answers were made with bank version {answers.bank_version}; this bank is version "
            f"{bank.meta.version} and lists no migration from it)")
