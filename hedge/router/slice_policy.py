"""The per-slice policy: which leg a slice starts with, and when its maker leg gives up.

Owns: the router mode (``taker``: every slice is the capped IOC; ``maker_first``: every slice
that is not ``urgent`` tries the maker leg first; ``auto``: ``AutoRouter`` chooses per slice from
the expected costs and for how long the maker leg rests, and the choice's outcome goes to the TCA
and back to the fill model) and the maker leg's limits: reprice once the touch moved
``router.reprice_ticks`` away, at most ``router.max_reprices`` times a slice (0 = no limit), retry
a post-only reject at most ``router.max_post_only_rejects`` times; past either limit the slice falls back to the taker.

Must never: send or cancel an order or set a timer: it decides, the ``Executor`` acts.
"""

from __future__ import annotations

import enum

from hedge.config import RouterConfig
from hedge.events import BookUpdate, OrderStatus, Side
from hedge.router.auto import AutoRouter
from hedge.router.execution import Execution, Phase
from hedge.router.lifecycle import OrderRecord
from hedge.router.tca import SliceChoice, TcaRecorder
from hedge.venue.errors import POST_ONLY_REJECT

S = OrderStatus


class Next(enum.Enum):
    """What the ``Executor`` does after an order of an execution ended."""

    FINISH = "finish"  # the execution (halted)
    SLICE_DONE = "slice_done"  # this slice; the next one, if any, follows
    TAKER = "taker"  # the maker leg gave up: the taker fallback
    SEND = "send"  # place the slice's next order in the same phase


class SlicePolicy:
    """Decides each slice's leg and the maker leg's reprice / fallback (see the module docstring)."""

    def __init__(self, cfg: RouterConfig, tca: TcaRecorder, auto: AutoRouter | None) -> None:
        self.tca = tca
        self.auto = auto  # mode auto: the per-slice choice (its MarketStats follow the books)
        self.set_config(cfg)

    def set_config(self, cfg: RouterConfig) -> None:
        """New router parameters (autotune): they apply from the next slice or book."""
        self.cfg = cfg
        self.maker_first = cfg.mode != "taker"
        if self.auto is not None:
            self.auto.cfg = cfg.auto  # a maker leg is possible (maker_first, auto)

    def on_book(self, now_s: float, u: BookUpdate) -> None:
        if self.auto is not None and u.valid:
            self.auto.stats.on_book(now_s, u)

    def opens_maker(self, ex: Execution, book: BookUpdate | None, now_s: float) -> bool:
        """A new slice of ``ex``: True = it tries the maker leg first. Sets ``ex.fell_back`` (an urgent
        intent falls back at once, except in taker mode where the IOC is the plan) and ``ex.choice``."""
        ex.fell_back = ex.intent.urgent and self.maker_first
        ex.choice = None
        rest = self.maker_first and not ex.intent.urgent
        if rest and self.auto is not None and book is not None and book.valid:
            ex.choice = c = self.auto.choose(now_s, ex.intent, ex.slice_remaining(), book,
                                             ex.filter.tick_f, self.cfg.maker_timeout_s)
            rest = c.rest
        return rest

    def maker_timeout_s(self, ex: Execution) -> float:
        """How long ``ex``'s slice rests before the fallback: auto's chosen horizon, else ``router.maker_timeout_s``."""
        return ex.choice.features.horizon_s if ex.choice is not None else self.cfg.maker_timeout_s

    def reprice(self, ex: Execution, price: float, u: BookUpdate) -> str:
        """``ex``'s resting maker order at ``price`` and the new touch ``u``: "" (keep it), "reprice"
        (cancel it and rest again at the touch; counted) or "reprice_limit" (cancel it and fall back)."""
        away = (u.bid_px - price) if ex.side is Side.BUY else (price - u.ask_px)
        if away >= self.cfg.reprice_ticks * ex.filter.tick_f * (1.0 - 1e-9):
            if self.cfg.max_reprices and ex.slice_reprices >= self.cfg.max_reprices:
                return "reprice_limit"  # chased enough
            ex.slice_reprices += 1
            return "reprice"
        return ""

    def after_close(self, ex: Execution, rec: OrderRecord, reason: str) -> Next:
        """``rec``, ``ex``'s current order, ended (``reason``: why the router cancelled it, "" = it did
        not): what comes next. Why a slice ends short goes to ``ex.reasons``."""
        if ex.halted:
            return Next.FINISH
        if ex.slice_remaining() < ex.filter.step_f / 2:
            return Next.SLICE_DONE
        if ex.phase is Phase.TAKER:
            if rec.status is S.REJECTED:
                ex.reasons.append(f"taker rejected {rec.reject_code}: {rec.reason}")
            else:
                ex.reasons.append(f"taker IOC left {ex.slice_remaining():g} unfilled within the slippage cap")
            return Next.SLICE_DONE
        if reason in ("timeout", "reprice_limit"):
            return Next.TAKER
        if (rec.status is S.REJECTED and rec.reject_code == POST_ONLY_REJECT) or (
            rec.status is S.EXPIRED and not reason  # Binance may also expire a crossing GTX
        ):  # rest again, at least one tick more passive than rec, or give up
            ex.post_only_rejects += 1
            ex.rejected_px = rec.price
            return Next.TAKER if ex.post_only_rejects > self.cfg.max_post_only_rejects else Next.SEND
        if rec.status is S.REJECTED and rec.reason != "proven absent":
            ex.reasons.append(f"rejected {rec.reject_code}: {rec.reason}")
            return Next.SLICE_DONE
        return Next.SEND  # repriced, absent, or cancelled/expired by someone else: place again at the touch

    def slice_done(self, ex: Execution) -> None:
        """Auto mode: record the slice's choice and, for a maker attempt, whether it filled as maker in time."""
        c = ex.choice
        if c is None:
            return
        filled = ex.maker_qty - ex.slice_maker0 >= ex.slices[ex.slice_no] - ex.filter.step_f / 2
        ex.choice = None
        self.tca.choice(ex.intent.intent_id, SliceChoice(
            slice_no=ex.slice_no, rest=c.rest, p_fill=c.p_fill, maker_bps=c.maker_bps, taker_bps=c.taker_bps,
            features=c.features, filled=filled and c.rest))
        if c.rest and self.auto is not None and not ex.halted:
            self.auto.attempt_done(c.features, filled)
