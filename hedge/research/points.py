"""One sweep point run to its row: (walk-forward: fit the calibrator on the train window, then) one replay.

Owns: ``run_point`` — load the configuration with the point's environment, (walk-forward) fit
the calibrator on the train recordings as ``hedge calibrate`` does and write calibrator.yaml into a
copy of the configuration directory, replay the test recordings with a plain ``Replay`` into a
temporary log directory, and return the row (the summary's figures), the NAV curve (thinned) and
the worker's facts (pid, peak RSS). Any failure becomes the row's ``error``: a point never raises.
The one wall-clock reading is the row's ``wall_s`` (a duration, never part of the replay).

Must never: run a replay differently from ``hedge replay`` (the row's fingerprint must be the one a
plain ``hedge replay`` with the same variables and configuration gives), or keep state between points.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import tempfile
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from hedge.app import run_async
from hedge.config import CALIBRATOR_FILE, DEFAULT_CONFIG_DIR, Config, load_config
from hedge.feeds.input_report import no_snapshot
from hedge.replay.runner import Replay
from hedge.research.calibration import calibrator_yaml, collect
from hedge.research.spec import Point

MAX_CURVE_POINTS = 400  # NAV readings kept per row for the equity chart
METRIC_COLUMNS = ("pnl", "max_drawdown", "fills", "maker_share", "shortfall_bps", "orders", "events",
                  "fingerprint", "wall_s", "error", "warning")


class PointResult(msgspec.Struct, kw_only=True):
    row: dict[str, Any]  # the table's row (see ``hedge.research.table``)
    curve: list[tuple[int, float]] = []  # (event time ns, NAV), thinned
    calibrator: str = ""  # walk-forward: the calibrator.yaml text the replay ran with
    pid: int = 0
    rss_mb: float = 0.0  # the worker's peak resident memory so far


def _thin(navs: list[tuple[int, float]]) -> list[tuple[int, float]]:
    if len(navs) <= MAX_CURVE_POINTS:
        return navs
    step = len(navs) / MAX_CURVE_POINTS
    return [navs[min(len(navs) - 1, round((i + 1) * step) - 1)] for i in range(MAX_CURVE_POINTS)]


def _calibrated_dir(cfg: Config, config_dir: str | None, train: list[str], into: Path) -> tuple[Path, str]:
    """A copy of the configuration directory with calibrator.yaml fitted on ``train`` (as ``hedge calibrate``)."""
    src = Path(config_dir) if config_dir is not None else DEFAULT_CONFIG_DIR
    into.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.glob("*.yaml")) if src.is_dir() else []:
        if f.name != CALIBRATOR_FILE:
            shutil.copyfile(f, into / f.name)
    collector, _, _ = collect(cfg, cfg.strategy, train)
    res = collector.fit(fitted_on=",".join(Path(p).name for p in train))
    p = res.params
    if p.positives in (0, p.samples):
        raise ValueError(f"walk-forward: all {p.samples} labels of {', '.join(Path(t).name for t in train)} are "
                         f"{'wins' if p.positives else 'losses'}: a degenerate fit (hedge calibrate refuses it)")
    text = calibrator_yaml(res)
    (into / CALIBRATOR_FILE).write_text(text)
    return into, text


def _unsynced(run: Replay) -> str:
    """A universe symbol whose book never synced (depth diffs, no snapshot): the row traded nothing of it."""
    books = run.source.feed_stats().books
    bad = [s for s in run.cfg.strategy.universe if s in books and no_snapshot(books[s])]
    return (f"no snapshot for {', '.join(bad)}: its book never synced (a file that continues an earlier one? "
            "join them: a.gz+b.gz)") if bad else ""


def run_point(point: Point, config_dir: str | None, env: Mapping[str, str]) -> PointResult:
    """Run ``point`` (see the module docstring); ``env`` is the point's configuration environment.

    The engine's INFO lines are muted while it runs (a worker's log is not the user's terminal) and
    the level is given back after: a serial sweep runs points in the caller's own process."""
    hedge_log = logging.getLogger("hedge")
    level = hedge_log.level
    hedge_log.setLevel(logging.WARNING)
    try:
        return _run_point(point, config_dir, env)
    finally:
        hedge_log.setLevel(level)


def _run_point(point: Point, config_dir: str | None, env: Mapping[str, str]) -> PointResult:
    row: dict[str, Any] = {"point": point.index, "recordings": point.window.test_label,
                           "trained_on": point.window.train_label, **point.params}
    row.update(dict.fromkeys(METRIC_COLUMNS))
    row["error"] = row["warning"] = ""
    calibrator = ""
    curve: list[tuple[int, float]] = []
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=f"hedge-sweep-{point.index}-"))
    try:
        cfg = load_config(config_dir, env=env)
        if point.window.train:
            cal_dir, calibrator = _calibrated_dir(cfg, config_dir, point.window.train, work / "config")
            cfg = load_config(cal_dir, env=env)
        log_dir = work / "log"
        rt = cfg.runtime
        cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(rt, log_dir=str(log_dir)))
        run = Replay(cfg, point.window.test, log_dir=log_dir)
        s = run_async(run.run())
        shortfall = [b["all"].shortfall_bps for b in s.tca.values() if "all" in b]
        row.update(pnl=s.pnl, max_drawdown=s.max_drawdown, fills=s.fills, maker_share=s.maker_ratio,
                   shortfall_bps=shortfall[0] if len(shortfall) == 1 else None, orders=s.orders,
                   events=s.events, fingerprint=s.fingerprint)
        curve = _thin(run.perf.navs)
        row["warning"] = _unsynced(run)
    except Exception as exc:  # a failed point is a row with its error, never the end of the sweep
        row["error"] = f"{type(exc).__name__}: {exc}"
        logging.getLogger(__name__).debug("point %d failed:\n%s", point.index, traceback.format_exc())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    row["wall_s"] = round(time.perf_counter() - t0, 3)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return PointResult(row=row, curve=curve, calibrator=calibrator, pid=os.getpid(), rss_mb=round(rss_kb / 1024, 1))
