"""RiskLimits: the risk configuration compiled once into the form ``check_order`` reads fastest.

Owns: resolving every symbol's position cap (per-symbol override, else its tier's cap), its tier
and correlation group with the group's cap, the trading window in minutes, and time units
(seconds -> ms). Built from the whole ``Config`` because the gates read risk.yaml, symbols.yaml
(tiers, groups) and runtime.yaml (the trading window). A window that wraps midnight (22:00-04:00)
is judged by the weekday of the moment itself: with days Mon-Fri, Saturday 01:00 is outside.

Must never: change after it is built (a config reload builds a new one) or hold market state.
"""

from __future__ import annotations

import msgspec

from hedge.config import Config, TradingWindow
from hedge.events import Tier

MS_PER_DAY = 86_400_000


class SymbolLimits(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    tier: Tier
    cap: float  # largest position, fraction of NAV
    group: str = ""
    group_cap: float = 0.0  # fraction of NAV, gross within the group; used only when group != ""


class RiskLimits(msgspec.Struct, frozen=True, kw_only=True):
    nav_freshness_s: float = 90.0
    max_trade_nav_pct: float = 0.05
    gross_exposure_max: float = 1.5
    net_exposure_max: float = 1.0
    max_open_orders: int = 20
    daily_dd_limit: float = 0.10
    portfolio_dd_limit: float = 0.20
    cvar_alpha: float = 0.1
    cvar_limit: float = 0.05
    cvar_min_samples: int = 24
    spread_bps_limit: float = 80.0
    latency_ms_limit: float = 500.0
    pi_min_bps: float = 0.0
    require_user_stream: bool = True
    window_start_min: int = 0
    window_end_min: int = 1440
    window_days: frozenset[int] = frozenset(range(7))
    symbols: dict[str, SymbolLimits] = {}
    unknown_cap: float = 0.05  # cap applied to a symbol absent from symbols.yaml (only ever reduced)
    slippage_budget_bps: float = 10.0  # router.slippage_budget_bps: how far past the touch an order may fill

    @classmethod
    def from_config(cls, cfg: Config) -> RiskLimits:
        risk, syms = cfg.risk, cfg.symbols
        table: dict[str, SymbolLimits] = {}
        for name, info in syms.symbols.items():
            group = syms.correlation_groups.get(info.group) if info.group else None
            table[name] = SymbolLimits(
                tier=info.tier,
                cap=risk.symbol_caps.get(name, risk.tier_caps.cap(info.tier)),
                group=info.group if group is not None else "",
                group_cap=group.cap if group is not None else 0.0,
            )
        start, end = _window_minutes(cfg.runtime.trading_window)
        return cls(
            nav_freshness_s=risk.nav_freshness_seconds,
            max_trade_nav_pct=risk.max_trade_nav_pct,
            gross_exposure_max=risk.gross_exposure_max,
            net_exposure_max=risk.net_exposure_max,
            max_open_orders=risk.max_open_orders,
            daily_dd_limit=risk.daily_dd_limit,
            portfolio_dd_limit=risk.portfolio_dd_limit,
            cvar_alpha=risk.cvar_alpha,
            cvar_limit=risk.cvar_limit,
            cvar_min_samples=risk.cvar_min_samples,
            spread_bps_limit=risk.spread_bps_limit,
            latency_ms_limit=risk.latency_ms_limit,
            pi_min_bps=risk.pi_min_bps,
            require_user_stream=risk.require_user_stream,
            window_start_min=start,
            window_end_min=end,
            window_days=frozenset(cfg.runtime.trading_window.days),
            symbols=table,
            unknown_cap=min(risk.tier_caps.cap(t) for t in Tier),
            slippage_budget_bps=cfg.runtime.router.slippage_budget_bps,
        )

    def in_window(self, now_ms: int) -> bool:
        """True when ``now_ms`` (UTC) is inside the trading window (start inclusive, end exclusive)."""
        day = now_ms // MS_PER_DAY
        if (day + 3) % 7 not in self.window_days:  # 1970-01-01 was a Thursday (weekday 3)
            return False
        minute = (now_ms % MS_PER_DAY) // 60_000
        start, end = self.window_start_min, self.window_end_min
        if start <= end:
            return start <= minute < end
        return minute >= start or minute < end  # a window that wraps past midnight


def _window_minutes(w: TradingWindow) -> tuple[int, int]:
    def minutes(hhmm: str) -> int:
        h, m = hhmm.split(":")
        return int(h) * 60 + int(m)

    return minutes(w.start), minutes(w.end)
