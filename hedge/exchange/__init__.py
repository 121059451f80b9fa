"""The local Binance USD-M compatible exchange: a matching engine (pure library, no sockets) and a
loopback server speaking Binance's REST and websocket protocols. Must never: import engine
stages (signals, risk, router, portfolio, venue).
"""
