"""State-file schemas only ever grow: an older file reads with a newer schema (and vice versa),
and every field each surface had in schema_baseline.json is still there with the same type.

After an intentional, additive change (new field with a default, SCHEMA_VERSION + 1), refresh
the baseline with:  .venv/bin/python tests/unit/state/test_schema_evolution.py --write
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest

from hedge.state import schemas as s
from hedge.state.manifest import SURFACES
from hedge.state.publisher import encode_state

BASELINE = Path(__file__).with_name("schema_baseline.json")


def _strip(node: Any) -> Any:
    """A JSON Schema without defaults, titles and descriptions: what a field's *type* is."""
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in ("default", "title", "description")}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def signature() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for x in SURFACES:
        js = msgspec.json.schema(x.schema)
        defs = {name: {"properties": _strip(d.get("properties", {})), "required": sorted(d.get("required", []))}
                for name, d in js["$defs"].items()}
        out[x.name] = {"schema": x.schema.__name__, "version": x.schema.SCHEMA_VERSION, "defs": defs}
    return out


def test_schemas_only_grow_against_the_baseline() -> None:
    base = json.loads(BASELINE.read_text())
    now = signature()
    assert set(base) <= set(now), f"surfaces removed: {set(base) - set(now)}"
    for name, old in base.items():
        new = now[name]
        assert new["version"] >= old["version"], f"{name}: schema version went down"
        for def_name, old_def in old["defs"].items():
            assert def_name in new["defs"], f"{name}: type {def_name} removed"
            new_def = new["defs"][def_name]
            for field, old_type in old_def["properties"].items():
                assert field in new_def["properties"], f"{name}: {def_name}.{field} removed or renamed"
                assert new_def["properties"][field] == old_type, f"{name}: {def_name}.{field} changed type"
            added = set(new_def["properties"]) - set(old_def["properties"])
            assert not (added & set(new_def["required"])), f"{name}: new fields need defaults: {added}"
            if added and def_name == old["schema"]:
                assert new["version"] > old["version"], f"{name}: fields {added} added without a version bump"


class NavStateV2(s.NavState, kw_only=True):
    """What a future, additive NavState would look like."""

    SCHEMA_VERSION: ClassVar[int] = 2
    margin_ratio: float = 0.0
    venue: str = "unknown"


def test_newer_schema_reads_an_older_file_and_older_reads_newer() -> None:
    old = s.NavState(nav=1234.5, wallet_balance=1200.0, unrealized_pnl=34.5, source="sim", peak_nav=1300.0)
    old_bytes = encode_state(old)
    upgraded = msgspec.json.decode(old_bytes, type=NavStateV2)
    assert (upgraded.nav, upgraded.peak_nav, upgraded.margin_ratio, upgraded.venue) == (1234.5, 1300.0, 0.0, "unknown")
    new_bytes = encode_state(NavStateV2(nav=99.0, schema_version=2, margin_ratio=0.3, venue="local"))
    downgraded = msgspec.json.decode(new_bytes, type=s.NavState)  # readers ignore fields they do not know
    assert downgraded.nav == 99.0 and downgraded.schema_version == 2


def test_the_baseline_check_catches_a_removed_or_retyped_field(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    base = json.loads(BASELINE.read_text())
    tampered = json.loads(json.dumps(base))
    tampered["nav_state"]["defs"]["NavState"]["properties"]["gone_field"] = {"type": "number"}
    monkeypatch.setattr(sys.modules[__name__], "BASELINE", _write_tmp(tmp_path / "a.json", tampered))
    with pytest.raises(AssertionError, match="gone_field removed"):
        test_schemas_only_grow_against_the_baseline()
    tampered = json.loads(json.dumps(base))
    tampered["kpis"]["defs"]["KpisState"]["properties"]["fills"] = {"type": "string"}
    monkeypatch.setattr(sys.modules[__name__], "BASELINE", _write_tmp(tmp_path / "b.json", tampered))
    with pytest.raises(AssertionError, match="fills changed type"):
        test_schemas_only_grow_against_the_baseline()


def _write_tmp(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_every_surface_field_has_a_default() -> None:
    # A file written before any event (or by an older version) must still decode.
    for x in SURFACES:
        assert msgspec.json.decode(b"{}", type=x.schema).schema_version == 1


if __name__ == "__main__" and "--write" in sys.argv:
    BASELINE.write_text(json.dumps(signature(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {BASELINE}")
