"""Routing and execution: exchange filters, the order lifecycle, maker-first routing with taker
fallback, TWAP and the slippage model. Must never: do risk math; it sends only what carries an
approval from hedge.risk.check_order().
"""
