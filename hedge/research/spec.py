"""A sweep's spec (YAML): the configuration keys to vary, the recordings, the walk-forward, the report.

Owns: ``SweepSpec`` (read from a YAML mapping), expanding each key's values (a list, or a range
``{from, to, step}`` with its end included), the points in a fixed order (the cartesian product
in the spec's key order, then each recording window), and the environment a point's configuration
is loaded with: a dotted key ``strategy.exits.profile`` is the variable ``HEDGE_strategy__exits__profile``
(what ``HEDGE_STRATEGY__EXITS__PROFILE`` sets for ``hedge replay``), so a point is exactly a plain
replay with those variables. ``check`` loads every point's configuration up front and names each
key that the schema refuses.

Spec keys::

    params:          # dotted configuration key -> [values] or {from, to, step}
      strategy.exits.profile: [classic, calibrated]
      strategy.exits.horizon_s: {from: 30, to: 90, step: 30}
    recordings: [a.gz, [b1.gz, b2.gz]]  # a list: one recording in several files (read as one stream);
                               # FILES on the command line win (a.gz+b.gz joins); default: the bundled pair
    runs: each                 # each: one replay per recording (default); together: one over all
    config: configs            # the base configuration directory (default ./configs)
    walk_forward: {train: 1, test: 1}   # calibrate on `train` recordings, replay the next `test`
    report: {heatmap: [KEY_X, KEY_Y], metric: pnl, best: 5}

Must never: run anything, or read the process environment itself (the caller passes it).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path

import msgspec
import yaml

from hedge.config import ConfigErrors, load_config
from hedge.config.model import CONFIG_FILES

Value = str | int | float | bool
METRICS = ("pnl", "max_drawdown", "fills", "maker_share", "shortfall_bps", "orders")
MAX_POINTS = 100_000  # a spec that expands beyond this is a mistake, not a sweep
ENV_KEYS = ("DRY_RUN", "BINANCE_TESTNET", "EXECUTOR_ONCE")  # the non-HEDGE_ variables load_config reads


class SpecError(ValueError):
    """A spec that cannot run: the message names the key and what is expected."""


class WalkForward(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    train: int = 1  # recordings each calibration window holds
    test: int = 1  # recordings replayed after it (the windows move on by this many)


class ReportSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    heatmap: list[str] = []  # two keys of params (default: the first two with several values)
    metric: str = "pnl"
    best: int = 5  # equity curves of the best N rows


class SweepSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    params: dict[str, list[Value] | dict[str, float]] = {}
    recordings: list[str | list[str]] = []
    runs: str = "each"
    config: str | None = None
    walk_forward: WalkForward | None = None
    report: ReportSpec = ReportSpec()


class Window(msgspec.Struct, frozen=True):
    """The files one replay runs over, and (walk-forward) the ones its calibrator is fitted on; the
    labels name them in the table (``+`` joins the files of one recording, ``,`` recordings)."""

    test: list[str]
    train: list[str] = []
    test_label: str = ""
    train_label: str = ""


Recording = list[str]  # one recording: its files in order, read as one stream


def recordings(spec: SweepSpec, files: Sequence[str], default: Sequence[str]) -> list[Recording]:
    """The recordings: ``files`` (``a+b`` joins files into one), else the spec's, else ``default`` as one."""
    if files:
        return [f.split("+") for f in files]
    if spec.recordings:
        return [[r] if isinstance(r, str) else list(r) for r in spec.recordings]
    return [list(default)]


def _window(test: Sequence[Recording], train: Sequence[Recording] = ()) -> Window:
    def label(recs: Sequence[Recording]) -> str:
        return ",".join("+".join(Path(f).name for f in r) for r in recs)

    return Window([f for r in test for f in r], [f for r in train for f in r], label(test), label(train))


class Point(msgspec.Struct, frozen=True):
    """One replay of a sweep: its place in the table, its settings and its recordings."""

    index: int
    params: dict[str, Value]
    window: Window


def load_spec(path: str | Path) -> SweepSpec:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"{path}: {exc}") from None
    try:
        spec = msgspec.convert(raw or {}, SweepSpec)
    except msgspec.ValidationError as exc:
        raise SpecError(f"{path}: {exc}") from None
    if spec.runs not in ("each", "together"):
        raise SpecError(f"{path}: runs: expected each or together, got {spec.runs!r}")
    if spec.report.metric not in METRICS:
        raise SpecError(f"{path}: report.metric: expected one of {', '.join(METRICS)}, got {spec.report.metric!r}")
    for key in spec.report.heatmap:
        if key not in spec.params:
            raise SpecError(f"{path}: report.heatmap: {key!r} is not one of params")
    return spec


def _decimal(x: float) -> float | int:
    """A range value without float noise (0.1 * 3 -> 0.3); whole numbers of int ranges stay ints."""
    return round(x, 12) + 0.0 if not float(x).is_integer() else x


def expand(key: str, values: list[Value] | dict[str, float]) -> list[Value]:
    """A key's values in order: a list as given, a range ``{from, to, step}`` with ``to`` included."""
    if isinstance(values, list):
        if not values:
            raise SpecError(f"params.{key}: an empty list of values")
        return values
    if set(values) != {"from", "to", "step"}:
        raise SpecError(f"params.{key}: a range is {{from, to, step}}, got {sorted(values)}")
    lo, hi, step = values["from"], values["to"], values["step"]
    if step <= 0 or hi < lo:
        raise SpecError(f"params.{key}: a range needs step > 0 and to >= from")
    n = int((hi - lo) / step + 1e-9) + 1
    whole = all(float(v).is_integer() for v in (lo, hi, step))
    return [int(lo + i * step) if whole else _decimal(lo + i * step) for i in range(n)]


def windows(spec: SweepSpec, recs: Sequence[Recording]) -> list[Window]:
    """The recording windows in time order (the recordings as given)."""
    wf = spec.walk_forward
    if wf is None:
        return [_window([r]) for r in recs] if spec.runs == "each" else [_window(recs)]
    if wf.train < 1 or wf.test < 1:
        raise SpecError("walk_forward: train and test must be >= 1")
    out = [_window(recs[i + wf.train:i + wf.train + wf.test], recs[i:i + wf.train])
           for i in range(0, len(recs) - wf.train - wf.test + 1, wf.test)]
    if not out:
        raise SpecError(f"walk_forward: {len(recs)} recording(s) hold no window of train {wf.train} + test {wf.test}")
    return out


def points(spec: SweepSpec, recs: Sequence[Recording]) -> list[Point]:
    """Every point in the table's order: the product of the values (spec order), then the windows."""
    keys = list(spec.params)
    grids = [expand(k, spec.params[k]) for k in keys]
    wins = windows(spec, recs)
    total = len(wins)
    for g in grids:
        total *= len(g)
    if total > MAX_POINTS:
        raise SpecError(f"the spec expands to {total:,} replays (at most {MAX_POINTS:,})")
    combos = itertools.product(*grids)
    return [Point(i, dict(zip(keys, combo, strict=True)), w)
            for i, (combo, w) in enumerate(itertools.product(combos, wins))]


def env_name(key: str) -> str:
    """The environment variable that sets dotted ``key`` (segments kept as written: dict keys are verbatim)."""
    return "HEDGE_" + "__".join(key.split("."))


def env_value(value: Value) -> str:
    return yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()


def point_env(base: Mapping[str, str], params: Mapping[str, Value]) -> dict[str, str]:
    """The configuration variables of ``base`` (the process environment) with the point's keys set."""
    env = {k: v for k, v in base.items() if k.startswith("HEDGE_") or k in ENV_KEYS}
    for key, value in params.items():
        for name in [n for n in env if n.upper() == env_name(key).upper()]:
            del env[name]  # the point's value wins over the same variable spelt another way
        env[env_name(key)] = env_value(value)
    return env


def check(spec: SweepSpec, config_dir: str | None, base_env: Mapping[str, str]) -> list[str]:
    """Every problem of the spec's keys and values against the configuration schema (empty: all load)."""
    problems: list[str] = []
    for key in spec.params:
        section = key.split(".", 1)[0]
        if section not in CONFIG_FILES or "." not in key:
            problems.append(f"params.{key}: expected <{'|'.join(CONFIG_FILES)}>.<key>[.<subkey>...]")
    if problems:
        return problems
    seen: set[str] = set()
    for key in spec.params:
        for value in expand(key, spec.params[key]):
            try:
                load_config(config_dir, env=point_env(base_env, {key: value}))
            except ConfigErrors as exc:
                for err in exc.errors:
                    msg = f"params.{key} = {value!r}: {err}"
                    if msg not in seen:
                        seen.add(msg)
                        problems.append(msg)
    return problems
