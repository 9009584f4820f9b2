"""Sparse Gaussian process regression (SGPR): Titsias' collapsed bound and its optimal q(u).

For a Gaussian likelihood ``p(y | f) = N(y; f, sigma^2 I)`` and ``M`` inducing
variables ``u = f(Z)``, the ELBO maximized over ``q(u)`` has a closed form
(Titsias 2009), and so does the maximizing ``q(u)``. With ``L = chol(K_uu)``,

- ``A = L^{-1} K_uf / sigma``                      ``[M, N]``
- ``B = I + A A^T``, ``L_B = chol(B)``              ``[M, M]``
- ``c = L_B^{-1} A r / sigma``                      ``[M, P]`` (``r = y - m(x)``, ``[N, P]``)

the collapsed bound, summed over the ``P`` outputs (which share the kernel and
the noise), is::

    log N(r; 0, Q_ff + sigma^2 I) - tr(K_ff - Q_ff) / (2 sigma^2)
      = -N P/2 log(2 pi sigma^2) - P sum(log diag L_B) - |r|^2 / (2 sigma^2) + |c|^2 / 2
        - P/2 (tr(K_ff) / sigma^2 - tr(A A^T))

with ``Q_ff = K_fu K_uu^{-1} K_uf``; the optimal ``q(u)`` in whitened form
(``u = L v``) is ``q(v) = N(L_B^{-T} c, B^{-1})``, and the predictive at new
inputs ``X*`` (``Lambda* = L^{-1} K_u*``)::

    mean = Lambda*^T L_B^{-T} c
    cov  = K_** - Lambda*^T Lambda* + (L_B^{-1} Lambda*)^T (L_B^{-1} Lambda*)

Only triangular solves against Cholesky factors appear; no matrix is inverted.
All terms but ``L`` are sums over the data (:class:`SGPRStatistics`), so a
posterior over millions of points is accumulated batch by batch.

>>> import numpy as np
>>> x = np.linspace(0.0, 1.0, 5)[:, None]
>>> k = np.exp(-0.5 * (x - x.T) ** 2 / 0.3 ** 2)       # RBF, lengthscale 0.3
>>> y = np.sin(6.0 * x)
>>> exact = -0.5 * (y.T @ np.linalg.solve(k + 0.1 * np.eye(5), y)
...                 + np.linalg.slogdet(k + 0.1 * np.eye(5))[1] + 5 * np.log(2 * np.pi))
>>> bound = titsias_bound(k, k, np.diag(k), y, 0.1, jitter=0.0)  # Z = X: the bound is exact
>>> bool(np.isclose(bound.numpy(), exact.item()))
True

References:
  Titsias, M. (2009). Variational Learning of Inducing Variables in Sparse
  Gaussian Processes. AISTATS.
  Tiao, L. C. (2020). A Handbook for Sparse Variational Gaussian Processes,
  appendix VII (SGPR implementation details). tiao.io.
  GPflow's ``gpflow.models.SGPR`` (the same ``A`` / ``B`` / ``c`` form).
"""

import math
from typing import NamedTuple

import tensorflow as tf

from kerasprob.math.linalg import cholesky_of_inverse, safe_cholesky

__all__ = [
    "SGPRStatistics",
    "collapsed_bound",
    "default_jitter",
    "jittered_cholesky",
    "optimal_inducing_distribution",
    "sgpr_predictive",
    "sgpr_statistics",
    "titsias_bound",
]

#: Absolute jitter added to the diagonal of ``K_uu`` before its Cholesky factor, by default,
#: per dtype. With ``Z = X`` it costs about ``N jitter / (2 sigma^2)`` nats of the bound
#: (7e-5 on Mauna Loa CO2 in float64, 521 points, sigma^2 = 0.037); a float32 factor needs more.
DEFAULT_JITTER = {"float64": 1e-8, "float32": 1e-6}


def default_jitter(dtype):
    """The default absolute jitter for ``dtype``: 1e-8 in float64, 1e-6 otherwise."""
    return DEFAULT_JITTER.get(tf.as_dtype(dtype).name, 1e-6)


class SGPRStatistics(NamedTuple):
    """Data sums of the SGPR bound for fixed hyperparameters (additive over batches).

    Attributes:
      aat: ``sum_i a_i a_i^T = A A^T``, ``[M, M]``, with ``a_i = L^{-1} k_u(x_i) / sigma``.
      a_r: ``sum_i a_i r_i^T = A r``, ``[M, P]``.
      r_sq: ``sum_i r_i^2``, ``[P]``.
      kff_trace: ``sum_i k(x_i, x_i)``, scalar.
      num_data: ``N``, scalar (the dtype of the others).
    """

    aat: tf.Tensor
    a_r: tf.Tensor
    r_sq: tf.Tensor
    kff_trace: tf.Tensor
    num_data: tf.Tensor

    def __add__(self, other):
        return SGPRStatistics(*(a + b for a, b in zip(self, other)))


def _as_matrix_y(residual, dtype):
    residual = tf.convert_to_tensor(residual, dtype=dtype)
    return residual[:, None] if residual.shape.rank == 1 else residual  # [N, P]


def jittered_cholesky(kuu, jitter=None, name="K_uu"):
    """``chol(K_uu + jitter * I)``: ``[M, M] -> [M, M]`` lower triangular.

    The jitter is absolute (None: :func:`default_jitter` of ``K_uu``'s dtype), so it does not
    grow with the kernel's variance: with Z = X the bound stays the exact log marginal
    likelihood to about ``N jitter / (2 sigma^2)`` nats whatever the variance. The factor is
    taken by
    :func:`kerasprob.math.linalg.safe_cholesky`, which escalates the jitter (relative to the
    mean diagonal, with a warning) only where the factorization fails, and raises a
    ``CholeskyError`` naming ``name``.
    """
    kuu = tf.convert_to_tensor(kuu)
    if jitter is None:
        jitter = default_jitter(kuu.dtype)
    if jitter:
        kuu = tf.linalg.set_diag(kuu, tf.linalg.diag_part(kuu) + tf.cast(jitter, kuu.dtype))
    return safe_cholesky(kuu, name=name)


def sgpr_statistics(chol_kuu, kuf, kff_diag, residual, noise_variance):
    """The :class:`SGPRStatistics` of one batch of data.

    Args:
      chol_kuu: ``L``, lower Cholesky factor of ``K_uu``, ``[M, M]``.
      kuf: ``K_uf = k(Z, X)``, ``[M, N]``.
      kff_diag: ``k(x_i, x_i)``, ``[N]``.
      residual: ``r = y - m(X)``, ``[N]`` or ``[N, P]``.
      noise_variance: ``sigma^2``, scalar.

    Returns:
      :class:`SGPRStatistics`; the sum over batches is the statistics of all the data.
    """
    chol_kuu = tf.convert_to_tensor(chol_kuu)
    dtype = chol_kuu.dtype
    kuf = tf.convert_to_tensor(kuf, dtype=dtype)
    r = _as_matrix_y(residual, dtype)  # [N, P]
    sigma = tf.sqrt(tf.cast(noise_variance, dtype))
    a = tf.linalg.triangular_solve(chol_kuu, kuf, lower=True) / sigma  # [M, N]
    return SGPRStatistics(
        aat=tf.matmul(a, a, transpose_b=True),  # [M, M]
        a_r=tf.matmul(a, r),  # [M, P]
        r_sq=tf.reduce_sum(tf.square(r), axis=0),  # [P]
        kff_trace=tf.reduce_sum(tf.cast(kff_diag, dtype)),
        num_data=tf.cast(tf.shape(r)[0], dtype),
    )


def _chol_b_and_c(stats, noise_variance):
    """``(L_B, c)``: ``chol(I + A A^T)`` ``[M, M]`` and ``L_B^{-1} A r / sigma`` ``[M, P]``."""
    dtype = stats.aat.dtype
    eye = tf.eye(tf.shape(stats.aat)[-1], dtype=dtype)
    chol_b = tf.linalg.cholesky(eye + stats.aat)
    sigma = tf.sqrt(tf.cast(noise_variance, dtype))
    c = tf.linalg.triangular_solve(chol_b, stats.a_r, lower=True) / sigma
    return chol_b, c


def collapsed_bound(stats, noise_variance):
    """Titsias' collapsed ELBO (scalar, nats, summed over data and outputs) from statistics.

    ``log N(r; 0, Q_ff + sigma^2 I) - tr(K_ff - Q_ff) / (2 sigma^2)``, per output, summed.

    Args:
      stats: :class:`SGPRStatistics` of all the data.
      noise_variance: ``sigma^2``, scalar.
    """
    dtype = stats.aat.dtype
    noise_variance = tf.cast(noise_variance, dtype)
    chol_b, c = _chol_b_and_c(stats, noise_variance)
    num_outputs = tf.cast(tf.shape(stats.a_r)[-1], dtype)
    n = stats.num_data
    log_det_b = 2.0 * tf.reduce_sum(tf.math.log(tf.linalg.diag_part(chol_b)))
    return (
        -0.5 * n * num_outputs * (math.log(2.0 * math.pi) + tf.math.log(noise_variance))
        - 0.5 * num_outputs * log_det_b
        - 0.5 * tf.reduce_sum(stats.r_sq) / noise_variance
        + 0.5 * tf.reduce_sum(tf.square(c))
        - 0.5 * num_outputs * (stats.kff_trace / noise_variance - tf.linalg.trace(stats.aat))
    )


def titsias_bound(kuu, kuf, kff_diag, residual, noise_variance, jitter=None,
                  chol_kuu=None):
    """Titsias' collapsed ELBO of all the data in one call (scalar, nats).

    Args:
      kuu: ``K_uu = k(Z, Z)``, ``[M, M]``.
      kuf: ``K_uf = k(Z, X)``, ``[M, N]``.
      kff_diag: ``diag K_ff``, ``[N]``.
      residual: ``y - m(X)``, ``[N]`` or ``[N, P]``.
      noise_variance: ``sigma^2``, scalar.
      jitter: absolute jitter of ``K_uu`` (ignored when ``chol_kuu`` is given).
      chol_kuu: optional precomputed ``chol(K_uu)``, ``[M, M]``.

    Returns:
      scalar: ``<= log p(y)``, with equality when ``Z = X`` (and no jitter).
    """
    kuu = tf.convert_to_tensor(kuu)
    if chol_kuu is None:
        chol_kuu = jittered_cholesky(kuu, jitter)
    stats = sgpr_statistics(chol_kuu, kuf, kff_diag, residual, noise_variance)
    return collapsed_bound(stats, noise_variance)


def optimal_inducing_distribution(stats, noise_variance, chol_kuu=None, whiten=True):
    """The ``q(u)`` maximizing the ELBO: ``(q_mu [M, P], q_sqrt [M, M])``.

    Whitened (``u = L v``): ``q(v) = N(L_B^{-T} c, B^{-1})``; unwhitened:
    ``q(u) = N(L L_B^{-T} c, L B^{-1} L^T)`` (the seed's
    ``N(beta K_uu M^{-1} K_uf y, K_uu M^{-1} K_uu)``). ``q_sqrt`` is the lower-triangular
    factor of the covariance, shared by the ``P`` outputs.

    Args:
      stats: :class:`SGPRStatistics` of all the data.
      noise_variance: ``sigma^2``.
      chol_kuu: ``L`` ``[M, M]``, needed when ``whiten=False``.
      whiten: return the parameters of ``q(v)`` (True) or of ``q(u)``.
    """
    chol_b, c = _chol_b_and_c(stats, noise_variance)
    q_mu = tf.linalg.triangular_solve(chol_b, c, lower=True, adjoint=True)  # [M, P]
    eye = tf.eye(tf.shape(chol_b)[-1], dtype=chol_b.dtype)
    q_sqrt = cholesky_of_inverse(eye + stats.aat)  # [M, M]
    if whiten:
        return q_mu, q_sqrt
    if chol_kuu is None:
        raise ValueError("whiten=False needs chol_kuu (the Cholesky factor of K_uu). "
                         "Received: chol_kuu=None")
    chol_kuu = tf.convert_to_tensor(chol_kuu, dtype=q_mu.dtype)
    return tf.matmul(chol_kuu, q_mu), tf.matmul(chol_kuu, q_sqrt)


def sgpr_predictive(stats, noise_variance, chol_kuu, kus, kss, full_cov=False):
    """The SGPR predictive ``q(f*)`` at new inputs: ``(mean [N*, P], var [N*] or cov [N*, N*])``.

    ``mean = Lambda*^T L_B^{-T} c``, ``cov = K_** - Lambda*^T (I - B^{-1}) Lambda*`` with
    ``Lambda* = L^{-1} K_u*``; the variance is shared by the ``P`` outputs (add
    ``sigma^2`` for the variance of ``y*``).

    Args:
      stats: :class:`SGPRStatistics` of the training data.
      noise_variance: ``sigma^2``.
      chol_kuu: ``L`` ``[M, M]``.
      kus: ``K_u* = k(Z, X*)``, ``[M, N*]``.
      kss: ``diag K_**`` ``[N*]``, or ``K_**`` ``[N*, N*]`` when ``full_cov``.
      full_cov: return the full covariance.
    """
    chol_b, c = _chol_b_and_c(stats, noise_variance)
    dtype = chol_b.dtype
    lam = tf.linalg.triangular_solve(tf.cast(chol_kuu, dtype), tf.cast(kus, dtype),
                                     lower=True)  # [M, N*]
    lam_b = tf.linalg.triangular_solve(chol_b, lam, lower=True)  # [M, N*]
    mean = tf.matmul(lam_b, c, transpose_a=True)  # [N*, P]
    kss = tf.cast(kss, dtype)
    if full_cov:
        cov = (kss - tf.matmul(lam, lam, transpose_a=True)
               + tf.matmul(lam_b, lam_b, transpose_a=True))  # [N*, N*]
        return mean, cov
    var = kss - tf.reduce_sum(tf.square(lam), 0) + tf.reduce_sum(tf.square(lam_b), 0)  # [N*]
    return mean, var
