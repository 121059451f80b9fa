"""The pre-trade gate service: ``check_order`` over HTTP for runners that are not hedge's own pipeline.

Owns: the package's modules — ``schemas`` (the wire types, the OpenAPI document is generated from
them), ``service`` (requests -> ``check_order`` with the risk stage's context, the idempotency
cache, post-trade feedback), ``app`` (the aiohttp application: routes, auth, size limit, errors).

Must never: send, cancel or size an order at a venue (it answers; the runner sends).
"""
