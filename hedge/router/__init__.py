"""Routing and execution: exchange filters, the order lifecycle, maker-first routing with taker
fallback, TWAP and the slippage model.

Owns: turning an approved intent into venue orders and following them to the end: ``router`` the
stage, ``execution`` maker-first/taker/TWAP, ``lifecycle`` and ``pending`` the orders in flight,
``filters`` the exchange's price/quantity rules, ``slippage``, ``protective`` the resting stops,
``health`` and ``records`` what it reports, ``clock`` its time source.

Must never: do risk math; it sends only what carries an approval from
``hedge.risk.check_order()``.
"""
