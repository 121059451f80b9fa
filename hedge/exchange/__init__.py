"""The local Binance USD-M compatible exchange: a matching engine (pure library, no sockets) and a
loopback server speaking Binance's REST and websocket protocols.

Owns: the split of the exchange into its modules: ``matching`` (accounts, orders, fills, PnL,
funding; used in-process by replay), ``symbols`` (exchangeInfo and filters), ``market``
(recording tape and synthetic flow), ``server`` (``LocalExchange``: the aiohttp app, REST
handlers, market player), ``rest`` (request pipeline), ``auth`` (signatures), ``limits`` (rate
limits), ``errors`` (Binance error answers), ``wire`` (Binance JSON shapes), ``streams``
(websocket fan-out), ``depthstream`` (depth frames), ``userdata`` (listenKeys, user-data events),
``faults`` (fault plan), ``control`` (``/_hedge/`` API).

Must never: import engine stages (signals, risk, router, portfolio, venue, app).
"""
