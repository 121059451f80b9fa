"""The Firestore sync is one way: the code never reads Firestore, and its queue keeps the newest state.

The scan parses every module of hedge/state/firestore and the ``hedge sync`` command and fails on
any call of a reading method of the client library (get, stream, list, listen, query,
transaction...); the writer exposes nothing but ``commit`` and ``close``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from hedge.state.firestore.layout import Doc, make_doc
from hedge.state.firestore.pending import Pending
from hedge.state.firestore.writer import FirestoreWriter

ROOT = Path(__file__).resolve().parents[3]
SYNC_CODE = [*sorted((ROOT / "hedge/state/firestore").glob("*.py")), ROOT / "hedge/commands/sync.py"]
READS = {
    "get", "get_all", "stream", "list_documents", "list_collections", "collections", "on_snapshot", "listen",
    "where", "order_by", "limit", "limit_to_last", "offset", "start_at", "start_after", "end_at", "end_before",
    "select", "count", "sum", "avg", "aggregate", "find_nearest", "collection_group", "transaction",
    "run_transaction", "run_query", "batch_get_documents", "get_document", "partition_query",
    "recursive_delete", "bulk_writer", "snapshot",
}


def _calls(path: Path) -> list[tuple[str, int]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            out.append((name, node.lineno))
    return out


def test_the_sync_code_makes_no_reading_call() -> None:
    assert len(SYNC_CODE) >= 6
    found = [f"{p.relative_to(ROOT)}:{line} {name}()" for p in SYNC_CODE for name, line in _calls(p) if name in READS]
    assert not found, f"the Firestore sync must never read: {found}"


def test_the_scan_would_catch_a_read(tmp_path: Path) -> None:
    p = tmp_path / "x.py"
    p.write_text("def f(client):\n    return client.document('a/b').get()\n")
    assert [n for n, _ in _calls(p) if n in READS] == ["get"]


def test_the_writer_exposes_only_writes() -> None:
    public = {n for n in vars(FirestoreWriter) if not n.startswith("_")}
    assert public == {"commit", "close"}


def _doc(path: str, v: int) -> Doc:
    return make_doc(path, {"v": v})


@given(st.lists(st.tuples(st.sampled_from("abcdefg"), st.integers(0, 9)), max_size=60), st.integers(1, 5))
def test_the_queue_keeps_one_newest_version_per_document_and_stays_bounded(
    offers: list[tuple[str, int]], maxsize: int,
) -> None:
    q = Pending(maxsize)
    newest: dict[str, int] = {}
    for path, v in offers:
        q.offer(_doc(path, v))
        newest[path] = v
        assert len(q) <= maxsize
    taken = q.take(100)
    assert len({d.path for d in taken}) == len(taken)
    assert all(d.data["v"] == newest[d.path] for d in taken)
    assert q.superseded + q.dropped + len(taken) == len(offers)


def test_a_failed_batch_goes_back_without_overwriting_newer_content() -> None:
    q = Pending(4)
    q.offer(_doc("a", 1))
    q.offer(_doc("b", 1))
    batch = q.take(2)
    q.offer(_doc("a", 2))  # newer content while the batch was in flight
    q.put_back(batch)
    assert [(d.path, d.data["v"]) for d in q.take(10)] == [("b", 1), ("a", 2)]
