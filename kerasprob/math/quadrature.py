"""Expectations under a Gaussian, ``E_{N(f; mu, var)}[g(f)]``, elementwise over a batch:
by Gauss-Hermite quadrature or by Monte Carlo.

Gauss-Hermite with K nodes: ``E[g(f)] ~= sum_k w_k g(mu + sqrt(2 var) t_k) / sqrt(pi)``,
``(t_k, w_k)`` the Hermite nodes and weights, exact for polynomials of degree < 2K.
``mu`` and ``var`` are ``[...]`` tensors (any shape, broadcast together); ``g`` maps
``f`` ``[K, ...]`` to ``[K, ...]`` elementwise; the result is ``[...]``.

>>> import numpy as np
>>> e = gauss_hermite_expectation(lambda f: f**2, np.array([1.0]), np.array([2.0]))
>>> np.round(e.numpy(), 6)  # E[f^2] = mu^2 + var
array([3.])

References:
  Abramowitz, M. & Stegun, I. (1972). Handbook of Mathematical Functions, 25.4.46.
  Hensman, J., Matthews, A. & Ghahramani, Z. (2015). Scalable Variational Gaussian Process
  Classification. AISTATS (the 1-D quadrature of the expected log-likelihood).
"""

import math

import numpy as np
import tensorflow as tf

from kerasprob.math.random import normal
from kerasprob.validation import check_positive_int

__all__ = [
    "gauss_hermite",
    "gauss_hermite_expectation",
    "gauss_hermite_log_expectation",
    "monte_carlo_expectation",
    "monte_carlo_log_expectation",
]


def gauss_hermite(num_points, dtype=tf.float64):
    """Nodes ``x_k = sqrt(2) t_k`` and weights ``w_k / sqrt(pi)`` for ``E_{N(0, 1)}[g(x)]``
    ``~= sum_k weight_k g(x_k)``: two ``[num_points]`` tensors (weights sum to 1)."""
    num_points = check_positive_int("num_points", num_points)
    t, w = np.polynomial.hermite.hermgauss(num_points)
    return (tf.constant(math.sqrt(2.0) * t, dtype), tf.constant(w / math.sqrt(math.pi), dtype))


def _gh_points(mean, var, num_points):
    mean = tf.convert_to_tensor(mean)
    var = tf.convert_to_tensor(var, mean.dtype)
    mean, var = mean + tf.zeros_like(var), var + tf.zeros_like(mean)
    nodes, weights = gauss_hermite(num_points, mean.dtype)
    shape = tf.concat([[num_points], tf.ones([tf.rank(mean)], tf.int32)], 0)
    nodes, weights = tf.reshape(nodes, shape), tf.reshape(weights, shape)
    f = mean[tf.newaxis] + tf.sqrt(var)[tf.newaxis] * nodes  # [K, ...]
    return f, weights


def gauss_hermite_expectation(fn, mean, var, num_points=20):
    """``E_{N(f; mean, var)}[fn(f)]`` by ``num_points``-node Gauss-Hermite quadrature: ``[...]``.

    Args:
      fn: elementwise ``f [K, ...] -> [K, ...]`` (it may close over tensors that broadcast
        against ``[1, ...]``, e.g. observations ``y[None]``).
      mean, var: ``[...]``, broadcast together.
      num_points: number of nodes K.
    """
    f, weights = _gh_points(mean, var, num_points)
    return tf.reduce_sum(weights * fn(f), axis=0)


def gauss_hermite_log_expectation(log_fn, mean, var, num_points=20):
    """``log E_{N(f; mean, var)}[exp(log_fn(f))]`` by Gauss-Hermite, in log space (log-sum-exp),
    e.g. the predictive log density ``log int p(y | f) q(f) df``: ``[...]``."""
    f, weights = _gh_points(mean, var, num_points)
    return tf.reduce_logsumexp(tf.math.log(weights) + log_fn(f), axis=0)


def _mc_points(mean, var, num_samples, seed):
    mean = tf.convert_to_tensor(mean)
    var = tf.convert_to_tensor(var, mean.dtype)
    mean, var = mean + tf.zeros_like(var), var + tf.zeros_like(mean)
    num_samples = check_positive_int("num_samples", num_samples)
    shape = tf.concat([[num_samples], tf.shape(mean)], 0)
    eps = normal(shape, seed, dtype=mean.dtype)
    return mean[tf.newaxis] + tf.sqrt(var)[tf.newaxis] * eps  # [S, ...]


def monte_carlo_expectation(fn, mean, var, num_samples=100, seed=None):
    """``E_{N(f; mean, var)}[fn(f)]`` by the mean over ``num_samples`` reparameterized draws
    ``f = mean + sqrt(var) eps`` (gradients flow to ``mean`` and ``var``): ``[...]``.
    ``seed``: None (global generator) or a stateless seed (:mod:`kerasprob.math.random`)."""
    return tf.reduce_mean(fn(_mc_points(mean, var, num_samples, seed)), axis=0)


def monte_carlo_log_expectation(log_fn, mean, var, num_samples=100, seed=None):
    """``log E[exp(log_fn(f))]`` by Monte Carlo, ``log mean_s exp(log_fn(f_s))``: ``[...]``
    (a biased-low estimate of the log for finite ``num_samples``, by Jensen)."""
    values = log_fn(_mc_points(mean, var, num_samples, seed))
    return tf.reduce_logsumexp(values, axis=0) - math.log(num_samples)
