"""The write-only face of Firestore: the one module that touches the client, and only to write.

Owns: opening the client (credentials: Google's application-default credentials, which include a
service-account file named by ``GOOGLE_APPLICATION_CREDENTIALS``; the emulator when
``FIRESTORE_EMULATOR_HOST`` is set, the client library's own switch) and ``commit(docs)``: one
``WriteBatch`` of ``set`` calls, committed without the library's retry (the service owns retries
and backoff), with a timeout. ``Transient`` marks the failures worth a quick retry (UNAVAILABLE,
DEADLINE_EXCEEDED, ABORTED, INTERNAL).

The one-way rule is structural: ``FirestoreWriter`` exposes ``commit`` and ``close`` only; no
document is ever read (tests/unit/state/test_firestore_one_way.py checks the calls this package
makes).

Must never: read a document (get, stream, list, listen, query, transaction), block the event loop
(the service calls ``commit`` from a worker thread), or put a credential in a message.
"""

from __future__ import annotations

import os
from typing import Any

from hedge.state.firestore.layout import Doc

EMULATOR_ENV = "FIRESTORE_EMULATOR_HOST"
EMULATOR_PROJECT = "hedge-local"


class SyncError(Exception):
    """A commit failed (``transient``: worth retrying soon)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class FirestoreWriter:
    """Commits batches of full-document ``set`` writes. Thread-safe for one caller at a time."""

    def __init__(self, project: str = "", *, timeout_s: float = 10.0) -> None:
        from google.cloud import firestore  # the optional extra [firestore]

        if not project and os.getenv(EMULATOR_ENV) and not os.getenv("GOOGLE_CLOUD_PROJECT"):
            project = EMULATOR_PROJECT
        self._client = firestore.Client(project=project or None)
        self.project: str = self._client.project
        self.timeout_s = timeout_s

    def commit(self, docs: list[Doc]) -> None:
        """Write every document of ``docs`` (whole-document ``set``) in one atomic batch."""
        from google.api_core import exceptions as gexc

        batch = self._client.batch()
        for doc in docs:
            batch.set(self._client.document(doc.path), doc.data)
        transient: tuple[type[Exception], ...] = (
            gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.Aborted, gexc.InternalServerError, gexc.RetryError,
        )
        try:
            batch.commit(retry=None, timeout=self.timeout_s)
        except transient as exc:
            raise SyncError(_describe(exc), transient=True) from None
        except gexc.GoogleAPIError as exc:
            raise SyncError(_describe(exc), transient=False) from None

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]


def _describe(exc: Any) -> str:
    """The error's class and gRPC status, never its full text (it may quote request metadata)."""
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__}{f' ({code})' if code is not None else ''}"
