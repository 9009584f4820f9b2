"""Positive parameters: ``value = t(raw) + floor``, ``t`` = ``exp`` or ``softplus`` (GPflow's
``positive()``, whose default bijector is softplus and can be set to exp).

A layer stores ``raw`` (unconstrained, what the optimizer moves) and reads the value
through :func:`positive`; :func:`inverse_positive` gives the ``raw`` of a starting value.
Under ``exp`` a step of ``lr`` on ``raw`` scales the value by ``e^{+-lr}``: a variance of 2500
is as easy to learn as one of 1 (a log scale). Under ``softplus`` a large value moves by
about ``lr`` per step (``softplus(r) ~ r``), so Adam needs ``~ value / lr`` steps to reach it.

>>> float(positive(inverse_softplus(2.0)))
2.0
>>> float(positive(inverse_positive(2500.0, 1e-6, "exp"), 1e-6, "exp"))
2500.0
"""

import numpy as np
import tensorflow as tf


def inverse_softplus(value):
    """``log(exp(v) - 1)``, the ``raw`` with ``softplus(raw) = v`` (numpy, float64, stable for
    large ``v``; ``v > 0``): a float for a scalar, else an array."""
    array = np.asarray(value, dtype=np.float64)
    raw = array + np.log(-np.expm1(-array))
    return float(raw) if raw.ndim == 0 else raw


#: The maps from an unconstrained ``raw`` to a positive value.
TRANSFORMS = ("exp", "softplus")


def positive(raw, floor=0.0, transform="softplus"):
    """``t(raw) + floor`` with ``t`` = ``softplus`` or ``exp``, in ``raw``'s dtype."""
    raw = tf.convert_to_tensor(raw)
    value = tf.exp(raw) if transform == "exp" else tf.nn.softplus(raw)
    return value + tf.cast(floor, raw.dtype)


def inverse_positive(value, floor=0.0, transform="softplus"):
    """The ``raw`` of :func:`positive` for ``value > floor`` (numpy, float64)."""
    shifted = np.asarray(value, dtype=np.float64) - floor
    if transform == "exp":
        raw = np.log(shifted)
        return float(raw) if raw.ndim == 0 else raw
    return inverse_softplus(shifted)
