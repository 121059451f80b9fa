"""A real venue refuses an unfitted or stale calibrator; local runs, dry runs and replays only warn."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from hedge.config import Config, default_config, load_config
from hedge.config.calibration_check import applied, calibrator_problems, epoch_ms, refuses
from hedge.daemon.errors import SetupError
from hedge.daemon.wiring import Daemon
from tests.kit.config import CONFIGS, make_config


def fitted() -> Config:
    return load_config(CONFIGS, env={})  # the shipped calibrator.yaml


def test_unfitted_is_a_problem_and_the_shipped_fit_is_not_at_its_own_time() -> None:
    assert "not fitted" in calibrator_problems(default_config(), 0)[0]
    cfg = fitted()
    cal = cfg.strategy.calibrator
    assert cal.samples > 0 and cal.fitted_on and cal.validation_samples > 0
    at = epoch_ms(cal.data_to)
    assert at is not None and calibrator_problems(cfg, at) == []


def test_stale_by_age_and_by_geometry() -> None:
    cfg = fitted()
    at = epoch_ms(cfg.strategy.calibrator.data_to)
    assert at is not None
    old = calibrator_problems(cfg, at + 31 * 86_400_000)
    assert len(old) == 1 and "days old" in old[0]
    other = make_config(base=cfg, strategy__exits__horizon_s=90.0)
    assert "geometry" in calibrator_problems(other, at)[0]
    never = make_config(base=cfg, strategy__calibrator__max_age_days=0.0)
    assert calibrator_problems(never, at + 10**12) == []


def test_a_fit_applies_only_to_the_geometry_it_labelled() -> None:
    cfg = fitted()
    cal = cfg.strategy.calibrator
    assert applied(cfg) == cal and (cal.a, cal.b) != (0.0, 1.0)
    other = make_config(base=cfg, strategy__exits__horizon_s=90.0)
    used = applied(other)
    assert (used.a, used.b) == (0.0, 1.0)  # the unfitted guess, which calibrator_problems names
    assert (used.fees_bps, used.slippage_bps) == (cal.fees_bps, cal.slippage_bps)  # costs still apply
    assert "not applied" in calibrator_problems(other, 0)[0]


def test_only_real_orders_on_a_real_venue_refuse() -> None:
    cfg = fitted()
    assert not refuses(cfg)  # local
    live = make_config(base=cfg, runtime__venue="binance")
    assert refuses(live) and refuses(make_config(base=live, runtime__venue="binance-testnet"))
    assert not refuses(make_config(base=live, runtime__dry_run=True))
    off = [msgspec.structs.replace(e, enabled=False) for e in cfg.strategy.strategies]
    assert not refuses(make_config(base=live, strategy__strategies=off))


async def test_the_daemon_refuses_to_start_on_binance_with_a_stale_calibrator(tmp_path: Path) -> None:
    cfg = make_config(tmp_path / "logs", base=fitted(), runtime__venue="binance")
    daemon = Daemon(cfg, env={"BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s"})
    with pytest.raises(SetupError, match=r"refusing to trade on binance.*days old"):
        await daemon.start()
    assert not (tmp_path / "logs").exists()  # refused before anything was opened
