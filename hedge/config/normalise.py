"""Percentages given where a fraction is expected, read as fractions (with a warning).

Owns: the walk of raw YAML data alongside a schema that turns a ``Fraction`` field's value in
(1, 100] into value / 100 (``5`` -> ``0.05``) and logs what it did, naming what set the value
(its file or environment variable, from ``where``). Multiples of NAV are typed ``Multiple`` and
never normalised.

Must never: validate (msgspec and ``hedge.config.errors`` do), or touch a value not typed ``Fraction``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import msgspec

log = logging.getLogger(__name__)


def normalize_fractions(data: Any, tp: msgspec.inspect.Type, path: str, where: Callable[[str], str]) -> Any:
    """Walk raw YAML data alongside the schema; turn percentages given as > 1 into fractions.

    ``where(key path)`` names what set a value (a file, "environment NAME") for the warning."""
    if isinstance(tp, msgspec.inspect.Metadata):
        if (tp.extra or {}).get("fraction") and isinstance(data, int | float) and not isinstance(data, bool):
            if 1.0 < data <= 100.0:
                log.warning("%s: %s = %s read as a percentage -> %s", where(path), path, data, data / 100.0)
                return data / 100.0
            return data
        return normalize_fractions(data, tp.type, path, where)
    if isinstance(tp, msgspec.inspect.StructType) and isinstance(data, dict):
        out = dict(data)
        for f in tp.fields:
            if f.encode_name in out:
                out[f.encode_name] = normalize_fractions(
                    out[f.encode_name], f.type, f"{path}.{f.encode_name}" if path else f.encode_name, where
                )
        return out
    if isinstance(tp, msgspec.inspect.DictType) and isinstance(data, dict):
        return {k: normalize_fractions(v, tp.value_type, f"{path}.{k}", where) for k, v in data.items()}
    if isinstance(tp, msgspec.inspect.ListType) and isinstance(data, list):
        return [normalize_fractions(v, tp.item_type, f"{path}[{i}]", where) for i, v in enumerate(data)]
    return data
