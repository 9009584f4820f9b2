"""Positive parameters, one way: ``value = softplus(raw) + floor`` (GPflow's ``positive()``).

A layer stores ``raw`` (unconstrained, what the optimizer moves) and reads the value
through :func:`positive`; :func:`inverse_softplus` gives the ``raw`` of a starting value.

>>> float(positive(inverse_softplus(2.0)))
2.0
"""

import numpy as np
import tensorflow as tf


def inverse_softplus(value):
    """``log(exp(v) - 1)``, the ``raw`` with ``softplus(raw) = v`` (numpy, float64, stable for
    large ``v``; ``v > 0``): a float for a scalar, else an array."""
    array = np.asarray(value, dtype=np.float64)
    raw = array + np.log(-np.expm1(-array))
    return float(raw) if raw.ndim == 0 else raw


def positive(raw, floor=0.0):
    """``softplus(raw) + floor``, in ``raw``'s dtype."""
    raw = tf.convert_to_tensor(raw)
    return tf.nn.softplus(raw) + tf.cast(floor, raw.dtype)
