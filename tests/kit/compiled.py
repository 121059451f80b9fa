"""Tests that compare a compiled (typed) module with its ``.py``: skip them when the build runs the module
pure (nothing to compare), fail them then under ``HEDGE_EXPECT_COMPILED`` (CI's compiled build)."""

from __future__ import annotations

import os

import pytest

from hedge import native


def require_compiled(*modules: str) -> None:
    missing = [m for m in modules if m not in native.compiled_modules()]
    if not missing:
        return
    if os.environ.get("HEDGE_EXPECT_COMPILED"):
        pytest.fail(f"{', '.join(missing)} not compiled: {native.status()}")
    pytest.skip(f"{', '.join(missing)} runs pure here ({native.status()})")
