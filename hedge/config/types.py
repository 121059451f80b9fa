"""The value types of the configuration schemas: fractions, multiples, ports, times, symbols.

Owns: the annotated scalar types every schema uses (``Fraction`` carries the marker that the
loader's percentage normalisation looks for), the venue and log-level choices, and ``Section``,
the base of every config section (unknown keys are errors, values are frozen).

Must never: read a file or the environment, or hold a secret.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

FRACTION_META = msgspec.Meta(ge=0.0, le=1.0, extra={"fraction": True})
Fraction = Annotated[float, FRACTION_META]
Multiple = Annotated[float, msgspec.Meta(ge=0.0)]
Positive = Annotated[float, msgspec.Meta(gt=0.0)]
NonNeg = Annotated[float, msgspec.Meta(ge=0.0)]
PosInt = Annotated[int, msgspec.Meta(ge=1)]
NonNegInt = Annotated[int, msgspec.Meta(ge=0)]
Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
SymbolName = Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{2,20}$")]

Venue = Literal["local", "binance-testnet", "binance"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Base of every config section."""
