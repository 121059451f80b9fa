"""The daemon: one engine wired to one venue, as ``hedge run`` runs it.

Owns: nothing but this map, so that importing a light part (``hedge.daemon.lock``, which
``hedge kill`` reads before anything else) never loads the venue adapters:
- ``hedge.daemon.venues``: ``select_venue``, the one place that knows the venues;
- ``hedge.daemon.wiring``: ``Daemon``, the wiring order and the lifetime of what the engine does not own;
- ``hedge.daemon.once``: ``OnceCycle``, the ``--once`` cycle and its ``OnceSummary``;
- ``hedge.daemon.lock``: one daemon per log dir, and ``daemon.json`` naming the running one;
- ``hedge.daemon.cancel``: ``hedge kill --cancel``'s direct cancel, without the daemon;
- ``hedge.daemon.errors``: ``SetupError``.

Must never: print (the command modules do), make a trading decision, or start anything that
blocks the engine's start on the market (books sync while the engine already runs).
"""
