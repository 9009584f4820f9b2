"""Divergences from log density ratios: classifier losses, variational bounds, estimates.

Every function takes log ratios ``log r(x) = log p(x) / q(x)`` evaluated at samples of
``p`` (``log_ratio_p``, shape ``[n_p]``) and of ``q`` (``log_ratio_q``, shape ``[n_q]``),
as a density-ratio network (or the exact ratio) gives them, and returns tensors. The
divergences follow TFP's Csiszar convention ``D_f[p || q] = E_q[f(p(x) / q(x))]``
(``tfp.vi``), so ``f = kl_forward`` (``u log u``) gives ``KL[p || q]``.

* **Classification.** ``P(y = 1 | x) = sigmoid(log r(x) + log(N_p / N_q))`` is the
  Bayes-optimal classifier of ``N_p`` samples of ``p`` (label 1) against ``N_q`` samples
  of ``q`` (label 0), so a classifier's logit less ``log(N_p / N_q)`` estimates
  ``log r`` (:func:`log_ratio_from_logits`). With equal counts the cross-entropy
  ``E_p[softplus(-log r)] + E_q[softplus(log r)]`` is minimal at the true ratio, where
  it equals ``log 4 - 2 JS[p || q]`` (:func:`js_divergence_from_cross_entropy`).
* **Variational lower bounds.** For any convex ``f``,
  ``D_f[p || q] >= E_p[f'(r)] - E_q[f*(f'(r))]``, with equality at the true ratio
  (Nguyen, Wainwright & Jordan 2010); for ``f(u) = u log u`` it is
  ``KL[p || q] >= E_p[log r] - E_q[r - 1]`` (:func:`kl_lower_bound`, the NWJ / KLIEP form).
* **Estimates** (:class:`Estimate`): Monte Carlo means with their standard errors.

>>> import tensorflow as tf
>>> p = tf.constant([0.5, 1.5]); q = tf.constant([-0.5, 0.0])
>>> round(float(kl_lower_bound(p, q)), 4)  # mean(p) - mean(exp(q) - 1)
1.1967

References:
  Sugiyama, Suzuki & Kanamori (2012), Density Ratio Estimation in Machine Learning.
  Nguyen, Wainwright & Jordan (2010), Estimating divergence functionals and the likelihood
  ratio by convex risk minimization. IEEE Trans. Inf. Theory 56(11).
  Nowozin, Cseke & Tomioka (2016), f-GAN. NeurIPS.
  Tiao (2018), Density Ratio Estimation for KL Divergence Minimization between Implicit
  Distributions.
"""

import math
from typing import NamedTuple

import tensorflow as tf
import tensorflow_probability as tfp

from kerasprob.validation import check_choice

#: Csiszar functions of ``tfp.vi`` usable by name: convex and differentiable, so both the
#: plug-in estimate ``E_q[f(r)]`` and the variational lower bound are defined.
CSISZAR_FUNCTIONS = (
    "arithmetic_geometric",
    "chi_square",
    "jeffreys",
    "jensen_shannon",
    "kl_forward",
    "kl_reverse",
    "modified_gan",
    "pearson",
    "squared_hellinger",
    "triangular",
)

#: Training objectives of a density-ratio network: the classifier's cross-entropy, the KL
#: lower bound, or the lower bound of any :data:`CSISZAR_FUNCTIONS` divergence.
OBJECTIVES = ("bce", "kl", *CSISZAR_FUNCTIONS)


class Estimate(NamedTuple):
    """A Monte Carlo estimate and its standard error (``float(estimate)`` is the value)."""

    value: object
    standard_error: object

    def __float__(self):
        return float(self.value)


def csiszar_function(f):
    """The ``tfp.vi`` Csiszar function ``f(log u)`` named ``f`` (one of
    :data:`CSISZAR_FUNCTIONS`), or ``f`` itself if it is callable."""
    if callable(f):
        return f
    return getattr(tfp.vi, check_choice("f", f, CSISZAR_FUNCTIONS))


def _at_least_float32(x):
    x = tf.convert_to_tensor(x)
    return x if x.dtype in (tf.float32, tf.float64) else tf.cast(x, tf.float32)


def mean_and_standard_error(values):
    """``Estimate(mean, std / sqrt(n))`` of ``values`` ``[n]`` (``std`` with ``n - 1``)."""
    values = _at_least_float32(values)
    n = tf.cast(tf.size(values), values.dtype)
    mean = tf.reduce_mean(values)
    variance = tf.reduce_sum(tf.square(values - mean)) / tf.maximum(n - 1.0, 1.0)
    return Estimate(mean, tf.sqrt(variance / n))


def _two_sample(term_p, term_q, sign_q=1.0):
    """``E_p[term_p] + sign_q E_q[term_q]`` with the standard error of independent samples."""
    p, q = mean_and_standard_error(term_p), mean_and_standard_error(term_q)
    return Estimate(p.value + sign_q * q.value, tf.sqrt(p.standard_error**2 + q.standard_error**2))


# ----------------------------------------------------------------- classification
def class_log_prior_odds(num_p, num_q):
    """``log(N_p / N_q)``: what a classifier trained on ``N_p`` samples of ``p`` (label 1)
    and ``N_q`` of ``q`` (label 0) adds to ``log r(x)`` in its logit."""
    return math.log(num_p) - math.log(num_q)


def log_ratio_from_logits(logits, num_p, num_q):
    """``log r(x) = logit(x) + log(N_q / N_p)``, the class-prior correction of a classifier's
    logits ``[batch]`` trained on ``N_p`` samples of ``p`` and ``N_q`` of ``q``."""
    logits = tf.convert_to_tensor(logits)
    return logits - tf.cast(class_log_prior_odds(num_p, num_q), logits.dtype)


def binary_cross_entropy(log_ratio_p, log_ratio_q):
    """``E_p[-log sigmoid(log r)] + E_q[-log(1 - sigmoid(log r))]``, the seed's loss.

    Equals ``E_p[softplus(-log r)] + E_q[softplus(log r)]``; minimal at the true ratio,
    where it is ``log 4 - 2 JS[p || q]``.

    Args:
      log_ratio_p: ``[n_p]`` log ratios at samples of ``p``.
      log_ratio_q: ``[n_q]`` log ratios at samples of ``q``.

    Returns:
      A scalar tensor.
    """
    return (tf.reduce_mean(tf.math.softplus(-_at_least_float32(log_ratio_p)))
            + tf.reduce_mean(tf.math.softplus(_at_least_float32(log_ratio_q))))


def js_divergence_from_cross_entropy(cross_entropy):
    """``JS[p || q] = (log 4 - L) / 2`` from the cross-entropy ``L`` of
    :func:`binary_cross_entropy` at the optimal classifier (a lower bound elsewhere)."""
    return 0.5 * (math.log(4.0) - cross_entropy)


# ------------------------------------------------------------------ lower bounds
def kl_lower_bound(log_ratio_p, log_ratio_q):
    """``KL[p || q] >= E_p[log r] - E_q[r - 1]`` (NWJ / KLIEP), tight at the true ratio.

    Args:
      log_ratio_p: ``[n_p]`` log ratios at samples of ``p``.
      log_ratio_q: ``[n_q]`` log ratios at samples of ``q``.

    Returns:
      A scalar tensor.
    """
    return (tf.reduce_mean(_at_least_float32(log_ratio_p))
            - tf.reduce_mean(tf.math.expm1(_at_least_float32(log_ratio_q))))


def _f_terms(f, log_ratio):
    """``(f(r), f'(r), f*(f'(r)))`` at ``r = exp(log_ratio)``, ``f*(f'(r)) = r f'(r) - f(r)``,
    from TFP's ``f(log u)`` and its derivative ``g = df/dlog u``: ``f'(r) = g / r`` and
    ``r f'(r) = g``."""
    f = csiszar_function(f)
    log_ratio = _at_least_float32(log_ratio)
    with tf.GradientTape() as tape:
        tape.watch(log_ratio)
        value = f(log_ratio)
    g = tape.gradient(value, log_ratio)
    return value, g * tf.exp(-log_ratio), g - value


def f_divergence_lower_bound_terms(log_ratio_p, log_ratio_q, f):
    """``(f'(r(x_p)), f*(f'(r(x_q))))``: the terms ``[n_p]`` and ``[n_q]`` whose means give
    :func:`f_divergence_lower_bound`."""
    _, derivative_p, _ = _f_terms(f, log_ratio_p)
    _, _, conjugate_q = _f_terms(f, log_ratio_q)
    return derivative_p, conjugate_q


def f_divergence_lower_bound(log_ratio_p, log_ratio_q, f):
    """``D_f[p || q] >= E_p[f'(r)] - E_q[f*(f'(r))]``, tight at the true ratio.

    ``f*`` is the convex conjugate, ``f*(f'(u)) = u f'(u) - f(u)``; ``f'`` is taken by
    automatic differentiation of TFP's ``f(log u)``. ``f = "kl_forward"`` gives
    :func:`kl_lower_bound`; ``f = "jensen_shannon"`` gives minus
    :func:`binary_cross_entropy` (a bound on ``2 JS - log 4``).

    Args:
      log_ratio_p: ``[n_p]`` log ratios at samples of ``p``.
      log_ratio_q: ``[n_q]`` log ratios at samples of ``q``.
      f: a name in :data:`CSISZAR_FUNCTIONS` or a callable ``f(log u)``.

    Returns:
      A scalar tensor.
    """
    derivative_p, conjugate_q = f_divergence_lower_bound_terms(log_ratio_p, log_ratio_q, f)
    return tf.reduce_mean(derivative_p) - tf.reduce_mean(conjugate_q)


# ------------------------------------------------------------------- training loss
def per_example_loss(labels, log_ratio, objective="bce", log_prior_odds=0.0):
    """Per-example losses ``[batch]`` of a pooled batch whose mean estimates an objective.

    The batch pools samples of ``p`` (``labels == 1``) and ``q`` (``labels == 0``) drawn
    in proportions ``pi_p = sigmoid(c)``, ``pi_q = 1 - pi_p``, where
    ``c = log_prior_odds = log(N_p / N_q)``.

    * ``"bce"``: the classifier's cross-entropy with logit ``log r(x) + c``
      (``tf_keras.losses.BinaryCrossentropy(from_logits=True)`` per example; its mean is
      ``pi_p E_p[softplus(-log r - c)] + pi_q E_q[softplus(log r + c)]``, minimal at the
      true ``log r`` whatever ``c``: the class-prior correction).
    * ``"kl"``: ``-y log r / pi_p + (1 - y) (r - 1) / pi_q``, mean ``-``:func:`kl_lower_bound`.
    * a Csiszar function name: ``-y f'(r) / pi_p + (1 - y) f*(f'(r)) / pi_q``, mean
      ``-``:func:`f_divergence_lower_bound`.

    Args:
      labels: ``[batch]`` (or ``[batch, 1]``), 1 for samples of ``p``, 0 for ``q``.
      log_ratio: ``[batch]`` log ratios ``log r(x)``.
      objective: one of :data:`OBJECTIVES`.
      log_prior_odds: ``c``, a float or a scalar tensor.

    Returns:
      ``[batch]`` losses, float32 or float64.
    """
    objective = check_choice("objective", objective, OBJECTIVES)
    log_ratio = _at_least_float32(log_ratio)
    labels = tf.reshape(tf.cast(labels, log_ratio.dtype), tf.shape(log_ratio))
    c = tf.cast(log_prior_odds, log_ratio.dtype)
    if objective == "bce":
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=log_ratio + c)
    weight_p = 1.0 + tf.exp(-c)  # 1 / pi_p
    weight_q = 1.0 + tf.exp(c)   # 1 / pi_q
    if objective == "kl":
        term_p, term_q = log_ratio, tf.math.expm1(log_ratio)
    else:
        _, term_p, term_q = _f_terms(objective, log_ratio)
    # tf.where, not multiplication: exp(log r) of the other class may overflow to inf.
    return tf.where(labels > 0.5, -weight_p * term_p, weight_q * term_q)


# ---------------------------------------------------------------------- estimates
def kl_divergence_estimate(log_ratio_p, learning_variance=0.0):
    """``KL[p || q] ~ mean log r(x_p)``, with its standard error, from ``[n_p]`` log ratios at
    samples of ``p`` (the plug-in estimate of the seed).

    The standard error is ``sqrt(Var[log r] / n_p + learning_variance)``: the Monte Carlo
    spread of the evaluation sample plus the variance the learnt ratio brings from the
    samples it was fitted on (:func:`kl_learning_variance`; 0 for an exact ratio).
    """
    estimate = mean_and_standard_error(log_ratio_p)
    se = estimate.standard_error
    return Estimate(estimate.value, tf.sqrt(se * se + tf.cast(learning_variance, se.dtype)))


def kl_learning_variance(log_ratio_variance_p, num_p, ratio_variance_q, num_q):
    """``Var_p[log r] / N_p + Var_q[r] / N_q``: the variance a ratio fitted on ``N_p`` samples
    of ``p`` and ``N_q`` of ``q`` brings to a KL estimate, from the variances of ``log r``
    under ``p`` and of ``r`` under ``q``.

    The KL's efficient influence function is ``log r(x) - KL`` at samples of ``p`` and
    ``1 - r(x)`` at samples of ``q`` (van der Vaart 1998, ch. 25): this is the variance of
    an efficient estimate from those samples (the maximum-likelihood fit of a
    well-specified family reaches it). On the fitted sample of ``p`` itself (cross-fitted)
    only the ``q`` term is added to the Monte Carlo spread, which is the ``p`` term.
    """
    return log_ratio_variance_p / num_p + ratio_variance_q / num_q


def kl_lower_bound_estimate(log_ratio_p, log_ratio_q):
    """:func:`kl_lower_bound` with its standard error (independent samples of ``p``, ``q``)."""
    return _two_sample(_at_least_float32(log_ratio_p),
                       tf.math.expm1(_at_least_float32(log_ratio_q)), sign_q=-1.0)


def js_divergence_estimate(log_ratio_p, log_ratio_q):
    """``JS[p || q] = log 2 - (E_p[softplus(-log r)] + E_q[softplus(log r)]) / 2``, with its
    standard error: the plug-in estimate with the mixture ``m = (p + q) / 2``."""
    estimate = _two_sample(tf.math.softplus(-_at_least_float32(log_ratio_p)),
                           tf.math.softplus(_at_least_float32(log_ratio_q)))
    return Estimate(js_divergence_from_cross_entropy(estimate.value),
                    0.5 * estimate.standard_error)


def f_divergence_estimate(log_ratio_q, f):
    """``D_f[p || q] ~ mean f(r(x_q))`` (plug-in, samples of ``q``), with its standard error.

    Args:
      log_ratio_q: ``[n_q]`` log ratios at samples of ``q``.
      f: a name in :data:`CSISZAR_FUNCTIONS` or a callable ``f(log u)``.
    """
    return mean_and_standard_error(csiszar_function(f)(_at_least_float32(log_ratio_q)))


def f_divergence_lower_bound_estimate(log_ratio_p, log_ratio_q, f):
    """:func:`f_divergence_lower_bound` with its standard error."""
    derivative_p, conjugate_q = f_divergence_lower_bound_terms(log_ratio_p, log_ratio_q, f)
    return _two_sample(derivative_p, conjugate_q, sign_q=-1.0)


__all__ = [
    "CSISZAR_FUNCTIONS",
    "OBJECTIVES",
    "Estimate",
    "binary_cross_entropy",
    "class_log_prior_odds",
    "csiszar_function",
    "f_divergence_estimate",
    "f_divergence_lower_bound",
    "f_divergence_lower_bound_estimate",
    "f_divergence_lower_bound_terms",
    "js_divergence_estimate",
    "js_divergence_from_cross_entropy",
    "kl_divergence_estimate",
    "kl_learning_variance",
    "kl_lower_bound",
    "kl_lower_bound_estimate",
    "log_ratio_from_logits",
    "mean_and_standard_error",
    "per_example_loss",
]
