"""The charts of a sweep and of a run (matplotlib PNGs) and the one-file HTML page that embeds them.

Owns: a heat map of a metric over two swept keys (the mean over the other keys and the recordings;
a cell without a successful point is blank), equity curves of rows, a run's equity with its
drawdown, its fills on the price, its vetoes over time, and ``html_page`` (PNGs embedded as
base64 data, tables as HTML: one file that opens anywhere, offline).

Must never: read a log dir or a table itself (callers pass the numbers), or show a window (Agg only).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

DPI = 100


def save(fig: Any, path: Path) -> Path:
    """Lay ``fig`` out, write it to ``path`` as a PNG and close it (every chart of hedge, also ``hedge tca``'s)."""
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _ordered(values: Sequence[Any]) -> list[Any]:
    seen: list[Any] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    try:
        return sorted(seen)
    except TypeError:  # mixed types: the spec's order
        return seen


def heatmap(rows: Sequence[dict[str, Any]], kx: str, ky: str, metric: str, path: Path) -> Path:
    xs, ys = _ordered([r[kx] for r in rows]), _ordered([r[ky] for r in rows])
    sums = np.zeros((len(ys), len(xs)))
    counts = np.zeros((len(ys), len(xs)))
    for r in rows:
        if r.get("error") or r.get(metric) is None:
            continue
        j, i = xs.index(r[kx]), ys.index(r[ky])
        sums[i, j] += float(r[metric])
        counts[i, j] += 1
    with np.errstate(invalid="ignore"):
        grid = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    fig, ax = plt.subplots(figsize=(1.2 * len(xs) + 3, 0.8 * len(ys) + 2))
    finite = grid[np.isfinite(grid)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    im = ax.imshow(grid, cmap="RdYlGn", vmin=-bound or -1.0, vmax=bound or 1.0, aspect="auto", origin="lower")
    ax.set_xticks(range(len(xs)), [str(x) for x in xs])
    ax.set_yticks(range(len(ys)), [str(y) for y in ys])
    ax.set_xlabel(kx)
    ax.set_ylabel(ky)
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.4g}", ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, label=f"{metric} (mean over the other keys and recordings)")
    ax.set_title(f"{metric} by {kx} and {ky}")
    return save(fig, path)


def equity_curves(curves: Sequence[tuple[str, Sequence[tuple[int, float]]]], path: Path) -> Path:
    """PnL (NAV minus the first NAV) against time since each run's start (minutes), one line per
    (label, [(ns, nav)])."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, curve in curves:
        if curve:
            t0, nav0 = curve[0]
            ax.plot([(t - t0) / 60e9 for t, _ in curve], [v - nav0 for _, v in curve], label=label, lw=1.2)
    ax.axhline(0.0, color="grey", lw=0.5)
    ax.set_xlabel("minutes since the recording's start")
    ax.set_ylabel("PnL, USDT (NAV - start NAV)")
    ax.set_title("Equity curves of the best points")
    if ax.lines:
        ax.legend(fontsize=7, loc="best")
    return save(fig, path)


def equity_drawdown(ts_ns: np.ndarray[Any, Any], nav: np.ndarray[Any, Any], drawdown: np.ndarray[Any, Any],
                    path: Path) -> Path:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True, height_ratios=(2, 1))
    t = ts_ns.astype("datetime64[ns]")
    top.plot(t, nav, lw=1.0, color="tab:blue")
    top.set_ylabel("NAV, USDT")
    top.set_title("Equity")
    bottom.fill_between(t, drawdown * 100.0, 0.0, color="tab:red", alpha=0.4, step="post")
    bottom.set_ylabel("drawdown, %")
    bottom.set_xlabel("time (UTC)")
    return save(fig, path)


def fills_on_price(price: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]],
                   fills: Sequence[tuple[int, float, str, bool]], symbol: str, path: Path) -> Path:
    """``price``: (ts_ns, price) of the reference line; ``fills``: (ts_ns, price, side, maker)."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    if len(price[0]):
        ax.plot(price[0].astype("datetime64[ns]"), price[1], lw=0.8, color="grey", label="mark price")
    for side, marker, color in (("BUY", "^", "tab:green"), ("SELL", "v", "tab:red")):
        for maker, face in ((True, color), (False, "none")):
            pts = [(t, p) for t, p, s, m in fills if s == side and m == maker]
            if pts:
                ax.scatter(np.array([t for t, _ in pts]).astype("datetime64[ns]"), [p for _, p in pts], marker=marker,
                           edgecolors=color, facecolors=face, s=36,
                           label=f"{side.lower()} {'maker' if maker else 'taker'} ({len(pts)})")
    ax.set_title(f"Fills on the price: {symbol}")
    ax.set_ylabel("price")
    ax.set_xlabel("time (UTC)")
    if ax.collections or ax.lines:
        ax.legend(fontsize=7, loc="best")
    return save(fig, path)


def vetoes_over_time(edges_ns: np.ndarray[Any, Any], by_reason: dict[str, np.ndarray[Any, Any]], path: Path) -> Path:
    """Stacked bars: vetoes per time bucket (``edges_ns``: bucket starts) by reason."""
    fig, ax = plt.subplots(figsize=(9, 4))
    t = edges_ns.astype("datetime64[ns]")
    width = (edges_ns[1] - edges_ns[0]) / 86400e9 if len(edges_ns) > 1 else 1 / 1440
    bottom = np.zeros(len(edges_ns))
    for reason, counts in by_reason.items():
        ax.bar(t, counts, width=width, bottom=bottom, align="edge", label=reason)
        bottom += counts
    ax.set_title("Risk vetoes over time" + ("" if by_reason else " (none)"))
    ax.set_ylabel("vetoes per bucket")
    ax.set_xlabel("time (UTC)")
    if by_reason:
        ax.legend(fontsize=7, loc="best")
    return save(fig, path)


def table_html(rows: Sequence[dict[str, Any]], cols: Sequence[str]) -> str:
    def cell(v: Any) -> str:
        return "" if v is None else f"{v:.6g}" if isinstance(v, float) else html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_page(title: str, sections: Sequence[tuple[str, str | Path]], path: Path) -> Path:
    """One HTML file: each section a heading and either a PNG (embedded) or an HTML fragment."""
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for heading, content in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if isinstance(content, Path):
            data = base64.b64encode(content.read_bytes()).decode()
            parts.append(f'<img alt="{html.escape(content.name)}" src="data:image/png;base64,{data}">')
        else:
            parts.append(content)
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}img{max-width:100%}")
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                    f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n")
    return path
