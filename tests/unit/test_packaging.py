"""pyproject.toml uses the current packaging metadata forms (no setuptools deprecation warning on install)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_license_is_an_spdx_string_with_existing_license_files() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = meta["project"]
    # a TOML table (``{text = ...}``) makes setuptools >= 77 warn on every install
    assert isinstance(project["license"], str) and project["license"].startswith("LicenseRef-")
    for pattern in project["license-files"]:
        assert list(ROOT.glob(pattern)), pattern
    assert any(r.startswith("setuptools>=77") for r in meta["build-system"]["requires"])
