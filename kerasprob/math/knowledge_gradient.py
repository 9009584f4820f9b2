"""The knowledge gradient: how much one more observation is expected to lower a GP's
predictive minimum.

For a GP posterior given data ``D_n`` with predictive mean ``mu_n(x) = mu(x; D_n)``, the
predictive minimum is ``tau(D) = min_{x'} mu(x'; D)`` and the knowledge gradient (KG) of a
candidate ``x`` is (Frazier, Powell & Dayanik 2009; the seed post, for minimization)::

    alpha(x; D_n) = E_{y ~ p(y | x, D_n)} [ tau(D_n) - tau(D_n + {(x, y)}) ]
                  ~ (1 / M) sum_m [ tau_n - tau_{n+1}^(m) ],   y^(m) ~ p(y | x, D_n).

Each simulated outcome ``y^(m)`` gives a simulation-augmented posterior whose mean
``mu_{n+1}^(m)`` needs the Cholesky factor of the ``(n + 1) x (n + 1)`` kernel matrix; it is
appended to the factor of the ``n x n`` one (:func:`kerasprob.math.linalg.cholesky_append`,
``O(n^2)`` per candidate, shared by all M outcomes) instead of refactorizing (``O(n^3)``).
``tau_{n+1}^(m)`` is then found by multi-start L-BFGS over the unit cube
(:func:`minimize_in_unit_cube`), started from ``argmin mu_n``, from ``x`` itself and from
the caller's starts. Over a discrete set of alternatives the KG has a closed form
(:func:`discrete_knowledge_gradient`).

Everything here takes and returns tensors, so it runs on its own on a fitted GP, e.g. to
plot ``alpha`` over a grid:

>>> import tensorflow as tf
>>> from kerasprob.math.exact_gp import GaussianProcessPosterior
>>> def rbf(a, b):
...     return tf.exp(-0.5 * tf.reduce_sum((a[..., :, None, :] - b[..., None, :, :]) ** 2, -1)
...                   / 0.2**2)
>>> post = GaussianProcessPosterior(rbf, [[0.1], [0.5], [0.9]], [0.3, -1.0, 0.2], 1e-4)
>>> kg = knowledge_gradient(post, [[0.5], [0.7]], num_fantasies=8)
>>> bool(kg[0] < 1e-3 < kg[1])  # at an observed point nothing is learned
True

Shapes: inputs are points of ``[0, 1]^d``, ``x`` ``[..., q, d]``; the kernel maps
``[..., a, d]`` and ``[..., b, d]`` (leading dimensions broadcast) to ``[..., a, b]``.

References:
  Frazier, P., Powell, W. & Dayanik, S. (2009). The knowledge-gradient policy for correlated
    normal beliefs. INFORMS Journal on Computing 21(4), 599-613.
  Frazier, P. I. (2018). A tutorial on Bayesian optimization. arXiv:1807.02811.
  Tiao, L. C. (2021). An illustrated guide to the knowledge gradient acquisition function.
  Seeger, M. (2004). Low rank updates for the Cholesky decomposition.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from kerasprob.math.batched_lbfgs import minimize_batched
from kerasprob.math.linalg import cholesky_append
from kerasprob.validation import check_positive_int

__all__ = [
    "SimulationAugmentedMean",
    "discrete_knowledge_gradient",
    "knowledge_gradient",
    "knowledge_gradient_discrete",
    "minimize_in_unit_cube",
    "normal_quantiles",
    "predictive_minimum",
    "simulated_outcomes",
    "simulation_augmented_minimum",
]


def normal_quantiles(num, dtype=tf.float64):
    """``Phi^{-1}((m + 1/2) / M)``, ``m = 0 .. M-1``: ``M`` stratified standard-normal base
    samples (quasi Monte Carlo; symmetric, so their mean is exactly 0)."""
    num = check_positive_int("num_fantasies", num)
    probs = (np.arange(num) + 0.5) / num
    return tf.constant(tfp.distributions.Normal(0.0, 1.0).quantile(probs).numpy(), dtype)


def simulated_outcomes(posterior, x_new, base_samples):
    """``y^(m) = mu_n(x) + sqrt(Sigma_n(x, x) + s^2) z_m``, draws of ``p(y | x, D_n)``.

    Args:
      posterior: :class:`GaussianProcessPosterior`.
      x_new: ``[C, d]`` candidates.
      base_samples: ``z``, ``[M]`` standard-normal values.

    Returns:
      ``[C, M]``.
    """
    x_new = tf.convert_to_tensor(x_new, posterior.dtype)
    z = tf.convert_to_tensor(base_samples, posterior.dtype)
    mean = posterior.mean(x_new)  # [C]
    scale = tf.sqrt(posterior.variance(x_new) + posterior.noise_variance)  # [C]
    return mean[:, None] + scale[:, None] * z[None, :]


class SimulationAugmentedMean:
    """``mu_{n+1}^(m)(x') = mu(x'; D_n + {(x_c, y_cm)})`` for C candidates and M outcomes each.

    The ``(n + 1)``-point factor of each candidate is :func:`cholesky_append` of the
    posterior's ``n``-point factor (``O(n^2)`` per candidate); the weights
    ``K_{n+1}^{-1} (y_{n+1} - m)`` of all M outcomes are solved with it once, so evaluating
    ``mu_{n+1}^(m)`` costs one kernel row: ``m + k(x', X_{n+1}) w_cm``.

    Args:
      posterior: :class:`GaussianProcessPosterior` for ``D_n``.
      x_new: ``[C, d]`` candidate inputs ``x_c``.
      y_new: ``[C, M]`` simulated outcomes ``y_cm`` at them.

    Attributes:
      chol: ``[C, n + 1, n + 1]`` factors of the augmented kernel matrices.
      x: ``[C, n + 1, d]`` augmented inputs. ``weights``: ``[C, M, n + 1]``.
    """

    def __init__(self, posterior, x_new, y_new):
        dtype = posterior.dtype
        x_new = tf.convert_to_tensor(x_new, dtype)  # [C, d]
        y_new = tf.convert_to_tensor(y_new, dtype)  # [C, M]
        num = tf.shape(x_new)[0]
        self.posterior = posterior
        point = x_new[:, None, :]  # [C, 1, d]
        cross = tf.linalg.matrix_transpose(posterior.kernel(point, posterior.x))  # [C, n, 1]
        corner = posterior.kernel(point, point) + posterior.noise_variance  # [C, 1, 1]
        self.chol = cholesky_append(posterior.chol, cross, corner,
                                    name="the new point's posterior variance")  # [C, n+1, n+1]
        x_old = tf.broadcast_to(posterior.x[None], tf.concat([[num], tf.shape(posterior.x)], 0))
        self.x = tf.concat([x_old, point], axis=1)  # [C, n + 1, d]
        m = tf.shape(y_new)[1]
        y_old = tf.broadcast_to(posterior.y[None, :, None],
                                tf.stack([num, tf.shape(posterior.y)[0], m]))  # [C, n, M]
        resid = tf.concat([y_old, y_new[:, None, :]], axis=1) - posterior.mean_value  # [C, n+1, M]
        weights = tf.linalg.cholesky_solve(self.chol, resid)  # [C, n + 1, M]
        self.weights = tf.linalg.matrix_transpose(weights)  # [C, M, n + 1]

    def __call__(self, x):
        """``[C, M, q, d] -> [C, M, q]`` (each candidate's and outcome's own mean)."""
        x = tf.convert_to_tensor(x, self.posterior.dtype)
        k = self.posterior.kernel(x, self.x[:, None])  # [C, M, q, n + 1]
        return self.posterior.mean_value + tf.einsum("cmqn,cmn->cmq", k, self.weights)




def minimize_in_unit_cube(function, starts, continuous=None, max_iterations=50,
                          tolerance=None):
    """Local minima of ``function`` over ``[0, 1]^d`` by L-BFGS from each start, batched
    (:func:`kerasprob.math.batched_lbfgs.minimize_batched`: one call of ``function``
    evaluates every start, and only that small function is traced).

    The continuous coordinates move; the box is kept by projection, ``x = clip(u, 0, 1)``,
    with the penalty ``|u - x|^2`` outside it (so a minimum on a face is reached at the face,
    where ``u = x``). The other coordinates (integer and categorical encodings) stay at
    their start values.

    Args:
      function: ``x [..., S, d] -> [..., S]``, each value depending on its own point only.
      starts: ``[..., S, d]`` start points in ``[0, 1]^d``.
      continuous: ``None`` (every coordinate) or a boolean sequence ``[d]``.
      max_iterations: L-BFGS iterations.
      tolerance: gradient tolerance (default 1e-7 in float64, 1e-5 in float32).

    Returns:
      ``(values [..., S], minimizers [..., S, d])``, never worse than the starts.
    """
    starts = tf.convert_to_tensor(starts)
    d = starts.shape[-1]
    mask = np.ones(d, bool) if continuous is None else np.asarray(continuous, bool)
    if mask.shape != (d,):
        raise ValueError(f"continuous must have one entry per coordinate, {d}. Received: "
                         f"continuous with shape {mask.shape}")
    if tolerance is None:
        tolerance = 1e-7 if starts.dtype == tf.float64 else 1e-5
    start_values = function(starts)
    if not mask.any():
        return start_values, starts
    index = np.flatnonzero(mask)
    shape = tf.shape(starts)
    u0 = tf.reshape(tf.gather(starts, index, axis=-1), [-1, len(index)])  # [B, dc]
    scatter = tf.constant(np.eye(d)[index], starts.dtype)  # [dc, d]
    fixed = starts * tf.constant(~mask, starts.dtype)

    def assemble(u):
        moved = tf.reshape(tf.matmul(tf.clip_by_value(u, 0.0, 1.0), scatter), shape)
        return fixed + moved  # [..., S, d]

    @tf.function(reduce_retracing=True)
    def value_and_gradients(u):
        with tf.GradientTape() as tape:
            tape.watch(u)
            outside = tf.reduce_sum((u - tf.clip_by_value(u, 0.0, 1.0)) ** 2, axis=-1)
            values = tf.reshape(function(assemble(u)), [-1]) + outside  # [B]
        return values, tape.gradient(values, u)

    def numpy_value_and_gradients(u):
        values, gradients = value_and_gradients(tf.constant(u, starts.dtype))
        return values.numpy(), gradients.numpy()

    position, _ = minimize_batched(numpy_value_and_gradients, u0.numpy(),
                                   max_iterations=max_iterations, tolerance=tolerance)
    points = assemble(tf.constant(position, starts.dtype))
    values = function(points)
    better = values < start_values
    return (tf.where(better, values, start_values),
            tf.where(better[..., None], points, starts))


def predictive_minimum(posterior, starts, continuous=None, max_iterations=50):
    """``tau_n = min_x mu_n(x)`` over ``[0, 1]^d`` by multi-start L-BFGS.

    Args:
      posterior: :class:`GaussianProcessPosterior`.
      starts: ``[S, d]`` start points.
      continuous, max_iterations: as in :func:`minimize_in_unit_cube`.

    Returns:
      ``(tau_n, argmin)``: a scalar and ``[d]``.
    """
    starts = tf.convert_to_tensor(starts, posterior.dtype)
    values, points = minimize_in_unit_cube(
        lambda x: posterior.mean(x[..., None, :])[..., 0], starts, continuous, max_iterations)
    best = tf.argmin(values)
    return values[best], points[best]


def simulation_augmented_minimum(posterior, x_new, base_samples, starts=None, points=None,
                                 continuous=None, max_iterations=50):
    """``tau_{n+1}^(m) = min_x' mu_{n+1}^(m)(x')`` for each candidate and simulated outcome.

    Args:
      posterior: :class:`GaussianProcessPosterior`.
      x_new: ``[C, d]`` candidates.
      base_samples: ``[M]`` standard-normal values (:func:`simulated_outcomes`).
      starts: ``[S, d]`` L-BFGS starts (each candidate also starts from itself).
      points: instead of L-BFGS, a discrete domain ``[K, d]`` to minimize over.
      continuous, max_iterations: as in :func:`minimize_in_unit_cube`.

    Returns:
      ``(tau [C, M], argmin [C, M, d])``.
    """
    dtype = posterior.dtype
    x_new = tf.convert_to_tensor(x_new, dtype)
    augmented = SimulationAugmentedMean(
        posterior, x_new, simulated_outcomes(posterior, x_new, base_samples))
    num, m = tf.shape(x_new)[0], tf.shape(augmented.weights)[1]
    d = x_new.shape[-1]
    if points is not None:
        domain = tf.broadcast_to(tf.convert_to_tensor(points, dtype),
                                 tf.concat([[num, m], tf.shape(points)], 0))  # [C, M, K, d]
        values = augmented(domain)
    else:
        if starts is None:
            starts = tf.zeros([0, d], dtype)
        starts = tf.convert_to_tensor(starts, dtype)
        own = tf.concat([tf.broadcast_to(starts[None], [num, tf.shape(starts)[0], d]),
                         x_new[:, None, :]], axis=1)  # [C, S + 1, d]
        domain = tf.broadcast_to(own[:, None], [num, m, tf.shape(own)[1], d])  # [C, M, S+1, d]
        values, domain = minimize_in_unit_cube(augmented, domain, continuous, max_iterations)
    best = tf.argmin(values, axis=-1)  # [C, M]
    return tf.reduce_min(values, axis=-1), tf.gather(domain, best, axis=2, batch_dims=2)


def knowledge_gradient(posterior, x_new, num_fantasies=16, base_samples=None, starts=None,
                       points=None, continuous=None, max_iterations=50):
    """The knowledge gradient ``alpha(x; D_n) = E[tau_n - tau_{n+1}]`` of each candidate, by
    Monte Carlo over simulated outcomes.

    ``tau_n`` and every ``tau_{n+1}^(m)`` are minimized by multi-start L-BFGS (from ``starts``,
    from ``argmin mu_n`` and, for ``tau_{n+1}``, from the candidate), or exactly over a discrete
    domain ``points``. With the default base samples (:func:`normal_quantiles`, symmetric)
    the estimate is never negative: ``mu_{n+1}^(m)(argmin mu_n)`` averages to ``tau_n``.

    Args:
      posterior: :class:`GaussianProcessPosterior`.
      x_new: ``[C, d]`` candidates in ``[0, 1]^d``.
      num_fantasies: ``M``, the number of simulated outcomes (with ``base_samples=None``).
      base_samples: ``[M]`` standard-normal values to use instead (e.g. random ones).
      starts: ``[S, d]`` starts of the minimizations (default: the observed inputs).
      points: ``[K, d]`` discrete domain of the minimum instead of ``[0, 1]^d``.
      continuous, max_iterations: as in :func:`minimize_in_unit_cube`.

    Returns:
      ``[C]`` KG estimates.
    """
    dtype = posterior.dtype
    z = (normal_quantiles(num_fantasies, dtype) if base_samples is None
         else tf.convert_to_tensor(base_samples, dtype))
    if points is not None:
        tau_n = tf.reduce_min(posterior.mean(tf.convert_to_tensor(points, dtype)))
        starts_next = None
    else:
        starts = posterior.x if starts is None else tf.convert_to_tensor(starts, dtype)
        tau_n, best = predictive_minimum(posterior, starts, continuous, max_iterations)
        starts_next = tf.concat([best[None], starts], axis=0)
    tau_next, _ = simulation_augmented_minimum(
        posterior, x_new, z, starts=starts_next, points=points, continuous=continuous,
        max_iterations=max_iterations)
    return tau_n - tf.reduce_mean(tau_next, axis=-1)


def discrete_knowledge_gradient(mean, sigma_tilde):
    """Closed-form KG over K alternatives (Frazier et al. 2009, for a minimum):
    ``min_i a_i - E[min_i (a_i + b_i Z)]``, ``Z ~ N(0, 1)``.

    After one more observation the posterior means at the alternatives are
    ``a_i + b_i Z`` with ``a = mu_n(x'_i)`` and
    ``b_i = Sigma_n(x'_i, x) / sqrt(Sigma_n(x, x) + s^2)``. With ``c = -a`` this is
    ``E[max_i (c_i + b_i Z)] - max_i c_i``: each line ``c_i + b_i z`` is the maximum on an
    interval ``(l_i, u_i)`` of ``z`` (empty when it never is), and
    ``E = sum_i (c_i - max c) (Phi(u_i) - Phi(l_i)) + b_i (phi(l_i) - phi(u_i))``.
    (Frazier's algorithm finds the same intervals by sorting; this form computes them from
    all pairs, ``O(K^2)``, vectorized.)

    Args:
      mean: ``a``, ``[..., K]``.
      sigma_tilde: ``b``, ``[..., K]`` (broadcast with ``mean``).

    Returns:
      ``[...]``, ``>= 0``.
    """
    mean = tf.convert_to_tensor(mean)
    b = tf.convert_to_tensor(sigma_tilde, mean.dtype)
    c = -mean
    c, b = c + tf.zeros_like(b), b + tf.zeros_like(c)
    k = tf.shape(c)[-1]
    ci, cj = c[..., :, None], c[..., None, :]  # [..., K(i), K(j)]
    bi, bj = b[..., :, None], b[..., None, :]
    slope = bi - bj
    # Where c_i + b_i z = c_j + b_j z.
    cross = (cj - ci) / tf.where(slope == 0, tf.ones_like(slope), slope)
    inf = tf.constant(np.inf, c.dtype)
    lower = tf.reduce_max(tf.where(slope > 0, cross, -inf), axis=-1)  # i beats j above
    upper = tf.reduce_min(tf.where(slope < 0, cross, inf), axis=-1)  # i beats j below
    order = tf.range(k)
    earlier = order[:, None] > order[None, :]  # j comes before i: ties go to j
    beaten = (slope == 0) & ((cj > ci) | ((cj == ci) & earlier))
    alive = ~tf.reduce_any(beaten, axis=-1) & (lower < upper)  # [..., K]
    normal = tfp.distributions.Normal(tf.zeros([], c.dtype), tf.ones([], c.dtype))
    mass = tf.where(alive, normal.cdf(upper) - normal.cdf(lower), 0.0)
    density = tf.where(alive, normal.prob(lower) - normal.prob(upper), 0.0)
    top = tf.reduce_max(c, axis=-1, keepdims=True)
    return tf.maximum(tf.reduce_sum((c - top) * mass + b * density, axis=-1), 0.0)


def knowledge_gradient_discrete(posterior, x_new, points):
    """Exact KG of each candidate when the minimum is over the discrete set ``points``:
    :func:`discrete_knowledge_gradient` with ``a = mu_n(points)`` and
    ``b = Sigma_n(points, x) / sqrt(Sigma_n(x, x) + s^2)``.

    Args:
      posterior: :class:`GaussianProcessPosterior`.
      x_new: ``[C, d]``. points: ``[K, d]``.

    Returns:
      ``[C]``.
    """
    dtype = posterior.dtype
    x_new = tf.convert_to_tensor(x_new, dtype)
    points = tf.convert_to_tensor(points, dtype)
    a = posterior.mean(points)  # [K]
    cov = posterior.covariance(x_new[:, None, :], points)[:, 0, :]  # [C, K]
    scale = tf.sqrt(posterior.variance(x_new) + posterior.noise_variance)  # [C]
    return discrete_knowledge_gradient(a[None, :], cov / scale[:, None])
