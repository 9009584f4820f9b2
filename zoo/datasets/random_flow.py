"""The random normalizing flow of the course write-up, in closed form, and its contour images.

A flow ``x = f(z)``, ``z ~ N(0, 0.3^2 I)`` on ``R^2``, with two random parameters
``a ~ N(3, 1)`` and ``theta ~ U[0, 2 pi)``:

* ``sample_random_flow_params``, ``flow_forward``, ``flow_inverse``, ``flow_log_prob``,
  ``sample_flow``: the flow and its exact density;
* ``make_flow_images`` / ``load_flow_images``: 36 x 36 x 3 filled-contour images of the
  density of random flows (the VAE data set), drawn by
  ``zoo.datasets.rendering.filled_contour_image``.

Everything is NumPy (float64 inside, float32 out); no TensorFlow is imported.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from kerasprob.validation import (
    check_finite_real,
    check_int_at_least,
    check_points,
    check_positive_int,
    check_rng,
    check_seed,
)
from zoo.datasets.rendering import _filled_contour_image

__all__ = [
    "FLOW_BASE_SCALE",
    "FlowParams",
    "flow_forward",
    "flow_inverse",
    "flow_log_prob",
    "load_flow_images",
    "make_flow_images",
    "sample_flow",
    "sample_random_flow_params",
]

FLOW_BASE_SCALE = 0.3  # sigma of the base distribution N(0, sigma^2 I)

_LOG_2PI = math.log(2.0 * math.pi)


class FlowParams(NamedTuple):
    """Random parameters of one flow: ``a ~ N(3, 1)``, ``theta ~ U[0, 2 pi)``."""

    a: float
    theta: float


def sample_random_flow_params(rng):
    """Draw ``a ~ N(3, 1)`` then ``theta ~ U[0, 2 pi)`` for one random flow.

    Args:
        rng: a ``numpy.random.Generator`` (advanced by two draws) or a non-negative int seed.

    Returns:
        ``FlowParams(a, theta)`` of Python floats.
    """
    rng = check_rng("rng", rng)
    a = float(rng.normal(3.0, 1.0))
    theta = float(rng.uniform(0.0, 2.0 * math.pi))
    return FlowParams(a, theta)


def _check_flow_params(a, theta):
    return check_finite_real("a", a), check_finite_real("theta", theta)


def flow_forward(z, a, theta):
    """The random flow ``x = f5(f4(f3(f2(f1(z)))))`` of the course write-up.

    ``f1(z) = (z1, z2 - 2)``, ``f2(z) = (z1, z2 / 2)``, ``f3(z) = (z1, z2 + a z1^2)``,
    ``f4(z) = R(theta) z`` with ``R = [[cos, -sin], [sin, cos]]``, ``f5(z) = tanh(z)``
    elementwise. Every step but ``f2`` (log-det ``-log 2``) and ``f5``
    (log-det ``sum log(1 - x^2)``) preserves volume.

    Args:
        z: array-like ``[..., 2]``.
        a, theta: floats (see ``sample_random_flow_params``).

    Returns:
        float32 ``[..., 2]`` in ``(-1, 1)^2``.
    """
    z = check_points("z", z, 2)
    a, theta = _check_flow_params(a, theta)
    return _flow_forward(z, a, theta).astype(np.float32)


def _flow_forward(z, a, theta):
    """``flow_forward`` in float64, without argument checks."""
    z1 = z[..., 0]
    z2 = (z[..., 1] - 2.0) / 2.0 + a * z[..., 0] ** 2  # f3(f2(f1(z)))
    c, s = math.cos(theta), math.sin(theta)
    return np.tanh(np.stack([c * z1 - s * z2, s * z1 + c * z2], axis=-1))  # f5(f4(.))


def _flow_inverse(x, a, theta):
    """Return ``z = f^{-1}(x)`` [..., 2] and ``log |det dz/dx|`` [...] (float64)."""
    with np.errstate(divide="ignore"):
        u = np.arctanh(x)  # f5^{-1}
        log_det = math.log(2.0) - np.sum(np.log1p(-(x**2)), axis=-1)
    c, s = math.cos(theta), math.sin(theta)
    v1 = c * u[..., 0] + s * u[..., 1]  # f4^{-1}: R^T u
    v2 = -s * u[..., 0] + c * u[..., 1]
    z2 = 2.0 * (v2 - a * v1**2) + 2.0  # f1^{-1}(f2^{-1}(f3^{-1}(v)))
    return np.stack([v1, z2], axis=-1), log_det


def flow_inverse(x, a, theta):
    """Inverse of ``flow_forward``: ``z = f1^-1(f2^-1(f3^-1(R^T atanh(x))))``.

    ``f3^-1(v) = (v1, v2 - a v1^2)``, ``f2^-1(v) = (v1, 2 v2)``, ``f1^-1(v) = (v1, v2 + 2)``.

    Args:
        x: array-like ``[..., 2]`` in ``(-1, 1)^2``.
        a, theta: floats.

    Returns:
        float32 ``[..., 2]``.
    """
    x = check_points("x", x, 2)
    a, theta = _check_flow_params(a, theta)
    return _flow_inverse(x, a, theta)[0].astype(np.float32)


def _flow_log_prob(x, a, theta, sigma=FLOW_BASE_SCALE):
    """float64 log-density; ``-inf`` on and outside the boundary of ``(-1, 1)^2``."""
    inside = np.all(np.abs(x) < 1.0, axis=-1)
    x = np.where(inside[..., None], x, 0.0)
    z, log_det = _flow_inverse(x, a, theta)
    lp = -0.5 * np.sum(z**2, axis=-1) / sigma**2 - _LOG_2PI - 2.0 * math.log(sigma) + log_det
    return np.where(inside, lp, -np.inf)


def flow_log_prob(x, a, theta):
    """Exact log-density of the random flow applied to ``z ~ N(0, 0.3^2 I)``.

    ``log p(x) = log N(f^-1(x); 0, 0.3^2 I) + log 2 - sum_i log(1 - x_i^2)`` on
    ``(-1, 1)^2`` and ``-inf`` elsewhere (the ``log 2`` undoes ``f2``; the sum undoes tanh).

    Args:
        x: array-like ``[..., 2]``.
        a, theta: floats (see ``sample_random_flow_params``).

    Returns:
        float32 ``[...]``.
    """
    x = check_points("x", x, 2)
    a, theta = _check_flow_params(a, theta)
    return _flow_log_prob(x, a, theta).astype(np.float32)


def sample_flow(n, a, theta, seed=0):
    """Samples ``x = flow_forward(z)`` with ``z ~ N(0, 0.3^2 I)``.

    Args:
        n: positive int.
        a, theta: floats.
        seed: non-negative int for ``numpy.random.default_rng``.

    Returns:
        float32 ``[n, 2]``.
    """
    n = check_positive_int("n", n)
    a, theta = _check_flow_params(a, theta)
    rng = np.random.default_rng(check_seed("seed", seed))
    z = FLOW_BASE_SCALE * rng.standard_normal((n, 2))  # [n, 2]
    return _flow_forward(z, a, theta).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Contour images of random flows
# --------------------------------------------------------------------------------------------

_FLOW_GRID_POINTS = 100  # the write-up evaluates densities on linspace(-1, 1, 100)^2


def _flow_image(a, theta, image_size):
    """One contour image of the flow's density, uint8 ``[image_size, image_size, 3]``."""
    g = np.linspace(-1.0, 1.0, _FLOW_GRID_POINTS)
    grid = np.stack(np.meshgrid(g, g), axis=-1)  # [100, 100, 2]; row index = y (up)
    log_z = _flow_log_prob(grid, a, theta)  # -inf on the boundary (density -> 0 there)
    # Values below exp(-500) change no band; flushing them to 0 keeps subnormal floats,
    # which are very slow in arithmetic, out of the interpolation.
    z_grid = np.exp(np.where(log_z < -500.0, -np.inf, log_z))  # [100, 100]
    return _filled_contour_image(z_grid, image_size)


def make_flow_images(n=1000, seed=0, image_size=36):
    """Contour-plot images of randomly parameterized normalizing flows (the VAE data set).

    For each image, ``sample_random_flow_params`` draws ``a ~ N(3, 1)`` and
    ``theta ~ U[0, 2 pi)`` from ``numpy.random.default_rng(seed)`` (image ``i`` uses draws
    ``2i`` and ``2i + 1``, so a shorter data set is a prefix of a longer one), and the flow
    ``x = tanh(R(theta) (z1, (z2 - 2) / 2 + a z1^2))`` of ``z ~ N(0, 0.3^2 I)`` (see
    ``flow_forward``) has its exact density (``flow_log_prob``) evaluated on the write-up's
    100 x 100 grid over ``[-1, 1]^2``. The image is what
    ``contourf(X, Y, Z, cmap='hot', levels=100)`` on a 0.5-inch, 72-dpi, axis-less figure
    rasterizes to (36 x 36 pixels), drawn in pure numpy by
    ``zoo.datasets.rendering.filled_contour_image``: near-black at zero density, through
    red, orange and yellow, to white at the peak. Finally each image is divided by its
    maximum, as the write-up does before training, so values lie in ``[0, 1]``, maximum 1.
    ``image_size`` other than 36 renders the same figure at ``image_size / 0.5`` dpi.

    Args:
        n: positive int, number of images.
        seed: non-negative int.
        image_size: int >= 4, the side in pixels (36 in the write-up).

    Returns:
        float32 ``[n, image_size, image_size, 3]`` in ``[0, 1]``.
    """
    n = check_positive_int("n", n)
    seed = check_seed("seed", seed)
    image_size = check_int_at_least("image_size", image_size, 4)
    rng = np.random.default_rng(seed)
    out = np.empty((n, image_size, image_size, 3), dtype=np.float32)
    for i in range(n):
        a, theta = sample_random_flow_params(rng)
        image = _flow_image(a, theta, image_size).astype(np.float32)
        out[i] = image / max(float(image.max()), 1.0)
    return out


_FLOW_IMAGES_CACHE = {}


def load_flow_images(seed=0, n=1000):
    """The flow-image data set split as in the write-up: first 80% train, last 20% validation.

    ``make_flow_images(n, seed)`` (36 x 36 x 3) split at ``int(0.8 * n)``: 800 / 200 images
    for the default ``n = 1000``. The images are independent, so no shuffle is needed
    before the split. Results are cached per process; each call returns fresh copies.

    Args:
        seed: non-negative int.
        n: int >= 2, total number of images.

    Returns:
        x_train: float32 ``[int(0.8 n), 36, 36, 3]`` in ``[0, 1]``.
        x_val: float32 ``[n - int(0.8 n), 36, 36, 3]`` in ``[0, 1]``.
    """
    seed = check_seed("seed", seed)
    n = check_int_at_least("n", n, 2)
    key = (seed, n)
    if key not in _FLOW_IMAGES_CACHE:
        images = make_flow_images(n, seed=seed)
        images.setflags(write=False)
        _FLOW_IMAGES_CACHE[key] = images
    images = _FLOW_IMAGES_CACHE[key]
    n_train = max(1, min(n - 1, int(0.8 * n)))
    return images[:n_train].copy(), images[n_train:].copy()
