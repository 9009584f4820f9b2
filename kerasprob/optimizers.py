"""Optimizers: ``Adam`` with its dense update in one fused kernel.

``tf_keras.optimizers.Adam`` updates each variable with about twenty small
operations (moments, bias corrections, the step): outside XLA, a convolutional
VAE runs hundreds of them per training step (``benchmarks/README.md`` has the
figures). This ``Adam`` is the same
optimizer (same arguments, slots, config and saved state) whose dense update is
TensorFlow's fused ``ResourceApplyAdam`` kernel, one operation per variable:

    m <- m + (1 - beta_1) (g - m),    v <- v + (1 - beta_2) (g^2 - v),
    w <- w - lr sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)

with ``t`` the step count (from 1); these are the formulas of tf-keras's Adam.
Sparse gradients, ``amsgrad`` and ``adaptive_epsilon`` keep tf-keras's own update.

>>> import tensorflow as tf
>>> w = tf.Variable([1.0, -2.0])
>>> opt = Adam(learning_rate=0.1)
>>> _ = opt.apply_gradients([(tf.constant([0.5, -0.5]), w)])
>>> [round(float(v), 4) for v in w]  # the first step moves each weight by lr
[0.9, -1.9]
"""

import tensorflow as tf
import tf_keras

from kerasprob.serialization import register

__all__ = ["Adam"]


@register
class Adam(tf_keras.optimizers.Adam):
    """``tf_keras.optimizers.Adam`` whose dense update is one fused kernel.

    Args: those of ``tf_keras.optimizers.Adam`` (``learning_rate``, ``beta_1``,
    ``beta_2``, ``epsilon``, ``amsgrad``, clipping, EMA, ...), with the same
    meaning and defaults.
    """

    def update_step(self, gradient, variable):
        """One Adam step for ``variable``: fused for a dense gradient."""
        if (isinstance(gradient, tf.IndexedSlices) or self.amsgrad
                or getattr(self, "adaptive_epsilon", False)):
            return super().update_step(gradient, variable)
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        index = self._index_dict[self._var_key(variable)]
        return tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].handle,
            v=self._velocities[index].handle,
            # the bias corrections as tf-keras computes them (beta through float32) ...
            beta1_power=tf.pow(tf.cast(self.beta_1, dtype), step),
            beta2_power=tf.pow(tf.cast(self.beta_2, dtype), step),
            lr=tf.cast(self.learning_rate, dtype),
            # ... and the moments' weights in the variable's precision, as its Python floats
            beta1=_constant(self.beta_1, dtype), beta2=_constant(self.beta_2, dtype),
            epsilon=_constant(self.epsilon, dtype), grad=tf.cast(gradient, dtype))


def _constant(value, dtype):
    """``value`` as a ``dtype`` tensor; a Python float directly (``tf.cast`` of one
    goes through float32: 0.9 would become 0.8999999761581421 in float64)."""
    if isinstance(value, (int, float)):
        return tf.constant(value, dtype)
    return tf.cast(value, dtype)
