"""Configuration errors: which file, which key path, what was expected.

Owns: ``ConfigError`` / ``ConfigErrors`` (their messages are the operator's interface: tests pin
them), and the walk that names every invalid value of a file (``problems``: the actual key path,
the allowed values of Literal/Enum fields), where msgspec stops at the first error.

Must never: read a file or the environment, or fix a value (normalisation is ``hedge.config.normalise``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

import msgspec


class ConfigError(Exception):
    """One configuration problem: which file, which key, what was expected."""

    def __init__(self, file: str, key: str, expected: str) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {expected}")


class ConfigErrors(Exception):
    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


_PATH_RE = re.compile(r" - at `\$(.*)`$")


def _choices(tp: Any) -> list[str] | None:
    """The allowed values of a Literal or Enum annotation (looking through Annotated)."""
    if get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) is Literal:
        return [str(a) for a in get_args(tp)]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return [str(m.value) for m in tp]
    return None


def problems(data: Any, tp: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every invalid value below ``path``: (key path, what was expected), in file order.

    msgspec stops at the first error and reports dict entries as ``[...]``; this walk goes on
    (an operator fixes every error of a file in one pass), names the actual key, and lists the
    allowed values of Literal/Enum fields.
    """
    base = get_args(tp)[0] if get_origin(tp) is Annotated else tp
    if isinstance(base, type) and issubclass(base, msgspec.Struct) and isinstance(data, dict):
        hints = get_type_hints(base, include_extras=True)
        info = {f.encode_name: f.name for f in msgspec.structs.fields(base)}
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in info:
                yield sub, "unknown key (not in the schema; check its spelling and section)"
            else:
                yield from problems(value, hints[info[key]], sub)
        return
    if get_origin(base) is dict and isinstance(data, dict):
        ktype, vtype = get_args(base)
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            bad_key = list(problems(key, ktype, f"{sub} (key)"))
            yield from bad_key or problems(value, vtype, sub)
        return
    if get_origin(base) is list and isinstance(data, list):
        (itype,) = get_args(base)
        for i, value in enumerate(data):
            yield from problems(value, itype, f"{path}[{i}]")
        return
    try:
        msgspec.convert(data, tp, strict=True)
    except msgspec.ValidationError as exc:
        choices = _choices(tp)
        if choices is not None:
            yield path, f"invalid value {data!r}; expected one of: {', '.join(choices)}"
        else:
            yield path, _PATH_RE.sub("", str(exc))


def locate(data: Any, tp: Any, path: str) -> tuple[str, str] | None:
    """The first invalid value below ``path`` (see ``problems``), or None."""
    return next(problems(data, tp, path), None)


def first_problem(exc: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec's own words for ``exc``, with its path (e.g. a required key is missing)."""
    msg = str(exc)
    m = _PATH_RE.search(msg)
    return (m.group(1).lstrip(".") if m else "", _PATH_RE.sub("", msg))
