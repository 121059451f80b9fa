"""The shared test kit: one config factory, one way to wait, one local exchange, one replay.

Modules: ``config`` (``make_config``: the built-in defaults with changes by dotted path, and a
private copy of configs/), ``wait`` (``wait_for`` / ``wait_for_sync``: wait on a condition,
never a fixed sleep), ``exchange`` (the in-process local exchange, a ccxt client and a venue on
it, a service in the background), ``replay`` (one replay of the bundled BTCUSDT recording).
The fixtures built on them are in tests/conftest.py.
"""
