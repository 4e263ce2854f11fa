"""Rules of the test suite itself: shared helpers live in tests/helpers.py, so that a test module
runs (and is read) on its own and moving one test module never breaks another."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(tree: ast.AST) -> set[str]:
    """Every module an `import` or `from ... import` names, at any depth (in functions too),
    with `from tests import test_x` counted as tests.test_x."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level:  # from . import test_x
            found.update(f"tests.{alias.name}" for alias in node.names)
            if node.module:
                found.add(f"tests.{node.module}")
    return found


def named_test_modules(names: set[str], but: str = "") -> set[str]:
    """The tests.test_* modules among `names` (a name in one: tests.test_x.helper), but `but`."""
    found = set()
    for name in names:
        parts = name.split(".")
        if len(parts) >= 2 and parts[0] == "tests" and parts[1].startswith("test_"):
            found.add(".".join(parts[:2]))
    return found - {but}


def test_no_test_module_imports_another():
    offenders = {}
    for path in sorted(TESTS.glob("*.py")):
        names = imported_modules(ast.parse(path.read_text(), filename=str(path)))
        imported = named_test_modules(names, but=f"tests.{path.stem}")
        if imported:
            offenders[path.name] = sorted(imported)
    assert offenders == {}, "move what they share to tests/helpers.py"


def test_the_rule_sees_every_way_of_importing_a_test_module():
    tree = ast.parse(
        "import tests.test_a\n"
        "from tests.test_b import helper\n"
        "from tests import test_c\n"
        "def f():\n    from .test_d import helper\n"
    )
    assert named_test_modules(imported_modules(tree)) == {
        "tests.test_a",
        "tests.test_b",
        "tests.test_c",
        "tests.test_d",
    }
    allowed = ast.parse("from tests.helpers import shoot\nfrom tests import factories\n")
    assert named_test_modules(imported_modules(allowed)) == set()
