"""Signals and sizing: per-tick microstructure features, calibrator, scores, SPRT, sizing and the
screener that turns features into order intents.

Owns: every step from a book tick to an ``OrderIntent``: ``features`` (with ``microstructure``,
``flow``, ``volatility``), ``strategies``, ``screener``, ``sizing``, ``calibrator`` (and the
offline ``calibration``/``labeling``), ``scores``/``round_trips`` (with ``hedge.model.sprt``) the record of realized
trips, ``trading_window``, and ``stage`` the bus wiring.

Must never: send orders, veto orders, or know a wire format.
"""
