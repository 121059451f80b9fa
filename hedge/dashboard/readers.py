"""Read one log dir's state files and small JSON files for the dashboard, never failing.

Owns: ``FileRead`` (a file's value, or why there is none: missing, partial or corrupt, not
matching its schema, written by a newer schema), reading a state surface through its schema
(``hedge.state.schemas``) with the raw JSON kept for fields newer than the schema, reading any
other small JSON file (daemon.json, the kill flag, optional files such as factor_diagnostics.json)
and the run's kind (a replay or a daemon).

Must never: write, create or lock a file, raise on a bad file (a problem is a value), or import
Streamlit or any engine stage.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Generic, TypeVar

import msgspec

from hedge.state import schemas as s
from hedge.state.manifest import MANIFEST_FILE, SURFACES, state_dir

T = TypeVar("T")
F = TypeVar("F", bound=s.StateFile)

MAX_FILE_BYTES = 16 * 1024 * 1024  # a state or JSON file larger than this is not one the engine wrote


@dataclasses.dataclass(frozen=True)
class FileRead(Generic[T]):
    """What reading one file gave: ``value`` (None when unusable) and ``problem`` (why, or a warning)."""

    path: Path
    value: T | None
    problem: str = ""
    written_ns: int = 0  # the file's own stamp (``updated_ns``), else its mtime
    raw: Any = None  # the JSON as decoded, before the schema (fields this dashboard does not know)

    @property
    def ok(self) -> bool:
        return self.value is not None

    @property
    def name(self) -> str:
        return self.path.name

    def extra(self, key: str, default: Any = None) -> Any:
        """A top-level field of the raw JSON (present only in newer files)."""
        return self.raw.get(key, default) if isinstance(self.raw, dict) else default


def _mtime_ns(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def read_json(path: Path) -> FileRead[Any]:
    """Any small JSON file, decoded to plain values."""
    try:
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            return FileRead(path, None, f"too large ({size:,} bytes): not a file the engine writes")
        data = path.read_bytes()
    except FileNotFoundError:
        return FileRead(path, None, "missing (not written yet, or not this kind of log dir)")
    except OSError as exc:
        return FileRead(path, None, f"unreadable ({exc.strerror or exc})")
    if not data.strip():
        return FileRead(path, None, "empty (partial write?)", _mtime_ns(path))
    try:
        raw = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        return FileRead(path, None, f"corrupt or partial JSON ({exc})", _mtime_ns(path))
    return FileRead(path, raw, "", _mtime_ns(path), raw)


def read_state(log_dir: Path, schema: type[F]) -> FileRead[F]:
    """The state file of ``schema`` under ``<log_dir>/state``, decoded; a newer schema still decodes
    (changes are additive) with a warning naming both versions."""
    surface = next(x for x in SURFACES if x.schema is schema)
    got = read_json(state_dir(log_dir) / surface.file)
    if got.value is None:
        return FileRead(got.path, None, got.problem, got.written_ns)
    if not isinstance(got.raw, dict):
        return FileRead(got.path, None, f"not a JSON object (a {type(got.raw).__name__})", got.written_ns)
    try:
        value = msgspec.convert(got.raw, type=schema)
    except msgspec.ValidationError as exc:
        return FileRead(got.path, None, f"does not match {schema.__name__} v{schema.SCHEMA_VERSION}: {exc}",
                        got.written_ns, got.raw)
    problem = ""
    if value.schema_version > schema.SCHEMA_VERSION:
        problem = (f"written by a newer schema (v{value.schema_version}; this dashboard reads "
                   f"v{schema.SCHEMA_VERSION}): fields added since are not shown")
    return FileRead(got.path, value, problem, value.updated_ns or got.written_ns, got.raw)


def min_interval_s(log_dir: Path) -> float:
    """The state publisher's interval from manifest.json (1 s when it cannot be read)."""
    got = read_json(state_dir(log_dir) / MANIFEST_FILE)
    try:
        value = float(got.raw["min_interval_s"]) if isinstance(got.raw, dict) else 1.0
    except (KeyError, TypeError, ValueError):
        value = 1.0
    return value if value > 0 else 1.0


def is_replay(log_dir: Path) -> bool:
    """A replay's log dir: events.jsonl opens with ``replay_started`` and no daemon.json is there."""
    if (log_dir / "daemon.json").exists():
        return False
    try:
        with open(log_dir / "events.jsonl", "rb") as f:
            head = f.read(256)
    except OSError:
        return False
    return b'"kind":"replay_started"' in head.split(b"\n", 1)[0]


def kill_flag(log_dir: Path, daemon: FileRead[Any]) -> FileRead[Any]:
    """The kill flag of the log dir's daemon (daemon.json names it; else ``<log_dir>/KILL``).
    ``value`` None with problem "missing" = no flag; a flag that does not parse still halts."""
    named = daemon.extra("kill_flag") if daemon.ok else None
    path = Path(named) if isinstance(named, str) and named else log_dir / "KILL"
    got = read_json(path)
    if got.value is None and path.exists():
        return FileRead(path, {"reason": f"flag file present ({got.problem})"}, "", got.written_ns)
    return got
