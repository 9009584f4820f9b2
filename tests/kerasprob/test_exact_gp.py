"""kerasprob.math.exact_gp against scipy's multivariate normal and dense numpy formulas."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from kerasprob.math.exact_gp import GaussianProcessPosterior, log_marginal_likelihood


def rbf_np(a, b, lengthscale=0.3):
    return np.exp(-0.5 * (a[:, None, 0] - b[None, :, 0]) ** 2 / lengthscale**2)


def rbf(a, b):
    import tensorflow as tf
    sq = tf.reduce_sum((a[..., :, None, :] - b[..., None, :, :]) ** 2, -1)
    return tf.exp(-0.5 * sq / 0.3**2)


def test_log_marginal_likelihood_is_the_gaussian_density_batched():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(7, 1))
    grams = np.stack([rbf_np(x, x, ls) for ls in (0.1, 0.5, 2.0)])  # [3, 7, 7]
    y = rng.normal(size=7)
    noise = np.array([0.01, 0.2, 1.5])
    ours = log_marginal_likelihood(grams, y, noise, mean=0.4).numpy()
    ref = [multivariate_normal(np.full(7, 0.4), g + s * np.eye(7)).logpdf(y)
           for g, s in zip(grams, noise)]
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_posterior_mean_and_covariance_are_the_dense_formulas(dtype):
    rng = np.random.default_rng(1)
    x, xs = rng.uniform(size=(6, 1)), rng.uniform(size=(4, 1))
    y = rng.normal(size=6)
    post = GaussianProcessPosterior(rbf, x.astype(dtype), y, 0.05, mean=0.2)
    c = rbf_np(x, x) + 0.05 * np.eye(6)
    mean = 0.2 + rbf_np(xs, x) @ np.linalg.solve(c, y - 0.2)
    cov = rbf_np(xs, xs) - rbf_np(xs, x) @ np.linalg.solve(c, rbf_np(x, xs))
    tol = 1e-10 if dtype == "float64" else 1e-4
    assert post.dtype == dtype
    np.testing.assert_allclose(post.mean(xs.astype(dtype)), mean, rtol=tol, atol=tol)
    np.testing.assert_allclose(post.covariance(xs.astype(dtype), xs.astype(dtype)), cov,
                               atol=tol)
    np.testing.assert_allclose(post.variance(xs.astype(dtype)), np.diag(cov), atol=tol)
