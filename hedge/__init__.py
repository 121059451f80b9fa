"""hedge: an asyncio, event-driven trading engine for Binance USD-M perpetual futures."""

__version__ = "0.1.0"
