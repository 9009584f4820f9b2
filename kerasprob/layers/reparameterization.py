"""Reparameterized sampling layers: noise in, differentiable samples out."""

import tensorflow as tf
import tf_keras

from kerasprob.dtypes import FullPrecision
from kerasprob.serialization import register
from kerasprob.validation import check_choice, check_positive_float, check_positive_int


def gaussian_sample(mu, log_var_or_scale, eps, parameterization="log_var"):
    """``z = mu + sigma * eps`` with ``sigma = exp(log_var / 2)`` or the given scale.

    Args:
      mu: ``[batch, d]``.
      log_var_or_scale: ``[batch, d]`` log variances (or scales).
      eps: standard normal noise, ``[batch, d]`` or ``[batch, k, d]``.
      parameterization: ``"log_var"`` or ``"scale"``.

    Returns:
      ``z`` with the shape of ``eps``.
    """
    sigma = (
        tf.exp(0.5 * log_var_or_scale) if parameterization == "log_var" else log_var_or_scale
    )
    if eps.shape.rank == mu.shape.rank + 1:  # k samples: [batch, k, d]
        mu, sigma = mu[:, None], sigma[:, None]
    return mu + sigma * eps


@register
class GaussianReparameterization(FullPrecision, tf_keras.layers.Layer):
    """Draws ``z = mu + sigma * eps``, ``eps ~ N(0, I)``: gradients reach ``mu`` and ``sigma``.

    The noise is drawn inside (default) or passed as a third input
    (``explicit_noise=True``, as in the concise Keras VAE, where all
    stochasticity enters as a model input).

    Args:
      num_samples: ``None`` for one draw per example (output ``[batch, d]``),
        or ``k`` for ``k`` draws (output ``[batch, k, d]``, for multi-sample
        and importance-weighted bounds).
      parameterization: ``"log_var"`` (second input is ``log sigma^2``) or
        ``"scale"`` (second input is ``sigma > 0``).
      explicit_noise: if True, inputs are ``[mu, s, eps]`` with ``eps`` of the output shape.

    Noise and samples are in float32 under a mixed policy (float64 under ``"float64"``);
    see :mod:`kerasprob.dtypes`.

    Input: ``[mu, s]`` (or ``[mu, s, eps]``), ``mu`` and ``s`` of shape ``[batch, d]``.
    Output shape: ``[batch, d]``, or ``[batch, k, d]`` when ``num_samples=k``.
    """

    def __init__(self, num_samples=None, parameterization="log_var", explicit_noise=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_samples = check_positive_int("num_samples", num_samples, allow_none=True)
        self.parameterization = check_choice(
            "parameterization", parameterization, ("log_var", "scale")
        )
        self.explicit_noise = bool(explicit_noise)

    def call(self, inputs):
        expected = 3 if self.explicit_noise else 2
        if not isinstance(inputs, (list, tuple)) or len(inputs) != expected:
            raise ValueError(
                f"GaussianReparameterization expects {expected} inputs "
                f"({'[mu, s, eps]' if self.explicit_noise else '[mu, s]'}). "
                f"Received: {type(inputs).__name__} of length "
                f"{len(inputs) if isinstance(inputs, (list, tuple)) else 1}"
            )
        mu, s = inputs[0], inputs[1]
        if self.explicit_noise:
            eps = tf.cast(inputs[2], mu.dtype)
        else:
            shape = tf.shape(mu)
            if self.num_samples is not None:
                shape = tf.concat([shape[:1], [self.num_samples], shape[1:]], axis=0)
            eps = tf.random.normal(shape, dtype=mu.dtype)
        return gaussian_sample(mu, s, eps, self.parameterization)

    def compute_output_shape(self, input_shape):
        mu_shape = tf.TensorShape(input_shape[0])
        if self.num_samples is None:
            return mu_shape
        return mu_shape[:1].concatenate([self.num_samples]).concatenate(mu_shape[1:])

    def get_config(self):
        return {
            **super().get_config(),
            "num_samples": self.num_samples,
            "parameterization": self.parameterization,
            "explicit_noise": self.explicit_noise,
        }


def gumbel_softmax(logits, temperature, uniform_noise, straight_through=False):
    """Relaxed one-hot sample ``softmax((logits + g) / tau)``, ``g = -log(-log u)``.

    With ``straight_through`` the forward value is the one-hot ``argmax``
    while gradients are those of the relaxed sample.

    Args:
      logits: ``[batch..., K]`` unnormalized log-probabilities.
      temperature: ``tau > 0``; as ``tau -> 0`` samples approach one-hot.
      uniform_noise: ``u ~ U(0, 1)`` of the shape of ``logits``.

    Returns:
      ``[batch..., K]`` points of the probability simplex.
    """
    tiny = tf.constant(1e-20, logits.dtype)
    gumbel = -tf.math.log(-tf.math.log(uniform_noise + tiny) + tiny)
    y = tf.nn.softmax((logits + gumbel) / temperature, axis=-1)
    if straight_through:
        hard = tf.one_hot(tf.argmax(y, axis=-1), tf.shape(y)[-1], dtype=y.dtype)
        y = tf.stop_gradient(hard - y) + y
    return y


@register
class GumbelSoftmax(FullPrecision, tf_keras.layers.Layer):
    """Relaxed one-hot (concrete) sampling from logits: the Gumbel-softmax trick.

    Args:
      temperature: ``tau > 0``; can be changed during training
        (``layer.temperature = 0.5``) for annealing.
      straight_through: emit hard one-hot samples with relaxed gradients.
      explicit_noise: if True, inputs are ``[logits, u]`` with ``u ~ U(0, 1)``.

    The uniform noise and the sample are float32 under a mixed policy (bfloat16's 8-bit
    mantissa would bias the draws), float64 under ``"float64"``; see
    :mod:`kerasprob.dtypes`.

    Input shape: ``[batch..., K]`` logits. Output shape: ``[batch..., K]``, rows summing to 1.

    References:
      Jang, Gu & Poole (2017), Categorical Reparameterization with Gumbel-Softmax.
      Maddison, Mnih & Teh (2017), The Concrete Distribution.
    """

    def __init__(self, temperature=1.0, straight_through=False, explicit_noise=False, **kwargs):
        super().__init__(**kwargs)
        self._initial_temperature = check_positive_float("temperature", temperature)
        self.straight_through = bool(straight_through)
        self.explicit_noise = bool(explicit_noise)
        self._temperature = None

    def build(self, input_shape):
        self._temperature = self.add_weight(
            "temperature", shape=(), trainable=False,
            initializer=tf_keras.initializers.Constant(self._initial_temperature),
        )
        super().build(input_shape)

    @property
    def temperature(self):
        """The current temperature, as a float."""
        if self._temperature is None:
            return self._initial_temperature
        return float(self._temperature.numpy())

    @temperature.setter
    def temperature(self, value):
        value = check_positive_float("temperature", value)
        if self._temperature is None:
            self._initial_temperature = value
        else:
            self._temperature.assign(value)

    def call(self, inputs):
        if self.explicit_noise:
            logits, u = inputs
            u = tf.cast(u, logits.dtype)
        else:
            logits = inputs
            u = tf.random.uniform(tf.shape(logits), dtype=logits.dtype)
        tau = tf.cast(self._temperature, logits.dtype)
        return gumbel_softmax(logits, tau, u, self.straight_through)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape[0] if self.explicit_noise else input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "temperature": self._initial_temperature,
            "straight_through": self.straight_through,
            "explicit_noise": self.explicit_noise,
        }
