"""Driving the dashboard app with Streamlit's own test harness (``streamlit.testing``).

``dashboard(log_dirs, panel)`` runs hedge/dashboard/app.py once with those log dirs and the tab of
``panel`` open (the app runs only the open tab), and returns the AppTest for assertions.
``chart_frames`` decodes the data of every chart the run drew (Arrow, as sent to the browser)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

import hedge.dashboard

APP = Path(hedge.dashboard.__file__).parent / "app.py"
Drive = Callable[..., AppTest]


@pytest.fixture
def dashboard(monkeypatch: pytest.MonkeyPatch) -> Drive:
    def run(log_dirs: list[Path], panel: str = "Equity", config: Path | None = None) -> AppTest:
        argv = ["app.py", "--refresh", "0"]
        for d in log_dirs:
            argv += ["--log-dir", str(d)]
        if config is not None:
            argv += ["--config", str(config)]
        monkeypatch.setattr(sys, "argv", argv)
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.session_state["panel"] = panel
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


@pytest.fixture
def replay_copy(classic_replay: tuple[object, Path], tmp_path: Path) -> Path:
    """A copy of the bundled replay's log dir that a test may break."""
    d = tmp_path / "replay"
    shutil.copytree(classic_replay[1], d)
    return d


def chart_frames(at: AppTest) -> list[pd.DataFrame]:
    frames = []
    for chart in at.get("vega_lite_chart"):
        for ds in chart.proto.datasets:
            frames.append(pa.ipc.open_stream(ds.data.data).read_all().to_pandas())
        if chart.proto.data.data:
            frames.append(pa.ipc.open_stream(chart.proto.data.data).read_all().to_pandas())
    return frames


def series_of(at: AppTest, name: str) -> pd.Series:
    """The values of the chart series ``name`` (a column, or one colour of a multi-series chart)."""
    for f in chart_frames(at):
        if name in f.columns:
            return f[name]
        colour = [c for c in f.columns if c.startswith("color --")]
        value = [c for c in f.columns if c.startswith("value --")]
        if colour and value and (f[colour[0]] == name).any():
            return f.loc[f[colour[0]] == name, value[0]].reset_index(drop=True)
    raise AssertionError(f"no chart series {name!r} in {[list(f.columns) for f in chart_frames(at)]}")


def texts(at: AppTest) -> str:
    """Every text the run showed (markdown, captions, alerts, metrics), one string to search."""
    parts = [x.value for kind in ("markdown", "caption", "warning", "error", "info", "success", "header", "subheader")
             for x in at.get(kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)
