"""kerasprob.math.sgpr against the exact GP and dense numpy formulas."""

import numpy as np
import pytest
import tensorflow as tf

from kerasprob.math import sgpr

NOISE = 0.05


def rbf(a, b, lengthscale=0.4, variance=1.3):
    d2 = np.sum((a[:, None, :] - b[None, :, :]) ** 2, -1)
    return variance * np.exp(-0.5 * d2 / lengthscale**2)


def data(n=12, p=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 1))
    y = np.concatenate([np.sin(3 * x), np.cos(2 * x)][:p], axis=1) + 0.2 * rng.normal(size=(n, p))
    return x, y


def exact_log_marginal(k, y, noise):
    n = len(k)
    c = k + noise * np.eye(n)
    _, logdet = np.linalg.slogdet(c)
    quad = np.sum(y * np.linalg.solve(c, y))
    return -0.5 * (quad + y.shape[1] * (logdet + n * np.log(2 * np.pi)))


def dense_bound(x, z, y, noise):
    """log N(y; 0, Q + s2 I) - tr(K - Q) / (2 s2) per output, with dense matrices."""
    kuu, kuf, kff = rbf(z, z), rbf(z, x), rbf(x, x)
    q = kuf.T @ np.linalg.solve(kuu, kuf)
    return exact_log_marginal(q, y, noise) - y.shape[1] * np.trace(kff - q) / (2 * noise)


def stats_and_chol(x, z, y, noise, dtype=tf.float64):
    kuu = tf.constant(rbf(z, z), dtype)
    chol = tf.linalg.cholesky(kuu)
    stats = sgpr.sgpr_statistics(chol, tf.constant(rbf(z, x), dtype),
                                 tf.constant(np.diag(rbf(x, x)), dtype),
                                 tf.constant(y, dtype), noise)
    return stats, chol


def test_bound_at_the_data_is_the_exact_log_marginal_likelihood():
    x, y = data()
    k = rbf(x, x)
    bound = sgpr.titsias_bound(k, k, np.diag(k), y, NOISE, jitter=0.0)
    np.testing.assert_allclose(bound.numpy(), exact_log_marginal(k, y, NOISE), rtol=1e-7)


def test_bound_with_fewer_inducing_points_is_the_dense_formula_and_below_exact():
    x, y = data(n=30)
    z = x[::5]
    k = rbf(x, x)
    bound = sgpr.titsias_bound(rbf(z, z), rbf(z, x), np.diag(k), y, NOISE, jitter=0.0)
    np.testing.assert_allclose(bound.numpy(), dense_bound(x, z, y, NOISE), rtol=1e-7)
    assert bound.numpy() < exact_log_marginal(k, y, NOISE) - 1.0


def test_one_dimensional_y_is_one_output():
    x, y = data(p=1)
    k = rbf(x, x)
    one = sgpr.titsias_bound(k, k, np.diag(k), y[:, 0], NOISE, jitter=0.0)
    two = sgpr.titsias_bound(k, k, np.diag(k), y, NOISE, jitter=0.0)
    np.testing.assert_allclose(one.numpy(), two.numpy(), rtol=1e-12)


def test_predictive_at_the_data_is_the_exact_posterior():
    x, y = data()
    xs = np.linspace(-1.2, 1.2, 7)[:, None]
    stats, chol = stats_and_chol(x, x, y, NOISE)
    mean, cov = sgpr.sgpr_predictive(stats, NOISE, chol, rbf(x, xs), rbf(xs, xs), full_cov=True)
    c = rbf(x, x) + NOISE * np.eye(len(x))
    exact_mean = rbf(xs, x) @ np.linalg.solve(c, y)
    exact_cov = rbf(xs, xs) - rbf(xs, x) @ np.linalg.solve(c, rbf(x, xs))
    np.testing.assert_allclose(mean.numpy(), exact_mean, atol=1e-8)
    np.testing.assert_allclose(cov.numpy(), exact_cov, atol=1e-8)
    _, var = sgpr.sgpr_predictive(stats, NOISE, chol, rbf(x, xs), np.diag(rbf(xs, xs)))
    np.testing.assert_allclose(var.numpy(), np.diag(exact_cov), atol=1e-8)


def test_optimal_q_u_is_the_seed_formula_in_both_parameterizations():
    x, y = data(n=25)
    z = x[::3]
    stats, chol = stats_and_chol(x, z, y, NOISE)
    kuu, kuf = rbf(z, z), rbf(z, x)
    beta = 1.0 / NOISE
    m = kuu + beta * kuf @ kuf.T
    mean = beta * kuu @ np.linalg.solve(m, kuf @ y)
    cov = kuu @ np.linalg.solve(m, kuu)
    q_mu, q_sqrt = sgpr.optimal_inducing_distribution(stats, NOISE, chol, whiten=False)
    np.testing.assert_allclose(q_mu.numpy(), mean, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(q_sqrt.numpy() @ q_sqrt.numpy().T, cov, rtol=1e-6, atol=1e-9)
    v_mu, v_sqrt = sgpr.optimal_inducing_distribution(stats, NOISE)
    lc = chol.numpy()
    np.testing.assert_allclose(lc @ v_mu.numpy(), mean, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(lc @ v_sqrt.numpy() @ v_sqrt.numpy().T @ lc.T, cov, rtol=1e-6,
                               atol=1e-9)
    for s in (q_sqrt.numpy(), v_sqrt.numpy()):
        np.testing.assert_array_equal(s, np.tril(s))  # lower triangular
        assert np.all(np.diag(s) > 0)


def test_optimal_q_u_through_the_seed_predictive_is_the_sgpr_predictive():
    """The seed's ``variational_predictive`` (whitened) at the optimal q(v), in numpy."""
    x, y = data(n=25)
    z, xs = x[::3], np.linspace(-1, 1, 9)[:, None]
    stats, chol = stats_and_chol(x, z, y, NOISE)
    q_mu, q_sqrt = (t.numpy() for t in sgpr.optimal_inducing_distribution(stats, NOISE))
    lc = chol.numpy()
    lam = np.linalg.solve(lc, rbf(z, xs))
    seed_mu = lam.T @ q_mu
    u = lam.T @ q_sqrt
    seed_cov = rbf(xs, xs) - lam.T @ lam + u @ u.T
    mean, cov = sgpr.sgpr_predictive(stats, NOISE, chol, rbf(z, xs), rbf(xs, xs), full_cov=True)
    np.testing.assert_allclose(mean.numpy(), seed_mu, atol=1e-8)
    np.testing.assert_allclose(cov.numpy(), seed_cov, atol=1e-8)


def test_uncollapsed_elbo_at_the_optimal_q_u_is_the_collapsed_bound():
    """ELL - KL[q(v) || N(0, I)] at the closed-form q(v), with a Gaussian likelihood."""
    x, y = data(n=25)
    z = x[::3]
    stats, chol = stats_and_chol(x, z, y, NOISE)
    q_mu, q_sqrt = (t.numpy() for t in sgpr.optimal_inducing_distribution(stats, NOISE))
    lc = chol.numpy()
    lam = np.linalg.solve(lc, rbf(z, x))
    mu = lam.T @ q_mu  # [N, P]
    var = np.diag(rbf(x, x)) - np.sum(lam**2, 0) + np.sum((q_sqrt.T @ lam) ** 2, 0)  # [N]
    ell = np.sum(-0.5 * np.log(2 * np.pi * NOISE) - 0.5 * ((y - mu) ** 2 + var[:, None]) / NOISE)
    s = q_sqrt @ q_sqrt.T
    m = len(z)
    kl_one = 0.5 * (np.trace(s) - m - np.linalg.slogdet(s)[1])
    kl = y.shape[1] * kl_one + 0.5 * np.sum(q_mu**2)
    bound = sgpr.collapsed_bound(stats, NOISE)
    np.testing.assert_allclose(ell - kl, bound.numpy(), rtol=1e-7)


def test_statistics_add_over_batches():
    x, y = data(n=40)
    z = x[::4]
    whole, chol = stats_and_chol(x, z, y, NOISE)
    parts = [stats_and_chol(x[i:i + 13], z, y[i:i + 13], NOISE)[0] for i in range(0, 40, 13)]
    summed = parts[0] + parts[1] + parts[2] + parts[3]
    for a, b in zip(whole, summed):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
    assert float(summed.num_data) == 40.0


def test_float32_matches_float64():
    x, y = data(n=30)
    z = x[::3]
    k = rbf(x, x)
    b64 = sgpr.titsias_bound(rbf(z, z), rbf(z, x), np.diag(k), y, NOISE, jitter=1e-6)
    b32 = sgpr.titsias_bound(tf.constant(rbf(z, z), tf.float32), rbf(z, x), np.diag(k), y, NOISE)
    assert sgpr.default_jitter(tf.float32) == 1e-6 and sgpr.default_jitter("float64") == 1e-8
    assert b32.dtype == tf.float32 and b64.dtype == tf.float64
    np.testing.assert_allclose(b32.numpy(), b64.numpy(), rtol=1e-3)


def test_gradient_wrt_noise_matches_finite_differences():
    x, y = data(n=20)
    z = x[::2]
    k = rbf(x, x)
    args = (rbf(z, z), rbf(z, x), np.diag(k), y)
    s = tf.Variable(NOISE, dtype=tf.float64)
    with tf.GradientTape() as tape:
        bound = sgpr.titsias_bound(*args, s, jitter=0.0)
    grad = tape.gradient(bound, s).numpy()
    h = 1e-6
    numeric = (dense_bound(x, z, y, NOISE + h) - dense_bound(x, z, y, NOISE - h)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5)


def test_jitter_is_absolute():
    """A kernel variance of 1e4 gets the same 1e-6 on its diagonal as one of 1."""
    x, _ = data(n=10)
    k = 1e4 * rbf(x, x)
    chol = sgpr.jittered_cholesky(k, 1e-6).numpy()
    np.testing.assert_allclose(chol @ chol.T, k + 1e-6 * np.eye(10), rtol=1e-12, atol=1e-9)


def test_unwhitened_needs_the_cholesky_factor():
    x, y = data()
    stats, _ = stats_and_chol(x, x[::2], y, NOISE)
    with pytest.raises(ValueError, match="chol_kuu"):
        sgpr.optimal_inducing_distribution(stats, NOISE, whiten=False)
