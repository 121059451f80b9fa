"""Fixture of the signal commands' tests: a private copy of the repository's configs/ to change freely."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.config import repo_configs


@pytest.fixture
def cfg_dir(tmp_path: Path) -> Path:
    """configs/ copied under tmp_path, without a calibrator.yaml (as before any `hedge calibrate`)."""
    d = repo_configs(tmp_path)
    (d / "calibrator.yaml").unlink(missing_ok=True)
    return d
