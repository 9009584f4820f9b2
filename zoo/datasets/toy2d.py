"""Toy 2-D densities: samplers and their exact NumPy log-densities.

* ``make_banana`` / ``banana_log_prob``
* ``make_two_moons`` / ``two_moons_log_prob`` (exact up to quadrature)
* ``make_gaussian_mixture_2d`` / ``gaussian_mixture_log_prob``
* ``make_checkerboard`` / ``checkerboard_log_prob``

Samplers return float32 ``[n, 2]``; log-densities take points ``[..., 2]`` and return
float32 ``[...]`` (computed in float64). Randomness comes from
``numpy.random.default_rng(seed)``; no TensorFlow is imported.
"""

from __future__ import annotations

import math

import numpy as np

from kerasprob.validation import (
    check_bool,
    check_finite_real,
    check_points,
    check_positive_int,
    check_seed,
)

__all__ = [
    "banana_log_prob",
    "checkerboard_log_prob",
    "gaussian_mixture_log_prob",
    "make_banana",
    "make_checkerboard",
    "make_gaussian_mixture_2d",
    "make_two_moons",
    "two_moons_log_prob",
]

_LOG_2PI = math.log(2.0 * math.pi)


def _logsumexp(a, axis):
    """``log sum_axis exp(a)``, stable; an all ``-inf`` slice gives ``-inf``."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis=axis)


# --------------------------------------------------------------------------------------------
# Banana
# --------------------------------------------------------------------------------------------

_BANANA_SCALE = 4.0  # std of x2


def make_banana(n=2000, seed=0):
    """Samples of the banana density of the TensorFlow normalizing-flow tutorials.

    ``x2 ~ N(0, 4^2)`` and ``x1 | x2 ~ N(x2^2 / 4, 1)``; returned as columns ``[x1, x2]``.
    The exact log-density is ``banana_log_prob``. ``E[x1] = 4``, ``E[x2] = 0``.

    Args:
        n: positive int, number of samples.
        seed: non-negative int for ``numpy.random.default_rng``.

    Returns:
        float32 ``[n, 2]``.

    References:
        E. Jang (2018). Normalizing Flows Tutorial, Part 1: Distributions and Determinants.
    """
    n = check_positive_int("n", n)
    rng = np.random.default_rng(check_seed("seed", seed))
    x2 = _BANANA_SCALE * rng.standard_normal(n)
    x1 = 0.25 * x2**2 + rng.standard_normal(n)
    return np.stack([x1, x2], axis=-1).astype(np.float32)


def banana_log_prob(x):
    """Exact log-density of ``make_banana``.

    ``log p(x) = log N(x2; 0, 4^2) + log N(x1; x2^2 / 4, 1)``.

    Args:
        x: array-like ``[..., 2]`` of points ``(x1, x2)``.

    Returns:
        float32 ``[...]``.
    """
    x = check_points("x", x, 2)
    x1, x2 = x[..., 0], x[..., 1]
    s = _BANANA_SCALE
    lp = -0.5 * (x2 / s) ** 2 - math.log(s) - 0.5 * (x1 - 0.25 * x2**2) ** 2 - _LOG_2PI
    return lp.astype(np.float32)


# --------------------------------------------------------------------------------------------
# Two moons
# --------------------------------------------------------------------------------------------


def make_two_moons(n=2000, noise=0.1, seed=0, return_labels=False):
    """Samples of two interleaving half circles plus isotropic Gaussian noise.

    Each point picks a moon ``k`` with probability 1/2 and an angle ``t ~ U[0, pi]``;
    the centre is ``(cos t, sin t)`` for ``k = 0`` and ``(1 - cos t, 1/2 - sin t)`` for
    ``k = 1`` (scikit-learn's ``make_moons`` geometry, with random rather than evenly
    spaced angles), and ``x = centre + noise * N(0, I)``. The density is
    ``two_moons_log_prob``.

    Args:
        n: positive int, number of samples.
        noise: float >= 0, standard deviation of the Gaussian noise.
        seed: non-negative int for ``numpy.random.default_rng``.
        return_labels: bool; if True also return the moon index.

    Returns:
        x: float32 ``[n, 2]``; and ``y``: int64 ``[n]`` in ``{0, 1}`` if ``return_labels``.
    """
    n = check_positive_int("n", n)
    noise = check_finite_real("noise", noise, at_least=0.0)
    rng = np.random.default_rng(check_seed("seed", seed))
    return_labels = check_bool("return_labels", return_labels)
    k = rng.integers(0, 2, size=n)
    t = rng.uniform(0.0, math.pi, size=n)
    c1 = np.where(k == 0, np.cos(t), 1.0 - np.cos(t))
    c2 = np.where(k == 0, np.sin(t), 0.5 - np.sin(t))
    x = np.stack([c1, c2], axis=-1) + noise * rng.standard_normal((n, 2))  # [n, 2]
    x = x.astype(np.float32)
    if return_labels:
        return x, k.astype(np.int64)
    return x


def two_moons_log_prob(x, noise=0.1):
    """Log-density of ``make_two_moons``, by Gauss-Legendre quadrature over the angle.

    ``p(x) = 1/2 sum_k (1/pi) int_0^pi N(x; c_k(t), noise^2 I) dt`` with ``c_k`` the moon
    centres of ``make_two_moons``. The quadrature uses ``max(64, ceil(8 pi / noise))``
    nodes, i.e. several nodes per noise width, so it is exact to float32 precision.

    Args:
        x: array-like ``[..., 2]``.
        noise: float > 0 (the density is singular for ``noise = 0``); at least 0.01.

    Returns:
        float32 ``[...]``.
    """
    x = check_points("x", x, 2)
    noise = check_finite_real("noise", noise, at_least=0.01)
    m = max(64, int(math.ceil(8.0 * math.pi / noise)))
    nodes, weights = np.polynomial.legendre.leggauss(m)
    t = 0.5 * math.pi * (nodes + 1.0)  # [m] on [0, pi]
    log_w = np.log(0.5 * weights) - math.log(2.0)  # (1/pi) * (pi/2) w_i, times 1/2 per moon
    centres = np.concatenate(
        [
            np.stack([np.cos(t), np.sin(t)], axis=-1),
            np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=-1),
        ]
    )  # [2m, 2]
    # log N(x; c, s^2 I) = (x.c - |c|^2 / 2) / s^2 - |x|^2 / (2 s^2) - log(2 pi s^2)
    bias = np.concatenate([log_w, log_w]) - 0.5 * np.sum(centres**2, axis=-1) / noise**2
    flat = x.reshape(-1, 2)
    out = np.empty(len(flat))
    chunk = max(1, 1_000_000 // (2 * m))
    for start in range(0, len(flat), chunk):
        xc = flat[start : start + chunk]  # [c, 2]
        cross = xc[:, :1] * centres[:, 0] + xc[:, 1:] * centres[:, 1]  # [c, 2m]
        out[start : start + chunk] = _logsumexp(cross / noise**2 + bias, axis=-1)
    out -= 0.5 * np.sum(flat**2, axis=-1) / noise**2 + _LOG_2PI + 2.0 * math.log(noise)
    return out.reshape(x.shape[:-1]).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Gaussian mixture on a ring
# --------------------------------------------------------------------------------------------


def _ring_centres(n_components, radius):
    angles = 2.0 * math.pi * np.arange(n_components) / n_components
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)  # [K, 2]


def _check_mixture_args(n_components, radius, scale):
    n_components = check_positive_int("n_components", n_components)
    radius = check_finite_real("radius", radius, at_least=0.0)
    scale = check_finite_real("scale", scale, greater_than=0.0)
    return n_components, radius, scale


def make_gaussian_mixture_2d(n=2000, seed=0, n_components=8, radius=2.0, scale=0.2):
    """Samples of an equal-weight mixture of isotropic Gaussians on a ring.

    Component ``k`` has mean ``radius * (cos(2 pi k / K), sin(2 pi k / K))`` and covariance
    ``scale^2 I``; the default is the "8 Gaussians" benchmark. The density is
    ``gaussian_mixture_log_prob``.

    Args:
        n: positive int, number of samples.
        seed: non-negative int for ``numpy.random.default_rng``.
        n_components: positive int ``K``.
        radius: float >= 0, radius of the ring of means.
        scale: float > 0, standard deviation of each component.

    Returns:
        float32 ``[n, 2]``.

    References:
        W. Grathwohl, R. T. Q. Chen, J. Bettencourt, I. Sutskever and D. Duvenaud (2019).
        FFJORD: Free-form Continuous Dynamics for Scalable Reversible Generative Models.
        ICLR (the "8 Gaussians" and "checkerboard" toy densities).
    """
    n = check_positive_int("n", n)
    rng = np.random.default_rng(check_seed("seed", seed))
    n_components, radius, scale = _check_mixture_args(n_components, radius, scale)
    k = rng.integers(0, n_components, size=n)
    x = _ring_centres(n_components, radius)[k] + scale * rng.standard_normal((n, 2))
    return x.astype(np.float32)


def gaussian_mixture_log_prob(x, n_components=8, radius=2.0, scale=0.2):
    """Exact log-density of ``make_gaussian_mixture_2d`` with the same parameters.

    ``log p(x) = logsumexp_k [log N(x; mu_k, scale^2 I)] - log K``.

    Args:
        x: array-like ``[..., 2]``.
        n_components, radius, scale: as in ``make_gaussian_mixture_2d``.

    Returns:
        float32 ``[...]``.
    """
    x = check_points("x", x, 2)
    n_components, radius, scale = _check_mixture_args(n_components, radius, scale)
    mu = _ring_centres(n_components, radius)  # [K, 2]
    d2 = np.sum((x[..., None, :] - mu) ** 2, axis=-1)  # [..., K]
    comp = -0.5 * d2 / scale**2 - _LOG_2PI - 2.0 * math.log(scale) - math.log(n_components)
    return _logsumexp(comp, axis=-1).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Checkerboard
# --------------------------------------------------------------------------------------------


def make_checkerboard(n=2000, seed=0):
    """Samples of the uniform density on the black squares of a 4 x 4 checkerboard.

    The board is ``[-4, 4]^2`` cut into squares of side 2; cell ``(i, j) = (floor(x1 / 2),
    floor(x2 / 2))`` is filled when ``i + j`` is even, 8 cells of area 4, so the density is
    ``1/32`` there and 0 elsewhere (the FFJORD "checkerboard" benchmark).

    Args:
        n: positive int, number of samples.
        seed: non-negative int for ``numpy.random.default_rng``.

    Returns:
        float32 ``[n, 2]``, in ``[-4, 4)^2``.
    """
    n = check_positive_int("n", n)
    rng = np.random.default_rng(check_seed("seed", seed))
    x1 = rng.uniform(-2.0, 2.0, size=n)
    x2 = rng.random(n) - 2.0 * rng.integers(0, 2, size=n) + np.mod(np.floor(x1), 2.0)
    return (2.0 * np.stack([x1, x2], axis=-1)).astype(np.float32)


def checkerboard_log_prob(x):
    """Exact log-density of ``make_checkerboard``: ``log(1/32)`` on the board, ``-inf`` off.

    Args:
        x: array-like ``[..., 2]``.

    Returns:
        float32 ``[...]`` (``-inf`` outside the support).
    """
    x = check_points("x", x, 2)
    i = np.floor(x[..., 0] / 2.0)
    j = np.floor(x[..., 1] / 2.0)
    inside = (i >= -2) & (i <= 1) & (j >= -2) & (j <= 1) & (np.mod(i + j, 2.0) == 0)
    return np.where(inside, -math.log(32.0), -np.inf).astype(np.float32)
