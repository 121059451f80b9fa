"""Typed request parameters of the local exchange: Binance's parameter rules, once for every route.

Owns: decoding a request's raw query string and form body into parameters, and reading one
parameter as the type a handler needs, each failure answered with Binance's code:

- the wire: the body and every percent-escape must be UTF-8, else -1100 (``Illegal characters
  found in a parameter.``); a parameter sent twice is -1101 (``Duplicate values for a parameter
  detected.``); more than ``MAX_PARAMS`` parameters is -1101 too;
- required: absent or empty is -1102 (``Mandatory parameter '<name>' was not sent, ...``);
- integer: ``^[0-9]{1,20}$`` else -1100 naming that range, beyond a signed 64-bit long -1130;
- decimal: ``^([0-9]{1,20})(\\.[0-9]{1,20})?$`` else -1100 naming that range; more decimals than
  the symbol allows -1111;
- enumeration (case-insensitive, as the local exchange always took them) and boolean
  (``true``/``false``): anything else -1130 naming the value;
- symbol: a listed symbol, exact case (Binance refuses ``btcusdt``), else -1121;
- client order id: ``^[\\.A-Z\\:/a-z0-9_-]{1,36}$`` else -1100 naming that range.

Must never: hand a handler a value it would have to check again, or raise anything but a
``Reject`` for what a client sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from urllib.parse import parse_qsl

from hedge.exchange import errors
from hedge.exchange.symbols import SymbolSpec

MAX_PARAMS = 64  # Binance's endpoints take at most ~20; anything far beyond is refused
INT_RANGE = "^[0-9]{1,20}$"
DECIMAL_RANGE = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"
CLIENT_ID_RANGE = "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"
_INT = re.compile(r"[0-9]{1,20}", re.ASCII)
_DECIMAL = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?", re.ASCII)
_CLIENT_ID = re.compile(r"[.A-Z:/a-z0-9_-]{1,36}", re.ASCII)
_LONG_MAX = (1 << 63) - 1


def decode(query: str, body: bytes) -> tuple[dict[str, str], str]:
    """(parameters, body text) of a request: its raw query string and its form body merged."""
    try:
        text = body.decode("utf-8")
        pairs = [
            *parse_qsl(query, keep_blank_values=True, errors="strict", max_num_fields=MAX_PARAMS),
            *parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_PARAMS),
        ]
    except UnicodeDecodeError:
        raise errors.illegal_chars_any()
    except ValueError:  # parse_qsl: more than max_num_fields
        raise errors.too_many_params()
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise errors.duplicate_param()
        params[name] = value
    if len(params) > MAX_PARAMS:
        raise errors.too_many_params()
    return params, text


def parse_int(name: str, text: str) -> int:
    """``text`` as Binance reads an integer parameter (-1100 if not ``^[0-9]{1,20}$``, -1130 past a long)."""
    if not _INT.fullmatch(text):
        raise errors.illegal_chars(name, INT_RANGE)
    value = int(text)
    if value > _LONG_MAX:
        raise errors.bad_param(name, text)
    return value


def parse_decimal(name: str, text: str, max_decimals: int) -> float:
    """``text`` as Binance reads a decimal parameter (-1100 off the range; -1111 past ``max_decimals``)."""
    if not _DECIMAL.fullmatch(text):
        raise errors.illegal_chars(name, DECIMAL_RANGE)
    exp = Decimal(text).normalize().as_tuple().exponent
    if isinstance(exp, int) and -exp > max_decimals:
        raise errors.bad_precision()
    return float(text)


class Params:
    """One request's parameters, read by type."""

    __slots__ = ("params",)

    def __init__(self, params: dict[str, str]) -> None:
        self.params = params

    def get(self, name: str, default: str = "") -> str:
        """The raw text of ``name`` (``default`` when absent)."""
        return self.params.get(name, default)

    def need(self, name: str) -> str:
        """The raw text of a required parameter (-1102 when absent or empty)."""
        value = self.params.get(name)
        if not value:
            raise errors.missing_param(name)
        return value

    def integer(self, name: str) -> int:
        """A required integer parameter."""
        return parse_int(name, self.need(name))

    def optional_int(self, name: str) -> int | None:
        """An optional integer parameter (None when absent or empty)."""
        text = self.params.get(name)
        return parse_int(name, text) if text else None

    def int_or(self, name: str, default: int) -> int:
        value = self.optional_int(name)
        return default if value is None else value

    def limit(self, default: int, maximum: int) -> int:
        """The optional ``limit`` of a list: ``default`` when absent, else brought into [1, ``maximum``]."""
        return min(maximum, max(1, self.int_or("limit", default)))

    def decimal(self, name: str, max_decimals: int) -> float:
        """A required decimal parameter with at most ``max_decimals`` decimals."""
        return parse_decimal(name, self.need(name), max_decimals)

    def choice(self, name: str, choices: Iterable[str], default: str | None = None) -> str:
        """An enumeration parameter, upper-cased (required unless ``default`` is given)."""
        value = (self.need(name) if default is None else self.params.get(name) or default).upper()
        if value not in choices:
            raise errors.bad_param(name, value)
        return value

    def flag(self, name: str) -> bool:
        """A boolean parameter: "true" / "false" (absent = false)."""
        return self.choice(name, ("TRUE", "FALSE"), "FALSE") == "TRUE"

    def symbol(self, specs: Mapping[str, SymbolSpec]) -> SymbolSpec:
        """The listed symbol named by the required ``symbol`` (-1121 when it is not listed, exact case)."""
        spec = specs.get(self.need("symbol"))
        if spec is None:
            raise errors.bad_symbol()
        return spec

    def optional_symbol(self, specs: Mapping[str, SymbolSpec]) -> SymbolSpec | None:
        """As ``symbol`` when ``symbol`` is sent, else None."""
        return self.symbol(specs) if self.params.get("symbol") else None

    def client_id(self, name: str) -> str:
        """An optional client order id ("" when absent)."""
        value = self.params.get(name, "")
        if value and not _CLIENT_ID.fullmatch(value):
            raise errors.illegal_chars(name, CLIENT_ID_RANGE)
        return value
