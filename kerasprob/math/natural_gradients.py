"""Natural-gradient steps for a Gaussian ``q = N(m, S S^T)`` (Salimbeni, Eleftheriadis &
Hensman 2018), in the parameters a layer stores: the mean and a Cholesky factor.

A Gaussian is an exponential family with natural parameters
``theta = (Sigma^{-1} m, -Sigma^{-1} / 2)`` and expectation parameters
``eta = (m, Sigma + m m^T)``. The natural gradient of a loss ``l`` with respect to ``theta``
is its ordinary gradient with respect to ``eta``, so the natural-gradient step of size
``gamma`` is::

    theta <- theta - gamma * d l / d eta

``d l / d eta`` is the chain rule from the gradients the optimizer already has,
``(d l / d m, d l / d S)``, through ``m = eta_1``, ``S = chol(eta_2 - eta_1 eta_1^T)`` (one
vector-Jacobian product). For ``l = -ELBO`` with a conjugate (Gaussian) likelihood, ``-ELBO``
is linear in ``eta`` up to ``q``'s entropy, whose gradient is ``-theta``; a step with
``gamma = 1`` therefore lands on the optimal ``q`` from any start (the SGPR posterior),
whitened or not. Shapes: ``L`` independent Gaussians over ``M`` variables, ``m`` ``[M, L]``
and ``S`` ``[L, M, M]`` lower triangular, or ``S`` ``[M, L]`` (the standard deviations of a
diagonal ``q``: the same step on each of the ``M L`` scalar Gaussians).

>>> import numpy as np
>>> # l(q) = -E_q[log N(y=1; u, 1)] + KL[q || N(0, 1)], one scalar Gaussian: optimum N(1/2, 1/2)
>>> m, s = np.array([[3.0]]), np.array([[[2.0]]])
>>> grad_m = (m - 1.0) + m                            # d l / d m
>>> grad_s = s + s - 1.0 / s                          # d l / d s
>>> m1, s1 = natural_gradient_step(m, s, grad_m, grad_s, gamma=1.0)
>>> float(m1[0, 0]), round(float(s1[0, 0, 0]) ** 2, 12)
(0.5, 0.5)

References:
  Salimbeni, H., Eleftheriadis, S. & Hensman, J. (2018). Natural Gradients in Practice:
  Non-Conjugate Variational Inference in Gaussian Process Models. AISTATS.
  Hensman, J., Fusi, N. & Lawrence, N. (2013). Gaussian processes for big data. UAI.
"""

import tensorflow as tf

from kerasprob.math.linalg import cholesky_of_inverse

__all__ = ["expectation_gradients", "natural_gradient_step"]


def _positive_diagonal(q_sqrt, grad_sqrt):
    """``S D`` and ``(d l / d S) D`` with ``D = diag(sign(diag S))``: the same ``S S^T``, and
    the Cholesky factor of it (positive diagonal) the chain rule goes through."""
    signs = tf.where(tf.linalg.diag_part(q_sqrt) < 0, -1.0, 1.0)  # [L, M]
    signs = tf.cast(signs, q_sqrt.dtype)[..., None, :]
    return q_sqrt * signs, grad_sqrt * signs


def expectation_gradients(q_mu, q_sqrt, grad_mu, grad_sqrt):
    """``(d l / d eta_1, d l / d eta_2)`` from ``(d l / d m, d l / d S)``.

    Args:
      q_mu: ``m`` ``[M, L]``.
      q_sqrt: ``S`` ``[L, M, M]`` lower triangular, or ``[M, L]`` standard deviations.
      grad_mu: ``d l / d m`` ``[M, L]``.
      grad_sqrt: ``d l / d S``, shaped as ``q_sqrt`` (its upper triangle is ignored).

    Returns:
      ``(g1 [M, L], g2)``: ``g2`` ``[L, M, M]`` symmetric, or ``[M, L]`` for a diagonal ``q``.
    """
    q_mu = tf.convert_to_tensor(q_mu)
    dtype = q_mu.dtype
    q_sqrt, grad_mu, grad_sqrt = (tf.cast(t, dtype) for t in (q_sqrt, grad_mu, grad_sqrt))
    diag = q_sqrt.shape.rank == 2
    if not diag:
        grad_sqrt = tf.linalg.band_part(grad_sqrt, -1, 0)
        q_sqrt, grad_sqrt = _positive_diagonal(tf.linalg.band_part(q_sqrt, -1, 0), grad_sqrt)
        mean = tf.transpose(q_mu)[..., None]  # [L, M, 1]
        eta1 = mean
        eta2 = tf.matmul(q_sqrt, q_sqrt, transpose_b=True) + tf.matmul(mean, mean,
                                                                      transpose_b=True)
    else:
        eta1, eta2 = q_mu, tf.square(q_sqrt) + tf.square(q_mu)
    with tf.GradientTape() as tape:
        tape.watch([eta1, eta2])
        if diag:
            mean, sqrt = eta1, tf.sqrt(eta2 - tf.square(eta1))
        else:
            mean = eta1
            sqrt = tf.linalg.cholesky(eta2 - tf.matmul(eta1, eta1, transpose_b=True))
    out_mu = grad_mu if diag else tf.transpose(grad_mu)[..., None]
    g1, g2 = tape.gradient([mean, sqrt], [eta1, eta2], output_gradients=[out_mu, grad_sqrt])
    if diag:
        return g1, g2
    return tf.transpose(g1[..., 0]), 0.5 * (g2 + tf.linalg.matrix_transpose(g2))


def natural_gradient_step(q_mu, q_sqrt, grad_mu, grad_sqrt, gamma=1.0):
    """One natural-gradient step ``theta <- theta - gamma d l / d eta``: the new ``(m, S)``.

    The new precision is ``Sigma^{-1} + 2 gamma g2`` and the new mean its solve against
    ``Sigma^{-1} m - gamma g1``; ``S`` is the lower Cholesky factor of the new covariance
    (:func:`kerasprob.math.linalg.cholesky_of_inverse`), so no matrix is inverted. A step
    that leaves the precision indefinite (too large a ``gamma`` for a non-conjugate
    likelihood) fails the Cholesky and gives NaN.

    Args:
      q_mu, q_sqrt, grad_mu, grad_sqrt: as :func:`expectation_gradients` (the gradients of
        the loss summed over the data, e.g. ``-ELBO``, not per example).
      gamma: the step size; 1 is the exact coordinate step for conjugate likelihoods.

    Returns:
      ``(q_mu [M, L], q_sqrt)``, ``q_sqrt`` shaped as the input (lower triangular, positive
      diagonal; or positive standard deviations).
    """
    q_mu = tf.convert_to_tensor(q_mu)
    dtype = q_mu.dtype
    q_sqrt = tf.cast(q_sqrt, dtype)
    gamma = tf.cast(gamma, dtype)
    g1, g2 = expectation_gradients(q_mu, q_sqrt, grad_mu, grad_sqrt)
    if q_sqrt.shape.rank == 2:  # M L independent scalar Gaussians
        precision = 1.0 / tf.square(q_sqrt) + 2.0 * gamma * g2
        theta1 = q_mu / tf.square(q_sqrt) - gamma * g1
        return theta1 / precision, tf.math.rsqrt(precision)
    lower = tf.linalg.band_part(q_sqrt, -1, 0)
    eye = tf.eye(tf.shape(lower)[-1], batch_shape=tf.shape(lower)[:-2], dtype=dtype)
    inv_sqrt = tf.linalg.triangular_solve(lower, eye, lower=True)  # S^{-1}  [L, M, M]
    old_precision = tf.matmul(inv_sqrt, inv_sqrt, transpose_a=True)  # Sigma^{-1}
    mean = tf.transpose(q_mu)[..., None]  # [L, M, 1]
    theta1 = tf.matmul(old_precision, mean) - gamma * tf.transpose(g1)[..., None]
    precision = old_precision + 2.0 * gamma * g2  # -2 theta_2
    new_mean = tf.linalg.cholesky_solve(tf.linalg.cholesky(precision), theta1)
    return tf.transpose(new_mean[..., 0]), cholesky_of_inverse(precision)
