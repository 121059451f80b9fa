"""``hedge calibrate-fills FILE... [--check FILE...]``: fit the fill-probability model from recordings.

Replays the recordings through the feeds' ReplaySource, simulates resting orders 0..k ticks behind
the touch against the recorded book and trades (``hedge.router.fill_labels``), each following the
touch as the router's maker leg does (``router.reprice_ticks``, ``router.max_reprices``, the
slippage budget; ``--static``: never repriced, the first model's labels), fits the model by
maximum likelihood (``hedge.router.fill_fit``), prints the fit, its reliability table (and, with
``--check``, the table on later recordings the fit never saw) and fill rates by distance and by
queue ahead, and writes the ``router.auto.model`` keys with their provenance (recordings, dates,
samples, fit quality, the tables as comments) to ``<config dir>/fillprob.yaml`` (atomically),
which ``load_config`` overlays on runtime.yaml, as ``hedge calibrate`` does calibrator.yaml.

Owns: the command's options, the wiring of a recording into the labeller, the report and the write.

Must never: rewrite runtime.yaml or any other config file; fit or label anything itself.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hedge.commands.common import add_config_arg, check_recordings, load_config_or_report, report_read

if TYPE_CHECKING:
    from hedge.config import Config, FillModel
    from hedge.router.fill_labels import FillLabeller, Peg
    from hedge.router.fillprob import FillFeatures
    from hedge.signals.reliability import Reliability

DEPTH_LEVELS = 20  # book levels the labeller sees per side (a simulated order further away keeps its queue)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", metavar="FILE", help="recordings to fit on (default: the bundled 20240718)")
    add_config_arg(p)
    p.add_argument("--check", nargs="*", default=None, metavar="FILE",
                   help="later recordings to score the fit on, out of sample (replayed after FILE..., so a "
                        "file that continues their book works; only samples after the fit's data are scored)")
    p.add_argument("--horizon-s", type=float, default=None, help="the horizon (default: router.maker_timeout_s)")
    p.add_argument("--own-qty", type=float, default=0.001, help="the simulated order's quantity (default 0.001)")
    p.add_argument("--max-distance", type=int, default=3, help="ticks behind the touch to simulate (default 3)")
    p.add_argument("--every-s", type=float, default=0.5, help="one set of simulated orders per this (default 0.5)")
    p.add_argument("--static", action="store_true",
                   help="simulated orders stay at their price (default: they reprice as router.reprice_ticks / "
                        "max_reprices / slippage_budget_bps say, as the router's maker leg does)")
    p.add_argument("--tick", type=float, default=None, help="price tick (default: from the book's levels)")
    p.add_argument("--out", default=None, help="output file (default: <config dir>/fillprob.yaml)")
    p.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")


def label(paths: Sequence[Path], cfg: Config, args: argparse.Namespace, horizon_s: float) -> FillLabeller | None:
    """The labelled samples of ``paths`` (None when the recordings hold nothing usable)."""
    from hedge.bus import Bus
    from hedge.events import BookUpdate, Trade
    from hedge.feeds.recording import ReplaySource
    from hedge.router.fill_labels import FillLabeller
    from hedge.router.market_stats import MarketStats

    auto = cfg.runtime.router.auto
    peg = peg_of(cfg, args)
    bus = Bus()
    source = ReplaySource(paths, bus, imbalance_levels=cfg.runtime.feeds.imbalance_levels)
    labeller: list[FillLabeller] = []

    def make(u: BookUpdate) -> FillLabeller:
        book = source.dispatcher.books[u.symbol].book
        tick = args.tick or _tick_of([p for p, _ in book.bids(DEPTH_LEVELS)])
        labeller.append(FillLabeller(MarketStats(auto.window_s, auto.vol_sample_s), tick=tick, horizon_s=horizon_s,
                                     own_qty=args.own_qty, max_distance=args.max_distance, every_s=args.every_s,
                                     peg=peg))
        return labeller[0]

    def on_book(u: BookUpdate) -> None:
        if not u.valid and not labeller:
            return
        book = source.dispatcher.books[u.symbol].book
        lab = labeller[0] if labeller else make(u)
        lab.on_book(u.recv_ns / 1e9, u, book.bids(DEPTH_LEVELS), book.asks(DEPTH_LEVELS))

    def on_trade(tr: Trade) -> None:
        if labeller:
            labeller[0].on_trade(tr.recv_ns / 1e9, tr)

    bus.subscribe(BookUpdate, on_book)
    bus.subscribe(Trade, on_trade)
    stats = source.run_sync()
    if not report_read("hedge calibrate-fills", paths, stats, source.feed_stats()) or not labeller:
        return None
    damaged = f", damaged (read up to the damage): {', '.join(stats.damaged)}" if stats.damaged else ""
    print(f"recordings: {','.join(p.name for p in paths)} ({stats.lines} lines, {stats.bad_lines} bad{damaged}); "
          f"tick {labeller[0].tick:g}")
    labeller[0].finish()
    return labeller[0]


def peg_of(cfg: Config, args: argparse.Namespace) -> Peg:
    from hedge.router.fill_labels import Peg

    r = cfg.runtime.router
    return Peg() if args.static else Peg(reprice_ticks=r.reprice_ticks, max_reprices=r.max_reprices,
                                         budget_bps=r.slippage_budget_bps)


def _label_name(peg: Peg) -> str:
    if not peg.reprice_ticks:
        return "static"
    return f"peg reprice_ticks={peg.reprice_ticks} max_reprices={peg.max_reprices} budget_bps={peg.budget_bps:g}"


def _tick_of(prices: list[float]) -> float:
    """The smallest gap between adjacent visible levels, rounded to 1, 2 or 5 x a power of ten."""
    import itertools
    import math

    gaps = [abs(a - b) for a, b in itertools.pairwise(prices) if abs(a - b) > 0]
    if not gaps:
        return 0.01
    g = min(gaps)
    e = 10 ** math.floor(math.log10(g))
    return float(min((m * e for m in (1, 2, 5, 10)), key=lambda c: abs(c - g)))


def main(args: argparse.Namespace) -> int:
    from hedge.config import DEFAULT_CONFIG_DIR, FILLPROB_FILE
    from hedge.feeds.recording import bundled_btcusdt
    from hedge.router.fill_fit import fit_fill_model, predict
    from hedge.signals.reliability import score

    cfg = load_config_or_report(args.config)
    if cfg is None:
        return 2
    if args.own_qty <= 0 or args.max_distance < 0 or args.every_s <= 0 or (args.horizon_s or 1) <= 0:
        print("calibrate-fills: --own-qty, --every-s and --horizon-s must be > 0, --max-distance >= 0", file=sys.stderr)
        return 2
    paths = [Path(f) for f in args.files] if args.files else bundled_btcusdt()[:1]
    checks = [Path(f) for f in args.check or []]
    if not check_recordings("hedge calibrate-fills", [*paths, *checks]):
        return 2
    horizon = args.horizon_s or cfg.runtime.router.maker_timeout_s
    fitted = label(paths, cfg, args, horizon)
    if fitted is None:
        return 2
    base = msgspec_replace(cfg.runtime.router.auto.model, horizon_s=horizon)
    try:
        res = fit_fill_model(fitted.samples, base)
    except ValueError as exc:
        print(f"calibrate-fills: {exc}", file=sys.stderr)
        return 1
    y = [s.filled for s in fitted.samples]
    in_sample = score(predict(fitted.samples, res.model), y)
    model = msgspec_replace(
        res.model, label=_label_name(peg_of(cfg, args)), fitted_on=",".join(p.name for p in paths),
        data_from=_iso(fitted.times[0]),
        data_to=_iso(fitted.times[-1] + horizon), samples=len(y), positives=sum(y),
        brier=round(in_sample.brier, 6), log_loss=round(in_sample.log_loss, 6), ece=round(in_sample.ece, 6))
    sections = [("in sample", in_sample, fitted)]
    if checks:  # replayed after the fit's files (a later file continues their book), scored after the fit's data
        both = label([*paths, *checks], cfg, args, horizon)
        if both is None:
            return 2
        end = fitted.times[-1] + horizon
        both.samples = [s for s, t in zip(both.samples, both.times, strict=True) if t > end]
        if not both.samples:
            print("calibrate-fills: --check: no sample after the fit's data", file=sys.stderr)
            return 2
        held = both
        out = score(predict(held.samples, model), [s.filled for s in held.samples])
        model = msgspec_replace(model, checked_on=",".join(p.name for p in checks), check_samples=out.n,
                                check_brier=round(out.brier, 6), check_log_loss=round(out.log_loss, 6),
                                check_ece=round(out.ece, 6))
        sections.append(("out of sample (--check)", out, held))
    lines = _report(model, res.iterations, res.converged, sections)
    for line in lines:
        print(line)
    if args.dry_run:
        return 0
    return _write(model, lines, Path(args.out) if args.out else Path(args.config or DEFAULT_CONFIG_DIR) / FILLPROB_FILE)


def msgspec_replace(m: FillModel, **kw: object) -> FillModel:
    import msgspec

    return msgspec.structs.replace(m, **kw)


def _iso(t_s: float) -> str:
    from hedge.signals.calibration import iso_ms

    return iso_ms(int(t_s * 1000))


def _report(m: FillModel, iterations: int, converged: bool,
            sections: list[tuple[str, Reliability, FillLabeller]]) -> list[str]:
    from hedge.signals.reliability import format_table

    out = [f"fit: {m.samples} samples ({m.positives} filled, {m.positives / max(m.samples, 1):.1%}) "
           f"{m.data_from} -> {m.data_to}, horizon {m.horizon_s:g} s; Newton {iterations} iterations, "
           f"converged={converged}; label: {m.label}",
           f"  maker price when filled {m.fill_bps:+.3f} bps, fallback touch when not {m.fallback_bps:+.3f} bps "
           "(vs the start mid, side-signed, fees excluded)",
           f"  b0={m.b0:+.4f} dist={m.b_dist:+.4f} queue={m.b_queue:+.4f} flow={m.b_flow:+.4f} "
           f"spread={m.b_spread:+.4f} vol={m.b_vol:+.4f}"]
    for title, rel, lab in sections:
        out.append(f"reliability, {title}:")
        out += [f"  {line}" for line in format_table(rel)]
        out.append("  fill rate by distance (ticks behind the touch):  " + _by(
            lab, lambda f: str(int(f.distance_ticks))))
        out.append("  fill rate by queue ahead (qty):  " + _by(lab, lambda f: _queue_bin(f.queue_ahead)))
    return out


QUEUE_BINS = (0.0, 0.01, 0.1, 1.0, 10.0)


def _queue_bin(q: float) -> str:
    lo = max(b for b in QUEUE_BINS if q >= b)
    return f">={lo:g}"


def _by(lab: FillLabeller, k: Callable[[FillFeatures], str]) -> str:
    n: dict[str, list[int]] = {}
    for s in lab.samples:
        c = n.setdefault(k(s.features), [0, 0])
        c[0] += 1
        c[1] += s.filled
    return "  ".join(f"{b}: {c[1] / c[0]:.3f} (n={c[0]})" for b, c in sorted(n.items()))


def _write(m: FillModel, lines: list[str], out: Path) -> int:
    import msgspec
    import yaml

    from hedge.commands.common import write_config_file

    body = "# Written by `python -m hedge calibrate-fills`; overrides runtime.yaml's router.auto.model.\n"
    body += "".join(f"# {line}\n" for line in lines)
    body += yaml.safe_dump(msgspec.to_builtins(m), sort_keys=False)
    return write_config_file("hedge calibrate-fills", out, body)
