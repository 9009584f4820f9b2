"""kerasprob.math.linalg against numpy's Cholesky of the same (updated, extended) matrices."""

import re
import warnings

import numpy as np
import pytest
import tensorflow as tf

from kerasprob.math.linalg import (
    CholeskyError,
    CholeskyJitterWarning,
    cholesky_append,
    cholesky_update,
    is_cholesky_error,
    safe_cholesky,
)

RNG = np.random.default_rng(0)
TOL = {np.float32: 2e-4, np.float64: 1e-10}


def spd(batch, n, dtype=np.float64, rng=RNG):
    x = rng.normal(size=(*batch, n, n + 3))
    return (x @ np.swapaxes(x, -1, -2) / n + 0.5 * np.eye(n)).astype(dtype)


def gram(v):
    return v @ np.swapaxes(v, -1, -2)


def rank_deficient(n=6, rank=2):
    """An exactly singular PSD matrix (integer entries, so the zero pivots are exact)."""
    z = np.random.default_rng(1).integers(-3, 4, size=(n, rank)).astype(float)
    return z @ z.T


INDEFINITE = np.array([[1.0, 2.0], [2.0, 1.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [(), (3,), (2, 2)])
def test_safe_cholesky_equals_numpy(dtype, batch):
    a = spd(batch, 5, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CholeskyJitterWarning)  # PD: no jitter, no warning
        chol = safe_cholesky(a)
    assert chol.dtype == tf.as_dtype(dtype)
    np.testing.assert_allclose(chol.numpy(), np.linalg.cholesky(a), atol=TOL[dtype])


def test_safe_cholesky_escalates_on_rank_deficient_matrix():
    a = rank_deficient()
    assert np.isnan(tf.linalg.cholesky(a).numpy()).any()  # what the jitter protects against
    with pytest.warns(CholeskyJitterWarning, match=r"Kuu .*jitter 1e-06 times its mean diagonal"):
        chol = safe_cholesky(a, name="Kuu")
    shift = 1e-6 * np.mean(np.diag(a))
    np.testing.assert_allclose(chol.numpy(), np.linalg.cholesky(a + shift * np.eye(6)),
                               atol=1e-12)


def test_safe_cholesky_escalates_by_tens():
    # smallest eigenvalue -3e-4 * (about) the mean diagonal: 1e-6 .. 1e-4 fail, 1e-3 works.
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(4, 4)))
    a = q @ np.diag([1.0, 1.0, 1.0, -3e-4 * 0.75]) @ q.T
    mean = np.mean(np.diag(a))
    with pytest.warns(CholeskyJitterWarning, match=r"jitter 1e-03 times"):
        chol = safe_cholesky(a)
    np.testing.assert_allclose(gram(chol.numpy()), a + 1e-3 * mean * np.eye(4), atol=1e-12)


def test_safe_cholesky_raises_on_indefinite_matrix():
    with pytest.raises(CholeskyError) as info:
        safe_cholesky(INDEFINITE, max_tries=3, name="K_xx")
    text = str(info.value)
    assert "K_xx is not positive definite" in text
    assert "shape (2, 2)" in text
    assert "smallest eigenvalue -1" in text
    assert "1e-06, 1e-05, 1e-04" in text and "1e-03" not in text
    assert isinstance(info.value, ValueError) and is_cholesky_error(info.value)


def test_safe_cholesky_nan_matrix_fails_fast():
    with pytest.raises(CholeskyError, match="NaN or inf"):
        safe_cholesky(np.full((3, 3), np.nan))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_safe_cholesky_in_tf_function(dtype):
    fn = tf.function(lambda m: safe_cholesky(m, name="Kuu"))
    a = spd((2,), 4, dtype)
    np.testing.assert_allclose(fn(a).numpy(), np.linalg.cholesky(a), atol=TOL[dtype])
    r = rank_deficient().astype(dtype)
    with pytest.warns(CholeskyJitterWarning, match="Kuu"):
        chol = fn(r).numpy()
    shift = 1e-6 * np.mean(np.diag(r)) if dtype == np.float64 else None
    assert np.all(np.isfinite(chol))
    if shift is not None:
        np.testing.assert_allclose(chol, np.linalg.cholesky(r + shift * np.eye(6)), atol=1e-12)
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        fn(INDEFINITE.astype(dtype))
    assert is_cholesky_error(info.value)
    assert "Kuu is not positive definite" in info.value.message


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_safe_cholesky_gradient_matches_tf_cholesky(dtype):
    a = tf.Variable(spd((2,), 5, dtype))
    weights = RNG.normal(size=(2, 5, 5)).astype(dtype)

    def loss(factor):
        with tf.GradientTape() as tape:
            value = tf.reduce_sum(factor(a) * weights)
        return tape.gradient(value, a)

    expected = loss(tf.linalg.cholesky).numpy()
    eager = loss(safe_cholesky).numpy()
    graph = tf.function(lambda: loss(safe_cholesky))().numpy()
    np.testing.assert_allclose(eager, expected, rtol=TOL[dtype], atol=TOL[dtype])
    np.testing.assert_allclose(graph, expected, rtol=10 * TOL[dtype], atol=10 * TOL[dtype])


def test_safe_cholesky_under_xla_escalates_in_graph():
    # Under XLA a failed factorization is NaN, so the jitter loop runs in the graph.
    fn = tf.function(lambda m: safe_cholesky(m), jit_compile=True)
    r = np.stack([rank_deficient(), spd((), 6)])
    chol = fn(r).numpy()
    shift = 1e-6 * np.mean(np.diag(r[0]))
    np.testing.assert_allclose(chol[0], np.linalg.cholesky(r[0] + shift * np.eye(6)), atol=1e-9)
    np.testing.assert_allclose(chol[1], np.linalg.cholesky(r[1]), atol=1e-9)  # no jitter
    assert np.all(np.isnan(fn(INDEFINITE).numpy()))


def test_safe_cholesky_half_precision_is_computed_in_float32():
    a = spd((), 3, np.float32)
    chol = safe_cholesky(tf.constant(a, tf.float16))
    assert chol.dtype == tf.float32
    rounded = a.astype(np.float16).astype(np.float32)
    np.testing.assert_allclose(chol.numpy(), np.linalg.cholesky(rounded), atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"jitter": -1.0}, ValueError, "jitter must be a finite positive number. Received: "
                                       "jitter=-1.0"),
        ({"max_tries": -1}, ValueError, "max_tries must be an integer >= 0. Received: "
                                        "max_tries=-1"),
        ({"name": 3}, TypeError, "name must be a string. Received: name=3"),
    ],
)
def test_safe_cholesky_bad_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=re.escape(pattern)):
        safe_cholesky(np.eye(2), **kwargs)


def test_safe_cholesky_bad_matrices():
    with pytest.raises(ValueError, match=re.escape("Received: matrix with shape (2, 3)")):
        safe_cholesky(np.ones((2, 3)))
    with pytest.raises(TypeError, match="Received: matrix with dtype int64"):
        safe_cholesky(np.eye(2, dtype=np.int64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [(), (3,)])
@pytest.mark.parametrize("k", [1, 3])
def test_cholesky_update_equals_numpy(dtype, batch, k):
    a = spd(batch, 6, dtype)
    v = RNG.normal(size=(*batch, 6, k)).astype(dtype)
    chol = cholesky_update(np.linalg.cholesky(a), v)
    assert chol.dtype == tf.as_dtype(dtype) and chol.shape == a.shape
    np.testing.assert_allclose(chol.numpy(), np.linalg.cholesky(a + gram(v)),
                               atol=5 * TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cholesky_downdate_equals_numpy(dtype):
    a = spd((2,), 5, dtype)
    v = 0.3 * RNG.normal(size=(2, 5, 2)).astype(dtype)
    chol = cholesky_update(np.linalg.cholesky(a + gram(v)), v, downdate=True)
    np.testing.assert_allclose(chol.numpy(), np.linalg.cholesky(a), atol=5 * TOL[dtype])


def test_cholesky_update_broadcasts_and_runs_in_tf_function():
    a = spd((), 5)
    v = RNG.normal(size=(4, 5, 2))
    fn = tf.function(cholesky_update)
    chol = fn(np.linalg.cholesky(a), v).numpy()
    assert chol.shape == (4, 5, 5)
    np.testing.assert_allclose(chol, np.linalg.cholesky(a + gram(v)), atol=1e-10)


def test_cholesky_update_zero_vectors_and_bad_downdate():
    a = spd((), 4)
    chol = np.linalg.cholesky(a)
    np.testing.assert_allclose(cholesky_update(chol, np.zeros((4, 0))).numpy(), chol)
    with pytest.raises(CholeskyError, match="not positive definite"):
        cholesky_update(chol, 10.0 * np.ones((4, 1)), downdate=True)
    with pytest.raises(ValueError, match=re.escape("Received: vectors with shape (3, 1)")):
        cholesky_update(chol, np.ones((3, 1)))
    with pytest.raises(TypeError, match="downdate must be True or False"):
        cholesky_update(chol, np.ones((4, 1)), downdate="yes")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [(), (2,)])
def test_cholesky_append_equals_numpy(dtype, batch):
    full = spd(batch, 7, dtype)
    a, b, c = full[..., :4, :4], full[..., :4, 4:], full[..., 4:, 4:]
    chol = cholesky_append(np.linalg.cholesky(a), b, c)
    assert chol.shape == full.shape and chol.dtype == tf.as_dtype(dtype)
    np.testing.assert_allclose(chol.numpy(), np.linalg.cholesky(full), atol=5 * TOL[dtype])
    graph = tf.function(cholesky_append)(np.linalg.cholesky(a), b, c)
    np.testing.assert_allclose(graph.numpy(), chol.numpy(), atol=5 * TOL[dtype])


def test_cholesky_append_duplicate_point_gets_jitter():
    full = spd((), 4)
    a, b = full[:3, :3], full[:3, :1]  # the new point repeats the first: Schur complement 0,
    corner = full[:1, :1] - 1e-9  # made -1e-9 so that no rounding leaves it positive
    with pytest.warns(CholeskyJitterWarning, match="corner"):
        chol = cholesky_append(np.linalg.cholesky(a), b, corner).numpy()
    assert np.all(np.isfinite(chol)) and chol[3, 3] > 0
    with pytest.raises(ValueError, match=re.escape("Received: corner with shape (2, 2)")):
        cholesky_append(np.linalg.cholesky(a), b, np.eye(2))


@pytest.mark.parametrize("downdate", [False, True])
def test_cholesky_update_gradient_matches_refactorization(downdate):
    a = spd((), 5)
    v0 = 0.3 * RNG.normal(size=(5, 2))
    base = a + gram(v0) if downdate else a
    chol = tf.constant(np.linalg.cholesky(base))
    v = tf.Variable(v0)
    weights = RNG.normal(size=(5, 5))
    sign = -1.0 if downdate else 1.0
    with tf.GradientTape(persistent=True) as tape:
        ours = tf.reduce_sum(cholesky_update(chol, v, downdate=downdate) * weights)
        full = tf.reduce_sum(tf.linalg.cholesky(
            tf.linalg.matmul(chol, chol, transpose_b=True)
            + sign * tf.linalg.matmul(v, v, transpose_b=True)) * weights)
    np.testing.assert_allclose(tape.gradient(ours, v).numpy(), tape.gradient(full, v).numpy(),
                               rtol=1e-8, atol=1e-10)
