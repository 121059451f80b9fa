"""Fixture of the signal commands' tests: a private copy of the repository's configs/ to change freely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


@pytest.fixture
def cfg_dir(tmp_path: Path) -> Path:
    """configs/ copied under tmp_path, without a calibrator.yaml (as before any `hedge calibrate`)."""
    d = tmp_path / "configs"
    shutil.copytree(CONFIGS, d)
    (d / "calibrator.yaml").unlink(missing_ok=True)
    return d
