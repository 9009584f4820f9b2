"""Gauss-Hermite / closed-form expectations and the GP likelihoods against exact Gaussian moments
and 10^6-sample Monte Carlo computed independently in numpy."""

import json
import math
import re

import numpy as np
import pytest
import tensorflow as tf

from kerasprob.layers import gp
from kerasprob.math import quadrature

_ERFC = np.frompyfunc(math.erfc, 1, 1)
_LGAMMA = np.frompyfunc(math.lgamma, 1, 1)


def norm_logpdf(y, loc, scale):
    return -0.5 * np.log(2 * np.pi * scale**2) - 0.5 * ((y - loc) / scale) ** 2


def norm_cdf(x):
    return _ERFC(-np.asarray(x) / math.sqrt(2.0)).astype(float) / 2.0


def logsumexp(a, axis):
    top = np.max(a, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(a - top), axis=axis)) + np.squeeze(top, axis)


def expit(f):
    return 1.0 / (1.0 + np.exp(-f))

RNG = np.random.default_rng(0)
MEAN = np.array([[-1.0, 0.3], [0.5, 2.0], [1.5, -0.4]])
VAR = np.array([[0.2, 1.0], [0.5, 0.05], [2.0, 0.7]])


def mc_draws(mean, var, n=1_000_000, seed=1):
    eps = np.random.default_rng(seed).standard_normal((n, *np.shape(mean)))
    return mean + np.sqrt(var) * eps


# ------------------------------------------------------------------------------ quadrature
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gauss_hermite_is_exact_for_gaussian_moments(dtype):
    mu, var = MEAN.astype(dtype), VAR.astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    moments = {
        1: mu,
        2: mu**2 + var,
        3: mu**3 + 3 * mu * var,
        4: mu**4 + 6 * mu**2 * var + 3 * var**2,
    }
    for k, exact in moments.items():
        got = quadrature.gauss_hermite_expectation(lambda f, k=k: f**k, mu, var, 10)
        assert got.dtype == tf.as_dtype(dtype)
        np.testing.assert_allclose(got.numpy(), exact, rtol=tol, atol=tol)
    # E[exp(f)] = exp(mu + var / 2): not a polynomial, converges fast
    got = quadrature.gauss_hermite_expectation(tf.exp, mu, var, 30)
    np.testing.assert_allclose(got.numpy(), np.exp(mu + var / 2), rtol=10 * tol)
    log = quadrature.gauss_hermite_log_expectation(lambda f: f, mu, var, 30)
    np.testing.assert_allclose(log.numpy(), mu + var / 2, rtol=10 * tol, atol=10 * tol)


def test_gauss_hermite_nodes_and_monte_carlo():
    nodes, weights = quadrature.gauss_hermite(5)
    assert weights.numpy().sum() == pytest.approx(1.0)
    np.testing.assert_allclose(np.sum(weights * nodes**2), 1.0)  # E[x^2] under N(0, 1)
    mc = quadrature.monte_carlo_expectation(lambda f: f**2, MEAN, VAR, 200_000, seed=3)
    np.testing.assert_allclose(mc.numpy(), MEAN**2 + VAR, rtol=0.03, atol=0.02)
    again = quadrature.monte_carlo_expectation(lambda f: f**2, MEAN, VAR, 200_000, seed=3)
    np.testing.assert_array_equal(mc.numpy(), again.numpy())  # a seed repeats its draws
    log = quadrature.monte_carlo_log_expectation(lambda f: 0.0 * f, MEAN, VAR, 10, seed=1)
    np.testing.assert_allclose(log.numpy(), 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="num_points must be a positive integer"):
        quadrature.gauss_hermite(0)


# ------------------------------------------------------------------------------ likelihoods
def numpy_log_prob(name, y, f):
    if name == "gaussian":
        return norm_logpdf(y, f, np.sqrt(0.3))
    if name == "logit":
        return np.where(y > 0.5, -np.logaddexp(0, -f), -np.logaddexp(0, f))
    if name == "probit":
        return np.log(norm_cdf(np.where(y > 0.5, f, -f)))
    if name == "poisson":
        return y * f - np.exp(f) - _LGAMMA(y + 1.0).astype(float)
    if name == "student":
        df, scale = 4.0, 0.5
        const = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
        return const - math.log(scale) - (df + 1) / 2 * np.log1p(((y - f) / scale) ** 2 / df)
    raise AssertionError(name)


def likelihood(name):
    return {
        "gaussian": lambda: gp.Gaussian(variance=0.3, dtype="float64"),
        "logit": lambda: gp.Bernoulli(dtype="float64"),
        "probit": lambda: gp.Bernoulli(link="probit", dtype="float64"),
        "poisson": lambda: gp.Poisson(dtype="float64"),
        "student": lambda: gp.StudentT(df=4.0, scale=0.5, dtype="float64"),
    }[name]()


def observations(name):
    if name in ("logit", "probit"):
        return np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    if name == "poisson":
        return np.array([[0.0, 2.0], [3.0, 7.0], [1.0, 0.0]])
    return np.array([[-0.5, 0.8], [1.0, 2.5], [0.0, -1.0]])


NAMES = ["gaussian", "logit", "probit", "poisson", "student"]


@pytest.mark.parametrize("name", NAMES)
def test_expected_log_likelihood_against_a_million_sample_monte_carlo(name):
    lik, y = likelihood(name), observations(name)
    f = mc_draws(MEAN, VAR)
    values = numpy_log_prob(name, y, f)  # [S, 3, 2]
    mc = values.sum(-1).mean(0)
    se = values.sum(-1).std(0) / np.sqrt(len(f))
    for method in ("auto", "quadrature"):
        got = lik.expected_log_likelihood(y, MEAN, VAR, method=method).numpy()
        assert got.shape == (3,)
        assert np.all(np.abs(got - mc) < 4 * se + 1e-6), (method, got, mc, se)
    got = lik.expected_log_likelihood(y, MEAN, VAR, method="monte_carlo", seed=2).numpy()
    assert np.all(np.abs(got - mc) < 5 * values.sum(-1).std(0) / np.sqrt(100))  # 100 draws


@pytest.mark.parametrize("name", NAMES)
def test_predictive_moments_and_log_density_against_monte_carlo(name):
    lik, y = likelihood(name), observations(name)
    f = mc_draws(MEAN, VAR)
    log_p = numpy_log_prob(name, y, f)
    expected_lpd = (logsumexp(log_p, axis=0) - np.log(len(f))).sum(-1)
    np.testing.assert_allclose(lik.predictive_log_density(y, MEAN, VAR).numpy(), expected_lpd,
                               rtol=2e-3, atol=2e-3)
    if name == "gaussian":
        cond_mean, cond_var = f, np.full_like(f, 0.3)
    elif name == "logit":
        cond_mean = expit(f)
        cond_var = cond_mean * (1 - cond_mean)
    elif name == "probit":
        cond_mean = norm_cdf(f)
        cond_var = cond_mean * (1 - cond_mean)
    elif name == "poisson":  # lognormal rates: moments in closed form (MC is too heavy-tailed)
        rate = np.exp(MEAN + VAR / 2)
        y_var = rate + np.exp(2 * MEAN + 2 * VAR) - rate**2
        cond_mean, cond_var = rate[None], y_var[None]
    else:
        cond_mean, cond_var = f, np.full_like(f, 0.25 * 4.0 / 2.0)
    y_mean = cond_mean.mean(0)
    y_var = cond_var.mean(0) + cond_mean.var(0)
    se = cond_mean.std(0) / np.sqrt(len(cond_mean))
    mean, var = lik.predictive(MEAN, VAR)
    assert np.all(np.abs(mean.numpy() - y_mean) < 5 * se + 1e-9), (mean.numpy(), y_mean)
    np.testing.assert_allclose(var.numpy(), y_var, rtol=1e-2, atol=3e-3)


def test_gaussian_closed_form():
    lik = gp.Gaussian(variance=0.3, dtype="float64")
    y = observations("gaussian")
    expected = (-0.5 * np.log(2 * np.pi * 0.3) - ((y - MEAN) ** 2 + VAR) / 0.6).sum(-1)
    np.testing.assert_allclose(lik.expected_log_likelihood(y, MEAN, VAR).numpy(), expected,
                               rtol=1e-12)
    np.testing.assert_allclose(
        lik.predictive_log_density(y, MEAN, VAR).numpy(),
        norm_logpdf(y, MEAN, np.sqrt(VAR + 0.3)).sum(-1), rtol=1e-12)
    mean, var = lik.predictive(MEAN, VAR)
    np.testing.assert_allclose(var.numpy(), VAR + 0.3, rtol=1e-12)
    # the noise variance is learnable: the gradient of the ELL reaches it
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(lik.expected_log_likelihood(y, MEAN, VAR))
    (grad,) = tape.gradient(value, lik.trainable_weights)
    assert np.isfinite(grad.numpy()) and grad.numpy() != 0


def test_probit_closed_form_predictive():
    lik = gp.Bernoulli(link="probit", dtype="float64")
    p, _ = lik.predictive(MEAN, VAR)
    np.testing.assert_allclose(p.numpy(), norm_cdf(MEAN / np.sqrt(1 + VAR)), rtol=1e-12)


def test_softmax_against_numpy_monte_carlo():
    lik = gp.Softmax(num_classes=2, num_samples=200_000, seed=4, dtype="float64")
    labels = np.array([1, 0, 1])
    f = mc_draws(MEAN, VAR, n=400_000, seed=7)
    logp = f - logsumexp(f, axis=-1)[..., None]
    chosen = logp[:, np.arange(3), labels]
    np.testing.assert_allclose(lik.expected_log_likelihood(labels, MEAN, VAR).numpy(),
                               chosen.mean(0), atol=0.01)
    probs = np.exp(logp).mean(0)
    np.testing.assert_allclose(lik.predictive(MEAN, VAR)[0].numpy(), probs, atol=0.005)
    np.testing.assert_allclose(lik.predictive_log_density(labels[:, None], MEAN, VAR).numpy(),
                               np.log(probs[np.arange(3), labels]), atol=0.01)


def test_likelihood_layers_in_float32_and_configs():
    for name in NAMES:
        lik = {"gaussian": gp.Gaussian, "logit": gp.Bernoulli, "poisson": gp.Poisson,
               "student": gp.StudentT, "probit": gp.Bernoulli}[name]()
        out = lik.expected_log_likelihood(observations(name).astype(np.float32),
                                          MEAN.astype(np.float32), VAR.astype(np.float32))
        assert out.dtype == tf.float32 and np.all(np.isfinite(out.numpy()))
        config = json.loads(json.dumps(lik.get_config()))
        assert type(lik).from_config(config).get_config() == lik.get_config()
    mixed = gp.Poisson(dtype="mixed_bfloat16")
    assert mixed.expected_log_likelihood(np.ones((2, 1)), np.zeros((2, 1)),
                                         np.ones((2, 1))).dtype == tf.float32


@pytest.mark.parametrize(
    ("build", "error", "pattern"),
    [
        (lambda: gp.Gaussian(variance=0.0), ValueError,
         "variance must be a finite positive number. Received: variance=0.0"),
        (lambda: gp.Gaussian(variance=1e-7), ValueError, "variance must be greater than floor"),
        (lambda: gp.Bernoulli(link="cloglog"), ValueError,
         "link must be one of ['logit', 'probit']. Received: link='cloglog'"),
        (lambda: gp.StudentT(df=-1.0), ValueError, "df must be a finite positive number"),
        (lambda: gp.Softmax(num_classes=0), ValueError, "num_classes must be a positive integer"),
        (lambda: gp.Softmax(3, method="quadrature"), ValueError,
         "Softmax has no Gauss-Hermite form"),
        (lambda: gp.Poisson(method="exact"), ValueError, "method must be one of"),
        (lambda: gp.Poisson(num_quadrature_points=0), ValueError,
         "num_quadrature_points must be a positive integer"),
    ],
)
def test_bad_likelihood_arguments(build, error, pattern):
    with pytest.raises(error, match=re.escape(pattern)):
        build()


def test_student_t_variance_is_infinite_below_two_degrees_of_freedom():
    _, var = gp.StudentT(df=1.5, dtype="float64").predictive(MEAN, VAR)
    assert np.all(np.isinf(var.numpy()))
    assert math.isfinite(float(gp.StudentT(df=1.5).predictive_log_density(
        np.zeros((1, 1)), np.zeros((1, 1)), np.ones((1, 1)))[0]))
