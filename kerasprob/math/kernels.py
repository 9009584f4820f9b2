"""Covariance functions as pure functions on tensors: ``K(x, x')`` and its diagonal ``K(x, x)``.

Inputs are ``x`` ``[..., n, D]`` and ``y`` ``[..., m, D]`` (batch dimensions broadcast);
matrices come out ``[..., n, m]`` and diagonals ``[..., n]``. Stationary kernels read the
scaled distance ``r^2 = sum_d (x_d - x'_d)^2 / l_d^2`` (``l`` a scalar, or ``[D]`` for ARD).

========================  =====================================================================
kernel                    ``k(x, x')``
========================  =====================================================================
squared exponential       ``s^2 exp(-r^2 / 2)``
Matern 1/2                ``s^2 exp(-r)``
Matern 3/2                ``s^2 (1 + sqrt(3) r) exp(-sqrt(3) r)``
Matern 5/2                ``s^2 (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r)``
rational quadratic        ``s^2 (1 + r^2 / (2 alpha))^(-alpha)``
periodic (exp-sine^2)     ``s^2 exp(-2 sum_d sin^2(pi (x_d - x'_d) / p_d) / l_d^2)``
linear                    ``sum_d s^2_d x_d x'_d`` (``s^2`` scalar or ``[D]``)
========================  =====================================================================

>>> import numpy as np
>>> x = np.array([[0.0], [1.0]])
>>> np.round(squared_exponential(x, x, variance=2.0, lengthscales=1.0).numpy(), 4)
array([[2.    , 1.2131],
       [1.2131, 2.    ]])

References:
  Rasmussen, C. E. & Williams, C. K. I. (2006). Gaussian Processes for Machine Learning,
  chapter 4 (eqs. 4.9, 4.14-4.17, 4.19, 4.31).
"""

import math

import tensorflow as tf

__all__ = [
    "linear",
    "linear_diag",
    "matern12",
    "matern32",
    "matern52",
    "periodic",
    "rational_quadratic",
    "scaled_squared_distance",
    "squared_exponential",
    "stationary_diag",
]


def _pair(x, y):
    x = tf.convert_to_tensor(x)
    y = x if y is None else tf.convert_to_tensor(y, dtype=x.dtype)
    return x, y


def scaled_squared_distance(x, y=None, lengthscales=1.0):
    """``r^2[i, j] = sum_d (x_id - y_jd)^2 / l_d^2``, ``[..., n, m]``, clipped at 0 (and 0 on
    the diagonal when ``y`` is None).

    Args:
      x: ``[..., n, D]``.
      y: ``[..., m, D]``, or None for ``x``.
      lengthscales: scalar or ``[D]``.
    """
    x, y = _pair(x, y)
    ls = tf.cast(lengthscales, x.dtype)
    a = x / ls
    b = a if y is x else y / ls
    aa = tf.reduce_sum(tf.square(a), axis=-1)[..., :, tf.newaxis]  # [..., n, 1]
    bb = tf.reduce_sum(tf.square(b), axis=-1)[..., tf.newaxis, :]  # [..., 1, m]
    r2 = aa - 2.0 * tf.linalg.matmul(a, b, transpose_b=True) + bb  # [..., n, m]
    if y is x:  # exactly 0 on the diagonal (the expansion leaves round-off there)
        r2 = tf.linalg.set_diag(r2, tf.zeros(tf.shape(r2)[:-1], x.dtype))
    return tf.maximum(r2, tf.zeros([], x.dtype))


def _distance(r2):
    """``r = sqrt(r^2)`` with a finite gradient at 0 (the floor is below any real distance)."""
    tiny = tf.constant(1e-36 if r2.dtype == tf.float64 else 1e-30, r2.dtype)
    return tf.sqrt(tf.maximum(r2, tiny))


def squared_exponential(x, y=None, variance=1.0, lengthscales=1.0):
    """``k(x, x') = s^2 exp(-r^2 / 2)``: ``[..., n, m]``."""
    r2 = scaled_squared_distance(x, y, lengthscales)
    return tf.cast(variance, r2.dtype) * tf.exp(-0.5 * r2)


def matern12(x, y=None, variance=1.0, lengthscales=1.0):
    """Matern 1/2 (exponential): ``k = s^2 exp(-r)``: ``[..., n, m]``."""
    r = _distance(scaled_squared_distance(x, y, lengthscales))
    return tf.cast(variance, r.dtype) * tf.exp(-r)


def matern32(x, y=None, variance=1.0, lengthscales=1.0):
    """Matern 3/2: ``k = s^2 (1 + sqrt(3) r) exp(-sqrt(3) r)``: ``[..., n, m]``."""
    r = math.sqrt(3.0) * _distance(scaled_squared_distance(x, y, lengthscales))
    return tf.cast(variance, r.dtype) * (1.0 + r) * tf.exp(-r)


def matern52(x, y=None, variance=1.0, lengthscales=1.0):
    """Matern 5/2: ``k = s^2 (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r)``: ``[..., n, m]``."""
    r2 = scaled_squared_distance(x, y, lengthscales)
    r = math.sqrt(5.0) * _distance(r2)
    return tf.cast(variance, r.dtype) * (1.0 + r + 5.0 / 3.0 * r2) * tf.exp(-r)


def rational_quadratic(x, y=None, variance=1.0, lengthscales=1.0, alpha=1.0):
    """``k = s^2 (1 + r^2 / (2 alpha))^(-alpha)`` (a scale mixture of squared exponentials;
    ``alpha -> inf`` gives the squared exponential): ``[..., n, m]``."""
    r2 = scaled_squared_distance(x, y, lengthscales)
    alpha = tf.cast(alpha, r2.dtype)
    return tf.cast(variance, r2.dtype) * tf.exp(-alpha * tf.math.log1p(r2 / (2.0 * alpha)))


def periodic(x, y=None, variance=1.0, lengthscales=1.0, period=1.0):
    """Exp-sine-squared: ``k = s^2 exp(-2 sum_d sin^2(pi (x_d - x'_d) / p_d) / l_d^2)``,
    ``[..., n, m]`` (MacKay 1998; in 1-D TFP's ``ExpSinSquared`` and scikit-learn's
    ``ExpSineSquared``). A product of 1-D periodic kernels, so positive semi-definite in any
    dimension (the form with ``sin^2(pi |x - x'| / p)`` of the Euclidean distance is not).
    ``lengthscales`` and ``period`` are scalars or ``[D]``. Memory ``O(n m D)``."""
    x, y = _pair(x, y)
    dtype = x.dtype
    diff = x[..., :, tf.newaxis, :] - y[..., tf.newaxis, :, :]  # [..., n, m, D]
    s = tf.sin(math.pi * diff / tf.cast(period, dtype)) / tf.cast(lengthscales, dtype)
    return tf.cast(variance, dtype) * tf.exp(-2.0 * tf.reduce_sum(tf.square(s), axis=-1))


def linear(x, y=None, variance=1.0):
    """``k(x, x') = sum_d s^2_d x_d x'_d`` (Bayesian linear regression, weight variance
    ``s^2``, scalar or ``[D]``): ``[..., n, m]``."""
    x, y = _pair(x, y)
    return tf.linalg.matmul(x * tf.cast(variance, x.dtype), y, transpose_b=True)


def linear_diag(x, variance=1.0):
    """Diagonal of :func:`linear`: ``sum_d s^2_d x_d^2``, ``[..., n]``."""
    x = tf.convert_to_tensor(x)
    return tf.reduce_sum(tf.square(x) * tf.cast(variance, x.dtype), axis=-1)


def stationary_diag(x, variance=1.0):
    """Diagonal of any stationary kernel here, ``k(x, x) = s^2``: ``[..., n]``."""
    x = tf.convert_to_tensor(x)
    return tf.fill(tf.shape(x)[:-1], tf.cast(variance, x.dtype))
