"""Margin of the local exchange's accounts: PnL, initial and maintenance margin, liquidation price.

Owns: the accounts and the money maths on them, at the markets' marks (one-way mode, cross
margin, USDT only): unrealized PnL, position and open-order initial margin, the available
balance, the margin check of a new order (-2019), maintenance margin (|amount| x mark x the
symbol's rate: one bracket, maintenance amount 0), the margin health an account is liquidated
by, Binance's liquidation-price formula, and the insurance fund with a liquidation fill's
commission (taker fee + clearance fee, never more than the wallet holds; a loss beyond the
wallet is absorbed by the fund, so a wallet never goes below zero).

Must never: change a position or an order (fills and liquidations do), or do I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from hedge.exchange import errors
from hedge.exchange.accounts import Account, AccountPosition
from hedge.exchange.markets import MarketState
from hedge.exchange.orders import EPS, NewOrder, Order
from hedge.exchange.symbols import SymbolSpec


class Margin(MarketState):
    """Accounts and their margin (a layer of ``MatchingEngine``)."""

    def __init__(
        self, specs: dict[str, SymbolSpec], clock: Callable[[], int], maker_fee: float, taker_fee: float
    ) -> None:
        super().__init__(specs, clock)
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.accounts: dict[str, Account] = {}
        self.insurance_fund = 0.0  # clearance fees in, losses beyond a liquidated wallet out

    def add_account(self, key: str, balance: float) -> Account:
        acct = self.accounts[key] = Account(key=key, wallet=balance)
        return acct

    def unrealized(self, symbol: str, pos: AccountPosition) -> float:
        if abs(pos.amount) < EPS:
            return 0.0
        return pos.amount * (self.mark_price(symbol) - pos.entry_price)

    def position_margin(self, symbol: str, pos: AccountPosition) -> float:
        return abs(pos.amount) * self.mark_price(symbol) / pos.leverage

    def order_margin(self, order: Order) -> float:
        if order.reduce_only:
            return 0.0
        lev = self.accounts[order.account].position(order.symbol).leverage
        return order.remaining * order.price / lev

    def totals(self, account: str) -> tuple[float, float, float, float]:
        """(wallet, unrealized PnL, position initial margin, open-order initial margin)."""
        acct = self.accounts[account]
        upnl = sum(self.unrealized(s, p) for s, p in acct.positions.items())
        pos_im = sum(self.position_margin(s, p) for s, p in acct.positions.items())
        ord_im = sum(self.order_margin(o) for o in acct.open_orders.values())
        return acct.wallet, upnl, pos_im, ord_im

    def available(self, account: str) -> float:
        wallet, upnl, pos_im, ord_im = self.totals(account)
        return wallet + min(upnl, 0.0) - pos_im - ord_im

    def check_margin(self, acct: Account, req: NewOrder) -> None:
        """Reject (-2019) an order whose opening part needs more initial margin + fee than is available."""
        if req.reduce_only or req.close_position:
            return
        pos = acct.position(req.symbol)
        signed = req.quantity if req.side == "BUY" else -req.quantity
        opening = req.quantity if pos.amount * signed >= 0 else max(0.0, req.quantity - abs(pos.amount))
        if opening <= EPS:
            return
        px = req.price if req.type == "LIMIT" else self.mark_price(req.symbol)
        need = opening * px / pos.leverage + opening * px * self.taker_fee
        if need > self.available(acct.key) + EPS:
            raise errors.margin_insufficient()

    def maint_margin(self, symbol: str, pos: AccountPosition) -> float:
        """Maintenance margin of one position: |amount| x mark x the symbol's rate (one bracket)."""
        return abs(pos.amount) * self.mark_price(symbol) * self.specs[symbol].maint_margin_rate

    def margin_health(self, account: str) -> tuple[float, float]:
        """(margin balance = wallet + unrealized PnL, total maintenance margin) of the cross account."""
        balance, maint, _ = self._health(self.accounts[account])
        return balance, maint

    def _health(self, acct: Account) -> tuple[float, float, bool]:
        """``margin_health`` with each mark read once, and whether every position has a price."""
        balance, maint, priced = acct.wallet, 0.0, True
        for s, p in acct.positions.items():
            if abs(p.amount) >= EPS:
                mark = self.mark_price(s)
                priced = priced and mark > 0
                balance += p.amount * (mark - p.entry_price)
                maint += abs(p.amount) * mark * self.specs[s].maint_margin_rate
        return balance, maint, priced

    def liquidation_price(self, account: str, symbol: str) -> float:
        """The mark of ``symbol`` at which the account would be liquidated, the other positions and
        their marks held fixed; 0 when flat or when no positive price liquidates it. Binance's
        cross-margin one-way formula with maintenance amount 0:
        ``LP = (WB - TMM1 + UPNL1 - side x size x entry) / (size x MMR - side x size)``
        (WB wallet, TMM1 / UPNL1 maintenance margin / unrealized PnL of the other positions,
        side +1 long / -1 short, size = |amount|)."""
        acct = self.accounts[account]
        pos = acct.positions.get(symbol)
        if pos is None or abs(pos.amount) < EPS:
            return 0.0
        others_mm = others_upnl = 0.0
        for s, p in acct.positions.items():
            if s != symbol and abs(p.amount) >= EPS:
                others_mm += self.maint_margin(s, p)
                others_upnl += self.unrealized(s, p)
        side = 1.0 if pos.amount > 0 else -1.0
        size = abs(pos.amount)
        mmr = self.specs[symbol].maint_margin_rate
        price = (acct.wallet - others_mm + others_upnl - side * size * pos.entry_price) / (size * mmr - side * size)
        return max(0.0, price)

    def _liquidation_commission(self, acct: Account, spec: SymbolSpec, notional: float, realized: float,
                                taker_fee: float) -> float:
        """Commission of a liquidation fill: taker fee + clearance fee, at most what the wallet holds
        after ``realized``; the insurance fund takes the clearance fee and covers a loss beyond the
        wallet (the wallet is raised by that loss first, so it ends at zero, never below)."""
        after = acct.wallet + realized
        charged = min(taker_fee + notional * spec.liquidation_fee, max(0.0, after))
        self.insurance_fund += max(0.0, charged - taker_fee)
        if after < 0:
            self.insurance_fund += after
            acct.wallet -= after
        return charged
