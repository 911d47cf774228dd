"""Generate valid question banks of any size, for the benchmark and for property tests.

A generated bank passes every check of `load_bank`: routing only goes forward (so it is acyclic),
every question is reachable from the start, a routing condition only reads the question it sits
on (always asked before the branch is taken), every element and method can be raised by some
answer, and every id it names exists. `random.Random(seed)` makes the bank a function of its
arguments.
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml

LEVELS = [
    {"id": "high", "label": "High", "min_score": 4, "weight": 3, "description": "Needed.", "prioritized": True},
    {"id": "medium", "label": "Medium", "min_score": 2, "weight": 2, "description": "Wanted.", "prioritized": True},
    {"id": "low", "label": "Low", "min_score": 1, "weight": 1, "description": "Nice to have."},
    {"id": "none", "label": "None", "weight": 0, "description": "Not needed."},
]
STRENGTHS = [{"id": "strong", "label": "strong", "value": 1.0}, {"id": "weak", "label": "weak", "value": 0.4}]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


QUESTIONS_PER_FLOW_FILE = 500


def dump(data: object) -> str:
    """Block-style YAML, as a person would write a bank."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)


def generate_bank(directory: Path, questions: int, **options) -> Path:
    """Write a generated bank (see `bank_files` for the options) into `directory`."""
    return write_files(directory, bank_files(questions, **options))


def write_files(directory: Path, files: dict[str, object]) -> Path:
    directory = Path(directory)
    for relative, data in files.items():
        (directory / relative).parent.mkdir(parents=True, exist_ok=True)
        (directory / relative).write_text(dump(data), encoding="utf-8")
    return directory


def bank_files(
    questions: int,
    *,
    seed: int = 0,
    elements: int = 3,
    methods: int = 3,
    rules: int | None = None,
    extra_branches: int = 1,
    text_share: float = 0.1,
    answers: int = 1,
) -> dict[str, object]:
    """A bank with `questions` questions, as {relative path: data}.

    Each question gets up to `extra_branches` conditional branches that skip forward, besides its
    default branch to the next question. `rules` defaults to one per question. `answers` random
    answers files go to cases/case-0.yaml, case-1.yaml, ... Questions are split over flow files
    of QUESTIONS_PER_FLOW_FILE each, keeping every file under the size limit for one file.
    """
    rng = random.Random(seed)
    question_ids = [f"q{index}" for index in range(questions)]
    element_ids = [f"element{index}" for index in range(elements)]
    method_ids = [f"method{index}" for index in range(methods)]

    flow = []
    for index, question_id in enumerate(question_ids):
        follow = question_ids[index + 1] if index + 1 < questions else "end"
        kind = "text" if index > 0 and rng.random() < text_share else rng.choice(["single", "multiple"])
        question: dict = {"id": question_id, "stage": rng.choice(["one", "two"]), "kind": kind,
                          "prompt": f"Question {index}?", "help": f"Help for question {index}."}
        branches = []
        if kind != "text":
            question["choices"] = [{"id": f"c{choice}", "label": f"Choice {choice}"}
                                   for choice in range(rng.randint(2, 3))]
            for _ in range(rng.randint(0, extra_branches)):
                target = rng.randint(index + 2, index + 6)
                goto = question_ids[target] if target < questions else "end"
                if goto != follow and all(branch["goto"] != goto for branch in branches):
                    picked = rng.sample([choice["id"] for choice in question["choices"]], 1)
                    branches.append({"when": {"q": question_id, "in": picked}, "goto": goto})
        question["next"] = [*branches, {"goto": follow}]
        flow.append(question)

    choice_questions = [question for question in flow if question["kind"] != "text"]

    def condition() -> dict:
        question = rng.choice(choice_questions)
        if rng.random() < 0.15:
            return {"q": question["id"], "answered": rng.random() < 0.7}
        choices = [choice["id"] for choice in question["choices"]]
        return {"q": question["id"], "in": rng.sample(choices, rng.randint(1, len(choices)))}

    def compound() -> dict:
        roll = rng.random()
        if roll < 0.7:
            return condition()
        if roll < 0.85:
            return {"all": [condition(), condition()]}
        if roll < 0.95:
            return {"any": [condition(), condition()]}
        return {"not": condition()}

    rule_list = []
    for index in range(max(questions if rules is None else rules, elements + methods)):
        # The first rules raise every element and method once, so none is unreachable.
        if index < elements:
            effects = [{"element": element_ids[index], "weight": rng.randint(1, 5), "because": "It matters."}]
        elif index < elements + methods:
            effects = [{"method": method_ids[index - elements], "weight": 1, "because": "It fits."}]
        else:
            target = rng.choice(["element", "method"])
            effects = [{target: rng.choice(element_ids if target == "element" else method_ids),
                        "weight": rng.choice([-2, -1, 1, 2, 3]), "because": f"Reason {index}."}]
        when = {"q": choice_questions[0]["id"], "in": [choice_questions[0]["choices"][0]["id"]]} \
            if index < elements + methods else compound()
        rule_list.append({"id": f"rule{index}", "when": when, "effects": effects})

    needs = [{"id": "retraining", "label": "The model can be retrained",
              "available_when": {"q": "q0", "in": ["c0"]}, "unavailable_when": {"q": "q0", "in": ["c1"]},
              "when_missing": "exclude", "explain_missing": "Without retraining nothing can be built in."}]
    method_list = [{
        "id": method_id, "name": f"Method {index}", "kind": rng.choice(["post_hoc", "by_design", "either"]),
        "summary": f"Method family {index}.", "representatives": [{"name": f"Representative {index}", "reference": "ref0"}],
        "serves": [{"element": element_ids[(index + offset) % elements], "strength": rng.choice(["strong", "weak"])}
                   for offset in range(min(2, elements))],
        "needs": ["retraining"] if index % 2 else [],
        "evaluation": [{"text": f"Evaluate method {index}."}],
    } for index, method_id in enumerate(method_ids)]
    element_list = [{
        "id": element_id, "short": LETTERS[index], "name": f"Element {index}", "question": f"Element {index}?",
        "definition": f"Definition {index}.", "examples": [f"Example {index}"], "teaching": f"Teaching {index}.",
        "evaluation": [{"text": f"Evaluate element {index}.", "references": ["ref0"]}],
    } for index, element_id in enumerate(element_ids)]
    meta = {
        "id": f"generated-{seed}", "title": "Generated bank", "version": "1.0", "description": "A generated bank.",
        "source": {"citation": "Generated.", "doi": "10.0/generated"}, "derivation_note": "Generated.",
        "start": "q0", "stages": [{"id": "one", "title": "One", "description": "Stage one."},
                                  {"id": "two", "title": "Two", "description": "Stage two."}],
        "levels": LEVELS, "strengths": STRENGTHS,
    }
    files: dict[str, object] = {
        "bank.yaml": meta,
        "elements.yaml": {"elements": element_list},
        "rules.yaml": {"rules": rule_list},
        "needs.yaml": {"needs": needs},
        "methods.yaml": {"methods": method_list},
        "references.yaml": {"references": [{"id": "ref0", "citation": "Someone, 2024"}]},
    }
    for part, first in enumerate(range(0, questions, QUESTIONS_PER_FLOW_FILE), start=1):
        files[f"flow/{part:02d}.yaml"] = {"questions": flow[first:first + QUESTIONS_PER_FLOW_FILE]}
    for case in range(answers):
        files[f"cases/case-{case}.yaml"] = random_answers(flow, rng, title=f"Case {case}")
    return files


def random_answers(flow: list[dict], rng: random.Random, title: str = "Random answers") -> dict:
    """An answers file answering a random subset of the questions with valid values."""
    answers: dict = {}
    notes: dict = {}
    for question in flow:
        if rng.random() < 0.3:
            continue
        if question["kind"] == "text":
            answers[question["id"]] = f"Text answer to {question['id']}."
            continue
        choices = [choice["id"] for choice in question["choices"]]
        if rng.random() < 0.1:
            answers[question["id"]] = "unsure"
        elif question["kind"] == "single":
            answers[question["id"]] = rng.choice(choices)
        else:
            answers[question["id"]] = rng.sample(choices, rng.randint(1, len(choices)))
        if rng.random() < 0.1:
            notes[question["id"]] = f"A note on {question['id']}."
    return {"title": title, "answers": answers, "notes": notes}
