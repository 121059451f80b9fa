"""The offline fit of the fill-probability model: a logistic regression over labelled samples.

Owns: ``fit_fill_model`` — the coefficients of ``fillprob``'s logistic (intercept and the five
slopes of ``design``) of maximum L2-penalised likelihood over ``FillSample``s all taken at one
horizon, by Newton's method (deterministic: the same samples give the same coefficients), with
the mean ``path_bps`` of the filled (``fill_bps``: the maker price vs the start mid) and of the
unfilled (``fallback_bps``: the touch the fallback crosses at, vs the start mid) and the mean half
spread at the start (``half_spread_bps``), and
``predict`` (the fitted model's probabilities for samples, to score them).

Must never: read a clock, a file or the bus; label samples (``fill_labels`` does) or write the
result (``hedge calibrate-fills`` does).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np

from hedge.config import FillModel
from hedge.router.fillprob import FillSample, design, fill_probability


class FitResult(msgspec.Struct, frozen=True, kw_only=True):
    model: FillModel
    iterations: int
    converged: bool
    log_likelihood: float


def fit_fill_model(samples: Sequence[FillSample], base: FillModel, *, l2: float = 1e-3,
                   max_iter: int = 50) -> FitResult:
    """Fit ``base``'s coefficients on ``samples`` (all at horizon ``base.horizon_s``); the
    intercept is not penalised. Raises ValueError without both outcomes."""
    if len({s.filled for s in samples}) < 2:
        raise ValueError(f"{len(samples)} samples, all {'filled' if samples and samples[0].filled else 'unfilled'}: "
                         "nothing to fit")
    x = np.array([(1.0, *design(s.features, base.horizon_s)) for s in samples])
    y = np.array([1.0 if s.filled else 0.0 for s in samples])
    pen = np.full(x.shape[1], l2 * len(samples))
    pen[0] = 0.0
    w = np.zeros(x.shape[1])
    w[0] = float(np.log(y.mean() / (1.0 - y.mean())))
    converged, it = False, 0
    for it in range(1, max_iter + 1):  # noqa: B007 (the count is reported)
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (y - p) - pen * w
        hess = (x * (p * (1.0 - p))[:, None]).T @ x + np.diag(pen) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hess, grad)
        w = w + step
        if float(np.max(np.abs(step))) < 1e-8:
            converged = True
            break
    p = np.clip(1.0 / (1.0 + np.exp(-(x @ w))), 1e-12, 1.0 - 1e-12)
    ll = float(np.sum(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))
    b = [round(float(v), 6) for v in w]
    path = np.array([s.path_bps for s in samples])
    model = msgspec.structs.replace(base, b0=b[0], b_dist=b[1], b_queue=b[2], b_flow=b[3], b_spread=b[4], b_vol=b[5],
                                    fill_bps=round(float(path[y > 0].mean()), 6),
                                    fallback_bps=round(float(path[y == 0].mean()), 6),
                                    half_spread_bps=round(float(np.mean(
                                        [s.features.tick_bps * s.features.spread_ticks / 2 for s in samples])), 6))
    return FitResult(model=model, iterations=it, converged=converged, log_likelihood=ll)


def predict(samples: Sequence[FillSample], model: FillModel) -> list[float]:
    return [fill_probability(s.features, model) for s in samples]
