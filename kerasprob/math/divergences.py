"""Divergences between distributions, as functions on tensors (no Keras).

>>> import numpy as np
>>> float(gaussian_kl_to_standard_normal(np.zeros((1, 2), "float32"),
...                                       np.zeros((1, 2), "float32"))[0])
0.0
"""

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def gaussian_kl_to_standard_normal(mu, log_var):
    """KL(N(mu, diag(exp(log_var))) || N(0, I)), summed over the last axis.

    ``KL = -1/2 sum_k (1 + log_var_k - mu_k^2 - exp(log_var_k))``.

    Args:
      mu: ``[batch..., d]`` means.
      log_var: ``[batch..., d]`` log variances.

    Returns:
      ``[batch...]`` KL divergences in nats.
    """
    mu = tf.convert_to_tensor(mu)
    log_var = tf.convert_to_tensor(log_var, dtype=mu.dtype)
    return -0.5 * tf.reduce_sum(1.0 + log_var - tf.square(mu) - tf.exp(log_var), axis=-1)


def monte_carlo_kl(q, p, num_samples, seed=None):
    """Unbiased estimate of KL(q || p) = E_q[log q(z) - log p(z)].

    Uses ``num_samples`` reparameterized draws from ``q`` per batch member.

    Args:
      q: distribution with batch shape ``[batch...]``.
      p: distribution whose batch shape broadcasts against ``q``'s.
      num_samples: ``k``, the number of draws.

    Returns:
      ``[batch...]`` estimates; their standard error is ``std / sqrt(k)``.
    """
    z = q.sample(num_samples, seed=seed)  # [k, batch..., event...]
    return tf.reduce_mean(q.log_prob(z) - p.log_prob(z), axis=0)


def kl_divergence(q, p, method="auto", num_samples=1, seed=None):
    """KL(q || p): analytic where TFP registers it, else Monte Carlo.

    Args:
      q, p: distributions with broadcastable batch shapes.
      method: ``"analytic"`` (raise ``NotImplementedError`` when no closed
        form is registered), ``"monte_carlo"`` or ``"auto"`` (analytic, else
        Monte Carlo).
      num_samples: draws for the Monte Carlo estimate.

    Returns:
      ``[batch...]`` KL divergences.
    """
    if method in ("auto", "analytic"):
        try:
            return tfd.kl_divergence(q, p)
        except NotImplementedError:
            if method == "analytic":
                raise
    return monte_carlo_kl(q, p, num_samples, seed=seed)


def tril_gaussian_kl_to_standard_normal(loc, scale_tril):
    """``KL(N(mu, L L^T) || N(0, I)) = 1/2 (|L|_F^2 + |mu|^2 - d) - sum_i log L_ii``.

    Args:
      loc: ``[batch..., d]``.
      scale_tril: ``[batch..., d, d]`` lower triangular with a positive diagonal.

    Returns:
      ``[batch...]`` KL divergences in nats.
    """
    d = tf.cast(tf.shape(loc)[-1], loc.dtype)
    trace = tf.reduce_sum(tf.square(scale_tril), axis=[-2, -1])
    log_det = tf.reduce_sum(tf.math.log(tf.linalg.diag_part(scale_tril)), axis=-1)
    return 0.5 * (trace + tf.reduce_sum(tf.square(loc), axis=-1) - d) - log_det
