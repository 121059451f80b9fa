"""The design card's layout and the rule that nothing in hedge/ imports tests or scripts."""

from __future__ import annotations

import ast
import re
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


def _paragraphs(doc: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", doc)]


def test_every_module_docstring_says_what_it_owns_and_must_never_do() -> None:
    """Each hedge module starts with a docstring holding an "Owns:" and a "Must never:" paragraph."""
    bad = []
    for p in sorted((ROOT / "hedge").rglob("*.py")):
        doc = ast.get_docstring(ast.parse(p.read_text()))
        if doc is None:
            bad.append(f"{p.relative_to(ROOT)}: no docstring")
            continue
        paras = _paragraphs(doc)
        bad += [f"{p.relative_to(ROOT)}: no {m!r} paragraph" for m in ("Owns:", "Must never:")
                if not any(x.startswith(m) and len(x) > len(m) + 3 for x in paras)]
    assert bad == []
