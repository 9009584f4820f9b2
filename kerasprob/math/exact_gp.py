"""The exact GP under Gaussian noise: its posterior and its log marginal likelihood.

With kernel matrix ``K = k(X, X)`` ``[n, n]``, noise ``s^2`` and constant mean ``m``, the
posterior of ``f`` given ``D_n = (X, y)`` is (Rasmussen & Williams 2006, eqs. 2.25-2.26)::

    mu_n(x)        = m + k(x, X) (K + s^2 I)^{-1} (y - m)
    Sigma_n(x, x') = k(x, x') - k(x, X) (K + s^2 I)^{-1} k(X, x')

and the evidence of the data (eq. 5.8), with ``L L^T = K + s^2 I``::

    log p(y | X) = -1/2 |L^{-1} (y - m)|^2 - sum_i log L_ii - n/2 log(2 pi).

Both take and return tensors; the knowledge gradient, the tuning surrogate and tests of the
sparse bounds (which equal this at ``Z = X``) use them.

>>> import numpy as np
>>> gram = np.array([[1.0, 0.5], [0.5, 1.0]])
>>> lml = log_marginal_likelihood(gram, [0.3, -0.2], noise_variance=0.1)
>>> from scipy.stats import multivariate_normal
>>> ref = multivariate_normal(cov=gram + 0.1 * np.eye(2)).logpdf([0.3, -0.2])
>>> bool(abs(float(lml) - ref) < 1e-12)
True

References:
  Rasmussen, C. E. & Williams, C. K. I. (2006). Gaussian Processes for Machine Learning,
    ch. 2 and 5.
"""

import math

import tensorflow as tf

from kerasprob.math.linalg import safe_cholesky

__all__ = ["GaussianProcessPosterior", "log_marginal_likelihood"]


def log_marginal_likelihood(gram, y, noise_variance, mean=0.0):
    """``log N(y; m, K + s^2 I)``, batched over leading dimensions.

    Args:
      gram: ``K``, ``[..., n, n]`` kernel matrix of the inputs.
      y: ``[..., n]`` observed outputs (broadcast against ``gram``'s batch).
      noise_variance: ``s^2``, a scalar or ``[...]`` (one per batch member).
      mean: ``m``, the constant prior mean.

    Returns:
      ``[...]``: the log evidence (nats). A batch member whose ``K + s^2 I`` is not
      positive definite gives NaN (callers searching hyperparameters mask it).
    """
    gram = tf.convert_to_tensor(gram)
    dtype = gram.dtype
    y = tf.convert_to_tensor(y, dtype)
    noise = tf.convert_to_tensor(noise_variance, dtype)
    n = tf.shape(gram)[-1]
    noisy = gram + noise[..., None, None] * tf.eye(n, dtype=dtype)
    chol = tf.linalg.cholesky(noisy)  # [..., n, n]
    resid = y - tf.convert_to_tensor(mean, dtype)
    resid = tf.broadcast_to(resid[..., None], tf.concat([tf.shape(noisy)[:-1], [1]], 0))
    white = tf.linalg.triangular_solve(chol, resid)[..., 0]  # [..., n]
    log_det = tf.reduce_sum(tf.math.log(tf.linalg.diag_part(chol)), axis=-1)
    return (-0.5 * tf.reduce_sum(white**2, axis=-1) - log_det
            - 0.5 * tf.cast(n, dtype) * math.log(2.0 * math.pi))


class GaussianProcessPosterior:
    """The exact GP posterior ``p(f | D_n)`` under Gaussian noise, as tensors.

    ``mu_n(x) = m + k(x, X) (K + s^2 I)^{-1} (y - m)``,
    ``Sigma_n(x, x') = k(x, x') - k(x, X) (K + s^2 I)^{-1} k(X, x')``.

    Args:
      kernel: a callable ``(x1 [..., a, d], x2 [..., b, d]) -> [..., a, b]``.
      x: ``X``, ``[n, d]`` observed inputs.
      y: ``[n]`` observed outputs.
      noise_variance: ``s^2``, a scalar (``> 0`` keeps ``K + s^2 I`` well conditioned).
      mean: ``m``, the constant prior mean.
      dtype: computation dtype (default: ``x``'s if floating, else float64).

    Attributes:
      chol: ``[n, n]``, lower Cholesky factor of ``K + s^2 I``.
      weights: ``[n]``, ``(K + s^2 I)^{-1} (y - m)``.
    """

    def __init__(self, kernel, x, y, noise_variance, mean=0.0, dtype=None):
        if not callable(kernel):
            raise TypeError(f"kernel must be callable. Received: kernel={kernel!r}")
        if dtype is None:
            dtype = getattr(x, "dtype", None)
            dtype = tf.as_dtype(dtype) if dtype is not None else tf.float64
            dtype = dtype if dtype.is_floating else tf.float64
        self.kernel = kernel
        self.x = tf.convert_to_tensor(x, dtype)  # [n, d]
        self.y = tf.convert_to_tensor(y, dtype)  # [n]
        if self.x.shape.rank != 2 or self.y.shape.rank != 1:
            raise ValueError(
                "x must have shape [n, d] and y shape [n]. Received: x with shape "
                f"{tuple(self.x.shape)}, y with shape {tuple(self.y.shape)}")
        self.noise_variance = tf.convert_to_tensor(noise_variance, dtype)
        self.mean_value = tf.convert_to_tensor(mean, dtype)
        n = tf.shape(self.x)[0]
        gram = self.kernel(self.x, self.x) + self.noise_variance * tf.eye(n, dtype=dtype)
        self.chol = safe_cholesky(gram, name="the GP's kernel matrix K + noise I")  # [n, n]
        resid = (self.y - self.mean_value)[:, None]  # [n, 1]
        self.weights = tf.linalg.cholesky_solve(self.chol, resid)[:, 0]  # [n]

    @property
    def dtype(self):
        return self.x.dtype

    def mean(self, x):
        """``mu_n(x)``: ``[..., q, d] -> [..., q]``."""
        x = tf.convert_to_tensor(x, self.dtype)
        return self.mean_value + tf.linalg.matvec(self.kernel(x, self.x), self.weights)

    def _whitened(self, x):
        """``L^{-1} k(X, x)``: ``[..., q, d] -> [..., n, q]``."""
        cross = tf.linalg.matrix_transpose(self.kernel(x, self.x))  # [..., n, q]
        chol = tf.broadcast_to(self.chol, tf.concat([tf.shape(cross)[:-2],
                                                     tf.shape(self.chol)], 0))
        return tf.linalg.triangular_solve(chol, cross, lower=True)

    def covariance(self, x1, x2):
        """``Sigma_n(x1, x2)``: ``[..., a, d], [..., b, d] -> [..., a, b]``."""
        x1 = tf.convert_to_tensor(x1, self.dtype)
        x2 = tf.convert_to_tensor(x2, self.dtype)
        v1, v2 = self._whitened(x1), self._whitened(x2)
        return self.kernel(x1, x2) - tf.linalg.matmul(v1, v2, transpose_a=True)

    def variance(self, x):
        """``Sigma_n(x, x)`` of each point (latent ``f``, no noise): ``[..., q, d] -> [..., q]``."""
        x = tf.convert_to_tensor(x, self.dtype)
        prior = self.kernel(x[..., None, :], x[..., None, :])[..., 0, 0]  # [..., q]
        v = self._whitened(x)  # [..., n, q]
        return tf.maximum(prior - tf.reduce_sum(v * v, axis=-2), 0.0)
