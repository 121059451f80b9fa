"""hedge: an asyncio, event-driven trading engine for Binance USD-M perpetual futures.

Owns: the package version (``__version__``, what ``hedge version`` prints) and switching the compiled
hot path on (``hedge.native.install()``: a finder for the Cython-built modules, unless ``HEDGE_PURE=1``).

Must never: import a subpackage or do work on import beyond reading the small compiled-module manifest
(every command imports only what it needs, so ``hedge kill`` must not pay for ccxt).
"""

from hedge import native

__version__ = "0.1.0"

native.install()
