"""``hedge replay``: the whole pipeline over recordings, on the simulated venue, in event time.

Owns: the replay run: ``runner`` assembles and drives it line by line on an ``EventClock``
(``hedge.model.clock``, the engine's one clock in a replay), ``summary`` the ``ReplaySummary`` and
its fingerprint.

Must never: have a pipeline of its own (it runs the daemon's, from ``hedge.pipeline``), or let the
wall clock into an outcome (same input and configuration, same fingerprint).
"""
