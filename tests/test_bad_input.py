"""The bad-input corpus: malformed and hostile bank files, answers files and design documents.

Every case runs the real `guide run` in a child process under a 1 GiB address-space limit and a
timeout, and must fail the way a user can act on: exit status 2, one line on stderr naming the
file (and the line, where the file has one) and the problem, no traceback, nothing on stdout, and
no code from the file executed (the `!!python/object` payloads would create a marker file).

The corpus is generated from a small valid bank (bench/bankgen.py), so each case is one readable
change to a known-good input.
"""

from __future__ import annotations

import copy
import json
import os
import re
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import yaml

from bench.bankgen import bank_files, dump, write_files
from tests.conftest import ROOT, run_guide

MEMORY_LIMIT = 1024 ** 3
TIME_LIMIT = 60
BASE = bank_files(12, seed=7, text_share=0.2, elements=3, methods=3, rules=12)
FLOW = "flow/01.yaml"

Files = dict[str, object]
A_DIRECTORY = b"<make the target a directory>"


@dataclass(frozen=True)
class Case:
    name: str
    file: str  # the file the message must name: a bank path, "answers.yaml" or "design.md"
    # Changes the bank's data in place, or returns the raw content of `file` (str or bytes).
    # The argument `marker` is a path that code smuggled into the file would create.
    mutate: Callable[[Files, Path], str | bytes | None]
    problem: str  # a regular expression the message must match
    line: str | int | None  # text on the named line, the line number, or None: no line applies


def questions(files: Files) -> list[dict]:
    return files[FLOW]["questions"]  # type: ignore[index]


def question(files: Files, kind: str = "single", skip: int = 0) -> dict:
    return [item for item in questions(files) if item["kind"] == kind][skip]


def rules(files: Files) -> list[dict]:
    return files["rules.yaml"]["rules"]  # type: ignore[index]


def methods(files: Files) -> list[dict]:
    return files["methods.yaml"]["methods"]  # type: ignore[index]


def answers(files: Files) -> dict:
    return copy.deepcopy(files["cases/case-0.yaml"])  # type: ignore[return-value]


def payload(marker: Path) -> str:
    return f'!!python/object/apply:os.system ["touch {marker}"]'


def text_of(files: Files, relative: str) -> str:
    return dump(files[relative])


def edit(relative: str, change: Callable[[str, Path], str]) -> Callable[[Files, Path], str]:
    """A raw-text edit of one generated file."""
    return lambda files, marker: change(text_of(files, relative), marker)


def first_number(relative: str, key: str, value: str) -> Callable[[Files, Path], str]:
    """The file with its first `key: NUMBER` given `value` instead."""
    return edit(relative, lambda text, _: re.sub(rf"{key}: -?\d+", f"{key}: {value}", text, count=1))


def replace_once(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def answers_text(change: Callable[[dict], object] | None = None, raw: Callable[[str, Path], str] | None = None):
    def build(files: Files, marker: Path) -> str:
        data = answers(files)
        if change:
            data = change(data) or data
        text = dump(data)
        return raw(text, marker) if raw else text
    return build


def front_matter_document(yaml_text: str) -> str:
    return f"---\n{yaml_text}---\n\n# A design\n\nBody text.\n"


def set_(container: dict, key: str, value: object) -> None:
    container[key] = value


def cycle(files: Files) -> None:
    flow = questions(files)
    flow[5]["next"] = [{"goto": flow[2]["id"]}]


def duplicate_question(files: Files) -> None:
    flow = questions(files)
    copied = copy.deepcopy(flow[3])
    copied["id"] = flow[1]["id"]
    copied["next"] = [{"goto": "end"}]
    flow.append(copied)


def duplicate_across_files(files: Files) -> None:
    flow = questions(files)
    files["flow/02.yaml"] = {"questions": [dict(copy.deepcopy(flow[4]), next=[{"goto": "end"}])]}


def unreachable(files: Files) -> None:
    flow = questions(files)
    flow.append({"id": "orphan", "stage": "one", "kind": "text", "prompt": "Nobody asks me?",
                 "help": "Unreachable.", "next": [{"goto": "end"}]})


def deep_block(depth: int) -> str:
    return "".join(f"{'  ' * level}k{level}:\n" for level in range(depth)) + "  " * depth + "leaf\n"


BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
       f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]" for i in range(8)]
) + "\nquestions: *i\n"

BANK_CASES = [
    # --- YAML syntax and encoding
    Case("unclosed flow sequence", FLOW, edit(FLOW, lambda text, _: text + "  broken: [unclosed\n"),
         r"YAML", None),
    Case("bad indentation", FLOW, edit(FLOW, lambda text, _: replace_once(text, "  stage:", "     stage:")),
         r"YAML", None),
    Case("mapping value in a plain scalar", "bank.yaml",
         edit("bank.yaml", lambda text, _: replace_once(text, "title: Generated bank", "title: a: b")), r"YAML", "title"),
    Case("tab indentation", "rules.yaml", edit("rules.yaml", lambda text, _: replace_once(text, "  when:", "\twhen:")),
         r"YAML", None),
    Case("two documents in one file", "needs.yaml", edit("needs.yaml", lambda text, _: text + "---\nneeds: []\n"),
         r"single document", "---"),
    Case("empty file", "elements.yaml", lambda files, marker: "", r"empty", 1),
    Case("a flow file with no questions", FLOW, lambda files, marker: "questions: []\n",
         r"\.yaml:1: questions: at least 1 item is needed, and this holds none$", 1),
    Case("only comments", "methods.yaml", lambda files, marker: "# nothing here\n# at all\n", r"empty", 1),
    Case("binary file", "bank.yaml", lambda files, marker: bytes(range(256)) * 8, r"binary", None),
    # It said "position 440" on line 1: the line and column of the character, named in words.
    Case("a control character in a prompt", FLOW,
         edit(FLOW, lambda text, _: replace_once(text, "Question 3?", "Question\x1b 3?")),
         r"a control character \(ESC, U\+001B\) at column \d+ is not allowed in YAML$", "Question\x1b 3?"),
    Case("not UTF-8", FLOW, lambda files, marker: text_of(files, FLOW).replace("Question 3?", "Qu\xe9stion 3?")
         .encode("latin-1"), r"UTF-8", "stion 3?"),
    Case("UTF-16 with a byte-order mark", "references.yaml",
         lambda files, marker: text_of(files, "references.yaml").encode("utf-16"), r"binary|UTF-8", None),
    Case("10 MB file", "rules.yaml",
         lambda files, marker: text_of(files, "rules.yaml") + "# " + "x" * (10 * 1024 * 1024) + "\n", r"limit", None),
    Case("deep flow nesting", FLOW, lambda files, marker: "questions: " + "[" * 100_000 + "]" * 100_000 + "\n",
         r"nest", 1),
    Case("deep block nesting", "bank.yaml", lambda files, marker: deep_block(200), r"nest", None),
    Case("alias bomb", FLOW, lambda files, marker: BILLION_LAUGHS, r"alias|anchor", 1),
    Case("recursive alias", "needs.yaml", lambda files, marker: "needs: &loop [*loop]\n", r"alias|anchor", 1),
    Case("merge key alias", "references.yaml", lambda files, marker:
         "base: &base {id: ref0, citation: x}\nreferences:\n  - <<: *base\n", r"alias|anchor", 1),
    Case("python object apply", "bank.yaml",
         edit("bank.yaml", lambda text, marker: replace_once(text, "title: Generated bank", f"title: {payload(marker)}")),
         r"tag", "title"),
    Case("python object new", "rules.yaml",
         lambda files, marker: f"rules: !!python/object/new:os.system [\"touch {marker}\"]\n", r"tag", 1),
    Case("python name", "elements.yaml", lambda files, marker: "elements: !!python/name:os.system\n", r"tag", 1),
    Case("unknown local tag", FLOW,
         edit(FLOW, lambda text, _: replace_once(text, "prompt: Question 2?", "prompt: !shout Question 2?")),
         r"tag", "Question 2?"),
    Case("value that does not fit its tag", "rules.yaml",
         edit("rules.yaml", lambda text, _: replace_once(text, "  weight: ", "  weight: !!int heavy # ")),
         r"'heavy' is not a valid int", "heavy"),
    Case("merge key with a value that does not fit its tag", "references.yaml",
         lambda files, marker: "references:\n  - <<: {id: ref0}\n    citation: !!float soon\n", r"not a valid float", 3),
    # --- wrong shapes and types
    Case("top level is a list", "elements.yaml", lambda files, marker: "- id: element0\n- id: element1\n",
         r"mapping", 1),
    Case("top level is a string", "bank.yaml", lambda files, marker: "just some words\n", r"mapping", 1),
    Case("questions is a string", FLOW, lambda files, marker: "questions: several\n", r"list", "questions"),
    Case("weight is a word", "rules.yaml", first_number("rules.yaml", "weight", "heavy"), r"number", "weight: heavy"),
    # A number or flag in quotes is text: read as a number it lint-passed while an answer's 5 was refused.
    Case("weight in quotes", "rules.yaml", first_number("rules.yaml", "weight", '"3"'),
         r"weight: a number, not the text '3': write it without quotes", 'weight: "3"'),
    Case("level weight in quotes", "bank.yaml", first_number("bank.yaml", "weight", "'1'"),
         r"a number, not the text '1'", "weight: '1'"),
    Case("neutral in quotes", FLOW, lambda files, marker: set_(question(files)["choices"][0], "neutral", "true"),
         r"neutral: true or false, not the text 'true'", "neutral: 'true'"),
    Case("weight out of range", "rules.yaml", first_number("rules.yaml", "weight", "9"), r"9 is outside the range -5 to 5$",
         "weight: 9"),
    Case("level weight infinite", "bank.yaml", first_number("bank.yaml", "weight", ".inf"), r"finite number", "weight: .inf"),
    Case("level threshold not a number", "bank.yaml", first_number("bank.yaml", "min_score", ".nan"), r"finite number", "min_score: .nan"),
    Case("choices as a mapping", FLOW, lambda files, marker: set_(question(files), "choices", {"a": "A", "b": "B"}),
         r"list", "choices"),
    Case("integer id", FLOW, lambda files, marker: set_(questions(files)[4], "id", 12345),
         r"text expected, but YAML reads .* as a number", "12345"),
    Case("id with spaces", "elements.yaml",
         lambda files, marker: set_(files["elements.yaml"]["elements"][1], "id", "Element One"),
         r"an id takes lowercase letters, digits, - and _ only, starting with a letter or digit$",
         "Element One"),
    Case("unknown key", FLOW, edit(FLOW, lambda text, _: replace_once(text, "  prompt: Question 6?", "  promt: Question 6?")),
         r"unknown key.*did you mean 'prompt'", "promt"),
    Case("missing required key", "methods.yaml", lambda files, marker: methods(files)[1].pop("summary") and None,
         r"required", None),
    Case("text question with choices", FLOW,
         lambda files, marker: set_(question(files, "text"), "choices", [{"id": "x", "label": "X"}, {"id": "y", "label": "Y"}]),
         r"text question takes no choices", None),
    Case("condition without a known key", "rules.yaml",
         lambda files, marker: set_(rules(files)[4], "when", {"question": "q1", "equals": "c0"}), r"condition", "when"),
    Case("share of the top above one", "bank.yaml",
         lambda files, marker: set_(files["bank.yaml"]["levels"][0], "min_share_of_top", 1.5), r"min_share_of_top: .*less than or equal to 1",
         "min_share_of_top: 1.5"),
    Case("share of the top on the floor", "bank.yaml",
         lambda files, marker: set_(files["bank.yaml"]["levels"][-1], "min_share_of_top", 0.5),
         r"the last level is the floor and takes no min_score or min_share_of_top", "levels"),
    Case("level scores out of order", "bank.yaml",
         lambda files, marker: files["bank.yaml"]["levels"].reverse(), r"min_score|last level", "levels"),
    Case("version is a number", "bank.yaml",
         edit("bank.yaml", lambda text, _: re.sub(r"version: .*", "version: 1.5", text, count=1)),
         r"YAML reads .* as a number: write it in quotes", "version"),
    # --- ids and references
    Case("duplicate question id", FLOW, lambda files, marker: duplicate_question(files), r"duplicate question id", None),
    Case("duplicate question id across files", "flow/02.yaml", lambda files, marker: duplicate_across_files(files), r"duplicate question id",
         "- id: q4"),
    Case("duplicate choice id", FLOW,
         lambda files, marker: question(files)["choices"].append(dict(question(files)["choices"][0])),
         r"duplicate choice id", "id: c0"),
    Case("duplicate rule id", "rules.yaml", lambda files, marker: set_(rules(files)[6], "id", rules(files)[2]["id"]),
         r"duplicate rule id", "id: rule2"),
    Case("duplicate mapping key", "bank.yaml",
         edit("bank.yaml", lambda text, _: replace_once(text, "start: q0", "start: q0\nstart: q0")),
         r"duplicate key 'start'", 10),
    Case("routing cycle", FLOW, lambda files, marker: cycle(files), r"q5: routing cycle: q2 -> .* -> q5 -> q2$",
         "goto: q2"),
    Case("unreachable question", FLOW, lambda files, marker: unreachable(files), r"no path", "id: orphan"),
    Case("goto an unknown question", FLOW,
         lambda files, marker: set_(questions(files)[3], "next", [{"goto": "nowhere"}]), r"unknown question 'nowhere'",
         "goto: nowhere"),  # the field that is wrong, not the question's `id:` line
    Case("start question missing", "bank.yaml", lambda files, marker: set_(files["bank.yaml"], "start", "q999"),
         r"bank\.yaml:\d+: start: start question 'q999'", "start: q999"),
    Case("summary question that is not a text question", "bank.yaml",
         lambda files, marker: set_(files["bank.yaml"], "summary_question", "q0"),
         r"summary_question 'q0' is not a text question of the bank", "summary_question: q0"),
    Case("similarity weight for an unknown question", "bank.yaml",
         lambda files, marker: set_(files["bank.yaml"], "similarity_weights", {"q999": 3}),
         r"similarity_weights names unknown question 'q999'", "q999: 3"),
    Case("nearest neighbours share an unknown question", "bank.yaml",
         lambda files, marker: set_(files["bank.yaml"], "nearest_share_one_of", ["q0", "q998"]),
         r"nearest_share_one_of names unknown question 'q998'", "- q998"),
    Case("similarity weight that is not positive", "bank.yaml",
         lambda files, marker: set_(files["bank.yaml"], "similarity_weights", {"q0": 0}), r"similarity_weights", None),
    Case("rule reads an unknown question", "rules.yaml",
         lambda files, marker: set_(rules(files)[5], "when", {"q": "ghost", "in": ["c0"]}), r"unknown question 'ghost'",
         "when:"),
    Case("rule names an unknown choice", "rules.yaml",
         lambda files, marker: set_(rules(files)[5], "when", {"q": question(files)["id"], "in": ["c99"]}),
         r"unknown choice 'c99'", "when:"),
    Case("effect on an unknown element", "rules.yaml",
         lambda files, marker: set_(rules(files)[7]["effects"][0], "element", "ghost_element")
         or rules(files)[7]["effects"][0].pop("method", None) and None, r"unknown element 'ghost_element'",
         "element: ghost_element"),
    Case("method needs an unknown need", "methods.yaml", lambda files, marker: set_(methods(files)[0], "needs", ["gpu"]),
         r"unknown need 'gpu'", "gpu"),
    Case("method serves an unknown element", "methods.yaml",
         lambda files, marker: set_(methods(files)[2]["serves"][0], "element", "ghost"), r"unknown element 'ghost'",
         "element: ghost"),
    Case("unknown strength", "methods.yaml",
         lambda files, marker: set_(methods(files)[1]["serves"][0], "strength", "mighty"), r"unknown strength 'mighty'",
         "strength: mighty"),
    Case("a need's condition reads an unknown question", "needs.yaml",
         lambda files, marker: set_(files["needs.yaml"]["needs"][0], "unavailable_when", {"q": "ghost", "answered": True}),
         r"unavailable_when reads unknown question 'ghost'", "unavailable_when:"),
    Case("a caveat requires an unknown need", "methods.yaml",
         lambda files, marker: set_(methods(files)[0], "caveats", [{"text": "Mind it.", "requires": ["gpu"]}]),
         r"a caveat requires unknown need 'gpu'", "gpu"),
    Case("unknown reference", "elements.yaml",
         lambda files, marker: set_(files["elements.yaml"]["elements"][0]["evaluation"][0], "references", ["nobody2099"]),
         r"unknown reference 'nobody2099'", "id: element0"),
    Case("a rule's check cites an unknown reference", "rules.yaml",
         lambda files, marker: set_(rules(files)[7], "checks", [{"text": "Check it.", "references": ["nobody2099"]}]),
         r"unknown reference 'nobody2099'", "id: rule7"),
    Case("a rule's check requires an unknown need", "rules.yaml",
         lambda files, marker: set_(rules(files)[7], "checks", [{"text": "Check it.", "requires": ["gpu"]}]),
         r"requires unknown need 'gpu'", "id: rule7"),
    Case("unknown stage", FLOW, lambda files, marker: set_(questions(files)[2], "stage", "seven"), r"unknown stage 'seven'",
         "stage: seven"),
    Case("routing reads a later question", FLOW,
         lambda files, marker: questions(files)[1]["next"].insert(0, {"when": {"q": "q9", "answered": True}, "goto": "q3"}),
         r"never asked before", "when:"),
    Case("default branch first", FLOW,
         lambda files, marker: questions(files)[2]["next"].insert(0, {"goto": "q4"}), r"default branch", "goto: q4"),
    Case("last branch with a condition", FLOW,
         lambda files, marker: set_(questions(files)[2]["next"][0], "when", {"q": "q0", "answered": True}),
         r"last branch of `next` needs no `when`", "when:"),
    Case("routing names an unknown choice", FLOW,
         lambda files, marker: questions(files)[3]["next"].insert(0, {"when": {"q": "q2", "in": ["c77"]}, "goto": "q5"}),
         r"routing condition names unknown choice 'c77'", "when:"),
    Case("required bank file missing", "elements.yaml", lambda files, marker: files.pop("elements.yaml") and None,
         r"missing", None),
]

ANSWERS_CASES = [
    Case("answers: unknown question", "answers.yaml", answers_text(lambda data: set_(data["answers"], "ghost_question", "c0")),
         r"unknown question 'ghost_question'", "ghost_question"),
    Case("answers: unknown choice", "answers.yaml",
         answers_text(lambda data: set_(data["answers"], "q0", "c77")), r"unknown choice 'c77'", "q0:"),
    Case("answers: a choice that differs from a real one by an invisible character", "answers.yaml",
         answers_text(lambda data: set_(data["answers"], "q0", "c\u200b0")), r"unknown choice 'c\\u200b0'", "q0:"),
    Case("answers: two choices for a single-choice question", "answers.yaml",
         lambda files, marker: dump({"answers": {question(files)["id"]: ["c0", "c1"]}}), r"single-choice", 2),
    Case("answers: a choice given twice", "answers.yaml",
         lambda files, marker: dump({"answers": {question(files, "multiple")["id"]: ["c0", "c1", "c0"]}}),
         r"choice 'c0' is given twice", 2),
    Case("answers: unsure with other choices", "answers.yaml",
         lambda files, marker: dump({"answers": {question(files, "multiple")["id"]: ["c0", "unsure"]}}), r"unsure", 2),
    Case("answers: list for a text question", "answers.yaml",
         lambda files, marker: dump({"answers": {question(files, "text")["id"]: ["c0"]}}), r"text question", 2),
    Case("answers: note for an unknown question", "answers.yaml",
         answers_text(lambda data: set_(data, "notes", {"ghost": "Boo."})), r"unknown question 'ghost'", "ghost"),
    # The field as the user wrote it, without the names pydantic gives the members of a union.
    # What was found and what the question takes, in the file author's words (it said "Input should be a valid
    # string", then "text or a list expected", where a single-choice question takes no list).
    Case("answers: a number as an answer", "answers.yaml",
         lambda files, marker: f"answers:\n  {question(files)['id']}: 3\n",
         r"\.yaml:2: answers\.\w+: found a number, but a single-choice question takes one of its choices \(c0, c1.*\)$", 2),
    Case("answers: true as an answer", "answers.yaml", lambda files, marker: f"answers:\n  {question(files)['id']}: True\n",
         r"\.yaml:2: answers\.\w+: found true or false, but a single-choice question takes one of its choices", 2),
    Case("answers: a list of numbers as an answer", "answers.yaml", lambda files, marker: "answers:\n  q0: [1, 2]\n",
         r"\.yaml:2: answers\.q0\[0\]: text expected, but YAML reads what is written here as a number: write it in "
         r"quotes$", 2),
    Case("answers: a mapping as an answer", "answers.yaml", lambda files, marker: "answers:\n  q0: {c0: 1}\n",
         r"\.yaml:2: answers\.q0: found a mapping, but a multiple-choice question takes a list of its choices \(c0", 2),
    Case("answers: a mapping as a single-choice answer", "answers.yaml",
         lambda files, marker: f"answers:\n  {question(files)['id']}: {{c0: 1}}\n",
         r"\.yaml:2: answers\.\w+: found a mapping, but a single-choice question takes one of its choices \(c0", 2),
    Case("answers: a control character in the title", "answers.yaml",
         lambda files, marker: 'description: x\ntitle: "abc\x1bdef"\n',
         r"\.yaml:2: a control character \(ESC, U\+001B\) at column 12 is not allowed in YAML$", 2),
    # Pydantic's own words ("Input should be a valid dictionary", "... or instance of Review") are not the file's.
    Case("answers: answers is a list", "answers.yaml", lambda files, marker: "answers:\n  - q0\n  - c0\n",
         r"\.yaml:1: answers: a mapping of keys to values expected, found a list$", 1),
    Case("answers: answers is empty", "answers.yaml", lambda files, marker: "title: x\nanswers:\n",
         r"\.yaml:2: answers: a mapping of keys to values expected, found nothing: it is empty$", 2),
    Case("answers: a number as a question id", "answers.yaml", lambda files, marker: "answers:\n  1: c0\n",
         r"\.yaml:2: answers: a key here is text \(an id\), and 1 is a number: write it in quotes if it is meant$", 2),
    Case("answers: reviews is a number", "answers.yaml", lambda files, marker: "title: x\nreviews: 5\n",
         r"\.yaml:2: reviews: a list expected, found a number$", 2),
    Case("answers: a review that is a number", "answers.yaml", lambda files, marker: "title: x\nreviews: [5]\n",
         r"\.yaml:2: reviews\[0\]: a mapping of keys to values expected, found a number$", 2),
    # The app refused such a file, but `guide run` wrote its document with this bank, labelled with this bank's id.
    Case("answers: written for another question bank", "answers.yaml",
         lambda files, marker: "title: x\nbank_id: another-bank\nanswers: {}\n",
         r"\.yaml:2: bank_id: written for question bank 'another-bank', not '[^']+': open it with --bank", 2),
    Case("answers: unknown top-level key", "answers.yaml", lambda files, marker: "title: x\nanswer: {}\n",
         r"unknown key", "answer:"),
    Case("answers: a saved session whose set-aside answer names no question", "answers.yaml",
         lambda files, marker: "answers: {}\nset_aside:\n  ghost_question: c0\nposition: q0\n",
         r"unknown question .ghost_question.", 3),
    Case("answers: a saved session whose set-aside answers are a list", "answers.yaml",
         lambda files, marker: "answers: {}\nset_aside: [q0]\nposition: q0\n",
         r"set_aside: a mapping of keys to values expected, found a list$", 2),
    Case("answers: invalid review decision", "answers.yaml",
         lambda files, marker: "review:\n  decision: maybe\n", r"pending", "decision"),
    Case("answers: invalid decision of the second reviewer", "answers.yaml",
         lambda files, marker: "reviews:\n- reviewer: A\n  decision: approved\n- reviewer: B\n  decision: maybe\n",
         r"reviews\[1\]\.decision: .*pending", 5),
    Case("answers: reviews not a list", "answers.yaml", lambda files, marker: "reviews:\n  reviewer: A\n",
         r"reviews: .*list", 1),
    # Hand-edited hashes of digits only: YAML reads them as numbers (000000000000 is 0).
    Case("answers: a review's hash of digits only", "answers.yaml",
         lambda files, marker: "reviews:\n- reviewer: A\n  answers_hash: 000000000000\n",
         r"reviews\[0\]\.answers_hash: text expected, but YAML reads what is written here as a number: write it in "
         r"quotes, as answers_hash: '\.\.\.'$", 3),
    Case("answers: a bank hash of digits only", "answers.yaml", lambda files, marker: "title: x\nbank_hash: 1234\n",
         r"bank_hash: text expected, but YAML reads what is written here as a number: write it in quotes", 2),
    Case("answers: a title YAML reads as true", "answers.yaml", lambda files, marker: "title: true\n",
         r"title: text expected, but YAML reads what is written here as true or false: write it in quotes", 1),
    Case("answers: title too long", "answers.yaml", lambda files, marker: f"title: {'T' * 400}\n", r"at most", 1),
    Case("answers: empty file", "answers.yaml", lambda files, marker: "", r"empty", 1),
    Case("answers: binary", "answers.yaml", lambda files, marker: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50,
         r"binary", None),
    Case("answers: not UTF-8", "answers.yaml", lambda files, marker: b"title: caf\xe9\n", r"UTF-8", 1),
    Case("answers: 10 MB", "answers.yaml", lambda files, marker: "title: x\n" + "#" * (10 * 1024 * 1024),
         r"limit", None),
    Case("answers: syntax error", "answers.yaml", lambda files, marker: "title: x\nanswers: {q0: c0\nnotes: {}\n",
         r"YAML", None),
    Case("answers: duplicate answer", "answers.yaml",
         lambda files, marker: "answers:\n  q0: c0\n  q0: c1\n", r"duplicate key", 3),
    Case("answers: alias bomb", "answers.yaml", lambda files, marker: BILLION_LAUGHS.replace("questions:", "answers:"),
         r"alias|anchor", 1),
    Case("answers: deep nesting", "answers.yaml", lambda files, marker: "answers: " + "{a: " * 5000 + "x" + "}" * 5000,
         r"nest", 1),
    Case("answers: python tag", "answers.yaml", lambda files, marker: f"title: {payload(marker)}\n", r"tag", 1),
    Case("answers: python tag in a note", "answers.yaml",
         lambda files, marker: f"notes:\n  q0: !!python/object/apply:subprocess.call [[touch, {marker}]]\n", r"tag", 2),
    # Python's int() refuses more than 4300 digits with a bare ValueError, in JSON's reader and in YAML's: the
    # YAML reader (which reads JSON too, and front matter) says where, in those words.
    Case("answers: a 5000-digit number in JSON", "answers.json",
         lambda files, marker: '{"title": "a",\n "answers": {"q0": ' + "9" * 5000 + "}}\n",
         r": a number longer than 4300 digits$", 2),
    Case("answers: a 5000-digit number in YAML", "answers.yaml",
         lambda files, marker: "title: a\nanswers:\n  q0: " + "9" * 5000 + "\n",
         r"YAML: a number longer than 4300 digits$", 3),
    Case("answers: a number too large for a float in JSON", "answers.json",
         lambda files, marker: '{"answers": {"q0": 1e400}}', r"unknown choice '1e400'", 1),
    Case("answers: a 5000-digit title in JSON", "answers.json",
         lambda files, marker: '{"title": "' + "9" * 5000 + '"}', r"title: at most 300 characters are taken, and this has 5,000$", 1),
    Case("answers: a duplicate key in JSON", "answers.json", lambda files, marker: '{"title": "a",\n "title": "b"}',
         r"\.json:2: JSON: duplicate key 'title'$", 2),
    Case("answers: a folder", "answers.yaml", lambda files, marker: A_DIRECTORY, r": is a folder, not an answers file$",
         None),
    Case("answers: file does not exist", "answers.yaml", lambda files, marker: None, r"[Nn]o such file", None),
    # --- design documents: answers in YAML front matter
    Case("document: no front matter", "design.md", lambda files, marker: "# A design\n\nNo answers here.\n",
         r"front matter", 1),
    Case("document: unterminated front matter", "design.md", lambda files, marker: "---\ntitle: x\nanswers: {}\n",
         r"front matter that opens here is not closed", 1),
    Case("document: YAML error in front matter", "design.md",
         lambda files, marker: front_matter_document("title: x\nanswers: {q0: [c0\n"), r"YAML", None),
    Case("document: unknown choice in front matter", "design.md",
         lambda files, marker: front_matter_document("title: x\nanswers:\n  q0: c42\n"), r"unknown choice 'c42'", 4),
    Case("document: python tag in front matter", "design.md",
         lambda files, marker: front_matter_document(f"title: {payload(marker)}\n"), r"tag", 2),
    Case("document: alias in front matter", "design.md",
         lambda files, marker: front_matter_document("title: &t x\ndescription: *t\n"), r"alias|anchor", 2),
    Case("document: binary after front matter", "design.md",
         lambda files, marker: front_matter_document("title: x\n").encode() + b"\x00\x01\x02", r"binary", None),
]


@pytest.fixture(scope="module")
def good_bank(tmp_path_factory) -> Path:
    return write_files(tmp_path_factory.mktemp("good") / "bank", BASE)


def limit_resources() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_limited(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`guide` in a child process that cannot take more than 1 GiB or TIME_LIMIT seconds."""
    return subprocess.run([sys.executable, "-m", "guide", *args], capture_output=True, cwd=cwd,
                          timeout=TIME_LIMIT, preexec_fn=limit_resources,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(cwd)})


def materialize(case: Case, tmp_path: Path, good_bank: Path) -> tuple[list[str], Path]:
    """Write the case's input; return the `guide run` arguments and the file the message must name."""
    marker = tmp_path / "code-was-executed"
    files = copy.deepcopy(BASE)
    content = case.mutate(files, marker)
    if case.file in ("answers.yaml", "answers.json", "design.md"):
        target = tmp_path / case.file
        if content == A_DIRECTORY:
            target.mkdir()
        elif content is not None:
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        return ["--bank", str(good_bank), "--answers", str(target)], target
    bank_dir = write_files(tmp_path / "bank", files)
    target = bank_dir / case.file
    if content is not None:
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    return ["--bank", str(bank_dir), "--case", "case-0"], target


def named_line(message: str, target: Path) -> int | None:
    match = re.match(rf"guide: {re.escape(str(target))}:(\d+):", message)
    return int(match.group(1)) if match else None


@pytest.mark.parametrize("case", BANK_CASES + ANSWERS_CASES, ids=lambda case: case.name)
def test_bad_input_fails_with_one_line_naming_file_line_and_problem(case: Case, tmp_path: Path, good_bank: Path):
    args, target = materialize(case, tmp_path, good_bank)
    result = run_limited("run", *args, cwd=tmp_path)
    stderr = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    assert result.returncode == 2, stderr
    assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    assert result.stdout == b""
    message = stderr.rstrip("\n")
    assert message.startswith(f"guide: {target}"), message
    assert re.search(case.problem, message), message
    assert not (tmp_path / "code-was-executed").exists(), "a YAML tag executed code"
    line = named_line(message, target)
    if case.line is None:
        return
    assert line is not None, f"no line number in: {message}"
    if isinstance(case.line, int):
        assert line == case.line, message
    else:
        text = target.read_bytes().decode("utf-8", "replace").split("\n")
        assert case.line in text[line - 1], f"{message}\nline {line}: {text[line - 1]!r}"


def test_the_corpus_is_at_least_forty_cases_and_the_base_is_valid(good_bank: Path, tmp_path: Path):
    assert len(BANK_CASES) + len(ANSWERS_CASES) >= 40
    result = run_limited("run", "--bank", str(good_bank), "--case", "case-0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.startswith(b"---\n")


# Every other command that reads answers gets the most dangerous of the answers cases too.
ANSWER_COMMANDS = {
    "check": lambda bank, answers: ["check", "--bank", bank, answers],
    "diff": lambda bank, answers: ["diff", "--bank", bank, answers, answers],
    "what-if": lambda bank, answers: ["what-if", "--bank", bank, answers, "--sensitivity"],
    "compare": lambda bank, answers: ["compare", "--bank", bank, answers, "--case", "case-0"],
    "graph": lambda bank, answers: ["graph", "--bank", bank, "--answers", answers],
}
DANGEROUS = ("answers: python tag", "answers: alias bomb", "answers: 10 MB", "answers: binary",
             "answers: deep nesting", "answers: unknown choice", "answers: a 5000-digit number in JSON")


@pytest.mark.parametrize("command", ANSWER_COMMANDS)
@pytest.mark.parametrize("case", [case for case in ANSWERS_CASES if case.name in DANGEROUS], ids=lambda case: case.name)
def test_every_command_reading_answers_fails_the_same_way(command, case, tmp_path, good_bank):
    _, target = materialize(case, tmp_path, good_bank)
    if command == "check":  # check reads design documents: the same content as front matter
        document = tmp_path / "design.md"
        document.write_bytes(b"---\n" + target.read_bytes() + b"\n---\n\n# A design\n")
        target = document
    result = run_limited(*ANSWER_COMMANDS[command](str(good_bank), str(target)), cwd=tmp_path)
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2 and "Traceback" not in stderr, stderr
    assert stderr.count("\n") == 1 and stderr.startswith(f"guide: {target}") and re.search(case.problem, stderr), stderr
    assert not (tmp_path / "code-was-executed").exists()


@pytest.mark.parametrize("command", [*ANSWER_COMMANDS, "run"])
def test_every_command_reading_answers_says_an_html_document_does_not_carry_them(command, tmp_path, good_bank):
    html = tmp_path / "design.html"
    assert run_guide("run", "--bank", str(good_bank), "--case", "case-0", "--out", str(html)).returncode == 0
    args = ["run", "--bank", str(good_bank), "--answers", str(html)] if command == "run" else \
        ANSWER_COMMANDS[command](str(good_bank), str(html))
    result = run_guide(*args, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"guide: {html}: an HTML document does not carry its answers: give the Markdown")


@pytest.mark.parametrize("command", ["lint", "codebook"])
@pytest.mark.parametrize("case", [case for case in BANK_CASES if case.name in (
    "python object apply", "alias bomb", "10 MB file", "binary file", "deep flow nesting", "routing cycle",
    "a control character in a prompt")],
    ids=lambda case: case.name)
def test_lint_and_codebook_report_hostile_banks_without_running_them(command, case, tmp_path, good_bank):
    """lint lists every problem (one line each, exit 1 or 2); codebook fails like run."""
    args, target = materialize(case, tmp_path, good_bank)
    result = run_limited(command, args[1], cwd=tmp_path)
    stderr, stdout = result.stderr.decode("utf-8", "replace"), result.stdout.decode("utf-8", "replace")
    assert result.returncode in (1, 2) and "Traceback" not in stderr + stdout, stderr + stdout
    lines = [line for line in (stdout + stderr).splitlines() if str(target) in line]
    assert lines and all(re.match(rf"(guide: )?{re.escape(str(target))}(:\d+)?: ", line) for line in lines), stdout + stderr
    assert not (tmp_path / "code-was-executed").exists()
    if isinstance(case.line, str):  # each message names the line that holds what is wrong
        text = target.read_text(encoding="utf-8").split("\n")
        named = [re.match(rf"(?:guide: )?{re.escape(str(target))}:(\d+): ", line) for line in lines]
        assert all(match and case.line in text[int(match[1]) - 1] for match in named), stdout + stderr


# ---------------------------------------------------------------------------------------------
# Arguments and outputs that used to end in a traceback: one line each, exit status 2.

UNDECODABLE = b"\xff\xfe"


def run_with_bytes(*args: bytes, cwd: Path, stdout=subprocess.PIPE) -> tuple[int, str]:
    """`guide` with arguments as raw bytes, as a shell passes them; the exit status and stderr."""
    result = subprocess.run([sys.executable, "-m", "guide", *args], stdout=stdout, stderr=subprocess.PIPE, cwd=cwd,
                            timeout=TIME_LIMIT, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                                     "HOME": str(cwd), "LC_ALL": "C.UTF-8"})
    return result.returncode, result.stderr.decode("utf-8", "replace")


@pytest.mark.parametrize("args, problem", [
    ([b"run", b"--case", UNDECODABLE, b"--out", b"design.md"],
     "'\\xff\\xfe' is not UTF-8 text (only file names may hold other bytes)"),
    ([b"what-if", b"--case", b"dr-screening", b"--set", b"task=" + UNDECODABLE, b"--out", b"design.md"],
     "'task=\\xff\\xfe' is not UTF-8 text (only file names may hold other bytes)"),
    ([b"--plain", b"--new", b"--title", UNDECODABLE + b" design"],
     "argument --title: title: not UTF-8 text"),
], ids=["run --case", "what-if --set", "plain --title"])
def test_text_arguments_that_are_not_utf8_are_one_line(args, problem, tmp_path):
    status, stderr = run_with_bytes(*args, cwd=tmp_path)
    assert (status, stderr) == (2, f"guide: error: {problem} (see guide --help)\n")
    assert not (tmp_path / "design.md").exists()


@pytest.mark.parametrize("date", ["9" * 400, "2026-13-01", "2026-02-29", "tomorrow", "2026-1-5", " 2026-01-15"])
def test_a_date_the_document_could_not_carry_back_is_refused(date, tmp_path):
    out = tmp_path / "design.md"
    result = run_guide("run", "--case", "dr-screening", "--date", date, "--out", str(out))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "argument --date: a calendar day as YYYY-MM-DD" in result.stderr and not out.exists()


DATED_ANSWERS = "title: Knee\ndate: {date}\nanswers:\n  task: diagnosis_classification\n"
DATED_REVIEW = ("title: Knee\nanswers:\n  task: diagnosis_classification\nreviews:\n  - reviewer: Ann\n"
                "    decision: approved\n    date: {date}\n")


@pytest.mark.parametrize("date", ['"last tuesday"', "2024-13-45", '"2024-02-30"', "2024-2-3"])
@pytest.mark.parametrize("name, text, where", [
    ("answers.yaml", DATED_ANSWERS, "2: date"),
    ("answers.yaml", DATED_REVIEW, "7: reviews[0].date"),
    ("design.json", None, "answers_file.date"),
], ids=["answers file", "review", "JSON document"])
def test_a_date_in_answers_that_is_not_a_calendar_day_is_refused(name, text, where, date, tmp_path):
    """Such a date was printed as the document's date, or as a reviewer's."""
    path = tmp_path / name
    if text is None:
        document = json.loads(run_guide("run", "--case", "dr-screening", "--format", "json").stdout)
        document["answers_file"]["date"] = json.loads(date) if date.startswith('"') else date
        text = json.dumps(document, indent=1)
        lines = text.splitlines()
        line = next(number for number, line in enumerate(lines, start=1)
                    if line.startswith('  "date"') and number > lines.index(' "answers_file": {'))
        where = f"{line}: {where}"
    path.write_text(text.format(date=date) if name.endswith(".yaml") else text)
    result = run_guide("run", "--answers", str(path))
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", f"guide: {path}:{where}: a calendar day as YYYY-MM-DD, such as 2026-01-15\n")


def test_a_dated_document_reads_back_with_its_date(tmp_path):
    out = tmp_path / "design.md"
    assert run_guide("run", "--case", "dr-screening", "--date", "2028-02-29", "--out", str(out)).returncode == 0
    again = run_guide("run", "--answers", str(out))
    assert again.returncode == 0 and again.stdout == out.read_text(encoding="utf-8")


def test_file_names_that_are_not_utf8_are_written_and_named(tmp_path):
    """A file name may be any bytes: the document goes there, and a document naming it is valid UTF-8,
    showing the bytes that are not as escapes (Markdown escapes the backslash again)."""
    status, stderr = run_with_bytes(b"run", b"--case", b"dr-screening", b"--out", UNDECODABLE + b".md", cwd=tmp_path)
    assert status == 0, stderr
    named = tmp_path / os.fsdecode(UNDECODABLE + b".md")
    status, stderr = run_with_bytes(b"diff", os.fsencode(named), os.fsencode(named), b"--format", b"md",
                                    b"--out", b"diff.md", cwd=tmp_path)
    assert status == 0, stderr
    assert "- **\\\\xff\\\\xfe.md:** Automated" in (tmp_path / "diff.md").read_text(encoding="utf-8")


# --version and --help exited 0 without a word: argparse drops a failed write.
@pytest.mark.parametrize("args", [["run", "--case", "dr-screening"], ["cases"], ["--plain", "--new"], ["--version"],
                                  ["--help"], ["run", "--help"], ["lint", "--help"]])
def test_a_full_standard_output_is_one_line(args, tmp_path):
    with open("/dev/full", "wb") as full:
        status, stderr = run_with_bytes(*map(os.fsencode, args), cwd=tmp_path, stdout=full)
    assert status == 2 and stderr == "guide: standard output: No space left on device\n", stderr


# ---------------------------------------------------------------------------------------------
# Files larger than the limit are refused before they are read (stat first, then at most limit + 1 bytes).


def sparse_file(path: Path, size: int) -> Path:
    with open(path, "wb") as stream:
        stream.truncate(size)
    return path


def test_files_over_the_size_limit_are_refused_before_they_are_read(tmp_path, good_bank):
    answers = sparse_file(tmp_path / "answers.yaml", 3 * 1024 ** 3)
    result = run_limited("run", "--bank", str(good_bank), "--answers", str(answers), cwd=tmp_path)
    assert (result.returncode, result.stderr.decode()) == (
        2, f"guide: {answers}: file is 3,221,225,472 bytes; the limit is 2,097,152\n")


@pytest.mark.parametrize("command, fifo, problem", [
    (["run", "--bank", "bank", "--answers", "answers.yaml"], "answers.yaml", "is a FIFO, not an answers file"),
    (["compare", "answers.yaml", "--bank", "bank", "--case", "case-0"], "answers.yaml", "is a FIFO, not an answers file"),
    (["diff", "--bank", "bank", "bank/cases/case-0.yaml", "answers.yaml"], "answers.yaml",
     "is a FIFO, not an answers file"),
    (["run", "--bank", "bank", "--answers", "/dev/zero"], None, "is a device, not an answers file"),
    (["cases", "--bank", "bank"], "bank/cases/case-9.yaml", "is a FIFO, not an answers file"),
    (["run", "--bank", "bank", "--case", "case-0"], "bank/flow/99.yaml", "is a FIFO, not a YAML file"),
    (["run", "--bank", "bank", "--case", "case-0"], "bank/precedents/zz.yaml", "is a FIFO, not a YAML file"),
], ids=["run --answers", "compare", "diff", "a device", "cases/", "flow/", "precedents/"])
def test_what_is_not_a_regular_file_is_refused_without_waiting(command, fifo, problem, tmp_path, good_bank):
    """A FIFO opened for reading waits for a writer that never comes: the command must not hang (it would
    hit run_limited's timeout), not even on a bank it loaded from its cache before the FIFO was there."""
    shutil.copytree(good_bank, tmp_path / "bank")
    (tmp_path / "bank" / "precedents").mkdir(exist_ok=True)
    (tmp_path / "answers.yaml").write_text((tmp_path / "bank" / "cases" / "case-0.yaml").read_text())
    assert run_limited("run", "--bank", "bank", "--case", "case-0", cwd=tmp_path).returncode == 0
    if fifo is not None:
        (tmp_path / fifo).unlink(missing_ok=True)
        os.mkfifo(tmp_path / fifo)
    result = run_limited(*command, cwd=tmp_path)
    named = fifo or "/dev/zero"
    assert (result.returncode, result.stderr.decode()) == (2, f"guide: {named}: {problem}\n")


def test_a_bank_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, good_bank):
    bank = tmp_path / "bank"
    shutil.copytree(good_bank, bank)
    rules = sparse_file(bank / "rules.yaml", 3 * 1024 ** 3)
    result = run_limited("run", "--bank", str(bank), "--case", "case-0", cwd=tmp_path)
    assert (result.returncode, result.stderr.decode()) == (
        2, f"guide: {rules}: file is 3,221,225,472 bytes; the limit is 2,097,152\n")


def test_a_hypothetical_answer_the_loader_would_refuse_is_refused(tmp_path):
    """`what-if --set` takes a free-text answer only within the length an answers file may hold."""
    out = tmp_path / "what-if.md"
    result = run_guide("what-if", "--case", "dr-screening", "--set", "use_case_summary=" + "x" * 20001,
                       "--out", str(out))
    assert (result.returncode, result.stderr) == (
        2, "guide: --set: use_case_summary: at most 20,000 characters are taken, and this has 20,001\n")
    assert not out.exists()


def test_a_document_too_large_to_read_back_is_not_written(tmp_path, bank):
    """An answers file within the limits can make a Markdown or JSON document over them (answers are shown
    more than once): that document is refused, naming the file, and HTML, which is never read back, is written."""
    notes = {question_id: "é" * 19990 for question_id in list(bank.questions)[:52]}
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump({"answers": {"task": "screening_triage"}, "notes": notes}, allow_unicode=True),
                       encoding="utf-8")
    for format in ("md", "json"):
        out = tmp_path / f"design.{format}"
        result = run_guide("run", "--answers", str(answers), "--format", format, "--out", str(out))
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith(f"guide: {out}: the document would be ") and not out.exists()
    html = tmp_path / "design.html"
    assert run_guide("run", "--answers", str(answers), "--format", "html", "--out", str(html)).returncode == 0


def test_nesting_deeper_than_python_can_follow_names_the_files_language(tmp_path):
    """Read deep in a call stack (a frontend's), nesting under the reader's own limit can still exhaust Python's
    recursion: said as too deep, in the language of the file (JSON read by the YAML reader was called YAML)."""
    import inspect

    from guide.source import GuideError
    from guide.yamlfile import MAX_DEPTH, parse_yaml

    path = tmp_path / "design.json"
    nested = "[" * (MAX_DEPTH - 4) + "1" + "]" * (MAX_DEPTH - 4)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + MAX_DEPTH // 2)
    try:
        with pytest.raises(GuideError) as raised:
            parse_yaml(path, nested, language="JSON")
    finally:
        sys.setrecursionlimit(limit)
    assert str(raised.value) == f"{path}: JSON nested too deeply"
