"""Monotonic elementwise transformers of flows: rational-quadratic splines and affine maps.

A coupling or autoregressive flow layer is a *conditioner* (a network producing
``p`` parameters per feature) plus a *transformer* ``v = g(u; params)`` applied
feature by feature; this module holds the transformers, as pure tensor functions:

- ``"spline"``: :func:`rational_quadratic_spline` maps ``[-B, B]`` onto itself with
  ``K`` bins whose widths, heights and inner knot derivatives are free parameters
  (``3 K - 1`` per feature); outside ``[-B, B]`` it is the identity (linear tails,
  derivative 1), so data beyond the bound pass through unchanged and never produce NaN.
- ``"affine"``: ``v = u * exp(s) + t`` with ``s = c * tanh(raw / c)``, a log-scale
  softly clamped to ``(-c, c)`` (``c = clamp``); 2 parameters per feature.

All-zero parameters give the identity for both, so a conditioner whose last layer
starts at zero makes the flow start at the identity. The layers are
:class:`kerasprob.layers.flows.SplineCoupling`, :class:`~kerasprob.layers.flows.AffineCoupling`
and :class:`~kerasprob.layers.flows.MaskedAutoregressive` (``transformer="spline"`` or
``"affine"``).

>>> import numpy as np
>>> x = np.array([-6.0, -1.0, 0.5, 7.0], "float32")
>>> zeros = np.zeros((4, 8), "float32")
>>> y, log_det = rational_quadratic_spline(x, zeros, zeros, np.zeros((4, 7), "float32"), 5.0)
>>> np.allclose(y, x, atol=1e-5), np.allclose(log_det, 0.0, atol=1e-5)
(True, True)
"""

import math

import numpy as np
import tensorflow as tf

from kerasprob.validation import check_choice, check_int_at_least, check_positive_float

__all__ = [
    "MIN_BIN_HEIGHT",
    "MIN_BIN_WIDTH",
    "MIN_SLOPE",
    "TRANSFORMERS",
    "check_transformer",
    "params_per_feature",
    "rational_quadratic_spline",
    "rational_quadratic_spline_packed",
    "soft_clamp",
    "spline_params_size",
    "transform",
]

MIN_BIN_WIDTH = 1e-3
MIN_BIN_HEIGHT = 1e-3

#: The raw parameters are soft-clipped (``u / (1 + |u| / c)`` lies in ``(-c, c)``) so that
#: bins differ by at most a factor ``1 / MIN_SLOPE`` in size and knot derivatives
#: ``exp(clip(u))`` stay in ``(MIN_SLOPE, 1 / MIN_SLOPE)``, as zuko's splines do: no
#: needle-sharp bins, whatever the conditioner outputs.
MIN_SLOPE = 1e-3
_LOG_SLOPE = -math.log(MIN_SLOPE)


def _soft_clip(u, limit):
    """``u / (1 + |u| / limit)``: the identity near 0, within ``(-limit, limit)``."""
    return u / (1.0 + tf.abs(u) / limit)


def spline_params_size(bins):
    """Parameters per feature of a ``K``-bin spline: ``K`` widths, ``K`` heights, ``K - 1``
    inner derivatives."""
    return 3 * bins - 1


def rational_quadratic_spline(x, widths, heights, derivatives, bound=5.0, inverse=False):
    """Monotonic rational-quadratic spline on ``[-bound, bound]``, identity outside.

    For an input in bin ``k`` with knots ``(x_k, y_k)``, width ``w_k``, height
    ``h_k``, slope ``s_k = h_k / w_k``, knot derivatives ``d_k, d_{k+1}`` and
    ``t = (x - x_k) / w_k``::

        y = y_k + h_k (s_k t^2 + d_k t (1 - t)) / (s_k + (d_{k+1} + d_k - 2 s_k) t (1 - t))

        dy/dx = s_k^2 (d_{k+1} t^2 + 2 s_k t (1 - t) + d_k (1 - t)^2)
                / (s_k + (d_{k+1} + d_k - 2 s_k) t (1 - t))^2

    The inverse solves the quadratic in ``t`` with the numerically stable root
    ``t = 2c / (-b - sqrt(b^2 - 4ac))``.

    Args:
      x: ``[...]`` inputs (``y`` if ``inverse``).
      widths: ``[..., K]`` unnormalized bin widths: soft-clipped to
        ``(-log(1/MIN_SLOPE) / 2, log(1/MIN_SLOPE) / 2)``, softmax, floor 1e-3.
      heights: ``[..., K]`` unnormalized bin heights (likewise).
      derivatives: ``[..., K - 1]`` log inner knot derivatives, soft-clipped to
        ``(log MIN_SLOPE, -log MIN_SLOPE)`` (0 gives derivative 1). The two boundary
        derivatives are 1, matching the linear tails.
      bound: ``B``, half-width of the spline's interval.
      inverse: evaluate the inverse spline.

    Returns:
      ``(y, log_det)``, both ``[...]``: the output and ``log|dy/dx|`` of the
      direction evaluated (elementwise, not summed).

    References:
      Durkan, Bekasov, Murray & Papamakarios (2019), Neural Spline Flows. NeurIPS.
      Gregory & Delbourgo (1982), Piecewise rational quadratic interpolation.
    """
    x = tf.convert_to_tensor(x)
    params = tf.concat([widths, heights, derivatives], axis=-1)  # [..., 3K - 1]
    return rational_quadratic_spline_packed(x, params, bound, inverse)


def _upper_ones(bins, dtype):
    return tf.constant(np.triu(np.ones((bins, bins))), dtype)


def rational_quadratic_spline_packed(x, params, bound=5.0, inverse=False):
    """:func:`rational_quadratic_spline` with parameters packed ``[..., K | K | K - 1]``.

    Bins are on the last axis: softmax and the selections reduce over it (a
    cumulative sum is a matmul with a triangular matrix of ones), the layout
    TensorFlow's CPU kernels are fastest with.

    Args:
      x: ``[...]``.
      params: ``[..., 3K - 1]``: unnormalized widths, heights, inner derivatives.

    Returns:
      ``(y, log_det)``, both ``[...]``, elementwise.
    """
    bins = (params.shape[-1] + 1) // 3
    inside = tf.abs(x) < bound
    x_in = tf.clip_by_value(x, -bound, bound)  # keeps the unused branch finite

    shape = tf.shape(params)[:-1]
    wh = tf.reshape(params[..., : 2 * bins], [-1, bins])  # [n * 2, K]: widths, heights rows
    wh = _soft_clip(wh, 0.5 * _LOG_SLOPE)  # neighbouring sizes differ by < 1 / MIN_SLOPE
    sizes = MIN_BIN_WIDTH + (1.0 - MIN_BIN_WIDTH * bins) * tf.nn.softmax(wh)  # rows sum to 1
    right = tf.linalg.matmul(sizes, _upper_ones(bins, sizes.dtype))  # right edges in (0, 1]
    sizes = tf.reshape(sizes, tf.concat([shape, [2, bins]], 0))  # [..., 2, K]
    right = tf.reshape(right, tf.concat([shape, [2, bins]], 0))

    search = right[..., 1 if inverse else 0, :-1] * (2.0 * bound) - bound  # [..., K - 1]
    index = tf.reduce_sum(tf.cast(x_in[..., None] >= search, tf.int32), axis=-1)  # [...]
    one_hot = tf.one_hot(index, bins, dtype=x.dtype)  # [..., K]

    # Knot derivatives are 1 at both ends (the linear tails): pad the raw inner values with
    # zeros (exp(0) = 1) and put only the two selected through the clip and exp.
    zeros = tf.zeros_like(params[..., :1])
    padded = tf.concat([zeros, params[..., 2 * bins :], zeros], axis=-1)  # [..., K + 1]
    table = tf.concat(
        [sizes, right, padded[..., None, :-1], padded[..., None, 1:]], axis=-2
    )  # [..., 6, K]
    picked = tf.reduce_sum(table * one_hot[..., None, :], axis=-1)  # [..., 6]
    w_k, h_k, w_right, h_right, d_left, d_right = tf.unstack(picked, axis=-1)
    d_k = tf.exp(_soft_clip(d_left, _LOG_SLOPE))
    d_k1 = tf.exp(_soft_clip(d_right, _LOG_SLOPE))
    x_k = (w_right - w_k) * (2.0 * bound) - bound
    y_k = (h_right - h_k) * (2.0 * bound) - bound
    w_k = 2.0 * bound * w_k
    h_k = 2.0 * bound * h_k
    s_k = h_k / w_k
    curvature = d_k1 + d_k - 2.0 * s_k

    if inverse:
        dy = x_in - y_k
        a = h_k * (s_k - d_k) + dy * curvature
        b = h_k * d_k - dy * curvature
        c = -s_k * dy
        discriminant = tf.maximum(b * b - 4.0 * a * c, 0.0)
        t = (2.0 * c) / (-b - tf.sqrt(discriminant))
        t = tf.clip_by_value(t, 0.0, 1.0)
        out = t * w_k + x_k
    else:
        t = (x_in - x_k) / w_k
        out = y_k + h_k * (s_k * t * t + d_k * t * (1.0 - t)) / (s_k + curvature * t * (1.0 - t))

    t1 = t * (1.0 - t)
    denominator = s_k + curvature * t1
    numerator = tf.square(s_k) * (d_k1 * t * t + 2.0 * s_k * t1 + d_k * tf.square(1.0 - t))
    log_det = tf.math.log(numerator) - 2.0 * tf.math.log(denominator)  # forward log dy/dx
    if inverse:
        log_det = -log_det
    out = tf.where(inside, out, x)
    log_det = tf.where(inside, log_det, tf.zeros_like(log_det))
    return out, log_det


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
