"""Shared command helpers: loading the configuration applies its human-log level."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from hedge.commands.common import load_config_or_report


@pytest.fixture
def root_level() -> Iterator[None]:
    root = logging.getLogger()
    before = root.level
    yield
    root.setLevel(before)


@pytest.mark.usefixtures("root_level")
def test_runtime_log_level_sets_the_human_log_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEDGE_LOG_LEVEL", raising=False)
    (tmp_path / "runtime.yaml").write_text("log_level: WARNING\n")
    logging.getLogger().setLevel(logging.INFO)
    assert load_config_or_report(str(tmp_path)) is not None
    assert logging.getLogger().level == logging.WARNING
    monkeypatch.setenv("HEDGE_LOG_LEVEL", "debug")  # the environment wins over the file
    assert load_config_or_report(str(tmp_path)) is not None
    assert logging.getLogger().level == logging.DEBUG


@pytest.mark.usefixtures("root_level")
def test_a_bad_config_leaves_the_level_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "runtime.yaml").write_text("log_level: LOUD\n")
    logging.getLogger().setLevel(logging.INFO)
    assert load_config_or_report(str(tmp_path)) is None
    assert logging.getLogger().level == logging.INFO
    assert "log_level" in capsys.readouterr().err
