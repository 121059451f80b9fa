"""Venues: the exchange client (ccxt REST + user-data websocket) and the in-process simulated
venue, behind one Venue protocol. The adapter is the only place outside hedge/feeds that knows
Binance field names.
"""
