"""kerasprob.math.polya_gamma: the exact PG(b, c) sampler against closed-form moments, the
exact CDF, and the gamma-sum definition."""

import math

import numpy as np
import pytest
import tensorflow as tf

from kerasprob.math.polya_gamma import (
    polya_gamma_mean,
    polya_gamma_variance,
    sample_polya_gamma,
)


def _series_moments(b, c, terms=200000):
    """Mean and variance from the definition omega = sum_k g_k / (2 pi^2 d_k), g_k ~ Ga(b, 1),
    d_k = (k - 1/2)^2 + c^2 / (4 pi^2): E = sum b / (2 pi^2 d_k), Var = sum b / (4 pi^4 d_k^2)."""
    k = np.arange(1, terms + 1, dtype=np.float64)
    d = (k - 0.5) ** 2 + c**2 / (4 * math.pi**2)
    mean = np.sum(b / (2 * math.pi**2 * d)) + b / (2 * math.pi**2 * terms)  # + the tail
    var = np.sum(b / (4 * math.pi**4 * d**2))
    return mean, var


@pytest.mark.parametrize("b", [1.0, 3.0])
@pytest.mark.parametrize("c", [0.0, 1e-4, 0.3, 1.0, 4.0, 25.0, 300.0])
def test_moment_formulas_match_the_gamma_sum_definition(b, c):
    mean, var = _series_moments(b, c)
    np.testing.assert_allclose(float(polya_gamma_mean(b, tf.constant(c, tf.float64))), mean,
                               rtol=1e-5)
    np.testing.assert_allclose(float(polya_gamma_variance(b, tf.constant(c, tf.float64))), var,
                               rtol=1e-5)


def test_moments_at_c_zero_and_continuity():
    c = tf.constant([0.0, 1e-6, 0.019, 0.021, -2.0, 2.0], tf.float64)
    mean = polya_gamma_mean(2.0, c).numpy()
    var = polya_gamma_variance(2.0, c).numpy()
    assert mean[0] == 0.5 and var[0] == pytest.approx(2 / 24, rel=1e-15)
    np.testing.assert_allclose(mean[1], 0.5, rtol=1e-10)
    np.testing.assert_allclose(var[1], 2 / 24, rtol=1e-10)
    # The series branch (|c|/2 < 0.01) meets the closed form at the switch.
    np.testing.assert_allclose(mean[2], mean[3], rtol=1e-4)
    np.testing.assert_allclose(var[2], var[3], rtol=1e-4)
    assert mean[4] == mean[5] and var[4] == var[5]  # symmetric in c
    exact = 2 / (4 * 2.0**3) * (math.sinh(2.0) - 2.0) / math.cosh(1.0) ** 2
    np.testing.assert_allclose(var[5], exact, rtol=1e-12)


def test_sampler_moments_within_three_standard_errors():
    """Mean and variance of 20000 draws per (b, c), c up to 200, within 3 standard errors
    (the variance's from the sample fourth moment)."""
    bs = np.array([1, 2, 5])
    cs = np.array([0.0, 0.5, 2.0, 8.0, 40.0, 200.0])
    n = 20000
    b_grid, c_grid = np.meshgrid(bs, cs, indexing="ij")
    c = np.broadcast_to(c_grid[..., None], (*c_grid.shape, n))
    b = np.broadcast_to(b_grid[..., None], c.shape)
    w = sample_polya_gamma(c, b=b, seed=7).numpy()  # [3, 6, n]
    assert w.dtype == np.float64 and w.shape == c.shape and np.all(w > 0)
    mean = polya_gamma_mean(b_grid.astype(float), c_grid).numpy()
    var = polya_gamma_variance(b_grid.astype(float), c_grid).numpy()
    sample_var = w.var(-1)
    m4 = np.mean((w - w.mean(-1, keepdims=True)) ** 4, -1)
    z_mean = (w.mean(-1) - mean) / np.sqrt(var / n)
    z_var = (sample_var - var) / np.sqrt((m4 - sample_var**2) / n)
    assert np.all(np.abs(z_mean) < 3), z_mean
    assert np.all(np.abs(z_var) < 3), z_var


def _pg1_cdf(grid, c):
    """The exact CDF of PG(1, c) on ``grid``, integrating its density
    ``4 cosh(z) exp(-z^2 x / 2) sum_n (-1)^n a_n(x)`` (``x = 4 w``, ``z = c / 2``), the
    alternating series in its two forms (each converges fast on its side of 0.64)."""
    x = 4 * grid
    z = abs(c) / 2
    n = np.arange(0, 12)[:, None]
    k = (n + 0.5) * math.pi
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        tail = k * np.exp(-0.5 * k**2 * x)
        head = k * (2 / (math.pi * x)) ** 1.5 * np.exp(-2 * (n + 0.5) ** 2 / x)
    terms = np.where(x > 0.64, tail, head)
    sign = (-1.0) ** n
    density_j = np.nan_to_num(np.sum(sign * terms, 0))
    density = 4 * math.cosh(z) * np.exp(-0.5 * z * z * x) * density_j
    cdf = np.concatenate([[0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(grid))])
    return cdf


@pytest.mark.parametrize("c", [0.0, 1.5, 6.0, 30.0])
def test_kolmogorov_smirnov_against_the_exact_cdf(c):
    n = 20000
    w = np.sort(sample_polya_gamma(np.full(n, c), seed=3).numpy())
    grid = np.linspace(1e-6, max(w.max(), 3.0) * 1.01, 100001)
    cdf = _pg1_cdf(grid, c)
    assert abs(cdf[-1] - 1) < 1e-5  # the integrated density is normalized
    f = np.interp(w, grid, cdf)
    ecdf_hi = np.arange(1, n + 1) / n
    ks = max(np.max(ecdf_hi - f), np.max(f - (ecdf_hi - 1 / n)))
    assert ks < 1.95 / math.sqrt(n), ks  # the 0.1% critical value


def test_two_sample_kolmogorov_smirnov_against_the_gamma_sum():
    """Against draws from the definition (200 gamma terms, the tail's mean added)."""
    rng = np.random.default_rng(0)
    n, c, b, terms = 10000, 2.0, 2, 100
    k = np.arange(1, terms + 1)
    d = (k - 0.5) ** 2 + c**2 / (4 * math.pi**2)
    reference = rng.gamma(b, size=(n, terms)) @ (1 / d) / (2 * math.pi**2)
    reference += b / (2 * math.pi**2 * terms)
    ours = sample_polya_gamma(np.full(n, c), b=b, seed=11).numpy()
    both = np.sort(np.concatenate([ours, reference]))
    f1 = np.searchsorted(np.sort(ours), both, side="right") / n
    f2 = np.searchsorted(np.sort(reference), both, side="right") / n
    assert np.max(np.abs(f1 - f2)) < 1.95 * math.sqrt(2 / n)


def test_seeds_integer_b_shapes_and_dtypes():
    c = np.linspace(-3, 3, 6).reshape(2, 3)
    a = sample_polya_gamma(c, seed=5).numpy()
    np.testing.assert_array_equal(a, sample_polya_gamma(c, seed=5).numpy())
    np.testing.assert_array_equal(a, sample_polya_gamma(c, seed=tf.constant([5, 0])).numpy())
    assert not np.array_equal(a, sample_polya_gamma(c, seed=6).numpy())
    assert a.shape == (2, 3)
    w = sample_polya_gamma(tf.constant(c, tf.float32), b=[[0], [3]], seed=1)
    assert w.dtype == tf.float32 and w.shape == (2, 3)
    assert np.all(w.numpy()[0] == 0) and np.all(w.numpy()[1] > 0)
    assert sample_polya_gamma(c, seed=1, dtype="float32").dtype == tf.float32
    assert sample_polya_gamma([1, 2], seed=1).dtype == tf.float32  # ints: float32 out
    graph = tf.function(lambda c: sample_polya_gamma(c, b=2, seed=4))
    np.testing.assert_array_equal(graph(tf.constant(c)).numpy(),
                                  sample_polya_gamma(c, b=2, seed=4).numpy())


def test_bad_arguments():
    with pytest.raises(TypeError, match="b must hold integers.*1.5"):
        sample_polya_gamma([1.0], b=1.5)
    with pytest.raises(TypeError, match="b must hold integers"):
        sample_polya_gamma([1.0], b=tf.constant(1.0))
    with pytest.raises(ValueError, match="b must be >= 0.*-1"):
        sample_polya_gamma([1.0], b=-1)
    with pytest.raises(ValueError, match="seed"):
        sample_polya_gamma([1.0], seed=2**40)
    with pytest.raises(TypeError, match="dtype must be a float dtype"):
        sample_polya_gamma([1.0], dtype="int32")
