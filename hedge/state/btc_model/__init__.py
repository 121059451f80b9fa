"""The BTC model: a compact 4h and daily technical reading of BTCUSDT, sent to the notifiers at each close.

Owns: the package's parts — ``model`` (the pure reading: EMA trend regime, realised-volatility
regime, funding and basis, and the message with the change since the last one), ``market`` (the
REST klines and premium index it reads) and ``job`` (the service that notices each close, reads,
sends once and remembers). docs/telegram.md describes the message.

Must never: trade or influence a trading decision, or run on the tick path.
"""
