"""Alerts: notifiers (Telegram, webhook), the dispatcher that keeps them off the engine's path,
and the router that turns engine events into alerts.

Owns: alert delivery: ``notifier`` the protocol, ``telegram`` and ``webhook`` the channels,
``dispatcher`` the bounded queue, deduplication and workers, ``router`` which events become
alerts and at what severity.

Must never: block or raise into the engine, or let a secret into a message, a log line or a
counter.
"""
