"""The sync's queue: at most one pending write per document, the newest content wins, bounded.

Owns: what is waiting to be written. ``offer`` replaces a document's pending content (counted
``superseded``) or appends it; when ``maxsize`` documents are waiting the oldest one's write is
dropped (counted ``dropped``: its next change queues it again). ``take`` hands out a batch;
``put_back`` returns a failed batch without overwriting anything newer offered meanwhile.

Must never: block, or keep two versions of one document.
"""

from __future__ import annotations

from collections import OrderedDict

from hedge.state.firestore.layout import Doc


class Pending:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._docs: OrderedDict[str, Doc] = OrderedDict()
        self.superseded = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._docs)

    def offer(self, doc: Doc) -> None:
        if doc.path in self._docs:
            self.superseded += 1
            self._docs[doc.path] = doc
            return
        if len(self._docs) >= self.maxsize:
            self._docs.popitem(last=False)
            self.dropped += 1
        self._docs[doc.path] = doc

    def take(self, n: int) -> list[Doc]:
        return [self._docs.popitem(last=False)[1] for _ in range(min(n, len(self._docs)))]

    def put_back(self, docs: list[Doc]) -> None:
        """Return a failed batch to the front; a document offered again meanwhile keeps its newer content."""
        for doc in reversed(docs):
            if doc.path in self._docs:
                continue
            if len(self._docs) >= self.maxsize:
                self.dropped += 1
                continue
            self._docs[doc.path] = doc
            self._docs.move_to_end(doc.path, last=False)
