"""Every file a replay writes (journals, the trade list, the state files) is stamped in event time:
two replays of the same recording into the same log directory write them byte for byte the same."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.kit.config import make_config
from tests.kit.replay import classic_config, run_replay

# It trades (classic exits), with simulated latency (acks later in event time), auto routing and autotune
# proposing: every router journal and state surface has lines to write.
ROUTER = {"runtime__replay__latency_ms": 20.0, "runtime__router__mode": "auto",
          "runtime__features__router_autotune": True}
ROUTER_FILES = {"events.jsonl", "orders_sent.jsonl", "order_updates.jsonl", "fills.jsonl", "tca.jsonl", "trades.csv",
                "router_autotune.jsonl", "state/router_health.json", "state/router_autotune.json"}


# The shadow's cost is a measurement of the run (timers, not event time: hedge/state/schemas.py ShadowState).
MEASURED = {"state/shadow_state.json": ("cost_samples", "shadow_us_per_tick", "live_us_per_tick", "cost_share")}


def written(d: Path) -> dict[str, bytes]:
    out = {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}
    for name, fields in MEASURED.items():
        if name in out:
            data = json.loads(out[name])
            assert all(f in data for f in fields), sorted(data)
            out[name] = json.dumps({k: v for k, v in data.items() if k not in fields}).encode()
    return out


@pytest.mark.parametrize(("extra", "files"), [
    ({}, ROUTER_FILES),
    pytest.param({"runtime__features__shadow_pipeline": True}, ROUTER_FILES | {"shadow_decisions.jsonl"},
                 marks=pytest.mark.slow, id="shadow"),
])
def test_two_replays_write_the_same_bytes(tmp_path: Path, extra: dict[str, object], files: set[str]) -> None:
    cfg = make_config(base=classic_config(), **ROUTER, **extra)
    d = tmp_path / "logs"  # the same path both times: the trade list's path is in the summary line
    runs = []
    for i in range(2):
        s, _ = run_replay(d, cfg)
        assert s.orders > 0 and s.fills > 0
        runs.append(written(d))
        shutil.move(d, tmp_path / f"run{i}")
    first, second = runs
    assert files <= set(first), sorted(first)
    assert sorted(first) == sorted(second)
    differ = [name for name in first if first[name] != second[name]]
    assert differ == [], f"replay wrote different bytes (a wall-clock read?) in {differ}"
