"""Only screens/, widgets/ and app.py may import Textual: domain/, store/ and exchange/ stay
usable headless (command line, scripts, tests) and fast to import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import rased_tui

PACKAGE = Path(rased_tui.__file__).parent
HEADLESS = ("domain", "store", "exchange")
FORBIDDEN = "textual"


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every import statement of a module, wherever it stands."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
              and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("import_module", "__import__")
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return found


def is_forbidden(module: str) -> bool:
    return module == FORBIDDEN or module.startswith(FORBIDDEN + ".")


def test_is_forbidden():
    assert is_forbidden("textual") and is_forbidden("textual.app")
    assert not is_forbidden("textual_extras") and not is_forbidden("rased_tui.textual_like")


def test_detects_every_kind_of_import():
    source = ("import textual\nimport os, textual.widgets as w\nfrom textual.app import App\n"
              "def f():\n    from textual import on\n    importlib.import_module('textual.screen')\n")
    modules = [module for _, module in imported_modules(ast.parse(source))]
    assert [m for m in modules if is_forbidden(m)] == [
        "textual", "textual.widgets", "textual.app", "textual", "textual.screen"]


@pytest.mark.parametrize("layer", HEADLESS)
def test_no_textual_import_in_the_source(layer):
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files, f"{layer}/ has no module"
    offenders = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders += [f"{path.relative_to(PACKAGE)}:{line} imports {module}"
                      for line, module in imported_modules(tree) if is_forbidden(module)]
    assert not offenders, "\n".join(offenders)


IMPORT_EVERYTHING = """
import importlib, pkgutil, sys
names = []
for layer in {layers!r}:
    package = importlib.import_module("rased_tui." + layer)
    names.append(package.__name__)
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
loaded = sorted(name for name in sys.modules if name == "textual" or name.startswith("textual."))
print(len(names))
print(" ".join(names))
print(" ".join(loaded))
"""


def test_no_textual_loaded_at_run_time():
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING.format(layers=HEADLESS)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    count, names, loaded = (result.stdout.splitlines() + ["", "", ""])[:3]
    # Every module of the three layers was imported (the store's too: the check is not empty).
    assert int(count) >= 10 and "rased_tui.store.store" in names.split() and "rased_tui.domain.models" in names.split()
    assert loaded == "", f"textual imported by importing {names}: {loaded}"
