"""Prior layers: layers that own parameters and return a distribution.

A prior takes no data; ``prior.distribution()`` returns ``p(z)`` with an
empty batch shape and event shape ``[event_size]``. Pass one to
:class:`kerasprob.layers.KLDivergenceLayer` as ``prior=``; its variables
then train with the model (a learnable prior, as in the mixture-prior VAE).
"""

import math

import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from kerasprob.dtypes import FullPrecision
from kerasprob.math.distributions import positive_scale
from kerasprob.serialization import register
from kerasprob.validation import check_positive_int

tfd = tfp.distributions

_SOFTPLUS_INV_ONE = math.log(math.e - 1.0)  # softplus(x) = 1


class Prior(FullPrecision, tf_keras.layers.Layer):
    """Base class: ``distribution()`` returns ``p(z)``; ``call`` ignores its input.

    The distribution's dtype is the layer's computation dtype: float32 under the float32
    and mixed policies, float64 under ``"float64"`` (:mod:`kerasprob.dtypes`).
    """

    def __init__(self, event_size, **kwargs):
        super().__init__(**kwargs)
        self.event_size = check_positive_int("event_size", event_size)

    def build(self, input_shape=None):
        super().build(input_shape)

    def distribution(self):
        raise NotImplementedError

    def ensure_built(self):
        if not self.built:
            self.build(None)

    def call(self, inputs=None):
        return tf.zeros((), self.compute_dtype)  # a prior has no data path; use `distribution()`.

    def get_config(self):
        return {**super().get_config(), "event_size": self.event_size}


@register
class NormalPrior(Prior):
    """``p(z) = N(loc, diag(scale^2))``; fixed ``N(0, I)`` unless ``learnable``.

    Args:
      event_size: dimension ``d`` of ``z``.
      learnable: if True, ``loc`` and ``scale`` are trained (initialized at 0, 1).
    """

    def __init__(self, event_size, learnable=False, **kwargs):
        super().__init__(event_size, **kwargs)
        self.learnable = bool(learnable)

    def build(self, input_shape=None):
        if self.learnable:
            d = self.event_size
            self.loc = self.add_weight("loc", shape=(d,), initializer="zeros")
            self.raw_scale = self.add_weight(
                "raw_scale", shape=(d,),
                initializer=tf_keras.initializers.Constant(_SOFTPLUS_INV_ONE),
            )
        super().build(input_shape)

    def distribution(self):
        self.ensure_built()
        if not self.learnable:
            return tfd.MultivariateNormalDiag(loc=tf.zeros((self.event_size,), self.compute_dtype))
        return tfd.MultivariateNormalDiag(self.loc, positive_scale(self.raw_scale))

    def get_config(self):
        return {**super().get_config(), "learnable": self.learnable}


@register
class MixtureNormalPrior(Prior):
    """Learnable ``p(z) = sum_k pi_k N(mu_k, diag(s_k^2))`` (the mixture-prior VAE).

    ``pi = softmax(logits)``, ``s = softplus(raw_scale) + 1e-5``. Means start
    at ``N(0, init_spread^2)`` draws so components are distinct, scales at 1.

    Args:
      event_size: dimension ``d`` of ``z``.
      num_components: ``K`` (16 in the seed).
      init_spread: standard deviation of the initial means.
    """

    def __init__(self, event_size, num_components=16, init_spread=1.0, **kwargs):
        super().__init__(event_size, **kwargs)
        self.num_components = check_positive_int("num_components", num_components)
        self.init_spread = float(init_spread)

    def build(self, input_shape=None):
        k, d = self.num_components, self.event_size
        self.loc = self.add_weight(
            "loc", shape=(k, d),
            initializer=tf_keras.initializers.RandomNormal(stddev=self.init_spread),
        )
        self.raw_scale = self.add_weight(
            "raw_scale", shape=(k, d),
            initializer=tf_keras.initializers.Constant(_SOFTPLUS_INV_ONE),
        )
        self.logits = self.add_weight("logits", shape=(k,), initializer="zeros")
        super().build(input_shape)

    def distribution(self):
        self.ensure_built()
        return tfd.MixtureSameFamily(
            tfd.Categorical(logits=self.logits),
            tfd.MultivariateNormalDiag(self.loc, positive_scale(self.raw_scale)),
        )

    def get_config(self):
        return {
            **super().get_config(),
            "num_components": self.num_components,
            "init_spread": self.init_spread,
        }
