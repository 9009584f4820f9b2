"""Variational bounds from per-sample log densities, samples on the LAST axis.

One convention throughout kerasprob: the ``k`` importance samples of each
example lie on the last axis, ``[batch..., k]`` (as the
:class:`kerasprob.layers.EvidenceBound` layer and ``zoo.VAE`` lay them out).

>>> import numpy as np
>>> log_w = np.log(np.array([[1.0, 3.0]], "float32"))  # batch = 1, k = 2 samples
>>> zeros = np.zeros_like(log_w)
>>> round(float(iwae_bound(log_w, zeros, zeros)[0]), 4)  # log((1 + 3) / 2)
0.6931
>>> round(float(elbo(log_w, zeros, zeros)[0]), 4)  # (log 1 + log 3) / 2
0.5493
"""

import tensorflow as tf

__all__ = ["elbo", "iwae_bound", "log_importance_weights", "log_mean_exp"]


def log_mean_exp(values, axis=-1):
    """``log(mean(exp(values)))`` along ``axis`` (default: the sample axis), computed stably."""
    values = tf.convert_to_tensor(values)
    n = tf.cast(tf.shape(values)[axis], values.dtype)
    return tf.reduce_logsumexp(values, axis=axis) - tf.math.log(n)


def log_importance_weights(log_likelihood, log_prior, log_posterior, weight=1.0):
    """``log w_i = log p(x | z_i) + beta (log p(z_i) - log q(z_i | x))``.

    With ``beta = 1`` these are the importance weights of ``p(x, z) / q(z | x)``:
    ``log mean_i w_i`` is the IWAE bound, ``mean_i log w_i`` the ELBO.

    Args:
      log_likelihood, log_prior, log_posterior: ``[batch..., k]``.
      weight: ``beta``, scalar.

    Returns:
      ``[batch..., k]``.
    """
    return log_likelihood + weight * (log_prior - log_posterior)


def elbo(log_likelihood, log_prior, log_posterior):
    """Monte Carlo ELBO ``mean_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)]``.

    Args:
      log_likelihood: ``[batch..., k]`` values of ``log p(x | z_k)``.
      log_prior: ``[batch..., k]`` values of ``log p(z_k)``.
      log_posterior: ``[batch..., k]`` values of ``log q(z_k | x)``, ``z_k ~ q``.

    Returns:
      ``[batch...]`` ELBO estimates (a lower bound on ``log p(x)`` in expectation).
    """
    log_w = log_importance_weights(tf.convert_to_tensor(log_likelihood), log_prior,
                                   log_posterior)
    return tf.reduce_mean(log_w, axis=-1)


def iwae_bound(log_likelihood, log_prior, log_posterior):
    """Importance-weighted bound ``log (1/k) sum_k p(x, z_k) / q(z_k | x)``.

    Same arguments as :func:`elbo` (samples on the last axis). For ``k = 1`` it
    equals the ELBO; it is never below the ELBO of the same samples, and tightens
    to ``log p(x)`` as ``k`` grows.

    References:
      Burda, Grosse & Salakhutdinov (2016), Importance Weighted Autoencoders.
    """
    log_w = log_importance_weights(tf.convert_to_tensor(log_likelihood), log_prior,
                                   log_posterior)
    return log_mean_exp(log_w, axis=-1)
