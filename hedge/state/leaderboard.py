"""The leaderboard: every strategy's closed trades on every symbol, summed and ranked by net PnL.

Owns: the per (strategy, symbol) sums behind ``leaderboard_state`` — net PnL, trades, wins,
expectancy (USDT and bps), maker share and the drawdown of the cumulative net PnL — and their
ranking (highest net PnL first; ties by strategy, then symbol).

Attribution: a ``ClosedTrade`` names its strategy. Fills carry no strategy, so a symbol's fills are
counted as they come and handed to the strategy of the next trade that closes on that symbol (the
bus delivers a fill to every subscriber before the ``ClosedTrade`` it causes): the maker share is
the share of maker fills among the fills of the strategy's closed trades.

Must never: do I/O, decide anything, or hold a secret.
"""

from __future__ import annotations

import dataclasses

from hedge.events import ClosedTrade, Fill
from hedge.state import schemas as s


@dataclasses.dataclass
class _Sums:
    pnl: float = 0.0
    trades: int = 0
    wins: int = 0
    bps_sum: float = 0.0
    fills: int = 0
    maker_fills: int = 0
    peak: float = 0.0  # of the cumulative net PnL (starts at 0: a first loss is a drawdown)
    max_drawdown: float = 0.0
    last_closed_ms: int = 0


class Leaderboard:
    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], _Sums] = {}
        self._open_fills: dict[str, list[int]] = {}  # symbol -> [fills, maker fills] since its last close

    def on_fill(self, ev: Fill) -> None:
        counts = self._open_fills.setdefault(ev.symbol, [0, 0])
        counts[0] += 1
        counts[1] += int(ev.maker)

    def on_closed_trade(self, ev: ClosedTrade) -> None:
        r = self._rows.setdefault((ev.strategy, ev.symbol), _Sums())
        r.pnl += ev.net_pnl
        r.trades += 1
        r.wins += int(ev.net_pnl > 0.0)
        notional = ev.entry_price * ev.qty
        r.bps_sum += ev.net_pnl / notional * 1e4 if notional > 0.0 else 0.0
        fills, makers = self._open_fills.pop(ev.symbol, (0, 0))
        r.fills += fills
        r.maker_fills += makers
        r.peak = max(r.peak, r.pnl)
        r.max_drawdown = max(r.max_drawdown, r.peak - r.pnl)
        r.last_closed_ms = max(r.last_closed_ms, ev.closed_ms)

    def build(self) -> s.LeaderboardState:
        ordered = sorted(self._rows.items(), key=lambda kv: (-kv[1].pnl, kv[0]))
        rows = [
            s.LeaderboardRow(
                rank=i, strategy=strategy, symbol=symbol, pnl=r.pnl, trades=r.trades, wins=r.wins,
                win_rate=r.wins / r.trades, expectancy=r.pnl / r.trades, expectancy_bps=r.bps_sum / r.trades,
                fills=r.fills, maker_fills=r.maker_fills, maker_share=r.maker_fills / r.fills if r.fills else 0.0,
                max_drawdown=r.max_drawdown, last_closed_ms=r.last_closed_ms,
            )
            for i, ((strategy, symbol), r) in enumerate(ordered, start=1)
        ]
        return s.LeaderboardState(rows=rows, trades=sum(r.trades for r in rows), pnl=sum(r.pnl for r in rows))
