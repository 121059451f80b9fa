"""Positions: the ledger with TP/SL levels, the exit scanner and reconciliation with the exchange
(which is authoritative).
"""
