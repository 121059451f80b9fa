"""The calibrator: probability that take-profit is hit before stop-loss, and the expected return.

Owns: ``p(score) = 1 / (1 + exp(-(a + b * |score|)))``, the expected return of a trade
``e_pi_bps = p * TP - (1 - p) * SL - fees - slippage`` (all in bps), and the fit of ``(a, b)``
by Newton/IRLS logistic regression with a small ridge penalty and an optional Gaussian prior on the
slope alone (``slope_l2``: shrinks ``b`` toward 0, i.e. ``p`` toward the fit's base rate, since the
intercept then carries the win rate) (numpy only).

Must never: decide whether an order may go (``risk.check_order`` enforces ``pi_min_bps``; this
only computes the figure the gate reads), or fit on the hot path.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np
import numpy.typing as npt

from hedge.config import CalibratorParams

FloatArray = npt.NDArray[np.float64]


def sigmoid(z: float) -> float:
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class Calibrator:
    """``predict_p`` and ``e_pi_bps`` for fitted parameters (TP/SL in bps: ``hedge.config.geometry.barriers``)."""

    __slots__ = ("a", "b", "fees_bps")

    def __init__(self, params: CalibratorParams) -> None:
        self.a = params.a
        self.b = params.b
        self.fees_bps = params.fees_bps

    def predict_p(self, score: float) -> float:
        """Probability that TP is hit before SL for a signal of strength ``score`` (sign ignored)."""
        return sigmoid(self.a + self.b * (score if score >= 0.0 else -score))

    def e_pi_bps(self, p: float, slippage_bps: float, tp_bps: float, sl_bps: float) -> float:
        """Expected return in bps of a trade with TP/SL ``tp_bps``/``sl_bps`` whose TP-first probability is ``p``
        (a trade that reaches neither is counted as a full stop: conservative)."""
        return p * tp_bps - (1.0 - p) * sl_bps - self.fees_bps - slippage_bps


class LogisticFit(msgspec.Struct, frozen=True, kw_only=True):
    a: float
    b: float
    iterations: int
    converged: bool
    log_likelihood: float


def fit_logistic(
    x: FloatArray, y: FloatArray, l2: float = 1e-3, max_iter: int = 100, tol: float = 1e-10,
    slope_l2: float = 0.0,
) -> LogisticFit:
    """Fit ``P(y=1 | x) = sigmoid(a + b x)`` by Newton-Raphson (IRLS) with ridge ``l2`` on ``a`` and ``b``
    and ``slope_l2`` more on ``b`` (a zero-mean Gaussian prior of precision ``slope_l2`` on the slope:
    the larger, the closer every ``p`` is to the base rate; the penalised ``|b|`` never grows with it).

    Raises ``ValueError`` on empty or mismatched input or a negative penalty. The ridge keeps the fit
    finite when every label is the same (then ``a`` is large in magnitude rather than infinite).
    """
    if l2 < 0.0 or slope_l2 < 0.0:
        raise ValueError("l2 and slope_l2 must be >= 0")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise ValueError(f"need two equal-length non-empty 1-d arrays, got {x.shape} and {y.shape}")
    if not np.all(np.isfinite(x)) or not np.all((y == 0.0) | (y == 1.0)):
        raise ValueError("x must be finite and y must be 0/1")
    design = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    ridge = np.diag([l2, l2 + slope_l2])
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        z = design @ beta
        p = 1.0 / (1.0 + np.exp(-z))
        w = p * (1.0 - p)
        grad = design.T @ (y - p) - ridge @ beta
        hess = (design * w[:, None]).T @ design + ridge
        step = np.linalg.solve(hess + 1e-12 * np.eye(2), grad)
        beta = beta + step
        if float(np.max(np.abs(step))) < tol:
            converged = True
            break
    z = design @ beta
    ll = float(np.sum(y * z - np.logaddexp(0.0, z)))
    return LogisticFit(a=float(beta[0]), b=float(beta[1]), iterations=it, converged=converged, log_likelihood=ll)
