"""Build: compile the per-message hot path with Cython 3 (pure-Python mode), optional; pyproject.toml has the rest.

``pip install .`` / ``pip install -e .`` (Cython is a build requirement in pyproject's ``[build-system]``)
compiles each ``.py`` of ``HOT_MODULES`` unchanged into an extension under ``hedge/_native/`` (never
beside its ``.py``: ``hedge.native`` loads it, and ``HEDGE_PURE=1`` keeps the ``.py``) and writes
``hedge/_native/manifest.json``: module -> extension file and the SHA-256 of the source compiled (the
``.py``, its ``.pxd`` and ``.pyx`` if any, and the files of the hedge modules its ``.pxd``/``.pyx`` cimport).
A module with a ``.pyx`` beside its ``.py`` (``feeds/levels``, ``feeds/book``: C data, which the
pure-Python mode cannot express) is compiled from the ``.pyx``; its ``.py`` stays the reference.
A module that fails to compile (no C compiler, a Cython error) is left out with a warning and the
install still succeeds: that module runs as pure Python. docs/replay.md, "The compiled build (Cython) and pure mode".
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
# what compiles and measurably helps (or does not hurt): scripts/bench_pipeline.py, compiled vs HEDGE_PURE=1
HOT_MODULES = [
    "hedge.feeds.codec",
    "hedge.feeds.levels",
    "hedge.feeds.taperows",
    "hedge.feeds.book",
    "hedge.feeds.sync",
    "hedge.feeds.dispatch",
    "hedge.feeds.linescan",
    "hedge.feeds.seen",
    "hedge.feeds.framescan",
    "hedge.feeds.recording",
    "hedge.bus",
    "hedge.model.clock",
    "hedge.state.telemetry",
    "hedge.signals.features",
    "hedge.signals.flow",
    "hedge.signals.volatility",
    "hedge.signals.factor_stats",
    "hedge.signals.strategies.micro_scalper",
    "hedge.signals.stage",
    "hedge.venue.sim",
    "hedge.exchange.matching",
    "hedge.risk.check",
]
# Annotations are not C types here (annotation_typing off): a `float` parameter stays a Python float
# (a C double would turn ints and numpy scalars into floats, and None into a TypeError), so the
# compiled module behaves exactly as its .py does; the gain is the interpreter's dispatch, not typing.
DIRECTIVES = {"language_level": 3, "annotation_typing": False, "binding": True, "embedsignature": False}


def _source(module: str) -> Path:
    return ROOT.joinpath(*module.split(".")).with_suffix(".py")


def _compiled_from(module: str) -> Path:
    """The ``.pyx`` beside the module's ``.py`` when there is one, else the ``.py``."""
    pyx = _source(module).with_suffix(".pyx")
    return pyx if pyx.exists() else _source(module)


def _cimported(module: str) -> list[str]:
    """The hedge modules its .pxd/.pyx cimport, and theirs, depth first, each once (as hedge.native.cimported)."""
    out: list[str] = []
    todo, seen = [module], {module}
    while todo:
        path = _source(todo.pop())
        for ext in (".pxd", ".pyx"):
            f = path.with_suffix(ext)
            for dep in re.findall(r"^from (hedge(?:\.\w+)+) cimport", f.read_text(), re.M) if f.exists() else ():
                if dep not in seen:
                    seen.add(dep)
                    out.append(dep)
                    todo.append(dep)
    return out


def _digest(path: Path, module: str) -> str:
    """The ``.py``, its ``.pxd``/``.pyx`` if any, then the files of every hedge module it cimports,
    directly or through another, in that order: as hedge.native.digest (a change in any of them makes
    it stale too).

    Written again here, not imported: importing hedge at build time needs its dependencies, which an
    isolated build does not have. A mismatch would show every module stale (``hedge version``;
    CI's ``HEDGE_EXPECT_COMPILED`` test fails then)."""
    h = hashlib.sha256(path.read_bytes())
    for ext in (".pxd", ".pyx"):
        if path.with_suffix(ext).exists():
            h.update(path.with_suffix(ext).read_bytes())
    for dep in _cimported(module):
        base = _source(dep)
        for ext in (".py", ".pxd", ".pyx"):
            if base.with_suffix(ext).exists():
                h.update(base.with_suffix(ext).read_bytes())
    return h.hexdigest()


class OptionalCythonBuild(build_ext):
    """Cythonizes at build time, puts extensions under hedge/_native/, never fails the install."""

    def finalize_options(self) -> None:
        dist = self.distribution
        if dist.ext_modules and not getattr(dist, "hedge_cythonized", False):
            dist.hedge_cythonized = True  # type: ignore[attr-defined]
            try:
                from Cython.Build import cythonize

                wanted = {ext.name for ext in dist.ext_modules}
                # exclude_failures: a module Cython cannot compile is left out (pure), not the whole build
                dist.ext_modules = cythonize(dist.ext_modules, compiler_directives=DIRECTIVES, quiet=True,
                                             nthreads=os.cpu_count() or 1, exclude_failures=True,
                                             build_dir=str(ROOT / "build" / "cython"))
                for name in sorted(wanted - {ext.name for ext in dist.ext_modules}):
                    self.warn(f"hedge: Cython cannot compile {name}; it runs as pure Python")
            except Exception as e:  # no Cython: the install goes on pure
                self.warn(f"hedge: the hot path is not compiled ({e}); every module runs as pure Python")
                dist.ext_modules = []
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def run(self) -> None:
        self.built: list[str] = []
        try:
            super().run()
        except Exception as e:  # no compiler at all
            self.warn(f"hedge: the hot path is not compiled ({e}); every module runs as pure Python")
        self._write_manifest()

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as e:  # that module stays pure
            self.warn(f"hedge: {ext.name} is not compiled ({e}); it runs as pure Python")
            return
        self.built.append(ext.name)

    def _native(self, base: Path, ext_name: str) -> Path:
        """``hedge.feeds.book`` -> ``<base>/hedge/_native/feeds/book.<abi>.so`` (never beside the .py)."""
        parts = ext_name.split(".")
        return base / "hedge" / "_native" / Path(*parts[1:-1]) / self.get_ext_filename(parts[-1])

    def get_ext_fullpath(self, ext_name: str) -> str:
        return str(self._native(ROOT if self.inplace else Path(self.build_lib), ext_name))

    def copy_extensions_to_source(self) -> None:
        """(editable installs: built in build_lib, then copied) into the source tree's hedge/_native/."""
        for name in self.built:
            dst = self._native(ROOT, name)
            self.mkpath(str(dst.parent))
            self.copy_file(str(self._native(Path(self.build_lib), name)), str(dst))

    def _write_manifest(self) -> None:
        base = ROOT if self.inplace else Path(self.build_lib)
        native = base / "hedge" / "_native"
        manifest = {name: {"file": str(self._native(base, name).relative_to(native)),
                           "sha256": _digest(_source(name), name)}
                    for name in sorted(self.built)}
        native.mkdir(parents=True, exist_ok=True)
        (native / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        self.announce(f"hedge: compiled {len(manifest)} of {len(HOT_MODULES)} hot modules", level=3)

setup(
    # -ffp-contract=off: no fused multiply-add, so C arithmetic rounds as Python's floats do (book.pyx)
    ext_modules=[Extension(m, [str(_compiled_from(m).relative_to(ROOT))],
                           extra_compile_args=[] if os.name == "nt" else ["-ffp-contract=off"])
                 for m in HOT_MODULES],
    cmdclass={"build_ext": OptionalCythonBuild},
)
