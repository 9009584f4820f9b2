"""Elementwise monotonic transformers whose parameters come from a conditioner network.

A coupling or autoregressive layer is a *conditioner* (a network producing
``p`` parameters per feature) plus a *transformer* ``v = g(u; params)``
applied feature by feature. Two transformers:

- ``"affine"``: ``v = u * exp(s) + t`` with ``s = c * tanh(raw / c)``, a
  log-scale softly clamped to ``(-c, c)`` (``c = clamp``); 2 parameters.
- ``"spline"``: a rational-quadratic spline on ``[-bound, bound]`` with
  linear tails (:func:`kerasprob.layers.flows.spline.rational_quadratic_spline`);
  ``3 * bins - 1`` parameters.

All-zero parameters give the identity for both, so a conditioner whose last
layer starts at zero makes the flow start at the identity.
"""

import tensorflow as tf

from kerasprob.layers.flows.spline import rational_quadratic_spline_packed, spline_params_size
from kerasprob.validation import check_choice, check_int_at_least, check_positive_float

TRANSFORMERS = ("affine", "spline")


def check_transformer(transformer, bins, bound, clamp):
    """Validate the transformer arguments; returns them normalized."""
    transformer = check_choice("transformer", transformer, TRANSFORMERS)
    bins = check_int_at_least("bins", bins, 2)
    bound = check_positive_float("bound", bound)
    clamp = check_positive_float("clamp", clamp)
    return transformer, bins, bound, clamp


def params_per_feature(transformer, bins):
    """Number of conditioner outputs per transformed feature."""
    return 2 if transformer == "affine" else spline_params_size(bins)


def soft_clamp(raw, clamp):
    """``c * tanh(raw / c)``: identity near 0, bounded by ``c``."""
    return clamp * tf.tanh(raw / clamp)


def transform(u, params, transformer, bins, bound, clamp, inverse=False):
    """Apply ``g(u; params)`` (or its inverse) feature by feature.

    Args:
      u: ``[batch..., k]`` the features to transform.
      params: ``[batch..., p, k]`` (parameter-major) with
        ``p = params_per_feature(transformer, bins)``.

    Returns:
      ``(v, log_det)``: ``[batch..., k]`` and ``[batch...]``, the log-determinant
      of the direction evaluated, summed over the ``k`` features.
    """
    if transformer == "affine":
        shift, raw = params[..., 0, :], params[..., 1, :]
        log_scale = soft_clamp(raw, clamp)
        if inverse:
            return (u - shift) * tf.exp(-log_scale), -tf.reduce_sum(log_scale, axis=-1)
        return u * tf.exp(log_scale) + shift, tf.reduce_sum(log_scale, axis=-1)
    rank = params.shape.rank
    params = tf.transpose(params, [*range(rank - 2), rank - 1, rank - 2])  # [batch..., k, p]
    v, log_det = rational_quadratic_spline_packed(u, params, bound, inverse)
    return v, tf.reduce_sum(log_det, axis=-1)
