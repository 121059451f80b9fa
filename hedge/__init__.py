"""hedge: an asyncio, event-driven trading engine for Binance USD-M perpetual futures.

Owns: the package version (``__version__``, what ``hedge version`` prints).

Must never: import a subpackage or do work on import (every command imports only what it needs,
so ``hedge kill`` must not pay for ccxt).
"""

__version__ = "0.1.0"
