"""Every doctor check in order, on the configured venue.

Owns: ``diagnose`` (the host checks, then the venue checks on the hosts and key it is given) and
``doctor`` (the venue's hosts and key from the configuration: the in-process local exchange, or
a running one at ``rest_url``, with its built-in test key; Binance's futures and spot hosts or
the testnet's, with the environment's keys).

Must never: print (the command does), or keep the local exchange it started running.
"""

from __future__ import annotations

from collections.abc import Mapping

from hedge.config import Config
from hedge.doctor import host
from hedge.doctor.client import DoctorClient
from hedge.doctor.result import Check
from hedge.doctor.venue import VenueDoctor

BINANCE_SPOT_API = "https://api.binance.com"  # /sapi lives on the spot API host, not fapi


async def diagnose(cfg: Config, *, rest: str, spot: str, api_key: str, api_secret: str,
                   now_ms: int, env: Mapping[str, str] | None = None) -> list[Check]:
    checks = [host.python_and_dependencies(), host.build(), host.log_dir(cfg), host.metrics_port(cfg),
              host.api_keys(cfg, env), host.calibrator(cfg, now_ms), await host.alert_endpoints(cfg, env)]
    if not api_key or not api_secret:
        return [*checks, Check("venue", "FAIL", "skipped: no API key", "set the keys, then run doctor again")]
    http = cfg.runtime.http
    client = DoctorClient(api_key, api_secret, recv_window_ms=http.recv_window_ms, timeout_s=max(http.timeout_s, 5.0))
    try:
        checks += await VenueDoctor(cfg, client, rest, spot).run()
    finally:
        await client.close()
    return checks


async def doctor(cfg: Config, *, now_ms: int, env: Mapping[str, str], rest_url: str = "") -> list[Check]:
    rt = cfg.runtime
    if rt.venue == "local":
        from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
        from hedge.exchange.server import LocalExchange

        kw = {"rest": rest_url, "spot": rest_url, "api_key": DEFAULT_API_KEY, "api_secret": DEFAULT_API_SECRET}
        if rest_url:
            return await diagnose(cfg, now_ms=now_ms, env=env, **kw)
        ex = LocalExchange.from_config(rt.local_exchange, port=0)
        await ex.start()
        try:
            return await diagnose(cfg, now_ms=now_ms, env=env, **{**kw, "rest": ex.base_url, "spot": ex.base_url})
        finally:
            await ex.stop()
    testnet = rt.venue == "binance-testnet"
    rest = rest_url or (rt.feeds.rest_url_testnet if testnet else rt.feeds.rest_url_binance)
    return await diagnose(cfg, rest=rest, spot="" if testnet else BINANCE_SPOT_API, now_ms=now_ms, env=env,
                          api_key=env.get("BINANCE_API_KEY", ""), api_secret=env.get("BINANCE_API_SECRET", ""))
