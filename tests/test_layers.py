"""The package's layers: every module has one, imports only point down or sideways, and nothing imports in a circle.

Read from the source with `ast`, so an import inside a function or under `TYPE_CHECKING` counts as much
as one at the top of a file. Only written imports count: that importing `guide.x.y` runs `guide/x/__init__.py`
first is how Python works, not an arrow of ours.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "guide"

# Low to high. A name is one module; `name.*` is a package and every module in it.
LAYERS = (
    ("files", ("guide", "guide.files", "guide.places", "guide.source", "guide.yamlfile", "guide.state")),
    ("models", ("guide.model", "guide.cache")),
    ("bank loading", ("guide.bankfiles", "guide.bank")),
    ("graph", ("guide.graph", "guide.load")),
    ("engine", ("guide.engine",)),
    ("writers", ("guide.report.*", "guide.diagram", "guide.diff", "guide.teaching", "guide.codebook", "guide.lint",
                 "guide.calibration", "guide.schemas")),
    ("front-end helpers", ("guide.frontend", "guide.session", "guide.library", "guide.preferences")),
    ("front ends", ("guide.cli", "guide.__main__", "guide.commands.*", "guide.plain", "guide.tui.*")),
)


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line} ({self.source} imports {self.target})"


def module_names(package: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imports(package: Path) -> list[Import]:
    """Every import of one of the package's own modules, wherever in a file it is written."""
    modules = module_names(package)
    found = []
    for source, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, source, is_package)
                # `from guide import bank` imports the module guide.bank; `from guide.bank import Bank`, guide.bank.
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            else:
                continue
            for target in dict.fromkeys(targets):
                while target and target not in modules:  # `import guide.x.name`: the module is guide.x
                    target = target.rpartition(".")[0]
                if target:
                    found.append(Import(source, target, str(path.relative_to(package.parent)), node.lineno))
    return found


def _absolute(node: ast.ImportFrom, source: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = source.split(".")
    base = parts[: len(parts) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def layer_of(module: str, layers=LAYERS) -> int | None:
    """The index of the module's layer in `layers`, None when it has none."""
    for index, (_, names) in enumerate(layers):
        for name in names:
            package = name.removesuffix(".*")
            if module == package or (name.endswith(".*") and module.startswith(package + ".")):
                return index
    return None


def layering_problems(package: Path, layers=LAYERS) -> list[str]:
    """Modules without a layer, imports from a lower layer up, and import circles, each in one line."""
    problems = [f"{module} has no layer: add it to LAYERS" for module in module_names(package)
                if layer_of(module, layers) is None]
    found = [item for item in imports(package) if item.source != item.target]
    for item in found:
        source, target = layer_of(item.source, layers), layer_of(item.target, layers)
        if source is not None and target is not None and target > source:
            problems.append(f"{item}: an import up from {layers[source][0]} to {layers[target][0]}")
    problems += [f"import circle: {' -> '.join(str(item) for item in circle)}" for circle in circles(found)]
    return problems


def circles(found: list[Import]) -> list[list[Import]]:
    """One circle through each group of modules that import each other, as the imports that close it."""
    forward: dict[str, dict[str, Import]] = {}
    backward: dict[str, set[str]] = {}
    for item in found:
        forward.setdefault(item.source, {}).setdefault(item.target, item)
        backward.setdefault(item.target, set()).add(item.source)
    result, done = [], set()
    for start in sorted(forward):
        path = None if start in done else _path_back(forward, start)
        if path:
            result.append(path)
            done |= _reached(forward, start) & _reached(backward, start)  # the whole group
    return result


def _reached(edges, start: str) -> set[str]:
    seen, waiting = {start}, [start]
    while waiting:
        for target in edges.get(waiting.pop(), ()):
            if target not in seen:
                seen.add(target)
                waiting.append(target)
    return seen


def _path_back(edges: dict[str, dict[str, Import]], start: str) -> list[Import] | None:
    """The imports of a shortest circle from `start` back to itself, if there is one (a breadth-first search)."""
    came_by: dict[str, Import] = {}
    waiting = [start]
    while waiting:
        following = []
        for module in waiting:
            for target, item in edges.get(module, {}).items():
                if target == start:
                    path = [item]
                    while path[0].source != start:
                        path.insert(0, came_by[path[0].source])
                    return path
                if target not in came_by:
                    came_by[target] = item
                    following.append(target)
        waiting = following
    return None


def test_the_package_keeps_its_layers():
    problems = layering_problems(PACKAGE)
    assert not problems, "\n".join(problems)


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root / "pkg"


SYNTHETIC_LAYERS = (("low", ("pkg", "pkg.low")), ("high", ("pkg.high", "pkg.front.*")))


def test_a_circle_is_named_by_its_imports(tmp_path):
    package = write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low.py": "import os\n",
        "pkg/high.py": "from pkg.low import thing\n\n\ndef later():\n    from pkg.front import other\n",
        "pkg/front/__init__.py": "from . import view\n",
        "pkg/front/view.py": "from ..high import later\n",
    })
    assert layering_problems(package, SYNTHETIC_LAYERS) == [
        "import circle: pkg/front/__init__.py:1 (pkg.front imports pkg.front.view) -> pkg/front/view.py:1 "
        "(pkg.front.view imports pkg.high) -> pkg/high.py:5 (pkg.high imports pkg.front)"]


def test_an_import_up_a_layer_is_named_even_inside_a_function(tmp_path):
    package = write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low.py": "def helper():\n    import pkg.high as high\n    return high\n",
        "pkg/high.py": "",
        "pkg/front/__init__.py": "",
    })
    assert layering_problems(package, SYNTHETIC_LAYERS) == [
        "pkg/low.py:2 (pkg.low imports pkg.high): an import up from low to high"]


def test_a_module_without_a_layer_is_named(tmp_path):
    package = write_package(tmp_path, {"pkg/__init__.py": "", "pkg/low.py": "", "pkg/stray.py": ""})
    assert layering_problems(package, SYNTHETIC_LAYERS) == ["pkg.stray has no layer: add it to LAYERS"]


@pytest.mark.parametrize("module, added, upwards", [
    ("bank.py", "\n\ndef _checks():\n    from guide.graph import check_bank\n", True),
    ("plain.py", "\n\ndef _cli():\n    from guide.cli import main\n", False),  # sideways, within the front ends
])
def test_a_circle_put_back_into_a_copy_of_the_package_fails(tmp_path, module, added, upwards):
    copy = tmp_path / "guide"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / module, "a") as stream:
        stream.write(added)
    problems = layering_problems(copy)
    assert any(problem.startswith("import circle: ") and f"guide/{module}:" in problem for problem in problems), problems
    assert any(f"guide/{module}:" in problem and "an import up from" in problem for problem in problems) == upwards
