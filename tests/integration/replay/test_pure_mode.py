"""``HEDGE_PURE=1`` (every module pure Python, the standard library's gzip) replays to the same fingerprints.

The suite's in-process replays (``bundled_replay``, ``classic_replay``) run the compiled hot path when the
install built it (``hedge.native``; ``.ci/run`` sets ``HEDGE_EXPECT_COMPILED=1``, so CI fails rather than
quietly run pure) and read with the fastest inflater installed; these tests run ``hedge replay`` in a
subprocess with ``HEDGE_PURE=1``, so both builds and both reading paths are held to
``BUNDLED_FINGERPRINT`` and ``CLASSIC_FINGERPRINT``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hedge import native
from hedge.feeds import recording
from hedge.feeds.recording import bundled_btcusdt
from hedge.replay.summary import ReplaySummary
from tests.kit.replay import BUNDLED_FINGERPRINT, CLASSIC_FINGERPRINT

PURE = {**os.environ, "HEDGE_PURE": "1"}


def pure_replay(log_dir: Path, **env: str) -> dict[str, object]:
    files = [str(p) for p in bundled_btcusdt()]
    out = subprocess.run([sys.executable, "-m", "hedge", "replay", *files, "--log-dir", str(log_dir)],
                         env={**PURE, **env}, capture_output=True, text=True, check=True, timeout=300).stdout
    summary: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return summary


def test_version_says_which_build_runs() -> None:
    """``hedge version`` names the mode; ``HEDGE_PURE=1`` loads no extension, even where they are built."""
    probe = ("import hedge.feeds.book, hedge.bus; from hedge import native; "
             "print(len(native.compiled_modules())); print(native.status())")
    count, status = subprocess.run([sys.executable, "-c", probe], env=PURE, capture_output=True, text=True,
                                   check=True, timeout=120).stdout.split("\n")[:2]
    assert (count, status) == ("0", "pure (HEDGE_PURE=1)")
    out = subprocess.run([sys.executable, "-m", "hedge", "version"], capture_output=True, text=True, check=True,
                         timeout=120).stdout.strip()
    assert out == f"hedge 0.1.0 ({native.status()})"
    built = native._manifest()
    if os.environ.get("HEDGE_EXPECT_COMPILED"):
        assert built, "CI expects the compiled build: setup.py built no extension"
    assert ("compiled: " in out) == bool(built) or "stale" in out, out


@pytest.mark.slow
def test_pure_mode_replays_to_the_fingerprints_of_the_compiled_build(
    tmp_path: Path, bundled_replay: tuple[ReplaySummary, Path], classic_replay: tuple[ReplaySummary, Path]
) -> None:
    assert recording._INFLATER[0] != "gzip"  # isal (a dependency), else zlib-ng (ccxt): the suite reads fast
    if native._manifest():  # the in-process replays ran the extensions
        assert {"hedge.feeds.book", "hedge.bus"} & set(native.compiled_modules()), native.status()
    assert bundled_replay[0].fingerprint == BUNDLED_FINGERPRINT
    assert classic_replay[0].fingerprint == CLASSIC_FINGERPRINT
    probe = "from hedge.feeds import recording; print(recording._INFLATER[0])"
    assert subprocess.run([sys.executable, "-c", probe], env=PURE, capture_output=True, text=True,
                          check=True, timeout=120).stdout.strip() == "gzip"
    summary = pure_replay(tmp_path / "logs")
    assert summary["fingerprint"] == BUNDLED_FINGERPRINT and summary["events"] == bundled_replay[0].events
    summary = pure_replay(tmp_path / "classic", HEDGE_STRATEGY__EXITS__PROFILE="classic")
    assert summary["fingerprint"] == CLASSIC_FINGERPRINT and summary["events"] == classic_replay[0].events


def test_a_changed_source_is_imported_pure(tmp_path: Path) -> None:
    """An editable install whose ``.py`` changed after the build: the finder leaves that module to the ``.py``."""
    so = tmp_path / "book.so"
    so.write_bytes(b"")
    finder = native._Finder({"hedge.feeds.book": {"file": str(so), "sha256": "0" * 64}})
    assert finder.find_spec("hedge.feeds.book", None) is None
    assert finder.find_spec("hedge.feeds.sync", None) is None  # not in the manifest
    src = native.source_path("hedge.feeds.book")
    finder.entries["hedge.feeds.book"]["sha256"] = native.digest(src, "hedge.feeds.book")
    # book cimports levels: with no compiled levels (its build failed) book cannot load its C layout
    assert finder.find_spec("hedge.feeds.book", None) is None
    finder.entries["hedge.feeds.levels"] = {"file": str(so), "sha256": "0" * 64}
    spec = finder.find_spec("hedge.feeds.book", None)
    assert spec is not None and spec.origin == str(so) and spec.name == "hedge.feeds.book"



def test_a_module_is_as_fresh_as_everything_it_cimports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """stage.pxd cimports features, which cimports flow and volatility: an edit of flow must make stage
    stale too (a compiled stage against a pure features fails to import: 'TradeFlow size changed')."""
    assert set(native.cimported("hedge.signals.stage")) == {
        "hedge.signals.features", "hedge.signals.flow", "hedge.signals.volatility"}
    assert native.cimported("hedge.feeds.book") == ["hedge.feeds.levels"]
    # a tree of its own: a cimports b, b cimports c (and a again: a cycle is followed once)
    for name, pxd in (("a", "from hedge.x.b cimport B\n"), ("b", "from hedge.x.c cimport C\nfrom hedge.x.a cimport A\n"),
                      ("c", "")):
        (tmp_path / f"{name}.py").write_text(f"# {name}\n")
        (tmp_path / f"{name}.pxd").write_text(pxd)
    monkeypatch.setattr(native, "source_path", lambda module: tmp_path / (module.rsplit(".", 1)[1] + ".py"))
    assert native.cimported("hedge.x.a") == ["hedge.x.b", "hedge.x.c"]
    before = native.digest(tmp_path / "a.py", "hedge.x.a")
    (tmp_path / "c.py").write_text("# c, edited\n")
    assert native.digest(tmp_path / "a.py", "hedge.x.a") != before
