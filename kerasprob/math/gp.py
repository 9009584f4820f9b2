"""The sparse variational GP (SVGP) on tensors: the predictive ``q(f)`` and ``KL[q(u) || p(u)]``.

With M inducing inputs ``Z``, ``u = f(Z)``, ``p(u) = N(0, K_uu)``, ``L = chol(K_uu)`` and
``q(u) = N(m, S S^T)`` per latent GP (L latent GPs share the kernel and ``Z``):

* unwhitened, ``u ~ q(u)``:  ``A = K_uu^{-1} K_uf``,
* whitened, ``u = L v``, ``v ~ q(v) = N(m, S S^T)``:  ``A = L^{-1} K_uf``,

and in both ``q(f) = N(A^T m, K_ff - K_fu K_uu^{-1} K_uf + A^T S S^T A)``
(the handbook's ``variational_predictive``; Hensman et al. 2013). Shapes: ``K_uf``
``[M, N]``, ``m`` ``[M, L]``, ``S`` ``[L, M, M]`` lower triangular (full) or ``[M, L]``
(diagonal); the marginal ``q(f)`` is mean ``[N, L]``, variance ``[N, L]``, the full one mean
``[N, L]``, covariance ``[L, N, N]``.

>>> import numpy as np
>>> kuu = np.array([[1.0, 0.5], [0.5, 1.0]]); m = np.array([[1.0], [0.0]])
>>> s = np.eye(2)[None]                            # q(v) = N(m, I): whitened
>>> float(prior_kl(m, s, whiten=True))             # KL[N(m, I) || N(0, I)] = |m|^2 / 2
0.5

References:
  Titsias, M. (2009). Variational learning of inducing variables in sparse GPs. AISTATS.
  Hensman, J., Fusi, N. & Lawrence, N. (2013). Gaussian processes for big data. UAI.
  Tiao, L. C. (2020). A handbook for sparse variational Gaussian processes (the seed).
"""

import numpy as np
import tensorflow as tf

__all__ = [
    "conditional",
    "kmeans_inducing_inputs",
    "prior_kl",
    "random_inducing_inputs",
]


def _is_diag(q_sqrt):
    return q_sqrt.shape.rank == 2


def conditional(kuf, chol_kuu, kff, q_mu, q_sqrt, whiten=True, full_cov=False):
    """The SVGP predictive ``q(f)`` at N points: ``(mean [N, L], var [N, L])``, or with
    ``full_cov`` ``(mean [N, L], cov [L, N, N])``.

    Args:
      kuf: ``K_uf``, ``[M, N]``.
      chol_kuu: ``L = chol(K_uu)``, ``[M, M]``.
      kff: ``diag(K_ff)`` ``[N]``, or ``K_ff`` ``[N, N]`` when ``full_cov``.
      q_mu: ``m``, ``[M, L]``.
      q_sqrt: ``S``, ``[L, M, M]`` lower triangular, or ``[M, L]`` (diagonal S).
      whiten: ``q`` is over ``v = L^{-1} u`` (True) or over ``u`` (False).
      full_cov: return the covariance between the N points.
    """
    kuf = tf.convert_to_tensor(kuf)
    dtype = kuf.dtype
    chol_kuu, kff, q_mu, q_sqrt = (tf.convert_to_tensor(t, dtype)
                                   for t in (chol_kuu, kff, q_mu, q_sqrt))
    a = tf.linalg.triangular_solve(chol_kuu, kuf, lower=True)  # L^{-1} K_uf  [M, N]
    if full_cov:
        cov = kff - tf.linalg.matmul(a, a, transpose_a=True)  # [N, N]
    else:
        var = kff - tf.reduce_sum(tf.square(a), axis=0)  # [N]
    if not whiten:
        a = tf.linalg.triangular_solve(chol_kuu, a, lower=True, adjoint=True)  # K_uu^{-1} K_uf
    mean = tf.linalg.matmul(a, q_mu, transpose_a=True)  # [N, L]
    if _is_diag(q_sqrt):
        # S = diag(s_l): (S^T A)[l] = s_l[:, None] * A
        proj = tf.transpose(q_sqrt)[:, :, tf.newaxis] * a[tf.newaxis]  # [L, M, N]
    else:
        lower = tf.linalg.band_part(q_sqrt, -1, 0)  # [L, M, M]
        proj = tf.linalg.matmul(lower, tf.broadcast_to(a, tf.concat(
            [tf.shape(lower)[:1], tf.shape(a)], 0)), transpose_a=True)  # S^T A  [L, M, N]
    if full_cov:
        return mean, cov[tf.newaxis] + tf.linalg.matmul(proj, proj, transpose_a=True)
    return mean, var[:, tf.newaxis] + tf.transpose(tf.reduce_sum(tf.square(proj), axis=1))


def prior_kl(q_mu, q_sqrt, chol_kuu=None, whiten=True):
    """``sum_l KL[N(m_l, S_l S_l^T) || p]``: a scalar, ``p = N(0, I)`` (whitened) or
    ``N(0, K_uu)`` with ``K_uu = L L^T`` (unwhitened):

    ``KL = 1/2 [tr(K^{-1} S S^T) + m^T K^{-1} m - M + log|K| - log|S S^T|]`` (``K = I`` whitened).

    Args:
      q_mu: ``[M, L]``.
      q_sqrt: ``[L, M, M]`` lower triangular or ``[M, L]`` diagonal.
      chol_kuu: ``[M, M]``; required when ``whiten=False``.
    """
    q_mu = tf.convert_to_tensor(q_mu)
    dtype = q_mu.dtype
    q_sqrt = tf.convert_to_tensor(q_sqrt, dtype)
    m, latents = tf.shape(q_mu)[0], tf.shape(q_mu)[1]
    diag = _is_diag(q_sqrt)
    if diag:
        s_diag = tf.transpose(q_sqrt)  # [L, M]
    else:
        lower = tf.linalg.band_part(q_sqrt, -1, 0)  # [L, M, M]
        s_diag = tf.linalg.diag_part(lower)
    log_det_s = tf.reduce_sum(tf.math.log(tf.square(s_diag)))  # sum_l log|S_l S_l^T|
    constant = tf.cast(m * latents, dtype)
    if whiten:
        mahalanobis = tf.reduce_sum(tf.square(q_mu))
        trace = tf.reduce_sum(tf.square(s_diag if diag else lower))
        return 0.5 * (trace + mahalanobis - constant - log_det_s)
    if chol_kuu is None:
        raise ValueError("prior_kl with whiten=False needs chol_kuu. Received: chol_kuu=None")
    chol = tf.convert_to_tensor(chol_kuu, dtype)
    alpha = tf.linalg.triangular_solve(chol, q_mu, lower=True)  # L^{-1} m  [M, L]
    mahalanobis = tf.reduce_sum(tf.square(alpha))
    if diag:
        full = tf.linalg.diag(s_diag)  # [L, M, M]
    else:
        full = lower
    chol_b = tf.broadcast_to(chol, tf.shape(full))
    ls = tf.linalg.triangular_solve(chol_b, full, lower=True)  # L^{-1} S  [L, M, M]
    trace = tf.reduce_sum(tf.square(ls))
    log_det_k = 2.0 * tf.reduce_sum(tf.math.log(tf.abs(tf.linalg.diag_part(chol))))
    return 0.5 * (trace + mahalanobis - constant + tf.cast(latents, dtype) * log_det_k
                  - log_det_s)


def random_inducing_inputs(x, num_inducing, seed=0):
    """``num_inducing`` distinct rows of ``x`` ``[N, D]``, drawn without replacement:
    ``[num_inducing, D]`` (numpy)."""
    x = np.asarray(x)
    rng = np.random.default_rng(seed)
    return x[np.sort(rng.choice(len(x), size=num_inducing, replace=False))].copy()


def kmeans_inducing_inputs(x, num_inducing, seed=0, num_iterations=25, max_points=20000):
    """Inducing inputs at the k-means centres of ``x`` ``[N, D]`` (Lloyd's algorithm from a
    k-means++ start, on at most ``max_points`` rows drawn at random): ``[num_inducing, D]``.
    An empty cluster keeps its previous centre."""
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if len(x) > max_points:
        x = x[rng.choice(len(x), size=max_points, replace=False)]
    centres = [x[rng.integers(len(x))]]
    closest = np.sum((x - centres[0]) ** 2, axis=1)
    for _ in range(1, num_inducing):  # k-means++ seeding
        total = closest.sum()
        probs = closest / total if total > 0 else np.full(len(x), 1.0 / len(x))
        centres.append(x[rng.choice(len(x), p=probs)])
        closest = np.minimum(closest, np.sum((x - centres[-1]) ** 2, axis=1))
    centres = np.stack(centres)
    for _ in range(num_iterations):
        d2 = (np.sum(x**2, 1)[:, None] - 2.0 * x @ centres.T + np.sum(centres**2, 1)[None])
        labels = np.argmin(d2, axis=1)
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, x)
        counts = np.bincount(labels, minlength=num_inducing)[:, None]
        new = np.where(counts > 0, sums / np.maximum(counts, 1), centres)
        if np.allclose(new, centres):
            break
        centres = new
    return centres
