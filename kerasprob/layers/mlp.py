"""A multilayer perceptron as one serializable layer."""

import tensorflow as tf
import tf_keras

from kerasprob.serialization import register
from kerasprob.validation import check_positive_int, check_units


@register
class MLP(tf_keras.layers.Layer):
    """``Dense(h_1, act) -> ... -> Dense(h_L, act) -> Dense(output_units)``.

    Args:
      hidden_units: sizes of the hidden layers, e.g. ``[256]`` (may be empty).
      output_units: size of the final linear layer.
      activation: activation name of the hidden layers.
      kernel_initializer: initializer name of every kernel.
      output_initializer: initializer name of the final kernel (``"zeros"``
        makes the network start as the constant ``bias``).

    The layer's ``dtype`` (policy) reaches every ``Dense``: ``MLP(..., dtype="float64")``
    computes in float64, ``dtype="mixed_bfloat16"`` in bfloat16 with float32 weights.

    Input shape: ``[batch..., features]``. Output shape: ``[batch..., output_units]``, in the
    layer's compute dtype.
    """

    def __init__(
        self,
        hidden_units,
        output_units,
        activation="relu",
        kernel_initializer="glorot_uniform",
        output_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.output_units = check_positive_int("output_units", output_units)
        self.activation = activation
        self.kernel_initializer = kernel_initializer
        self.output_initializer = output_initializer
        self.hidden = [
            tf_keras.layers.Dense(
                units, activation=activation, kernel_initializer=kernel_initializer,
                name=f"hidden_{i}", dtype=self.dtype_policy,
            )
            for i, units in enumerate(self.hidden_units)
        ]
        self.out = tf_keras.layers.Dense(
            self.output_units, kernel_initializer=output_initializer, name="output",
            dtype=self.dtype_policy,
        )

    def build(self, input_shape):
        shape = input_shape
        for layer in self.hidden:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.out.build(shape)
        super().build(input_shape)

    def call(self, inputs):
        h = inputs
        for layer in self.hidden:
            h = layer(h)
        return self.out(h)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:-1].concatenate([self.output_units])

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_units": list(self.hidden_units),
            "output_units": self.output_units,
            "activation": self.activation,
            "kernel_initializer": self.kernel_initializer,
            "output_initializer": self.output_initializer,
        }
