"""How well predicted probabilities match outcomes: Brier score, log-loss, ECE and the reliability table.

Owns: the scoring of probabilistic forecasts ``p`` against 0/1 outcomes ``y`` (numpy only):

- Brier score ``mean((p - y)^2)``;
- log-loss ``-mean(y log p + (1 - y) log(1 - p))`` with ``p`` clipped to ``[1e-12, 1 - 1e-12]``;
- the reliability table: ``bins`` equal-width buckets of ``p`` on [0, 1] (the last one closed),
  each with its count, mean predicted ``p`` and realised win rate (empty buckets are omitted);
- expected calibration error ``ECE = sum_b n_b / n * |mean p_b - win rate_b|`` over that table.

``hedge calibrate`` scores its held-out samples with it, and the replay scores the trades it made.

Must never: fit anything, or read or write a file.
"""

from __future__ import annotations

import msgspec
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
_EPS = 1e-12


class Bucket(msgspec.Struct, frozen=True, kw_only=True):
    lo: float
    hi: float
    n: int
    mean_p: float
    win_rate: float


class Reliability(msgspec.Struct, frozen=True, kw_only=True):
    n: int
    brier: float
    log_loss: float
    ece: float
    base_rate: float  # realised win rate over all samples
    buckets: list[Bucket]


def _arrays(p: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    pa = np.asarray(p, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if pa.ndim != 1 or pa.shape != ya.shape:
        raise ValueError(f"need two equal-length 1-d arrays, got {pa.shape} and {ya.shape}")
    if not np.all((pa >= 0.0) & (pa <= 1.0)) or not np.all((ya == 0.0) | (ya == 1.0)):
        raise ValueError("p must be in [0, 1] and y must be 0/1")
    return pa, ya


def brier(p: npt.ArrayLike, y: npt.ArrayLike) -> float:
    pa, ya = _arrays(p, y)
    return float(np.mean((pa - ya) ** 2)) if pa.size else 0.0


def log_loss(p: npt.ArrayLike, y: npt.ArrayLike) -> float:
    pa, ya = _arrays(p, y)
    if not pa.size:
        return 0.0
    q = np.clip(pa, _EPS, 1.0 - _EPS)
    return float(-np.mean(ya * np.log(q) + (1.0 - ya) * np.log(1.0 - q)))


def reliability_table(p: npt.ArrayLike, y: npt.ArrayLike, bins: int = 10) -> list[Bucket]:
    pa, ya = _arrays(p, y)
    if bins < 1:
        raise ValueError("bins must be >= 1")
    which = np.minimum((pa * bins).astype(np.int64), bins - 1)
    out = []
    for b in range(bins):
        sel = which == b
        n = int(sel.sum())
        if n:
            out.append(Bucket(lo=b / bins, hi=(b + 1) / bins, n=n, mean_p=float(pa[sel].mean()),
                              win_rate=float(ya[sel].mean())))
    return out


def _ece(table: list[Bucket]) -> float:
    n = sum(b.n for b in table)
    return sum(b.n * abs(b.mean_p - b.win_rate) for b in table) / n if n else 0.0


def ece(p: npt.ArrayLike, y: npt.ArrayLike, bins: int = 10) -> float:
    return _ece(reliability_table(p, y, bins))


def score(p: npt.ArrayLike, y: npt.ArrayLike, bins: int = 10) -> Reliability:
    """All of the above for one set of forecasts."""
    pa, ya = _arrays(p, y)
    table = reliability_table(pa, ya, bins)
    n = int(pa.size)
    return Reliability(
        n=n,
        brier=brier(pa, ya),
        log_loss=log_loss(pa, ya),
        ece=_ece(table),
        base_rate=float(ya.mean()) if n else 0.0,
        buckets=table,
    )


def format_table(r: Reliability) -> list[str]:
    """The table as text lines (the command prints them; calibrator.yaml carries them as comments)."""
    lines = [f"n={r.n} brier={r.brier:.4f} log_loss={r.log_loss:.4f} ece={r.ece:.4f} win_rate={r.base_rate:.3f}",
             "p bucket     n   mean p  win rate"]
    lines += [f"[{b.lo:.1f},{b.hi:.1f})  {b.n:5d}  {b.mean_p:.3f}   {b.win_rate:.3f}" for b in r.buckets]
    return lines
