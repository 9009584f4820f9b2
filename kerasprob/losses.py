"""Losses on distribution outputs, and variational bounds.

``NegativeLogLikelihood`` is a Keras loss for any model whose output is a
distribution: ``model.compile(loss=kp.losses.NegativeLogLikelihood())``.
``elbo`` and ``iwae_bound`` are functions of per-sample log densities.

>>> import numpy as np
>>> log_w = np.log(np.array([[1.0], [3.0]], "float32"))  # k = 2 samples, batch = 1
>>> zeros = np.zeros_like(log_w)
>>> round(float(iwae_bound(log_w, zeros, zeros)[0]), 4)  # log((1 + 3) / 2)
0.6931
>>> round(float(elbo(log_w, zeros, zeros)[0]), 4)  # (log 1 + log 3) / 2
0.5493
"""

import tensorflow as tf
import tf_keras

from kerasprob.layers.kl import as_distribution
from kerasprob.serialization import register


def log_mean_exp(values, axis=0):
    """``log(mean(exp(values)))`` along ``axis``, computed stably."""
    values = tf.convert_to_tensor(values)
    n = tf.cast(tf.shape(values)[axis], values.dtype)
    return tf.reduce_logsumexp(values, axis=axis) - tf.math.log(n)


def elbo(log_likelihood, log_prior, log_posterior):
    """Monte Carlo ELBO ``mean_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)]``.

    Args:
      log_likelihood: ``[k, batch]`` values of ``log p(x | z_k)``.
      log_prior: ``[k, batch]`` values of ``log p(z_k)``.
      log_posterior: ``[k, batch]`` values of ``log q(z_k | x)``, ``z_k ~ q``.

    Returns:
      ``[batch]`` ELBO estimates (a lower bound on ``log p(x)`` in expectation).
    """
    log_w = tf.convert_to_tensor(log_likelihood) + log_prior - log_posterior
    return tf.reduce_mean(log_w, axis=0)


def iwae_bound(log_likelihood, log_prior, log_posterior):
    """Importance-weighted bound ``log (1/k) sum_k p(x, z_k) / q(z_k | x)``.

    Same arguments as :func:`elbo`. For ``k = 1`` it equals the ELBO; it is
    never below the ELBO of the same samples, and tightens to ``log p(x)`` as
    ``k`` grows.

    References:
      Burda, Grosse & Salakhutdinov (2016), Importance Weighted Autoencoders.
    """
    log_w = tf.convert_to_tensor(log_likelihood) + log_prior - log_posterior
    return log_mean_exp(log_w, axis=0)


@register
class NegativeLogLikelihood(tf_keras.losses.Loss):
    """``-log p(y_true)`` under the predicted distribution ``y_pred``.

    ``y_pred`` must be the output of a distribution layer; ``y_true`` has
    its event shape. Returns one value per example (reduced by Keras).
    """

    def __init__(self, name="negative_log_likelihood", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        distribution = as_distribution(y_pred)
        if distribution is None:
            raise TypeError(
                "NegativeLogLikelihood needs a model whose output is a distribution (a "
                f"kerasprob.distributions layer). Received: y_pred={y_pred!r}"
            )
        y_true = tf.cast(y_true, distribution.dtype)
        return -distribution.log_prob(y_true)
