"""Market data: the Binance wire codec, websocket connections, the local order book and its sync
state machine, the recorder and the replay source.

Owns: turning exchange market data (live sockets or recordings) into typed bus events
(``BookUpdate``, ``Trade``, ``MarkPrice``, ``FeedStatus``...): ``codec`` the wire format,
``connection`` the sockets and endpoints, ``sync`` and ``book`` the order books, ``dispatch`` the
frame routing, ``market`` the live feed, ``recording`` the recorder and replay source, ``verify``
the book check of ``hedge replay --verify-book``.

Must never: import risk, the router, signals, a venue or the portfolio.
"""
