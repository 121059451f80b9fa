"""Portfolio: the position ledger (TP/SL levels, strategy, entry reason), its reconciliation with
the exchange (which is authoritative) and the exit scanner.

Owns: what the engine holds and why, in its modules: ``exits`` the level arithmetic, ``ledger``
the entries built from fills, ``store`` the durable copy, ``reconcile`` the comparison with the
exchange, ``scanner`` the per-tick exits, ``round_trips`` and ``trade_tracker`` the trade list (fills cut
into closed trades), ``protective`` the protective stops resting at the
exchange (feature ``exchange_stop_orders``), ``stage`` the bus wiring and the service.

Must never: send an order itself (exits are reduce-only intents through risk and the router) or
assume a position flat without proof.
"""
