"""The design card's layout and the rule that nothing in hedge/ imports tests or scripts."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_top_level_layout() -> None:
    for p in ("hedge", "hedge/feeds", "hedge/risk", "hedge/router", "hedge/state", "configs", "tests",
              "scripts", "pyproject.toml", "README.md"):
        assert (ROOT / p).exists(), p


def test_engine_never_imports_tests_or_scripts() -> None:
    bad = []
    for path in (ROOT / "hedge").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad += [f"{path}: {n}" for n in names if n.split(".")[0] in ("tests", "scripts")]
    assert bad == []


def test_every_module_has_a_docstring() -> None:
    missing = [str(p) for p in (ROOT / "hedge").rglob("*.py")
               if ast.get_docstring(ast.parse(p.read_text())) is None]
    assert missing == []
