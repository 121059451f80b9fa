"""Rows that mirror their events: every row field named like an event field is copied from it.

Owns: ``mirror``, so that a field added to both an event and its state-file row reaches the file
without a copy line; only derived fields are spelled out by the builders.

Must never: compute a derived value, or do I/O.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

Row = TypeVar("Row", bound=msgspec.Struct)


def mirror(row_type: type[Row], src: msgspec.Struct, **computed: Any) -> Row:
    """A ``row_type`` holding every field it shares by name with the event ``src``, plus ``computed``."""
    shared = {f: getattr(src, f) for f in row_type.__struct_fields__ if f not in computed and hasattr(src, f)}
    return row_type(**shared, **computed)
