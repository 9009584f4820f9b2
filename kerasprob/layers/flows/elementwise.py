"""Elementwise bijectors: shift, scale, tanh and sinh-arcsinh.

Each acts on every feature separately, so its Jacobian is diagonal and
``log|det J| = sum_i log|f_i'(x_i)|``. ``Shift`` and ``Scale`` hold one
(learnable or fixed) value per feature; ``SinhArcsinh`` learns a skewness and a
tail weight per feature.

>>> import numpy as np
>>> layer = Shift(shift=[0.0, -2.0], trainable=False)
>>> np.asarray(layer.forward(np.zeros((1, 2), "float32")))
array([[ 0., -2.]], dtype=float32)
"""

import math

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.layers.flows.base import BijectorLayer
from kerasprob.serialization import register


def _as_float_list(name, value):
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.ndim > 1 or not np.all(np.isfinite(array)):
        raise ValueError(
            f"{name} must be a finite number or a list of finite numbers (one per feature). "
            f"Received: {name}={value!r}"
        )
    return float(array) if array.ndim == 0 else [float(v) for v in array]


def _initial(name, value, event_dim, default):
    """A constant initializer of ``[event_dim]`` from a scalar, a list or ``default``."""
    if value is None:
        return tf_keras.initializers.Constant(default)
    if isinstance(value, list):
        value = list(value)  # a layer's attribute is a ListWrapper: show it as a plain list
    array = np.broadcast_to(np.asarray(value, np.float32), ()) if np.ndim(value) == 0 else (
        np.asarray(value, np.float32)
    )
    if array.ndim == 1 and array.shape[0] != event_dim:
        raise ValueError(
            f"{name} has {array.shape[0]} values but the events have {event_dim} features. "
            f"Received: {name}={value!r}"
        )
    return tf_keras.initializers.Constant(np.broadcast_to(array, (event_dim,)).copy())


@register
class Shift(BijectorLayer):
    """``y = x + b``, one shift ``b_i`` per feature; ``log|det J| = 0``.

    Args:
      shift: initial value: a number or a list with one value per feature
        (default 0). Pass ``trainable=False`` for a fixed shift.

    Input shape: ``[batch..., d]``. Output shape: ``[batch..., d]``.
    """

    def __init__(self, shift=None, **kwargs):
        super().__init__(**kwargs)
        self.shift = _as_float_list("shift", shift)

    def build_bijector(self, event_dim, context_dim):
        self.b = self.add_weight(
            name="shift", shape=(event_dim,),
            initializer=_initial("shift", self.shift, event_dim, 0.0),
        )

    def _forward(self, x, context, training):
        return x + self.b, tf.zeros(tf.shape(x)[:-1], x.dtype)

    def _inverse(self, y, context, training):
        return y - self.b, tf.zeros(tf.shape(y)[:-1], y.dtype)

    def get_config(self):
        return {**super().get_config(), "shift": self.shift}


@register
class Scale(BijectorLayer):
    """``y = s * x`` with ``s_i = exp(log_scale_i)`` per feature; ``log|det J| = sum_i log s_i``.

    Args:
      scale: initial positive value: a number or one per feature (default 1).
        Pass ``trainable=False`` for a fixed scale.

    Input shape: ``[batch..., d]``. Output shape: ``[batch..., d]``.
    """

    def __init__(self, scale=None, **kwargs):
        super().__init__(**kwargs)
        self.scale = _as_float_list("scale", scale)
        if self.scale is not None and np.any(np.asarray(self.scale) <= 0):
            raise ValueError(f"scale must be positive. Received: scale={scale!r}")

    def build_bijector(self, event_dim, context_dim):
        log_scale = None if self.scale is None else np.log(self.scale).tolist()
        self.log_scale = self.add_weight(
            name="log_scale", shape=(event_dim,),
            initializer=_initial("scale", log_scale, event_dim, 0.0),
        )

    def _log_det(self, x):
        return tf.fill(tf.shape(x)[:-1], tf.reduce_sum(self.log_scale))

    def _forward(self, x, context, training):
        return x * tf.exp(self.log_scale), self._log_det(x)

    def _inverse(self, y, context, training):
        return y * tf.exp(-self.log_scale), -self._log_det(y)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def tanh_log_det(x):
    """``sum_i log(1 - tanh(x_i)^2)`` computed stably as ``2 (log 2 - x - softplus(-2x))``."""
    return tf.reduce_sum(2.0 * (math.log(2.0) - x - tf.nn.softplus(-2.0 * x)), axis=-1)


@register
class Tanh(BijectorLayer):
    """``y = tanh(x)``, elementwise; ``log|det J| = sum_i log(1 - tanh(x_i)^2)``.

    Maps ``R^d`` onto ``(-1, 1)^d``. The inverse clips ``y`` to
    ``|y| <= 1 - 1e-6`` so points on the boundary stay finite.

    Input shape: ``[batch..., d]``. Output shape: ``[batch..., d]``.
    """

    def _forward(self, x, context, training):
        return tf.tanh(x), tanh_log_det(x)

    def _inverse(self, y, context, training):
        y = tf.clip_by_value(y, -1.0 + 1e-6, 1.0 - 1e-6)
        x = tf.atanh(y)
        return x, -tanh_log_det(x)


@register
class SinhArcsinh(BijectorLayer):
    """``y = sinh((arcsinh(x) + skewness) * tailweight)``, per feature.

    ``skewness`` shifts mass to one side; ``tailweight > 1`` makes tails
    heavier, ``< 1`` lighter. With ``u = (arcsinh(x) + skewness) * tailweight``::

        log|dy/dx| = log(tailweight) + log cosh(u) - 1/2 log(1 + x^2).

    Both are learned (``tailweight = exp(log_tailweight)``) from the given
    initial values.

    Args:
      skewness: initial skewness, a number or one per feature (default 0).
      tailweight: initial positive tail weight (default 1).

    Input shape: ``[batch..., d]``. Output shape: ``[batch..., d]``.

    References:
      Jones & Pewsey (2009), Sinh-arcsinh distributions. Biometrika 96(4).
    """

    def __init__(self, skewness=None, tailweight=None, **kwargs):
        super().__init__(**kwargs)
        self.skewness = _as_float_list("skewness", skewness)
        self.tailweight = _as_float_list("tailweight", tailweight)
        if self.tailweight is not None and np.any(np.asarray(self.tailweight) <= 0):
            raise ValueError(f"tailweight must be positive. Received: tailweight={tailweight!r}")

    def build_bijector(self, event_dim, context_dim):
        self.skew = self.add_weight(
            name="skewness", shape=(event_dim,),
            initializer=_initial("skewness", self.skewness, event_dim, 0.0),
        )
        log_tail = None if self.tailweight is None else np.log(self.tailweight).tolist()
        self.log_tailweight = self.add_weight(
            name="log_tailweight", shape=(event_dim,),
            initializer=_initial("tailweight", log_tail, event_dim, 0.0),
        )

    def _log_det(self, x, u):
        log_cosh = tf.abs(u) + tf.nn.softplus(-2.0 * tf.abs(u)) - math.log(2.0)
        per_feature = self.log_tailweight + log_cosh - 0.5 * tf.math.log1p(tf.square(x))
        return tf.reduce_sum(per_feature, axis=-1)

    def _forward(self, x, context, training):
        u = (tf.asinh(x) + self.skew) * tf.exp(self.log_tailweight)
        return tf.sinh(u), self._log_det(x, u)

    def _inverse(self, y, context, training):
        u = tf.asinh(y)
        x = tf.sinh(u * tf.exp(-self.log_tailweight) - self.skew)
        return x, -self._log_det(x, u)

    def get_config(self):
        return {**super().get_config(), "skewness": self.skewness, "tailweight": self.tailweight}
