"""Carrying a sweep's inputs to Ray workers that may not share the driver's file system.

A cluster's workers may run on other machines, where the recordings and the configuration
directory do not exist (or exist with other contents). ``ship`` (on the driver) reads every
recording file the points name once and puts its bytes into Ray's object store (one object per
file: a worker's node fetches it once, and only for the points it runs), and reads the
configuration directory's YAML files as text. ``run_shipped`` (the task, on a worker) writes the
files its point needs into a temporary directory under their own names, runs the point on those
copies (``hedge.research.points.run_point``, unchanged) and removes the directory. The replay reads
the same bytes under the same file names, so the row (fingerprint included) is the one a replay
of the driver's files gives.

Owns: ``Cargo`` (file -> object reference, configuration texts), ``ship``, ``run_shipped``.

Must never: change a file's bytes or name on the way, read a file more than once per sweep on the
driver, or leave a copy behind on a worker.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from hedge.config import DEFAULT_CONFIG_DIR
from hedge.research.points import PointResult, run_point
from hedge.research.spec import Point

CONFIG_GLOB = "*.yaml"


class Cargo(msgspec.Struct, frozen=True):
    files: dict[str, Any]  # recording path on the driver -> ray.ObjectRef of its bytes
    config: dict[str, str]  # the configuration directory: file name -> text


def ship(points: Sequence[Point], config_dir: str | None) -> Cargo:
    """Every file the points name into the object store, once; a file that cannot be read is left out
    (its point fails on the worker, naming it, as it would locally)."""
    import ray

    refs: dict[str, Any] = {}
    for p in points:
        for f in [*p.window.train, *p.window.test]:
            if f not in refs and Path(f).is_file():
                refs[f] = ray.put(Path(f).read_bytes())
    src = Path(config_dir) if config_dir is not None else DEFAULT_CONFIG_DIR
    config = {f.name: f.read_text() for f in sorted(src.glob(CONFIG_GLOB))} if src.is_dir() else {}
    return Cargo(files=refs, config=config)


def for_point(cargo: Cargo, point: Point) -> Cargo:
    """The part of ``cargo`` one point needs (a task fetches only its own files)."""
    names = {*point.window.train, *point.window.test}
    return Cargo(files={f: r for f, r in cargo.files.items() if f in names}, config=cargo.config)


def _land(cargo: Cargo, into: Path) -> tuple[dict[str, str], Path]:
    import ray

    local: dict[str, str] = {}
    for i, (path, ref) in enumerate(sorted(cargo.files.items())):
        dest = into / str(i) / Path(path).name  # one directory per file: two files may share a name
        dest.parent.mkdir(parents=True)
        dest.write_bytes(ray.get(ref))
        local[path] = str(dest)
    config = into / "config"
    config.mkdir()
    for name, text in cargo.config.items():
        (config / name).write_text(text)
    return local, config


def run_shipped(point: Point, env: Mapping[str, str], cargo: Cargo) -> PointResult:
    """``run_point`` on copies of the point's inputs written on this worker (the Ray task)."""
    work = Path(tempfile.mkdtemp(prefix=f"hedge-sweep-in-{point.index}-"))
    try:
        local, config = _land(cargo, work)
        w = point.window
        window = msgspec.structs.replace(w, test=[local.get(f, f) for f in w.test],
                                         train=[local.get(f, f) for f in w.train])
        return run_point(msgspec.structs.replace(point, window=window), str(config), env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
