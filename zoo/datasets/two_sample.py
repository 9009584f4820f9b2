"""Two samples whose density ratio is known: the density-ratio post's Gaussian pair.

``p = N(1, 1)`` and ``q = N(0, 2^2)`` in one dimension, so that

    log r(x) = log p(x) - log q(x) = log 2 - (x - 1)^2 / 2 + x^2 / 8,
    KL[p || q] = (log 4 - 1 + (1 + 1) / 4) / 2 = 0.44315 nats.

>>> pair = make_gaussian_pair(n=4, seed=0)
>>> pair["x_p"].shape, pair["x_q"].shape
((4, 1), (4, 1))
>>> round(GAUSSIAN_PAIR_KL, 5)
0.44315
"""

from __future__ import annotations

import math

import numpy as np

from kerasprob.validation import check_points, check_positive_int, check_seed

__all__ = ["GAUSSIAN_PAIR_KL", "gaussian_pair_log_ratio", "make_gaussian_pair"]

#: ``KL[N(1, 1) || N(0, 2^2)]`` in nats.
GAUSSIAN_PAIR_KL = 0.5 * (math.log(4.0) - 1.0 + 2.0 / 4.0)


def make_gaussian_pair(n=5000, seed=0):
    """``n`` draws of ``p = N(1, 1)`` and ``n`` of ``q = N(0, 2^2)``.

    Args:
      n: examples in each sample.
      seed: an int in ``[0, 2**31)`` (numpy's ``default_rng``).

    Returns:
      ``{"x_p": [n, 1], "x_q": [n, 1]}``, float32 (``python -m zoo fit
      DensityRatioEstimator --data gaussian_pair`` reads both).
    """
    n = check_positive_int("n", n)
    rng = np.random.default_rng(check_seed("seed", seed))
    x_p = rng.normal(1.0, 1.0, (n, 1))
    x_q = rng.normal(0.0, 2.0, (n, 1))
    return {"x_p": x_p.astype(np.float32), "x_q": x_q.astype(np.float32)}


def gaussian_pair_log_ratio(x):
    """``log p(x) / q(x)`` of the pair, exact: ``[..., 1] -> [...]`` (float64)."""
    x = check_points("x", x, 1).astype(np.float64)[..., 0]
    return math.log(2.0) - 0.5 * (x - 1.0) ** 2 + x**2 / 8.0
