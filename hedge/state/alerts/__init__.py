"""Alerts: notifiers (Telegram, webhook), the dispatcher that keeps them off the engine's path,
and the router that turns engine events into alerts. Must never: block or raise into the engine,
or let a secret into a message, a log line or a counter.
"""
