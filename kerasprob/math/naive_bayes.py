"""Gaussian class-conditional models from sufficient statistics: naive Bayes and its
shared-scale special case, logistic regression.

Per class ``k`` (``K`` classes, ``d`` features) the sufficient statistics of a diagonal
Gaussian are the count ``n_k``, the mean ``m_k`` ``[d]`` and the sum of squared deviations
``M2_k = sum_{i: y_i = k} (x_i - m_k)^2`` ``[d]``. Batches are merged exactly and stably
(Chan, Golub & LeVeque 1979)::

    n = n_a + n_b,   delta = m_b - m_a,   m = m_a + delta n_b / n,
    M2 = M2_a + M2_b + delta^2 n_a n_b / n

so a stream of batches gives the same maximum-likelihood estimates as the whole data at
once: prior ``pi_k = n_k / N``, mean ``m_k``, variance ``M2_k / n_k`` (naive Bayes) or the
pooled ``sum_k M2_k / N`` (one variance per feature shared by the classes).

The class log joint ``log pi_k + log N(x; mu_k, diag(s_k^2))`` is two matrix products,
``x^2 @ A + x @ B + c`` with ``A = -1 / (2 s^2)``, ``B = mu / s^2`` and
``c = log pi - sum(mu^2 / (2 s^2) + log(2 pi s^2) / 2)`` (:func:`class_log_joint`).

With a variance shared by two classes the posterior is logistic,
``p(y = 1 | x) = sigmoid(w^T x + w0)`` with ``w = (mu_1 - mu_0) / s^2`` and
``w0 = sum((mu_0^2 - mu_1^2) / (2 s^2)) + log(pi_1 / pi_0)``
(:func:`shared_scale_logistic_weights`).

>>> import numpy as np
>>> x = np.array([[0.0], [2.0], [10.0], [14.0]]); y = np.array([0, 0, 1, 1])
>>> n, m, m2 = class_moments(x, y, num_classes=2)
>>> n.numpy().tolist(), m.numpy().ravel().tolist(), m2.numpy().ravel().tolist()
([2.0, 2.0], [1.0, 12.0], [2.0, 8.0])

References:
  T. F. Chan, G. H. Golub, R. J. LeVeque (1979). Updating formulae and a pairwise
  algorithm for computing sample variances. Stanford CS report STAN-CS-79-773.
  T. Hastie, R. Tibshirani, J. Friedman (2009). The Elements of Statistical Learning,
  sections 4.3 and 6.6.3. K. P. Murphy (2012). Machine Learning, section 8.6.1.
"""

import math

import tensorflow as tf

__all__ = [
    "class_log_joint",
    "class_log_posterior",
    "class_moments",
    "merge_class_moments",
    "pooled_variance",
    "shared_scale_logistic_weights",
    "total_variance",
]


def class_moments(x, y, num_classes, dtype=None):
    """Per-class count, mean and sum of squared deviations of one batch.

    Args:
      x: features ``[batch, d]``.
      y: integer labels ``[batch]`` in ``0..num_classes - 1``.
      num_classes: ``K``.
      dtype: float dtype of the statistics (default ``x``'s, float32 for ints).

    Returns:
      ``(count [K], mean [K, d], m2 [K, d])``; an empty class has count, mean and m2 0.
    """
    x = tf.convert_to_tensor(x)
    if dtype is None:
        dtype = x.dtype if x.dtype.is_floating else tf.float32
    x = tf.cast(x, dtype)
    onehot = tf.one_hot(tf.cast(y, tf.int32), num_classes, dtype=dtype)  # [batch, K]
    count = tf.reduce_sum(onehot, axis=0)  # [K]
    sums = tf.linalg.matmul(onehot, x, transpose_a=True)  # [K, d]
    mean = sums / tf.maximum(count, 1)[:, None]
    centred = x - tf.gather(mean, tf.cast(y, tf.int32))  # [batch, d]
    m2 = tf.linalg.matmul(onehot, centred * centred, transpose_a=True)  # [K, d]
    return count, mean, m2


def merge_class_moments(a, b):
    """Merge two ``(count [K], mean [K, d], m2 [K, d])`` triples exactly (Chan et al.)."""
    count_a, mean_a, m2_a = a
    count_b, mean_b, m2_b = b
    count = count_a + count_b
    safe = tf.maximum(count, 1)[:, None]
    delta = mean_b - mean_a
    mean = mean_a + delta * (count_b[:, None] / safe)
    m2 = m2_a + m2_b + delta * delta * (count_a[:, None] * count_b[:, None] / safe)
    return count, mean, m2


def total_variance(count, mean, m2):
    """Per-feature variance of all examples pooled (ddof 0) ``[d]``, by the law of total
    variance: ``(sum_k M2_k + sum_k n_k (m_k - m)^2) / N``."""
    total = tf.reduce_sum(count)
    grand = tf.reduce_sum(count[:, None] * mean, axis=0) / total  # [d]
    between = tf.reduce_sum(count[:, None] * tf.square(mean - grand), axis=0)
    return (tf.reduce_sum(m2, axis=0) + between) / total


def pooled_variance(count, m2):
    """Maximum-likelihood variance shared by all classes ``[d]``: ``sum_k M2_k / N``."""
    return tf.reduce_sum(m2, axis=0) / tf.reduce_sum(count)


def class_log_joint(x, log_prior, loc, variance):
    """``log p(x, y = k) = log pi_k + sum_j log N(x_j; mu_kj, s_kj^2)``: ``[batch, K]``.

    Computed as two matrix products (one pass over ``x``).

    Args:
      x: ``[batch, d]``.
      log_prior: ``[K]``.
      loc: class means ``[K, d]``.
      variance: class variances ``[K, d]`` (or a shared ``[d]``), positive.
    """
    x = tf.convert_to_tensor(x, loc.dtype)
    variance = tf.broadcast_to(variance, tf.shape(loc))
    precision = 1.0 / variance  # [K, d]
    quadratic = -0.5 * precision  # A^T
    linear = loc * precision  # B^T
    constant = log_prior - tf.reduce_sum(
        0.5 * loc * linear + 0.5 * tf.math.log(2.0 * math.pi * variance), axis=-1
    )  # [K]
    return (
        tf.linalg.matmul(x * x, quadratic, transpose_b=True)
        + tf.linalg.matmul(x, linear, transpose_b=True)
        + constant
    )


def class_log_posterior(x, log_prior, loc, variance):
    """``log p(y = k | x)``, normalized in log space (no underflow far from the data):
    ``[batch, K]``. Arguments as :func:`class_log_joint`."""
    joint = class_log_joint(x, log_prior, loc, variance)
    return joint - tf.reduce_logsumexp(joint, axis=-1, keepdims=True)


def shared_scale_logistic_weights(log_prior, loc, variance):
    """The logistic regression equal to a two-class Gaussian model with shared variances.

    ``p(y = 1 | x) = sigmoid(w^T x + w0)`` with ``w = (mu_1 - mu_0) / s^2`` and
    ``w0 = sum_j (mu_0j^2 - mu_1j^2) / (2 s_j^2) + log(pi_1 / pi_0)``.

    Args:
      log_prior: ``[2]``.
      loc: ``[2, d]``.
      variance: shared variances ``[d]``.

    Returns:
      ``(w [d], w0 [])``.
    """
    precision = 1.0 / variance
    w = (loc[1] - loc[0]) * precision
    w0 = tf.reduce_sum((loc[0] ** 2 - loc[1] ** 2) * precision, axis=-1) / 2 + (
        log_prior[1] - log_prior[0]
    )
    return w, w0
