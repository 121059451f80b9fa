"""``hedge calibrate [FILE...]``: fit the TP-before-SL calibrator from recordings; write configs/calibrator.yaml.

Replays the recordings (default: the bundled BTCUSDT recording) through the feeds' ReplaySource
onto a bus, collects strategy samples with the live feature engine and strategies, labels them
with the exit rules' geometry, fits on the earlier ``calibrator.fit_fraction`` of them and
validates on the later rest (``hedge.signals.calibration``), prints the fit, the Brier score,
log-loss, ECE and reliability tables (in sample and held out), and writes the ``calibrator`` keys
with their provenance (recordings, dates, samples, geometry, held-out fit quality) to
``<config dir>/calibrator.yaml`` (atomically, the tables as comments), which ``load_config``
overlays on strategy.yaml. strategy.yaml itself is never rewritten. A degenerate fit (every
label the same) is not written unless ``--force``: it would say "never trade" (or "always") from
too little evidence. ``--check`` writes nothing: it scores the configured calibrator on the
samples of the recordings strictly later than its ``data_to`` (out of sample).

A file without market data (empty, CSV, random bytes) is refused (exit code 2), as ``hedge
replay`` does; a truncated gzip is read up to the damage and named in the report.

Owns: the command's options and checks (positive TP/SL/horizon, recordings that exist and hold
market data), the printed report of the fit, the degenerate-fit refusal and the atomic write of
calibrator.yaml.

Must never: rewrite strategy.yaml or any other config file, or fit anything itself (sampling,
labelling and the fit are ``hedge.signals.calibration``'s).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hedge.commands.common import add_config_arg, check_recordings, load_config_or_report, report_read
from hedge.config.geometry import signature

if TYPE_CHECKING:
    from hedge.config import CalibratorParams, StrategyConfig
    from hedge.signals.calibration import CalibrationResult, SampleCollector


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", metavar="FILE", help="recordings (default: the bundled BTCUSDT recording)")
    add_config_arg(p)
    p.add_argument("--tp-bps", type=float, default=None, help="fixed take-profit in bps (default: the exit geometry)")
    p.add_argument("--sl-bps", type=float, default=None, help="fixed stop-loss in bps (default: the exit geometry)")
    p.add_argument("--horizon-s", type=float, default=None, help="labelling horizon (default: exits.horizon_s)")
    p.add_argument("--fit-fraction", type=float, default=None,
                   help="earliest share of the samples that fits (default: calibrator.fit_fraction)")
    p.add_argument("--out", default=None, help="output file (default: <config dir>/calibrator.yaml)")
    p.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    p.add_argument("--force", action="store_true", help="write even when every label is the same (a degenerate fit)")
    p.add_argument("--check", action="store_true",
                   help="score the configured calibrator on the samples later than its data_to; write nothing")
    p.add_argument("--eval-gap-ms", type=int, default=None,
                   help="--check: one scored sample per strategy and symbol per gap (default: calibrator.eval_gap_ms)")


def _options_ok(args: argparse.Namespace) -> bool:
    for value, name in ((args.tp_bps, "--tp-bps"), (args.sl_bps, "--sl-bps"), (args.horizon_s, "--horizon-s")):
        if value is not None and value <= 0.0:
            print(f"calibrate: {name} must be > 0", file=sys.stderr)
            return False
    if args.eval_gap_ms is not None and args.eval_gap_ms < 0:
        print("calibrate: --eval-gap-ms must be >= 0", file=sys.stderr)
        return False
    if args.fit_fraction is not None and not 0.0 < args.fit_fraction <= 1.0:
        print("calibrate: --fit-fraction must be in (0, 1]", file=sys.stderr)
        return False
    return True


def main(args: argparse.Namespace) -> int:
    import msgspec

    from hedge.config import CALIBRATOR_FILE, DEFAULT_CONFIG_DIR, ConfigErrors
    from hedge.feeds.recording import bundled_btcusdt
    from hedge.research.calibration import collect

    cfg = load_config_or_report(args.config)
    if cfg is None or not _options_ok(args):
        return 2
    paths = [Path(f) for f in args.files] if args.files else bundled_btcusdt()
    if not check_recordings("hedge calibrate", paths):
        return 2
    strategy = cfg.strategy
    if args.horizon_s is not None:
        strategy = msgspec.structs.replace(
            strategy, exits=msgspec.structs.replace(strategy.exits, horizon_s=args.horizon_s)
        )
    if args.fit_fraction is not None:
        strategy = msgspec.structs.replace(
            strategy, calibrator=msgspec.structs.replace(strategy.calibrator, fit_fraction=args.fit_fraction)
        )
    try:
        collector, stats, feed_stats = collect(cfg, strategy, paths)
    except ConfigErrors as exc:
        for err in exc.errors:
            print(f"config error: {err}", file=sys.stderr)
        return 2
    if not report_read("hedge calibrate", paths, stats, feed_stats):
        return 2
    fitted_on = ",".join(p.name for p in paths)
    damaged = f", damaged (read up to the damage): {', '.join(stats.damaged)}" if stats.damaged else ""
    print(f"recordings: {fitted_on} ({stats.lines} lines, {stats.bad_lines} bad{damaged})")
    if args.check:
        return _check(collector, cfg.strategy.calibrator, args.eval_gap_ms, int(strategy.exits.horizon_s * 1000))
    try:
        res = collector.fit(tp_bps=args.tp_bps, sl_bps=args.sl_bps, fitted_on=fitted_on)
    except ValueError as exc:
        print(f"calibrate: {exc}", file=sys.stderr)
        return 1
    _report(res, strategy)
    if args.dry_run:
        return 0
    p = res.params
    if p.positives in (0, p.samples) and not args.force:
        print(
            f"calibrate: all {p.samples} labels are {'wins' if p.positives else 'losses'}: the data cannot tell "
            "winners from losers at this TP/SL/horizon (a longer recording, or --tp-bps/--sl-bps/--horizon-s); "
            "nothing written (--force writes it anyway)",
            file=sys.stderr,
        )
        return 1
    return _write(res, Path(args.out) if args.out else Path(args.config or DEFAULT_CONFIG_DIR) / CALIBRATOR_FILE)


def _check(collector: SampleCollector, cal: CalibratorParams, gap_ms: int | None, horizon_ms: int) -> int:
    from hedge.config.calibration_check import epoch_ms
    from hedge.signals.calibration_stats import block_bootstrap, ece_equal_mass, noise_floor
    from hedge.signals.reliability import brier, ece, format_table, log_loss

    after = epoch_ms(cal.data_to) if cal.data_to else None
    if cal.samples == 0 or after is None:
        print("calibrate --check: the configured calibrator records no fit (data_to); nothing to score",
              file=sys.stderr)
        return 1
    f = collector.evaluate(cal, after, gap_ms)
    gap = cal.eval_gap_ms if gap_ms is None else gap_ms
    print(f"out of sample: samples after {cal.data_to} (the fit: {cal.fitted_on}, {cal.data_from} -> {cal.data_to}), "
          f"one per {gap} ms")
    for line in format_table(f.reliability):
        print(f"  {line}")
    if not f.reliability.n:
        return 1
    print(f"  95% intervals: block bootstrap, blocks of {horizon_ms} ms (the labelling horizon), 1000 draws")
    for name, stat in (("ece (10 equal-width)", ece), ("ece (10 equal-mass)", ece_equal_mass),
                       ("brier", brier), ("log_loss", log_loss)):
        ci = block_bootstrap(f.ts_ms, f.p, f.y, stat, block_ms=horizon_ms)
        floor = f"  (a calibrated forecaster's mean at this n: {noise_floor(f.p, stat):.4f})" if "ece" in name else ""
        print(f"  {name}: {ci.value:.4f} [{ci.lo:.4f}, {ci.hi:.4f}] over {ci.blocks} blocks{floor}")
    return 0


def _report(res: CalibrationResult, strategy: StrategyConfig) -> None:
    from hedge.signals.calibrator import Calibrator
    from hedge.signals.reliability import format_table

    p = res.params
    print(f"book updates: {res.book_updates}  signals: {res.signals}  censored: {res.censored}")
    print(f"geometry: {p.geometry} (mean TP {res.tp_bps:.2f} / SL {res.sl_bps:.2f} bps)")
    print(f"fit: {p.samples} samples {p.data_from} -> {p.data_to} (outcomes), positives {p.positives} "
          f"({p.positives / p.samples:.1%}); purged {res.purged}; held out {p.validation_samples}")
    print(f"fit: a={p.a:.6f} b={p.b:.6f} converged={res.fit.converged} iterations={res.fit.iterations} "
          f"log_likelihood={res.fit.log_likelihood:.3f}")
    calibrator = Calibrator(p)
    for s in (0.25, 0.5, 0.75, 1.0):
        prob = calibrator.predict_p(s)
        e_pi = calibrator.e_pi_bps(prob, p.slippage_bps, res.tp_bps, res.sl_bps)
        print(f"  |score|={s:.2f}: p={prob:.4f}  e_pi_bps={e_pi:+.2f} (at the mean TP/SL)")
    held = "held out (later)" if res.validation_kind == "later" else f"cross-validated ({p.cv_folds} blocked folds)"
    for title, table in (("in sample", res.in_sample), (held, res.validation)):
        print(f"{title}:" + ("" if table else " none"))
        for line in format_table(table) if table else []:
            print(f"  {line}")
    exits_geo = signature(strategy.exits)
    if p.geometry != exits_geo or res.tp_bps <= 0.0:
        print(f"warning: labelled {p.geometry}, the exit rules trade {exits_geo}", file=sys.stderr)


def _write(res: CalibrationResult, out: Path) -> int:
    from hedge.commands.common import write_config_file
    from hedge.research.calibration import calibrator_yaml

    return write_config_file("hedge calibrate", out, calibrator_yaml(res))
