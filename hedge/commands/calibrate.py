"""``hedge calibrate [FILE...]``: fit the TP-before-SL calibrator from recordings; write configs/calibrator.yaml.

Replays the recordings (default: the bundled BTCUSDT recording) through the feeds' ReplaySource
onto a bus, collects strategy samples with the live feature engine and strategies, labels and fits
them (``hedge.signals.calibration``), prints the result and writes the ``calibrator`` keys to
``<config dir>/calibrator.yaml`` (atomically), which ``load_config`` overlays on strategy.yaml.
strategy.yaml itself is never rewritten. A degenerate fit (every label the same) is not written
unless ``--force``: it would say "never trade" (or "always") from too little evidence.

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

from hedge.commands.common import add_config_arg, check_recordings, load_config_or_report, report_read


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", metavar="FILE", help="recordings (default: the bundled BTCUSDT recording)")
    add_config_arg(p)
    p.add_argument("--tp-bps", type=float, default=None, help="take-profit in bps (default: exits.tp_pct)")
    p.add_argument("--sl-bps", type=float, default=None, help="stop-loss in bps (default: exits.sl_pct)")
    p.add_argument("--horizon-s", type=float, default=None, help="labelling horizon (default: calibrator.horizon_s)")
    p.add_argument("--out", default=None, help="output file (default: <config dir>/calibrator.yaml)")
    p.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    p.add_argument("--force", action="store_true", help="write even when every label is the same (a degenerate fit)")


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    import msgspec
    import yaml

    from hedge.bus import Bus
    from hedge.config import CALIBRATOR_FILE, DEFAULT_CONFIG_DIR, ConfigErrors
    from hedge.events import BookUpdate, MarkPrice, Trade
    from hedge.feeds.recording import ReplaySource, bundled_btcusdt
    from hedge.signals.calibration import SampleCollector
    from hedge.signals.calibrator import Calibrator
    from hedge.state.atomic import atomic_write

    cfg = load_config_or_report(args.config)
    if cfg is None:
        return 2
    for value, name in ((args.tp_bps, "--tp-bps"), (args.sl_bps, "--sl-bps"), (args.horizon_s, "--horizon-s")):
        if value is not None and value <= 0.0:
            print(f"calibrate: {name} must be > 0", file=sys.stderr)
            return 2
    paths = [Path(f) for f in args.files] if args.files else bundled_btcusdt()
    if not check_recordings("hedge calibrate", paths):
        return 2
    strategy = cfg.strategy
    if args.horizon_s is not None:
        strategy = msgspec.structs.replace(
            strategy, calibrator=msgspec.structs.replace(strategy.calibrator, horizon_s=args.horizon_s)
        )
    try:
        collector = SampleCollector(strategy, f"{cfg.source}/strategy.yaml" if cfg.source else "strategy.yaml")
    except ConfigErrors as exc:
        for err in exc.errors:
            print(f"config error: {err}", file=sys.stderr)
        return 2
    bus = Bus()
    bus.subscribe(BookUpdate, collector.on_book)
    bus.subscribe(Trade, collector.on_trade)
    bus.subscribe(MarkPrice, collector.on_mark)
    source = ReplaySource(paths, bus, imbalance_levels=cfg.runtime.feeds.imbalance_levels)
    stats = source.run_sync()
    if not report_read("hedge calibrate", paths, stats, source.feed_stats()):
        return 2
    fitted_on = ",".join(p.name for p in paths)
    try:
        res = collector.fit(tp_bps=args.tp_bps, sl_bps=args.sl_bps, fitted_on=fitted_on)
    except ValueError as exc:
        print(f"calibrate: {exc}", file=sys.stderr)
        return 1
    exits_tp, exits_sl = strategy.exits.tp_pct * 1e4, strategy.exits.sl_pct * 1e4
    p = res.params
    damaged = f", damaged (read up to the damage): {', '.join(stats.damaged)}" if stats.damaged else ""
    print(f"recordings: {fitted_on} ({stats.lines} lines, {stats.bad_lines} bad{damaged})")
    print(f"book updates: {res.book_updates}  signals: {res.signals}  censored: {res.censored}")
    print(f"labels: TP {res.tp_bps:g} bps before SL {res.sl_bps:g} bps within {p.horizon_s:g} s")
    print(f"samples: {p.samples}  positives: {p.positives} ({p.positives / p.samples:.1%})")
    print(
        f"fit: a={p.a:.6f} b={p.b:.6f} converged={res.fit.converged} iterations={res.fit.iterations} "
        f"log_likelihood={res.fit.log_likelihood:.3f}"
    )
    calibrator = Calibrator(p, exits_tp, exits_sl)
    for s in (0.25, 0.5, 0.75, 1.0):
        prob = calibrator.predict_p(s)
        e_pi = calibrator.e_pi_bps(prob, p.slippage_bps)
        print(f"  |score|={s:.2f}: p={prob:.4f}  e_pi_bps={e_pi:+.2f} (exits TP {exits_tp:g} / SL {exits_sl:g})")
    if (res.tp_bps, res.sl_bps) != (exits_tp, exits_sl):
        print(
            f"warning: fitted with TP/SL {res.tp_bps:g}/{res.sl_bps:g} bps but the exit rules use "
            f"{exits_tp:g}/{exits_sl:g}: e_pi_bps will use the exit rules",
            file=sys.stderr,
        )
    if args.dry_run:
        return 0
    if p.positives in (0, p.samples) and not args.force:
        print(
            f"calibrate: all {p.samples} labels are {'wins' if p.positives else 'losses'}: the data cannot tell "
            "winners from losers at this TP/SL/horizon (a longer recording, or --tp-bps/--sl-bps/--horizon-s); "
            "nothing written (--force writes it anyway)",
            file=sys.stderr,
        )
        return 1
    out = Path(args.out) if args.out else Path(args.config or DEFAULT_CONFIG_DIR) / CALIBRATOR_FILE
    body = "# Written by `python -m hedge calibrate`; overrides strategy.yaml's calibrator section.\n"
    body += yaml.safe_dump(msgspec.to_builtins(p), sort_keys=False)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, body.encode())
    except OSError as exc:
        print(f"hedge calibrate: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0
