"""The local Binance USD-M compatible exchange: a matching engine (pure library, no sockets) and a
loopback server speaking Binance's REST and websocket protocols.

Owns: the package's layout, one concept per module —
- market data: ``marketdata`` (its own event types), ``recording`` (reading and decoding
  recordings), ``market`` (recording tape and synthetic flow), ``book`` (its own L2 book);
- matching (used in-process by replay): ``orders`` (NewOrder, Order, Execution), ``accounts``,
  ``markets`` (books and prices), ``margin``, ``execution`` (fills, fees, PnL, cancels),
  ``stops`` (conditional orders), ``liquidation``, ``filters`` (placement checks), ``matching``
  (``MatchingEngine``); ``symbols`` (exchangeInfo and filters);
- the server: ``server`` (``LocalExchange``: assembly and life cycle), ``player`` (market play),
  ``marks`` (mark prices, funding), ``routes_market``, ``routes_orders``, ``routes_algo``,
  ``routes_account``, ``routes_streams``, ``control`` (``/_hedge/`` API), ``orderlog``, ``rest``
  (request pipeline), ``auth`` (signatures), ``limits`` (rate limits), ``errors`` (Binance error
  answers), ``wire`` (Binance JSON shapes), ``streams`` (websocket fan-out), ``depthstream``
  (depth frames), ``userdata`` (listenKeys, user-data events), ``faults`` (fault plan).

Must never: import the engine it referees — no stage (feeds, signals, risk, router, portfolio,
venue, state, app) and not its events (``hedge.events``); only ``hedge.config`` (the schema of
its settings). Enforced by an import-linter contract.
"""
