"""Binance error answers of the local exchange: code, message and HTTP status of every rejection.

Owns: the ``Reject`` exception raised by the matching engine and the REST layer, and one constructor
per Binance error the local exchange can produce, with Binance's own code, text and HTTP status
(see the protocol reference, section 4; -5000 for an unknown path or method is what fapi.binance.com
answers, and -1000 with the reason in brackets is Binance's documented form of that code).

Must never: invent codes Binance does not use, or carry anything but the wire answer.
"""

from __future__ import annotations


class Reject(Exception):
    """A request Binance would refuse: ``{"code": code, "msg": msg}`` with HTTP ``status``."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status


UNKNOWN_ERROR_MSG = "Unknown error, please check your request or try again later."


def unknown_503() -> Reject:
    return Reject(-1000, UNKNOWN_ERROR_MSG, 503)


def timeout_1007() -> Reject:
    return Reject(
        -1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown.", 408
    )


def too_many_requests(banned_until_ms: int | None = None) -> Reject:
    if banned_until_ms is None:
        return Reject(
            -1003, "Too many requests; current limit is exceeded. Please use the websocket for live updates.", 429
        )
    return Reject(
        -1003,
        f"Way too many requests; IP banned until {banned_until_ms}. "
        "Please use the websocket for live updates to avoid bans.",
        418,
    )


def too_many_orders() -> Reject:
    return Reject(-1015, "Too many new orders; current limit is exceeded.", 429)


def invalid_timestamp() -> Reject:
    return Reject(-1021, "Timestamp for this request is outside of the recvWindow.")


def invalid_signature() -> Reject:
    return Reject(-1022, "Signature for this request is not valid.")


def unauthorized() -> Reject:
    return Reject(-1002, "You are not authorized to execute this request.", 403)


def invalid_path(method: str, path: str) -> Reject:
    """No such endpoint (or not for this method): fapi.binance.com answers 404 with -5000."""
    return Reject(-5000, f"Path {path}, Method {method} is invalid", 404)


def refused(status: int, reason: str) -> Reject:
    """A request the HTTP layer refused (too large, not a websocket upgrade, ...), with its HTTP status."""
    return Reject(-1000, f"An unknown error occurred while processing the request.[{reason}]", status)


def bad_api_key() -> Reject:
    return Reject(-2015, "Invalid API-key, IP, or permissions for action.", 401)


def missing_param(name: str) -> Reject:
    return Reject(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def bad_param(name: str, value: str) -> Reject:
    return Reject(-1130, f"Data sent for parameter '{name}' is not valid. ({value})")


def illegal_chars(name: str, legal_range: str) -> Reject:
    return Reject(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal_range}'.")


def illegal_chars_any() -> Reject:
    return Reject(-1100, "Illegal characters found in a parameter.")


def too_many_params() -> Reject:
    return Reject(-1101, "Too many parameters sent for this endpoint.")


def duplicate_param() -> Reject:
    return Reject(-1101, "Duplicate values for a parameter detected.")


def bad_precision() -> Reject:
    return Reject(-1111, "Precision is over the maximum defined for this asset.")


def bad_interval() -> Reject:
    return Reject(-1120, "Invalid interval.")


def bad_symbol() -> Reject:
    return Reject(-1121, "Invalid symbol.")


def window_too_long(hours: int) -> Reject:
    """-1127: startTime and endTime further apart than the endpoint allows."""
    return Reject(-1127, f"More than {hours} hours between startTime and endTime.")


def invalid_listen_key() -> Reject:
    return Reject(-1125, "This listenKey does not exist.")


def cancel_rejected() -> Reject:
    return Reject(-2011, "Unknown order sent.")


def no_such_order() -> Reject:
    return Reject(-2013, "Order does not exist.")


def margin_insufficient() -> Reject:
    return Reject(-2019, "Margin is insufficient.")


def reduce_only_rejected() -> Reject:
    return Reject(-2022, "ReduceOnly Order is rejected.")


def max_open_orders() -> Reject:
    return Reject(-2025, "Reach max open order limit.")


def qty_not_positive() -> Reject:
    return Reject(-4003, "Quantity less than or equal to zero.")


def qty_below_min() -> Reject:
    return Reject(-4004, "Quantity less than min quantity.")


def qty_above_max() -> Reject:
    return Reject(-4005, "Quantity greater than max quantity.")


def price_not_positive() -> Reject:
    return Reject(-4001, "Price less than 0.")


def price_below_min() -> Reject:
    return Reject(-4013, "Price less than min price.")


def price_above_max() -> Reject:
    return Reject(-4002, "Price greater than max price.")


def price_not_tick() -> Reject:
    return Reject(-4014, "Price not increased by tick size.")


def limit_price_too_high(bound: str) -> Reject:
    return Reject(-4016, f"Limit price can't be higher than {bound}.")


def limit_price_too_low(bound: str) -> Reject:
    return Reject(-4024, f"Limit price can't be lower than {bound}.")


def qty_not_step() -> Reject:
    return Reject(-4023, "Quantity not increased by step size.")


def duplicate_client_id() -> Reject:
    return Reject(-4116, "ClientOrderId is duplicated.")


def percent_price_market() -> Reject:
    return Reject(-4131, "The counterparty's best price does not meet the PERCENT_PRICE filter limit.")


def min_notional(notional: str) -> Reject:
    return Reject(-4164, f"Order's notional must be no smaller than {notional} (unless you choose reduce only).")


def fok_rejected() -> Reject:
    return Reject(
        -5021,
        "Due to the order could not be filled immediately, the FOK order has been rejected. "
        "The order will not be recorded in the order history",
    )


def post_only_rejected() -> Reject:
    return Reject(
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected. "
        "The order will not be recorded in the order history",
    )


def would_immediately_trigger() -> Reject:
    return Reject(-2021, "Order would immediately trigger.")


def use_algo_endpoint() -> Reject:
    return Reject(-4120, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.")


def invalid_order_type(otype: str) -> Reject:
    return Reject(-1116, f"Invalid orderType. ({otype})")


def not_required(name: str) -> Reject:
    return Reject(-1106, f"Parameter '{name}' sent when not required.")


def position_side_mismatch() -> Reject:
    return Reject(-4061, "Order's position side does not match user's setting.")


def bad_leverage(lev: int) -> Reject:
    return Reject(-4028, f"Leverage {lev} is not valid")
