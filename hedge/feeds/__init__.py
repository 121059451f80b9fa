"""Market data: the Binance wire codec, websocket connections, the local order book and its sync
state machine, the recorder and the replay source. Must never: import risk, the router,
signals, a venue or the portfolio.
"""
