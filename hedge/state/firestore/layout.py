"""The Firestore document layout of the state sync: which document holds which state, and its content.

Owns: the document paths (``<root>/<instance>/state/<surface>`` for the synced surfaces and
``<root>/<instance>/nav_history/<bucket start ms>`` for the NAV history), the surfaces synced, the
NAV history point built from a ``nav_state`` file, and the content hash that makes a write
idempotent (``_sync.content_hash``: sha256 of the document's canonical JSON without ``_sync``).

Must never: do I/O, or put anything in a document that is not in the state file it comes from
(besides ``_sync``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import msgspec

SYNCED_SURFACES: tuple[str, ...] = ("nav_state", "positions_state", "leaderboard_state")
SYNC_FIELD = "_sync"
_canonical = msgspec.json.Encoder(order="sorted")


@dataclasses.dataclass(frozen=True)
class Layout:
    root: str = "hedge"
    instance: str = "default"

    @property
    def base(self) -> str:
        return f"{self.root}/{self.instance}"

    def state(self, surface: str) -> str:
        return f"{self.base}/state/{surface}"

    def nav_history(self, bucket_ms: int) -> str:
        return f"{self.base}/nav_history/{bucket_ms}"


@dataclasses.dataclass(frozen=True)
class Doc:
    """One document's full content, with its hash (also stored in it as ``_sync.content_hash``)."""

    path: str
    data: dict[str, Any]
    content_hash: str
    source_ns: int = 0  # when the state it holds was written (``updated_ns``): the sync latency's start


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical.encode(content)).hexdigest()


def make_doc(path: str, content: dict[str, Any], source_ns: int = 0) -> Doc:
    h = content_hash(content)
    return Doc(path=path, data={**content, SYNC_FIELD: {"content_hash": h}}, content_hash=h, source_ns=source_ns)


def nav_point(nav_state: dict[str, Any], bucket_ms: int) -> dict[str, Any]:
    """One NAV history point: the bucket's first NAV reading seen."""
    keys = ("nav", "wallet_balance", "unrealized_pnl", "peak_nav", "source", "nav_ns")
    return {"ts_ms": bucket_ms, **{k: nav_state[k] for k in keys if k in nav_state}}


def bucket_ms(nav_ns: int, every_s: float) -> int:
    every_ms = max(1, round(every_s * 1000))
    return nav_ns // 1_000_000 // every_ms * every_ms
