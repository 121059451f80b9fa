"""Risk: ``check_order()`` — the only place an order can be vetoed — NAV health, trading states,
the kill switch and the dead-man heartbeat.

Owns: the package's public names (the pure decision and its inputs).

Must never: import the router or a venue, or send an order. (Modules: ``check`` the gates,
``context`` their inputs, ``limits`` the compiled config, ``reasons`` the gate names, ``nav``,
``nav_rules``, ``trading_state``, ``cooloff``, ``stage`` the bus wiring with its collaborators
``exposure``, ``market_view``, ``ack_latency``, ``snapshot`` and ``counters``, ``kill_switch``,
``dead_man``, ``persisted`` the memory carried over a restart.)
"""

from hedge.risk.check import check_order, historical_cvar
from hedge.risk.context import BookRisk, NavHealth, PositionRisk, RiskContext
from hedge.risk.limits import RiskLimits, SymbolLimits
from hedge.risk.reasons import Reason

__all__ = [
    "BookRisk",
    "NavHealth",
    "PositionRisk",
    "Reason",
    "RiskContext",
    "RiskLimits",
    "SymbolLimits",
    "check_order",
    "historical_cvar",
]
