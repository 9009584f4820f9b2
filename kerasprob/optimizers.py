"""Optimizers: ``Adam`` with its dense update in one fused kernel, and ``NaturalGradient``
(that ``Adam`` plus natural-gradient steps for the variational Gaussians of SVGP layers).

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

import weakref

import tensorflow as tf
import tf_keras

from kerasprob.serialization import register
from kerasprob.validation import check_positive_float

__all__ = ["Adam", "NaturalGradient", "register_natural_parameters"]

#: ``id(variable) -> owner`` for variables that take natural-gradient steps (weak: a layer
#: that is gone leaves no entry).
_NATURAL_OWNERS = weakref.WeakValueDictionary()


def register_natural_parameters(owner, variables):
    """Declare ``variables`` (e.g. an SVGP layer's ``q_mu`` and ``q_sqrt``) as the parameters
    of a distribution ``owner`` updates by natural gradients under :class:`NaturalGradient`.

    ``owner.natural_gradient_values(gradients, gamma)`` gets the loss's gradients for
    ``variables`` (in order) and returns their new values.
    """
    for variable in variables:
        _NATURAL_OWNERS[id(variable)] = owner


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


@register
class NaturalGradient(Adam):
    """Natural-gradient steps for variational Gaussians, :class:`Adam` for everything else.

    The variables a layer declares with :func:`register_natural_parameters` (the ``q_mu``
    and ``q_sqrt`` of every :class:`kerasprob.layers.gp.SVGP`) take the step
    ``theta <- theta - gamma * N * d loss / d eta`` in the natural parameters ``theta`` of
    ``q(u)`` (:mod:`kerasprob.math.natural_gradients`; ``N`` the layer's ``num_data``, since
    the loss is per example); kernel, likelihood, inducing inputs and any other weight take
    Adam's step. With a Gaussian likelihood and the whole training set in one batch,
    ``gamma=1`` puts ``q(u)`` at its optimum in one step (Salimbeni et al. 2018); with
    minibatches or other likelihoods a smaller ``gamma`` (0.1, GPflow's advice) is steadier.
    A model compiled with it trains through ``fit``, saves and resumes like any other.

    Args:
      gamma: natural-gradient step size, in ``(0, 1]``.
      learning_rate, ...: :class:`Adam`'s arguments, for the other variables.

    >>> import numpy as np, tf_keras
    >>> from kerasprob.layers.gp import SVGP
    >>> x = np.linspace(-1.0, 1.0, 20)[:, None]
    >>> gp = SVGP("rbf", num_inducing=5, input_dim=1, num_data=20, dtype="float64")
    >>> opt = NaturalGradient(gamma=1.0, learning_rate=0.01)
    >>> with tf.GradientTape() as tape:
    ...     loss = -tf.reduce_mean(gp(x).log_prob(np.sin(3.0 * x))) + sum(gp.losses)
    >>> grads = tape.gradient(loss, gp.trainable_variables)
    >>> _ = opt.apply_gradients(zip(grads, gp.trainable_variables))
    >>> float(gp.q_mu.numpy()[0, 0]) != 0.0  # q(v) left the prior in one step
    True
    """

    def __init__(self, gamma=1.0, learning_rate=0.001, name="NaturalGradient", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        gamma = check_positive_float("gamma", gamma)
        if gamma > 1.0:
            raise ValueError(f"gamma must be in (0, 1]. Received: gamma={gamma}")
        self.gamma = gamma

    def _distributed_apply_gradients_fn(self, distribution, grads_and_vars, **kwargs):
        """Natural-gradient steps for each owner whose variables all have gradients; the
        remaining pairs go to Adam (which also counts the iteration)."""
        owners, rest = {}, []
        for grad, var in grads_and_vars:
            owner = _NATURAL_OWNERS.get(id(var))
            if owner is None:
                rest.append((grad, var))
            else:
                owners.setdefault(id(owner), (owner, {}))[1][id(var)] = (grad, var)
        for owner, pairs in owners.values():
            variables = owner.natural_parameters()
            if any(id(v) not in pairs for v in variables):  # a part frozen: plain Adam
                rest.extend(pairs.values())
                continue
            grads = tuple(pairs[id(v)][0] for v in variables)
            new_values = distribution.extended.update(
                variables[0], lambda _, *g, owner=owner: owner.natural_gradient_values(
                    g, self.gamma), args=grads, group=True)
            for var, value in zip(variables, new_values):
                distribution.extended.update(var, lambda v, x: v.assign(x), args=(value,),
                                             group=False)
        return super()._distributed_apply_gradients_fn(distribution, rest, **kwargs)

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma}
