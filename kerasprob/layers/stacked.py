"""Networks with a leading member axis: ``M`` independent scalar functions in one pass.

Cross-validation and cross-fitting train one copy of a network per fold; stacking the
copies' weights on a leading axis ``[M, ...]`` evaluates all of them with one batched
matrix product per layer, so ``M`` members cost little more than one on a CPU (the step
is dominated by per-operation overhead at these sizes). The members share nothing but
their input: each has its own weights and, trained on the sum of per-member losses by
an element-wise optimizer (Adam), follows exactly the trajectory it would alone.

>>> import tensorflow as tf
>>> net = StackedMLP(members=3, hidden_units=[8])
>>> net(tf.zeros([5, 2])).shape   # [batch, members]
TensorShape([5, 3])
"""

import itertools
import math

import tensorflow as tf
import tf_keras

from kerasprob.serialization import register
from kerasprob.validation import check_bool, check_positive_int, check_units


def _glorot_uniform(fan_in, fan_out):
    """Glorot's uniform initializer for a stacked kernel ``[M, fan_in, fan_out]`` (Keras'
    own would count the member axis into the fans)."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return tf_keras.initializers.RandomUniform(-limit, limit)


@register
class StackedMLP(tf_keras.layers.Layer):
    """``M`` multilayer perceptrons ``R^d -> R``, stacked: ``[batch, d] -> [batch, M]``.

    Member ``m`` computes ``h_0 = x``, ``h_l = act(h_{l-1} W_l[m] + b_l[m])`` and the output
    ``h_L w[m] + b[m]``; every member starts from its own Glorot draw.

    Args:
      members: ``M``.
      hidden_units: sizes of the hidden layers (may be empty: ``M`` linear functions).
      activation: activation of the hidden layers.
      zero_output: start the output layer at zero, so every member starts as the
        constant 0 (a residual on top of another network).

    Input shape: ``[batch, d]``. Output shape: ``[batch, M]`` (:meth:`members_first`:
    ``[M, batch]``).
    """

    def __init__(self, members, hidden_units, activation="relu", zero_output=False, **kwargs):
        super().__init__(**kwargs)
        self.members = check_positive_int("members", members)
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.activation = activation
        self._activation = tf_keras.activations.get(activation)
        self.zero_output = check_bool("zero_output", zero_output)

    def build(self, input_shape):
        sizes = [int(input_shape[-1]), *self.hidden_units, 1]
        self.kernels, self.biases = [], []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            last = i == len(sizes) - 2
            init = (tf_keras.initializers.Zeros() if last and self.zero_output
                    else _glorot_uniform(fan_in, fan_out))
            self.kernels.append(self.add_weight(
                f"kernel_{i}", shape=(self.members, fan_in, fan_out), initializer=init))
            self.biases.append(self.add_weight(
                f"bias_{i}", shape=(self.members, 1, fan_out), initializer="zeros"))
        super().build(input_shape)

    def call(self, inputs):
        return tf.transpose(self.members_first(inputs))

    def members_first(self, inputs):
        """The members' outputs ``[M, batch]``."""
        h = inputs[tf.newaxis]  # [1, batch, d]: broadcast over the member axis
        last = len(self.kernels) - 1
        for i, (kernel, bias) in enumerate(zip(self.kernels, self.biases)):
            h = tf.matmul(h, kernel) + bias  # [M, batch, units]
            if i < last:
                h = self._activation(h)
        return h[..., 0]

    def squared_norm(self):
        """``sum_l ||W_l[m]||^2`` per member, ``[M]`` (the kernels' L2 penalty; biases not
        included)."""
        return tf.add_n([tf.reduce_sum(tf.square(k), [1, 2]) for k in self.kernels])

    def compute_output_shape(self, input_shape):
        return tf.TensorShape([tf.TensorShape(input_shape)[0], self.members])

    def get_config(self):
        return {**super().get_config(), "members": self.members,
                "hidden_units": list(self.hidden_units), "activation": self.activation,
                "zero_output": self.zero_output}


@register
class StackedQuadratic(tf_keras.layers.Layer):
    """``M`` quadratics ``x^T A_m x + w_m^T x + b_m``, stacked: ``[batch, d] -> [batch, M]``.

    The log density ratio of any two Gaussians is of this form. Weights start at zero;
    only the symmetric part of ``A_m`` matters.

    Input shape: ``[batch, d]``. Output shape: ``[batch, M]`` (:meth:`members_first`:
    ``[M, batch]``).
    """

    def __init__(self, members, **kwargs):
        super().__init__(**kwargs)
        self.members = check_positive_int("members", members)

    def build(self, input_shape):
        d = int(input_shape[-1])
        self.quadratic = self.add_weight("quadratic", shape=(self.members, d, d),
                                         initializer="zeros")
        self.linear = self.add_weight("linear", shape=(self.members, d, 1), initializer="zeros")
        self.bias = self.add_weight("bias", shape=(self.members, 1), initializer="zeros")
        super().build(input_shape)

    def call(self, inputs):
        return tf.transpose(self.members_first(inputs))

    def members_first(self, inputs):
        """The members' outputs ``[M, batch]``."""
        x = inputs[tf.newaxis]  # [1, batch, d]
        quadratic = tf.reduce_sum(tf.matmul(x, self.quadratic) * x, -1)  # [M, batch]
        return quadratic + tf.matmul(x, self.linear)[..., 0] + self.bias

    def squared_norm(self):
        """Zeros ``[M]``: the quadratic family is fitted unpenalized."""
        return tf.zeros([self.members], self.quadratic.dtype)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape([tf.TensorShape(input_shape)[0], self.members])

    def get_config(self):
        return {**super().get_config(), "members": self.members}


__all__ = ["StackedMLP", "StackedQuadratic"]
