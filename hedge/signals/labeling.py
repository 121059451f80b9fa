"""Outcome labels for calibration: did the mid reach +TP before -SL within the horizon?

Owns: the barrier labelling of past signals on a recorded mid path. For a signal at index ``k``
with side ``d`` (+1 buy, -1 sell), the path after it is scanned up to ``ts[k] + horizon_ms``:
``r = d * (mid / mid[k] - 1) * 1e4``; the label is 1 if ``r >= tp_bps`` happens before
``r <= -sl_bps``, else 0 (stop first, or neither within the horizon). ``tp_bps``/``sl_bps`` are
one value for every signal or one per signal (a volatility-scaled geometry). A signal whose horizon runs
past the end of the data and that hit neither barrier is censored (label -1) and must be dropped.

Must never: look at data before the signal (no look-ahead bias the other way: only the path
strictly after index ``k`` counts).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

CENSORED = -1


def label_barriers(
    ts_ms: IntArray,
    mids: FloatArray,
    index: IntArray,
    sides: IntArray,
    tp_bps: float | FloatArray,
    sl_bps: float | FloatArray,
    horizon_ms: int,
) -> IntArray:
    """Labels (1 TP first, 0 SL first or timeout, -1 censored) for signals at ``index`` with ``sides``."""
    ts_ms = np.asarray(ts_ms, dtype=np.int64)
    mids = np.asarray(mids, dtype=np.float64)
    if ts_ms.shape != mids.shape:
        raise ValueError("ts_ms and mids must have the same length")
    tps = np.broadcast_to(np.asarray(tp_bps, dtype=np.float64), (len(index),))
    sls = np.broadcast_to(np.asarray(sl_bps, dtype=np.float64), (len(index),))
    if np.any(tps <= 0.0) or np.any(sls <= 0.0) or horizon_ms <= 0:
        raise ValueError("tp_bps, sl_bps and horizon_ms must be > 0")
    ends = np.searchsorted(ts_ms, ts_ms[index] + horizon_ms, side="right")
    last_ts = int(ts_ms[-1]) if ts_ms.size else 0
    out = np.empty(len(index), dtype=np.int64)
    rows = zip(index.tolist(), sides.tolist(), ends.tolist(), tps.tolist(), sls.tolist(), strict=True)
    for j, (k, d, end, tp_j, sl_j) in enumerate(rows):
        path = mids[k + 1 : end]
        r = (path / mids[k] - 1.0) * (1e4 * d)
        tp = np.flatnonzero(r >= tp_j)
        sl = np.flatnonzero(r <= -sl_j)
        if tp.size and (not sl.size or tp[0] < sl[0]):
            out[j] = 1
        elif sl.size:
            out[j] = 0
        elif int(ts_ms[k]) + horizon_ms > last_ts:
            out[j] = CENSORED
        else:
            out[j] = 0
    return out
