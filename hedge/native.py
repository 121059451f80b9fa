"""The compiled hot path: which engine modules run as Cython extensions, and the switch back to pure Python.

``pip install`` (setup.py) compiles the per-message modules listed in setup.py's ``HOT_MODULES`` with
Cython 3 in pure-Python mode (the ``.py`` files unchanged) and puts each extension *beside* the
package, under ``hedge/_native/`` (``hedge/_native/feeds/book.<abi>.so`` for ``hedge.feeds.book``),
with ``manifest.json`` (module -> extension file and the SHA-256 of the ``.py`` (and ``.pxd``) it was compiled from).
Nothing there shadows a ``.py``: a normal import always finds the pure module. ``install()`` (called
by ``hedge/__init__``) puts a finder first on ``sys.meta_path`` that answers for exactly the modules
in the manifest with their extension, unless:

- ``HEDGE_PURE=1`` is set (the one switch: it also picks the standard library's gzip, see
  ``hedge.feeds.recording``): no finder, every module pure;
- the ``.py`` no longer hashes to what was compiled (an editable install whose source changed since,
  or the source of a module it cimports, directly or through another): that module is pure
  (``stale`` in ``status()``) until the next ``pip install``;
- a module it cimports has no extension (its compile failed): pure too, since its C layout is missing;
- no extension was built (no C compiler, a failed build: setup.py builds them as optional): no
  manifest, no finder.

A compiled module has the same name, classes and behaviour as its ``.py`` (the replay fingerprints
are identical in both modes: tests/integration/replay/test_compiled_mode.py). ``status()`` is what
``hedge version`` and ``hedge doctor`` print.

Owns: the finder, the manifest's reading and ``status()``.

Must never: import a hedge module or any third-party package (it runs inside ``import hedge``), hash a
source before that module is imported, or load an extension whose source changed.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import re
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

PACKAGE_DIR = Path(__file__).resolve().parent
NATIVE_DIR = PACKAGE_DIR / "_native"
MANIFEST = NATIVE_DIR / "manifest.json"


def source_path(module: str) -> Path:
    """The ``.py`` of ``hedge.a.b`` (``hedge/a/b.py``)."""
    return PACKAGE_DIR.joinpath(*module.split(".")[1:]).with_suffix(".py")


_CIMPORT = re.compile(r"^from (hedge(?:\.\w+)+) cimport", re.M)


def cimported(module: str) -> list[str]:
    """The hedge modules ``module``'s ``.pxd``/``.pyx`` cimport, and theirs (depth first, each once):
    a compiled module is built against their C layout, so it is only as fresh as all of them."""
    out: list[str] = []
    todo, seen = [module], {module}
    while todo:
        path = source_path(todo.pop())
        for ext in (".pxd", ".pyx"):
            f = path.with_suffix(ext)
            for dep in _CIMPORT.findall(f.read_text()) if f.exists() else ():
                if dep not in seen:
                    seen.add(dep)
                    out.append(dep)
                    todo.append(dep)
    return out


def digest(path: Path, module: str) -> str:
    """SHA-256 of a module's source: its ``.py``, its ``.pxd`` and ``.pyx`` when there are (C types;
    a ``.pyx`` is what gets compiled then), then the files of every hedge module it cimports, directly
    or through another (``cimported``: features.pxd cimports flow, stage.pxd cimports features, so an
    edit of flow makes stage stale too); setup.py hashes the same way."""
    h = hashlib.sha256(path.read_bytes())
    for ext in (".pxd", ".pyx"):
        if path.with_suffix(ext).exists():
            h.update(path.with_suffix(ext).read_bytes())
    for dep in cimported(module):
        base = source_path(dep)
        for ext in (".py", ".pxd", ".pyx"):
            if base.with_suffix(ext).exists():
                h.update(base.with_suffix(ext).read_bytes())
    return h.hexdigest()


class _Finder(importlib.abc.MetaPathFinder):
    """Answers for the manifest's modules with their extension (when its source is unchanged)."""

    def __init__(self, entries: dict[str, dict[str, str]]) -> None:
        self.entries = entries

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        entry = self.entries.get(fullname)
        if entry is None:
            return None
        so = NATIVE_DIR / entry["file"]
        src = source_path(fullname)
        if not so.exists() or (src.exists() and digest(src, fullname) != entry["sha256"]):
            return None  # the path finder imports the .py
        if any(dep not in self.entries for dep in cimported(fullname)):
            return None  # a module it cimports was not built (a failed compile): its C layout is not there
        return importlib.util.spec_from_file_location(fullname, so)


def _manifest() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _finder() -> _Finder | None:
    return next((f for f in sys.meta_path if isinstance(f, _Finder)), None)


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once), unless ``HEDGE_PURE`` or nothing is compiled."""
    if os.environ.get("HEDGE_PURE") or _finder() is not None:
        return
    entries = _manifest()
    if entries:
        sys.meta_path.insert(0, _Finder(entries))


def status() -> str:
    """One line: ``compiled: N modules`` (how many the build has; ``, K loaded``, ``, S stale`` so far) or ``pure``."""
    f = _finder()
    if os.environ.get("HEDGE_PURE"):
        return "pure (HEDGE_PURE=1)"
    if f is None:
        return "pure (no compiled modules)"
    stale = sorted(m for m in f.entries
                   if source_path(m).exists() and digest(source_path(m), m) != f.entries[m]["sha256"])
    fresh = len(f.entries) - len(stale)
    if not fresh:
        return f"pure (all {len(stale)} compiled modules stale: reinstall)"
    text = f"compiled: {fresh} modules"
    if stale:
        text += f", {len(stale)} stale (pure: {', '.join(stale)}; reinstall to compile them)"
    return text


def compiled_modules() -> list[str]:
    """The modules of this process that run compiled (imported from their extension)."""
    return [name for name, mod in sys.modules.items()
            if name.startswith("hedge.") and isinstance(getattr(mod, "__loader__", None),
                                                         importlib.machinery.ExtensionFileLoader)]


def load_pure(module: str) -> ModuleType:
    """A fresh copy of ``module`` executed from its ``.py`` (plain Python, whatever the build), named
    ``<module>__pure`` and not put in ``sys.modules``: the reference a compiled module is tested and
    measured against in the same process (tests/unit/feeds/test_book.py, scripts/bench_book.py)."""
    spec = importlib.util.spec_from_file_location(module + "__pure", source_path(module))
    if spec is None or spec.loader is None:
        raise ImportError(f"no source for {module}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
