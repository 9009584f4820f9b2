"""The GP surrogate of a search: Matern 5/2 ARD on the unit cube, fitted by type-II maximum
likelihood with restarts.

The objective values are standardized (``(y - mean) / std``), the prior mean is 0 and the
kernel ``s^2 matern52(x, x'; l_1..l_d)`` with Gaussian noise ``sigma^2``. The hyperparameters
maximize the log marginal likelihood (Rasmussen & Williams 2006, eq. 5.8)::

    log p(y | X, theta) = -1/2 y^T (K + sigma^2 I)^{-1} y - sum_i log L_ii - n/2 log(2 pi)

over the box ``l in [0.01, 20]``, ``s^2 in [0.05, 20]``, ``sigma^2 in [1e-6, 1]`` (a sigmoid
of free parameters, in log space), by L-BFGS from ``num_restarts`` random starts and the
previous fit, all restarts in one batch (:func:`kerasprob.math.batched_lbfgs.minimize_batched`;
only the objective is traced). A search has tens of points, so this is cheap.

>>> import numpy as np
>>> x = np.linspace(0, 1, 8)[:, None]
>>> fit = fit_gaussian_process(x, np.sin(6 * x[:, 0]), seed=0)
>>> bool(abs(fit.posterior.mean([[0.5]])[0] * fit.y_std + fit.y_mean - np.sin(3)) < 0.05)
True

References:
  Rasmussen, C. E. & Williams, C. K. I. (2006). Gaussian Processes for Machine Learning, ch. 5.
  Snoek, J., Larochelle, H. & Adams, R. P. (2012). Practical Bayesian optimization of machine
    learning algorithms (Matern 5/2 ARD for hyperparameter search).
"""

import dataclasses
import functools

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from kerasprob.math import kernels
from kerasprob.math.batched_lbfgs import minimize_batched
from kerasprob.math.exact_gp import GaussianProcessPosterior, log_marginal_likelihood

__all__ = ["SurrogateFit", "fit_gaussian_process", "matern52_ard"]

_LOG_BOUNDS = np.log(np.array([
    [0.01, 20.0],  # lengthscales
    [0.05, 20.0],  # signal variance
    [1e-6, 1.0],  # noise variance
]))
_JITTER = 1e-8


def matern52_ard(variance, lengthscales):
    """The kernel callable ``(x1 [..., a, d], x2 [..., b, d]) -> [..., a, b]``."""
    return functools.partial(kernels.matern52, variance=variance, lengthscales=lengthscales)


@dataclasses.dataclass
class SurrogateFit:
    """A fitted surrogate: the posterior (on standardized values) and how to undo that.

    ``posterior`` is a :class:`kerasprob.math.exact_gp.GaussianProcessPosterior` of
    ``(y - y_mean) / y_std``; ``raw`` holds the free parameters (a warm start for the next fit).
    """

    posterior: GaussianProcessPosterior
    y_mean: float
    y_std: float
    lengthscales: np.ndarray
    variance: float
    noise_variance: float
    raw: np.ndarray


def _constrain(raw, d):
    """Free parameters ``[..., d + 2]`` -> (lengthscales ``[..., d]``, variance, noise)."""
    low = tf.constant(np.concatenate([np.full(d, _LOG_BOUNDS[0, 0]), _LOG_BOUNDS[1:, 0]]),
                      raw.dtype)
    high = tf.constant(np.concatenate([np.full(d, _LOG_BOUNDS[0, 1]), _LOG_BOUNDS[1:, 1]]),
                       raw.dtype)
    theta = tf.exp(low + (high - low) * tf.sigmoid(raw))
    return theta[..., :d], theta[..., d], theta[..., d + 1]


def _negative_log_marginal_likelihood(raw, x, y):
    """``-log p(y | X, theta)`` for a batch of free parameters ``raw [R, d + 2]`` -> ``[R]``."""
    lengthscales, variance, noise = _constrain(raw, x.shape[-1])
    gram = kernels.matern52(x, x, variance[:, None, None], lengthscales[:, None, :])  # [R, n, n]
    nll = -log_marginal_likelihood(gram, y, noise + _JITTER)
    return tf.where(tf.math.is_finite(nll), nll, tf.constant(1e10, x.dtype))


@functools.cache
def _objective(d):
    """``raw [R, d + 2] -> (-log p(y | X, theta) [R], its gradient)`` as a graph, traced once
    per input dimension ``d`` (the restarts are separate problems in one batch)."""

    @tf.function(input_signature=[tf.TensorSpec([None, d], tf.float64),
                                  tf.TensorSpec([None], tf.float64),
                                  tf.TensorSpec([None, d + 2], tf.float64)])
    def value_and_gradients(x, y, raw):
        return tfp.math.value_and_gradient(
            lambda r: _negative_log_marginal_likelihood(r, x, y), raw)

    return value_and_gradients


def fit_gaussian_process(x, y, num_restarts=8, seed=0, max_iterations=100, previous=None):
    """Type-II maximum likelihood fit of the Matern 5/2 ARD GP to ``(x [n, d], y [n])``.

    Args:
      x: ``[n, d]`` inputs in ``[0, 1]^d``.
      y: ``[n]`` values (standardized here).
      num_restarts: random starts of L-BFGS (besides a default one and ``previous``).
      seed: int or ``np.random.Generator`` for the starts.
      max_iterations: L-BFGS iterations.
      previous: a :class:`SurrogateFit` whose parameters start one more restart.

    Returns:
      :class:`SurrogateFit`.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    n, d = x.shape
    y_mean = float(y.mean())
    y_std = float(y.std()) if n > 1 and y.std() > 0 else 1.0
    z = (y - y_mean) / y_std
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    starts = [np.zeros(d + 2)]  # mid-box (log scale): l ~ 0.45, s^2 ~ 1, noise ~ 1e-3
    starts += list(rng.normal(0.0, 1.5, size=(num_restarts, d + 2)))
    if previous is not None and len(previous.raw) == d + 2:
        starts.append(previous.raw)
    objective = _objective(d)
    x_t, z_t = tf.constant(x), tf.constant(z)

    def value_and_gradients(raw):
        value, gradient = objective(x_t, z_t, tf.constant(raw))
        return value.numpy(), gradient.numpy()

    position, value = minimize_batched(value_and_gradients, np.stack(starts),
                                       max_iterations=max_iterations, tolerance=1e-6)
    raw = position[int(np.argmin(value))]
    lengthscales, variance, noise = (t.numpy() for t in _constrain(tf.constant(raw), d))
    posterior = GaussianProcessPosterior(
        matern52_ard(variance, lengthscales), x, z, noise + _JITTER)
    return SurrogateFit(posterior, y_mean, y_std, lengthscales, float(variance), float(noise),
                        raw)
