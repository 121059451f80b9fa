"""``.env.example`` lists every environment variable hedge reads (each HEDGE_/BINANCE_ name in
hedge/'s source, the mode variables and every feature flag), and ``./.env`` is read before the
configuration without overriding the process environment."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from hedge.cli import load_dotenv_file
from hedge.config.runtime import Features

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"[\"']((?:HEDGE|BINANCE)_[A-Z0-9_]*[A-Z0-9])[\"']")
MODES = ("DRY_RUN", "EXECUTOR_ONCE")


def listed() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def read_in_source() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "hedge").rglob("*.py"):
        names |= set(NAME.findall(path.read_text()))
    return names


def test_every_variable_read_is_listed() -> None:
    names = read_in_source()
    assert {"BINANCE_API_KEY", "BINANCE_API_SECRET", "HEDGE_TELEGRAM_TOKEN", "HEDGE_LOG_LEVEL"} <= names
    flags = {f"HEDGE_FEATURE_{f.upper()}" for f in Features.__struct_fields__}
    missing = (names | flags | set(MODES)) - listed()
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_dotenv_is_read_and_the_process_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("HEDGE_TEST_FROM_FILE=file\nHEDGE_TEST_BOTH=file\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEDGE_TEST_BOTH", "process")
    monkeypatch.delenv("HEDGE_TEST_FROM_FILE", raising=False)
    try:
        assert load_dotenv_file()
        assert os.environ["HEDGE_TEST_FROM_FILE"] == "file"
        assert os.environ["HEDGE_TEST_BOTH"] == "process"
    finally:
        os.environ.pop("HEDGE_TEST_FROM_FILE", None)
    (tmp_path / ".env").unlink()
    assert not load_dotenv_file()
