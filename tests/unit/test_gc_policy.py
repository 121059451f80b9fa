"""The engine's GC policy (hedge.app.gc_policy): start-up frozen and a higher gen-0 threshold while it
runs, CPython's settings back afterwards (a process that runs several replays)."""

from __future__ import annotations

import gc
import weakref

import pytest

from hedge.app import GC_GEN0_THRESHOLD, gc_policy


def test_policy_applies_inside_and_restores_after() -> None:
    before = gc.get_threshold()
    start_frozen = gc.get_freeze_count()
    with gc_policy():
        assert gc.get_threshold()[0] == GC_GEN0_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() > start_frozen  # what start-up left is never scanned again
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_policy_restores_on_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), gc_policy():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


class _Node:
    def __init__(self) -> None:
        self.me: _Node | None = self


def test_a_cycle_made_while_running_is_still_collected() -> None:
    with gc_policy():
        node = _Node()
        ref = weakref.ref(node)
        del node
        gc.collect()
        assert ref() is None  # freeze only covers what existed before the engine started
