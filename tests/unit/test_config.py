from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hedge.config import ConfigErrors, exit_profile, load_config
from hedge.events import Tier

ROOT = Path(__file__).resolve().parents[2]


def write(d: Path, name: str, text: str) -> None:
    (d / f"{name}.yaml").write_text(text)


def errors_of(d: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigErrors) as ei:
        load_config(d, env=env or {})
    return [str(e) for e in ei.value.errors]


def test_shipped_configs_are_valid_and_match_spec_defaults() -> None:
    cfg = load_config(ROOT / "configs", env={})
    rt, risk, strat = cfg.runtime, cfg.risk, cfg.strategy
    assert rt.venue == "local"
    assert (rt.http.timeout_s, rt.http.backoff_initial_s, rt.http.backoff_max_s, rt.http.read_retries) == (
        3.0, 0.4, 6.4, 5)
    assert rt.http.recv_window_ms == 5000
    assert (rt.journal.max_bytes, rt.journal.backups) == (50 * 1024 * 1024, 5)
    assert (risk.daily_dd_limit, risk.cvar_alpha, risk.spread_bps_limit, risk.latency_ms_limit) == (
        0.10, 0.1, 80, 500)
    assert risk.nav_freshness_seconds == 90
    assert strat.exits == exit_profile("scalper")  # the shipped exits are the built-in scalper profile
    classic = load_config(ROOT / "configs", env={"HEDGE_STRATEGY__EXITS__PROFILE": "classic"}).strategy.exits
    assert (classic.tp_pct, classic.trail_bps, classic.breakeven_after_R, classic.max_R, classic.time_stop) == (
        0.005, 20, 0.8, 3.0, False)  # the original literal defaults, by name
    assert risk.tier_caps.cap(Tier.ALT_EXT) == 0.05 and risk.tier_caps.cap(Tier.CORE) == 0.30
    assert cfg.symbols.symbols["BTCUSDT"].tier is Tier.CORE


def test_empty_directory_gives_built_in_defaults(tmp_path: Path) -> None:
    cfg = load_config(tmp_path, env={})
    assert cfg.risk.daily_dd_limit == 0.10 and cfg.strategy.universe == ["BTCUSDT"]


def test_percentage_normalised_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, "risk", "daily_dd_limit: 10\ntier_caps: {SATELLITE: 20}\nmax_trade_nav_pct: 0.5\n")
    with caplog.at_level(logging.WARNING):
        cfg = load_config(tmp_path, env={})
    assert cfg.risk.daily_dd_limit == pytest.approx(0.10)
    assert cfg.risk.tier_caps.satellite == pytest.approx(0.20)
    assert cfg.risk.max_trade_nav_pct == 0.5  # a real fraction is left alone
    assert "daily_dd_limit = 10 read as a percentage" in caplog.text
    assert "tier_caps.SATELLITE" in caplog.text


def test_multiples_are_not_normalised(tmp_path: Path) -> None:
    write(tmp_path, "risk", "gross_exposure_max: 3\n")
    assert load_config(tmp_path, env={}).risk.gross_exposure_max == 3.0


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        ("risk", "daily_dd_limit: lots\n", "risk.yaml: daily_dd_limit: Expected `float`, got `str`"),
        ("risk", "daily_dd_limit: 250\n", "risk.yaml: daily_dd_limit: Expected `float` <= 1.0"),
        ("risk", "cooloff: {seconds: -1}\n", "risk.yaml: cooloff.seconds: Expected `float` >= 0.0"),
        ("risk", "daily_dd_limt: 0.1\n", "risk.yaml: daily_dd_limt: unknown key"),
        ("runtime", "venue: kraken\n", "runtime.yaml: venue: invalid value 'kraken'; expected one of: local, binance-testnet, binance"),
        ("runtime", "metrics: {port: 70000}\n", "runtime.yaml: metrics.port: Expected `int` <= 65535"),
        ("runtime", "trading_window: {start: '25:00'}\n", "runtime.yaml: trading_window.start: Expected `str` matching"),
        ("runtime", "- a\n- b\n", "runtime.yaml: expected a mapping of keys, got list"),
        ("strategy", "universe: [btc]\n", "strategy.yaml: universe[0]: Expected `str` matching"),
        ("symbols", "symbols: {btc: {}}\n", "symbols.yaml: symbols.btc (key): Expected `str` matching"),
        ("symbols", "symbols: {BTCUSDT: {tier: MEGA}}\n", "symbols.yaml: symbols.BTCUSDT.tier: invalid value 'MEGA'; expected one of: CORE, SATELLITE"),
        ("runtime", "venue: [unclosed\n", "runtime.yaml: line 2, column 1: invalid YAML"),
    ],
)
def test_validation_errors_name_file_key_and_expectation(tmp_path: Path, file: str, text: str, expected: str) -> None:
    write(tmp_path, file, text)
    errs = errors_of(tmp_path)
    assert len(errs) == 1
    assert expected in errs[0], errs[0]
    assert errs[0].startswith(str(tmp_path))


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"strategy": "universe: [DOGEUSDT]\n"}, "strategy.yaml: universe[0]: symbol 'DOGEUSDT' is not defined"),
        ({"symbols": "symbols: {BTCUSDT: {group: memes}}\n"}, "symbols.yaml: symbols.BTCUSDT.group: unknown correlation group"),
        ({"symbols": "symbols: {BTCUSDT: {liquidity: oceanic}}\n"}, "symbols.BTCUSDT.liquidity: unknown liquidity bucket"),
        ({"risk": "symbol_caps: {ETHUSDT: 0.1}\n"}, "risk.yaml: symbol_caps.ETHUSDT: symbol not defined"),
        ({"runtime": "http: {backoff_initial_s: 9, backoff_max_s: 1}\n"}, "http.backoff_initial_s: must be <="),
    ],
)
def test_cross_file_checks(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    for name, text in files.items():
        write(tmp_path, name, text)
    errs = errors_of(tmp_path)
    assert any(expected in e for e in errs), errs


def test_errors_from_several_files_are_all_reported(tmp_path: Path) -> None:
    write(tmp_path, "risk", "daily_dd_limit: x\n")
    write(tmp_path, "runtime", "venue: nowhere\n")
    errs = errors_of(tmp_path)
    assert len(errs) == 2


def test_every_error_of_one_file_is_reported(tmp_path: Path) -> None:
    """check-config promises every error: one pass of fixes, not one run per typo."""
    write(tmp_path, "risk", "portfolio_dd_limit: x\nmax_open_orders: 0\nbogus: 1\ntier_caps: {CORE: y, FOO: 0.1}\n")
    errs = errors_of(tmp_path)
    risk = str(tmp_path / "risk.yaml")
    assert errs == [
        f"{risk}: portfolio_dd_limit: Expected `float`, got `str`",
        f"{risk}: max_open_orders: Expected `int` >= 1",
        f"{risk}: bogus: unknown key (not in the schema; check its spelling and section)",
        f"{risk}: tier_caps.CORE: Expected `float`, got `str`",
        f"{risk}: tier_caps.FOO: unknown key (not in the schema; check its spelling and section)",
    ]


def test_missing_directory(tmp_path: Path) -> None:
    errs = errors_of(tmp_path / "nope")
    assert errs == [f"{tmp_path / 'nope'}: config directory does not exist"]


def test_environment_overrides(tmp_path: Path) -> None:
    env = {
        "DRY_RUN": "1",
        "BINANCE_TESTNET": "true",
        "EXECUTOR_ONCE": "yes",
        "HEDGE_FEATURE_TWAP": "0",
        "HEDGE_RISK__DAILY_DD_LIMIT": "0.05",
        "HEDGE_RUNTIME__METRICS__PORT": "9200",
        "HEDGE_STRATEGY__UNIVERSE": "[BTCUSDT, ETHUSDT]",
        "HEDGE_SYMBOLS__SYMBOLS__SOLUSDT__TIER": "SATELLITE",
        "HEDGE_LOG_LEVEL": "debug",
    }
    write(tmp_path, "symbols", "symbols: {BTCUSDT: {}, ETHUSDT: {}}\n")
    cfg = load_config(tmp_path, env=env)
    assert cfg.runtime.dry_run and cfg.runtime.once and cfg.runtime.venue == "binance-testnet"
    assert cfg.runtime.features.twap is False
    assert cfg.risk.daily_dd_limit == 0.05
    assert cfg.runtime.metrics.port == 9200
    assert cfg.strategy.universe == ["BTCUSDT", "ETHUSDT"]
    assert cfg.symbols.symbols["SOLUSDT"].tier is Tier.SATELLITE
    assert cfg.runtime.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DRY_RUN": "maybe"}, "environment DRY_RUN: expected 0/1/true/false, got 'maybe'"),
        ({"HEDGE_FEATURE_WARP_DRIVE": "1"}, "environment HEDGE_FEATURE_WARP_DRIVE: unknown feature flag 'warp_drive'"),
        ({"HEDGE_BOGUS__X": "1"}, "environment HEDGE_BOGUS__X: expected HEDGE_<RUNTIME|RISK|STRATEGY|SYMBOLS>__<KEY>"),
        # An invalid value set by a variable names the variable (the file does not hold it).
        ({"HEDGE_RISK__DAILY_DD_LIMIT": "abc"},
         "environment HEDGE_RISK__DAILY_DD_LIMIT: daily_dd_limit: Expected `float`, got `str`"),
        ({"HEDGE_RISK__DAYLY_DD_LIMIT": "0.1"}, "environment HEDGE_RISK__DAYLY_DD_LIMIT: dayly_dd_limit: unknown key"),
        ({"HEDGE_RUNTIME__METRICS__PORT": "99999"},
         "environment HEDGE_RUNTIME__METRICS__PORT: metrics.port: Expected `int` <= 65535"),
    ],
)
def test_environment_errors(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    errs = errors_of(tmp_path, env)
    assert any(expected in e for e in errs), errs


def test_a_file_error_is_still_the_files_next_to_an_environment_override(tmp_path: Path) -> None:
    write(tmp_path, "runtime", "metrics: {hots: x}\n")
    errs = errors_of(tmp_path, {"HEDGE_RUNTIME__METRICS__PORT": "9200"})
    assert errs == [f"{tmp_path / 'runtime.yaml'}: metrics.hots: unknown key (not in the schema; check its spelling and section)"]


def test_a_percentage_set_by_the_environment_names_the_variable(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, "risk", "tier_caps: {SATELLITE: 20}\n")
    with caplog.at_level(logging.WARNING):
        cfg = load_config(tmp_path, env={"HEDGE_RISK__DAILY_DD_LIMIT": "10"})
    assert cfg.risk.daily_dd_limit == pytest.approx(0.10)
    assert "environment HEDGE_RISK__DAILY_DD_LIMIT: daily_dd_limit = 10 read as a percentage" in caplog.text
    assert "risk.yaml: daily_dd_limit" not in caplog.text
    assert f"{tmp_path / 'risk.yaml'}: tier_caps.SATELLITE = 20 read as a percentage" in caplog.text  # the file's own


def test_cross_file_checks_name_the_variable_that_set_a_value(tmp_path: Path) -> None:
    errs = errors_of(tmp_path, {"HEDGE_STRATEGY__UNIVERSE": "[BTCUSDT, NOPEUSDT]"})
    assert errs == ["environment HEDGE_STRATEGY__UNIVERSE: universe[1]: symbol 'NOPEUSDT' is not defined in "
                    "symbols.yaml (known: ['BTCUSDT'])"]
    # the other side of a two-file check is named too
    errs = errors_of(tmp_path, {"HEDGE_RUNTIME__FEEDS__IMBALANCE_LEVELS": "7"})
    assert len(errs) == 1 and errs[0].startswith(f"{tmp_path / 'strategy.yaml'}: signals.imbalance_levels: ")
    assert "(7, from environment HEDGE_RUNTIME__FEEDS__IMBALANCE_LEVELS)" in errs[0]
    write(tmp_path, "risk", "symbol_caps: {FOOUSDT: 0.1}\n")
    assert errors_of(tmp_path) == [f"{tmp_path / 'risk.yaml'}: symbol_caps.FOOUSDT: symbol not defined in symbols.yaml"]


def test_a_calibrator_yaml_value_is_named_after_that_file(tmp_path: Path) -> None:
    (tmp_path / "calibrator.yaml").write_text("a: x\n")
    assert errors_of(tmp_path)[0].startswith(f"{tmp_path / 'calibrator.yaml'}: ")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("risk.yml", "not read: hedge reads risk.yaml (rename the file; .yml is not an alias)"),
        ("risks.yaml", "unknown config file: hedge reads only runtime.yaml, risk.yaml, strategy.yaml, symbols.yaml, "
                       "calibrator.yaml"),
        ("Strategy.YAML", "unknown config file"),
    ],
)
def test_a_misnamed_config_file_is_an_error_not_silently_the_defaults(tmp_path: Path, name: str, expected: str) -> None:
    (tmp_path / name).write_text("daily_dd_limit: 0.02\n")
    errs = errors_of(tmp_path)
    assert len(errs) == 1 and errs[0].startswith(f"{tmp_path / name}: {expected}"), errs


def test_both_yaml_and_yml_of_one_name_is_an_error_and_other_files_are_left_alone(tmp_path: Path) -> None:
    write(tmp_path, "risk", "daily_dd_limit: 0.02\n")
    (tmp_path / "risk.yml").write_text("daily_dd_limit: 0.03\n")
    (tmp_path / "README.md").write_text("notes\n")
    (tmp_path / ".risk.yaml.swp").write_text("")
    (tmp_path / "old").mkdir()
    assert errors_of(tmp_path) == [
        f"{tmp_path / 'risk.yml'}: not read: hedge reads risk.yaml (rename the file; .yml is not an alias)"]
    (tmp_path / "risk.yml").unlink()
    assert load_config(tmp_path, env={}).risk.daily_dd_limit == 0.02
