"""Fitting the calibrator from recordings, shared by ``hedge calibrate`` and a sweep's walk-forward.

Owns: ``collect`` (replay recordings through the feeds onto a bus into a ``SampleCollector``: the
live feature engine and strategies) and ``calibrator_yaml`` (the text of calibrator.yaml: the
reliability tables as comments, then the fitted keys), so a walk-forward window is calibrated
exactly as ``hedge calibrate`` would on the same files.

Must never: fit anything itself (``hedge.signals.calibration`` does), or write a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import msgspec
import yaml

from hedge.bus import Bus
from hedge.config import Config, StrategyConfig
from hedge.events import BookUpdate, MarkPrice, Trade
from hedge.feeds.dispatch import FeedStats
from hedge.feeds.recording import ReplaySource, ReplayStats
from hedge.signals.calibration import CalibrationResult, SampleCollector
from hedge.signals.reliability import format_table


def collect(cfg: Config, strategy: StrategyConfig, paths: Sequence[str | Path]) -> tuple[
        SampleCollector, ReplayStats, FeedStats]:
    """The strategy samples of ``paths`` (raises ``ConfigErrors`` on a strategy it cannot sample)."""
    collector = SampleCollector(strategy, f"{cfg.source}/strategy.yaml" if cfg.source else "strategy.yaml")
    bus = Bus()
    bus.subscribe(BookUpdate, collector.on_book)
    bus.subscribe(Trade, collector.on_trade)
    bus.subscribe(MarkPrice, collector.on_mark)
    source = ReplaySource(list(paths), bus, imbalance_levels=cfg.runtime.feeds.imbalance_levels)
    stats = source.run_sync()
    return collector, stats, source.feed_stats()


def calibrator_yaml(res: CalibrationResult) -> str:
    """calibrator.yaml's text for ``res`` (what ``load_config`` overlays on strategy.yaml)."""
    body = "# Written by `python -m hedge calibrate`; overrides strategy.yaml's calibrator section.\n"
    held = "held out (later samples)" if res.validation_kind == "later" else "cross-validated (blocked, purged)"
    for title, table in (("in sample", res.in_sample), (held, res.validation)):
        lines = format_table(table) if table else ["none"]
        body += f"# Reliability, {title}:\n" + "".join(f"#   {line}\n" for line in lines)
    return body + yaml.safe_dump(msgspec.to_builtins(res.params), sort_keys=False)
