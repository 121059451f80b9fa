"""Venues: the exchange client (ccxt REST + user-data websocket) and the in-process simulated
venue, behind one Venue protocol.

Owns: the ``Venue`` protocol (``base``) and its implementations: ``binance`` (ccxt; with
``binance_wire``, ``binance_filters``, ``user_stream``, ``rate_limit``, ``errors``), ``sim`` (the
matching engine in process, for replay) and ``dry_run`` (nothing leaves the process); ``account``
polls the venue's NAV onto the bus.

Must never: know Binance field names outside the Binance adapter (the only other place that
does is hedge/feeds), decide whether to trade, or retry an order placement by itself.
"""
