"""One real Firestore emulator per test session (the tests share one xdist worker: xdist_group "firestore"): started once, on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kit.firestore import EMULATOR_MISSING, FirestoreEmulator


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirestoreEmulator]:
    if EMULATOR_MISSING:
        pytest.skip(EMULATOR_MISSING)
    emu = FirestoreEmulator(tmp_path_factory.mktemp("firestore") / "emulator.log")
    emu.start()
    yield emu
    emu.kill()


@pytest.fixture
def emulator_env(firestore_emulator: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch) -> FirestoreEmulator:
    """The emulator is where the Firestore client goes (the client library's own switch)."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    return firestore_emulator
