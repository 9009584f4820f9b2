"""Embedded data sets for the zoo: real data shipped in the package, toy densities made by it.

Nothing here downloads anything and nothing here imports TensorFlow: every loader returns
NumPy arrays (``float32`` features, ``int64`` labels), so the module is cheap to import and
usable from the command line (``python -m zoo fit vae --data digits``) and from tests.

Real data (files in ``zoo/data/``):

* ``load_iris``: Fisher's iris, 150 x 4 (public domain).
* ``load_digits``: the UCI optical handwritten digits, 1797 images of 8 x 8 (CC BY 4.0),
  and ``digits_flat_dequantized``, the flow benchmark's 64-d dequantized split.

Toy 2-D densities (samplers, with an exact numpy log-density where one exists):

* ``make_banana`` / ``banana_log_prob``
* ``make_two_moons`` / ``two_moons_log_prob`` (exact up to quadrature)
* ``make_gaussian_mixture_2d`` / ``gaussian_mixture_log_prob``
* ``make_checkerboard`` / ``checkerboard_log_prob``

Random normalizing-flow contour images (the VAE data set of the course write-up):

* ``sample_random_flow_params``, ``flow_forward``, ``flow_inverse``, ``flow_log_prob``,
  ``sample_flow``: the random flow, in closed form.
* ``make_flow_images`` / ``load_flow_images``: 36 x 36 x 3 filled-contour images of it.

``DATASETS`` maps a short name to a loader that needs no argument.
"""

from __future__ import annotations

import functools
import math
import numbers
import pathlib
from typing import NamedTuple

import numpy as np

__all__ = [
    "DATASETS",
    "FLOW_BASE_SCALE",
    "IRIS_CLASSES",
    "IRIS_FEATURES",
    "FlowParams",
    "banana_log_prob",
    "checkerboard_log_prob",
    "digits_flat_dequantized",
    "flow_forward",
    "flow_inverse",
    "flow_log_prob",
    "gaussian_mixture_log_prob",
    "load_digits",
    "load_flow_images",
    "load_iris",
    "make_banana",
    "make_checkerboard",
    "make_flow_images",
    "make_gaussian_mixture_2d",
    "make_two_moons",
    "sample_flow",
    "sample_random_flow_params",
    "two_moons_log_prob",
]

_DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"

IRIS_FEATURES = (
    "sepal length (cm)",
    "sepal width (cm)",
    "petal length (cm)",
    "petal width (cm)",
)
IRIS_CLASSES = ("setosa", "versicolor", "virginica")

_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# Argument validation
# --------------------------------------------------------------------------------------------


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_positive_int(name, value, minimum=1):
    if not _is_int(value) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {expected}. Received: {name}={value!r}")
    return int(value)


def _check_seed(seed):
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer. Received: seed={seed!r}")
    return int(seed)


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a bool (True or False). Received: {name}={value!r}")
    return bool(value)


def _check_real(name, value, low=None, high=None, low_open=True, high_open=True, text=None):
    """Check a finite real scalar in an interval; returns it as a Python float."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if ok:
        value_f = float(value)
        ok = math.isfinite(value_f)
        if ok and low is not None:
            ok = value_f > low if low_open else value_f >= low
        if ok and high is not None:
            ok = value_f < high if high_open else value_f <= high
    if not ok:
        if text is None:
            text = "a finite real number"
        raise ValueError(f"{name} must be {text}. Received: {name}={value!r}")
    return value_f


def _check_points(x, name="x"):
    """Coerce to a float64 array of shape [..., 2]."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be an array of 2-D points of shape [..., 2]. Received: {name}={x!r}"
        ) from None
    if arr.ndim < 1 or arr.shape[-1] != 2:
        raise ValueError(
            f"{name} must be an array of 2-D points of shape [..., 2]. "
            f"Received: {name} with shape {arr.shape}"
        )
    return arr


def _check_rng(rng):
    if isinstance(rng, np.random.Generator):
        return rng
    if _is_int(rng) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(
        "rng must be a numpy.random.Generator or a non-negative integer seed. "
        f"Received: rng={rng!r}"
    )


def _logsumexp(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis=axis)
    return out


# --------------------------------------------------------------------------------------------
# Real data
# --------------------------------------------------------------------------------------------


@functools.cache
def _iris_arrays():
    path = _DATA_DIR / "iris.csv"
    with open(path, encoding="ascii") as f:
        header = f.readline().strip().split(",")
        table = np.loadtxt(f, delimiter=",", dtype=np.float64)
    n_rows, n_features = int(header[0]), int(header[1])
    if table.shape != (n_rows, n_features + 1) or tuple(header[2:]) != IRIS_CLASSES:
        raise RuntimeError(f"{path} is corrupt: header {header}, table shape {table.shape}")
    x = table[:, :n_features].astype(np.float32)
    y = table[:, n_features].astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def load_iris(return_labels=True):
    """Fisher's iris data: 150 flowers, 4 measurements, 3 species (50 each).

    Columns are ``IRIS_FEATURES`` (sepal length, sepal width, petal length, petal width,
    in cm); labels index ``IRIS_CLASSES`` (0 setosa, 1 versicolor, 2 virginica). This is
    the copy distributed with scikit-learn (``sklearn/datasets/data/iris.csv``), which
    matches Fisher's paper (two rows of the UCI copy differ from it).

    Args:
        return_labels: bool. If True return ``(x, y)``, else only ``x``.

    Returns:
        x: float32 ``[150, 4]``.
        y: int64 ``[150]`` with values in ``{0, 1, 2}`` (only if ``return_labels``).

    References:
        R. A. Fisher (1936). The use of multiple measurements in taxonomic problems.
        Annals of Eugenics 7 (2): 179-188. The data are in the public domain.
    """
    return_labels = _check_bool("return_labels", return_labels)
    x, y = _iris_arrays()
    if return_labels:
        return x.copy(), y.copy()
    return x.copy()


@functools.cache
def _digits_arrays():
    path = _DATA_DIR / "digits.npz"
    with np.load(path) as data:
        images = data["images"]
        target = data["target"]
    if images.shape != (1797, 8, 8) or target.shape != (1797,):
        raise RuntimeError(f"{path} is corrupt: shapes {images.shape}, {target.shape}")
    x = images.astype(np.float32)
    y = target.astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def load_digits(return_labels=True):
    """The UCI optical handwritten digits, 8 x 8: 1797 images with integer values 0..16.

    Each pixel counts the "on" pixels of a 4 x 4 block of a 32 x 32 binary bitmap, so
    values are integers in ``0..16`` (returned as floats, not rescaled). This is the test
    part of the UCI set, as distributed with scikit-learn (``digits.csv.gz``); it is shipped
    here as ``zoo/data/digits.npz`` (uint8, compressed).

    Args:
        return_labels: bool. If True return ``(x, y)``, else only ``x``.

    Returns:
        x: float32 ``[1797, 8, 8]``, values in ``{0, 1, ..., 16}``.
        y: int64 ``[1797]``, the digit ``0..9`` (only if ``return_labels``).

    References:
        E. Alpaydin and C. Kaynak (1998). Optical Recognition of Handwritten Digits
        [data set]. UCI Machine Learning Repository. https://doi.org/10.24432/C50P49.
        Licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
    """
    return_labels = _check_bool("return_labels", return_labels)
    x, y = _digits_arrays()
    if return_labels:
        return x.copy(), y.copy()
    return x.copy()


def digits_flat_dequantized(seed=0, test_fraction=0.2):
    """The flow benchmark's digits: 64-d, uniform dequantization, divided by 17, split.

    ``x = (d + u) / 17`` with ``d`` the integer pixels ``0..16`` of ``load_digits`` flattened
    to 64 values and ``u ~ U[0, 1)^64`` fresh noise per image, so ``x`` lies in ``[0, 1)``.
    Rows are shuffled with ``seed`` before the split; the first
    ``floor(1797 * (1 - test_fraction))`` rows train (1437 train / 360 test by default).

    Args:
        seed: non-negative int; the permutation and the noise are drawn from
            ``numpy.random.default_rng(seed)`` (permutation first).
        test_fraction: float in ``(0, 1)``, the share of rows held out.

    Returns:
        x_train: float32 ``[n_train, 64]`` in ``[0, 1)``.
        x_test: float32 ``[n_test, 64]`` in ``[0, 1)``.
    """
    seed = _check_seed(seed)
    test_fraction = _check_real(
        "test_fraction", test_fraction, 0.0, 1.0, text="a float in the open interval (0, 1)"
    )
    images, _ = _digits_arrays()
    d = images.reshape(len(images), 64).astype(np.float64)  # [1797, 64]
    n = len(d)
    n_train = int(math.floor(n * (1.0 - test_fraction)))
    if n_train < 1 or n_train > n - 1:
        raise ValueError(
            "test_fraction leaves an empty split of the 1797 digits. "
            f"Received: test_fraction={test_fraction!r}"
        )
    rng = np.random.default_rng(seed)
    d = d[rng.permutation(n)]
    x = ((d + rng.random(d.shape)) / 17.0).astype(np.float32)
    # float32 rounding could turn 16.9999999/17 into exactly 1.0; keep the interval half-open.
    x = np.minimum(x, np.nextafter(np.float32(1.0), np.float32(0.0)))
    return x[:n_train], x[n_train:]


# --------------------------------------------------------------------------------------------
# Toy 2-D densities
# --------------------------------------------------------------------------------------------

_BANANA_SCALE = 4.0  # std of x2


def make_banana(n=2000, seed=0):
    """Samples of the banana density of the TensorFlow normalizing-flow tutorials.

    ``x2 ~ N(0, 4^2)`` and ``x1 | x2 ~ N(x2^2 / 4, 1)``; returned as columns ``[x1, x2]``
    (E. Jang, "Normalizing Flows Tutorial, Part 1", 2018). The exact log-density is
    ``banana_log_prob``. ``E[x1] = 4``, ``E[x2] = 0``.

    Args:
        n: positive int, number of samples.
        seed: non-negative int for ``numpy.random.default_rng``.

    Returns:
        float32 ``[n, 2]``.
    """
    n = _check_positive_int("n", n)
    rng = np.random.default_rng(_check_seed(seed))
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
    x = _check_points(x)
    x1, x2 = x[..., 0], x[..., 1]
    s = _BANANA_SCALE
    lp = -0.5 * (x2 / s) ** 2 - math.log(s) - 0.5 * (x1 - 0.25 * x2**2) ** 2 - _LOG_2PI
    return lp.astype(np.float32)


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
    n = _check_positive_int("n", n)
    noise = _check_real("noise", noise, 0.0, None, low_open=False, text="a finite float >= 0")
    rng = np.random.default_rng(_check_seed(seed))
    return_labels = _check_bool("return_labels", return_labels)
    k = rng.integers(0, 2, size=n)
    t = rng.uniform(0.0, math.pi, size=n)
    c1 = np.where(k == 0, np.cos(t), 1.0 - np.cos(t))
    c2 = np.where(k == 0, np.sin(t), 0.5 - np.sin(t))
    x = np.stack([c1, c2], axis=-1) + noise * rng.standard_normal((n, 2))
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
    x = _check_points(x)
    noise = _check_real("noise", noise, 0.01, None, low_open=False, text="a float >= 0.01")
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


def _ring_centres(n_components, radius):
    angles = 2.0 * math.pi * np.arange(n_components) / n_components
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)  # [K, 2]


def _check_mixture_args(n_components, radius, scale):
    n_components = _check_positive_int("n_components", n_components)
    radius = _check_real("radius", radius, 0.0, None, low_open=False, text="a finite float >= 0")
    scale = _check_real("scale", scale, 0.0, None, text="a finite float > 0")
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
    """
    n = _check_positive_int("n", n)
    rng = np.random.default_rng(_check_seed(seed))
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
    x = _check_points(x)
    n_components, radius, scale = _check_mixture_args(n_components, radius, scale)
    mu = _ring_centres(n_components, radius)  # [K, 2]
    d2 = np.sum((x[..., None, :] - mu) ** 2, axis=-1)  # [..., K]
    comp = -0.5 * d2 / scale**2 - _LOG_2PI - 2.0 * math.log(scale) - math.log(n_components)
    return _logsumexp(comp, axis=-1).astype(np.float32)


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
    n = _check_positive_int("n", n)
    rng = np.random.default_rng(_check_seed(seed))
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
    x = _check_points(x)
    i = np.floor(x[..., 0] / 2.0)
    j = np.floor(x[..., 1] / 2.0)
    inside = (i >= -2) & (i <= 1) & (j >= -2) & (j <= 1) & (np.mod(i + j, 2.0) == 0)
    return np.where(inside, -math.log(32.0), -np.inf).astype(np.float32)


# --------------------------------------------------------------------------------------------
# The random normalizing flow and its contour images
# --------------------------------------------------------------------------------------------

FLOW_BASE_SCALE = 0.3  # sigma of the base distribution N(0, sigma^2 I)


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
    rng = _check_rng(rng)
    a = float(rng.normal(3.0, 1.0))
    theta = float(rng.uniform(0.0, 2.0 * math.pi))
    return FlowParams(a, theta)


def _check_flow_params(a, theta):
    a = _check_real("a", a)
    theta = _check_real("theta", theta)
    return a, theta


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
    z = _check_points(z, "z")
    a, theta = _check_flow_params(a, theta)
    return _flow_forward(z, a, theta).astype(np.float32)


def _flow_forward(z, a, theta):
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
    x = _check_points(x)
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
    x = _check_points(x)
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
    n = _check_positive_int("n", n)
    a, theta = _check_flow_params(a, theta)
    rng = np.random.default_rng(_check_seed(seed))
    z = FLOW_BASE_SCALE * rng.standard_normal((n, 2))
    return _flow_forward(z, a, theta).astype(np.float32)


# Matplotlib's "hot" colormap (segment data of matplotlib._cm._hot_data) as a 256-entry table,
# built as LinearSegmentedColormap does (linear interpolation at linspace(0, 1, 256)).
_HOT_SEGMENTS = (
    ((0.0, 0.0416), (0.365079, 1.0), (1.0, 1.0)),
    ((0.0, 0.0), (0.365079, 0.0), (0.746032, 1.0), (1.0, 1.0)),
    ((0.0, 0.0), (0.746032, 0.0), (1.0, 1.0)),
)
_HOT_LUT = np.stack(
    [
        np.interp(np.linspace(0.0, 1.0, 256), [p[0] for p in seg], [p[1] for p in seg])
        for seg in _HOT_SEGMENTS
    ],
    axis=-1,
)  # [256, 3]

# Tick steps of matplotlib's MaxNLocator (its default ``steps``), extended by a decade.
_STEPS = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0])
_EXTENDED_STEPS = np.concatenate([0.1 * _STEPS[:-1], _STEPS, [10.0 * _STEPS[1]]])


def _contour_levels(zmin, zmax, num_levels=100):
    """The levels ``contourf(..., levels=num_levels)`` picks for data in ``[zmin, zmax]``.

    A port of ``MaxNLocator(num_levels + 1, min_n_ticks=1).tick_values`` followed by the
    trimming of ``ContourSet._autolev`` (matplotlib 3.x, linear scale, ``extend='neither'``).
    """
    nbins = num_levels + 1
    vmin, vmax = float(zmin), float(zmax)
    maxabs = max(abs(vmin), abs(vmax))
    if maxabs < 1e6 / 1e-14 * np.finfo(float).tiny:  # matplotlib's _nonsingular
        vmin, vmax = -1e-13, 1e-13
    elif vmax - vmin <= maxabs * 1e-14:
        if vmax == 0 and vmin == 0:
            vmin, vmax = -1e-13, 1e-13
        else:
            vmin -= 1e-13 * abs(vmin)
            vmax += 1e-13 * abs(vmax)
    dv = vmax - vmin
    meanv = 0.5 * (vmax + vmin)
    if abs(meanv) / dv < 100:
        offset = 0.0
    else:
        offset = math.copysign(10 ** (math.log10(abs(meanv)) // 1), meanv)
    scale = 10 ** (math.log10(dv / nbins) // 1)
    _vmin, _vmax = vmin - offset, vmax - offset
    steps = _EXTENDED_STEPS * scale
    raw_step = (_vmax - _vmin) / nbins
    large = np.nonzero(steps >= raw_step)[0]
    istep = large[0] if len(large) else len(steps) - 1
    for step in steps[: istep + 1][::-1]:
        if offset != 0:
            tol = min(0.4999, max(1e-10, 10 ** (math.log10(abs(offset) / step) - 12)))
        else:
            tol = 1e-10
        best_vmin = (_vmin // step) * step
        d, m = divmod(_vmin - best_vmin, step)
        low = d + 1 if abs(m / step - 1) < tol else d
        d, m = divmod(_vmax - best_vmin, step)
        high = d if abs(m / step) < tol else d + 1
        ticks = np.arange(low, high + 1) * step + best_vmin
        if np.sum((ticks <= _vmax) & (ticks >= _vmin)) >= 1:
            break
    lev = ticks + offset
    under = np.nonzero(lev < zmin)[0]
    i0 = under[-1] if len(under) else 0
    over = np.nonzero(lev > zmax)[0]
    i1 = over[0] + 1 if len(over) else len(lev)
    if i1 - i0 < 3:
        i0, i1 = 0, len(lev)
    return lev[i0:i1]


def _render_filled_contour(z_grid, z_pixels, num_levels=100):
    """Colour pixels as ``contourf(X, Y, z_grid, cmap='hot', levels=num_levels)`` does.

    Levels come from the grid values (as matplotlib's do); a pixel whose value is ``z``
    falls in band ``k`` with ``levels[k] <= z < levels[k + 1]`` and gets the colour
    ``hot(norm(midpoint_k))``, ``norm`` mapping ``[levels[0], levels[-1]]`` to ``[0, 1]``
    and the colour table having 256 entries, as in matplotlib.

    Args:
        z_grid: float ``[G, G]`` density on the contour grid.
        z_pixels: float ``[H, W]`` the value that decides each pixel's band.

    Returns:
        uint8 ``[H, W, 3]``.
    """
    levels = _contour_levels(np.min(z_grid), np.max(z_grid), num_levels)
    layers = 0.5 * (levels[:-1] + levels[1:])
    norm = (layers - levels[0]) / (levels[-1] - levels[0])
    lut_index = np.minimum((norm * 256).astype(np.int64), 255)
    colours = np.round(_HOT_LUT[lut_index] * 255.0).astype(np.uint8)  # [bands, 3]
    band = np.searchsorted(levels, z_pixels, side="right") - 1
    band = np.clip(band, 0, len(layers) - 1)
    return colours[band]


_FLOW_GRID_POINTS = 100  # the write-up evaluates densities on linspace(-1, 1, 100)^2
# Agg fills contour bands without antialiasing, in increasing order, and a band lands on
# every pixel it reaches into except by a sliver: a pixel shows the highest band that meets
# its square shrunk by this fraction of a side on each edge (fitted against matplotlib).
_PIXEL_INSET = 0.04


@functools.lru_cache(maxsize=8)
def _pixel_breakpoints(image_size):
    """Linear-interpolation indices ``i0`` [S * K], weights ``t`` [S * K] and ``K``.

    Matplotlib draws the contours of (nearly) the piecewise-bilinear interpolant of the
    grid values. Along one axis the breakpoints of a pixel's (inset) interval are its two
    ends and the grid lines inside it; the maximum of a piecewise-bilinear function over a
    rectangle is attained on the tensor product of both axes' breakpoints. Entry
    ``j * K + k`` is breakpoint ``k`` of pixel column ``j`` (padded by repeating the last
    one), at fractional grid position ``i0 + t``.
    """
    g = np.linspace(-1.0, 1.0, _FLOW_GRID_POINTS)
    h = 2.0 / image_size
    points = []
    for j in range(image_size):
        lo = -1.0 + (j + _PIXEL_INSET) * h
        hi = -1.0 + (j + 1 - _PIXEL_INSET) * h
        points.append(np.concatenate([[lo], g[(g > lo) & (g < hi)], [hi]]))
    k = max(len(p) for p in points)
    points = np.stack([np.pad(p, (0, k - len(p)), mode="edge") for p in points])  # [S, K]
    f = (points.reshape(-1) + 1.0) * (0.5 * (_FLOW_GRID_POINTS - 1))
    i0 = np.clip(np.floor(f).astype(np.int64), 0, _FLOW_GRID_POINTS - 2)
    t = f - i0
    i0.setflags(write=False)
    t.setflags(write=False)
    return i0, t, k


def _flow_image(a, theta, image_size):
    """One contour image, uint8 ``[image_size, image_size, 3]``."""
    g = np.linspace(-1.0, 1.0, _FLOW_GRID_POINTS)
    grid = np.stack(np.meshgrid(g, g), axis=-1)  # [100, 100, 2]; row index = y (up)
    log_z = _flow_log_prob(grid, a, theta)  # -inf on the boundary (density -> 0 there)
    # Values below exp(-500) change no band; flushing them to 0 keeps subnormal floats,
    # which are very slow in arithmetic, out of the interpolation below.
    z_grid = np.exp(np.where(log_z < -500.0, -np.inf, log_z))  # [100, 100]
    i0, t, k = _pixel_breakpoints(image_size)
    rows = (1.0 - t)[:, None] * z_grid[i0] + t[:, None] * z_grid[i0 + 1]  # [S * K, 100]
    cand = (1.0 - t) * rows[:, i0] + t * rows[:, i0 + 1]  # [S * K (y up), S * K (x)]
    cand = cand[::-1]  # image rows run top-down (y = 1 first)
    z_pixels = cand.reshape(image_size, k, image_size, k).max(axis=(1, 3))  # [S, S]
    return _render_filled_contour(z_grid, z_pixels)


def make_flow_images(n=1000, seed=0, image_size=36):
    """Contour-plot images of randomly parameterized normalizing flows (the VAE data set).

    For each image, ``sample_random_flow_params`` draws ``a ~ N(3, 1)`` and
    ``theta ~ U[0, 2 pi)`` from ``numpy.random.default_rng(seed)`` (image ``i`` uses draws
    ``2i`` and ``2i + 1``, so a shorter data set is a prefix of a longer one), and the flow
    ``x = tanh(R(theta) (z1, (z2 - 2) / 2 + a z1^2))`` of ``z ~ N(0, 0.3^2 I)`` (see
    ``flow_forward``) has its exact density (``flow_log_prob``) evaluated on the write-up's
    100 x 100 grid over ``[-1, 1]^2``. The image is what
    ``contourf(X, Y, Z, cmap='hot', levels=100)`` on a 0.5-inch, 72-dpi, axis-less figure
    rasterizes to (36 x 36 pixels), drawn in pure numpy: 100 "nice" levels from ``min Z``
    to ``max Z`` (matplotlib's ``MaxNLocator``), each band filled with the ``hot`` colour of
    its midpoint (near-black at zero density, through red, orange and yellow, to white at
    the peak), and each pixel showing the highest band that reaches into it, as Agg's
    unantialiased fill of the band polygons does. Against matplotlib 3.11 about 96% of the
    pixels are identical and 99.5% within 10/255. Finally each image is divided by its
    maximum, as the write-up does before training, so values lie in ``[0, 1]``, maximum 1.
    ``image_size`` other than 36 renders the same figure at ``image_size / 0.5`` dpi.

    Args:
        n: positive int, number of images.
        seed: non-negative int.
        image_size: int >= 4, the side in pixels (36 in the write-up).

    Returns:
        float32 ``[n, image_size, image_size, 3]`` in ``[0, 1]``.
    """
    n = _check_positive_int("n", n)
    seed = _check_seed(seed)
    image_size = _check_positive_int("image_size", image_size, minimum=4)
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
    seed = _check_seed(seed)
    n = _check_positive_int("n", n, minimum=2)
    key = (seed, n)
    if key not in _FLOW_IMAGES_CACHE:
        images = make_flow_images(n, seed=seed)
        images.setflags(write=False)
        _FLOW_IMAGES_CACHE[key] = images
    images = _FLOW_IMAGES_CACHE[key]
    n_train = max(1, min(n - 1, int(0.8 * n)))
    return images[:n_train].copy(), images[n_train:].copy()


# Loaders that need no argument, for the command line. "iris" and "digits" return
# (x, y); the 2-D toy densities return x of shape [2000, 2]; "flow_images" returns
# (x_train, x_val).
DATASETS = {
    "iris": load_iris,
    "digits": load_digits,
    "banana": make_banana,
    "two_moons": make_two_moons,
    "gaussian_mixture": make_gaussian_mixture_2d,
    "checkerboard": make_checkerboard,
    "flow_images": load_flow_images,
}
