"""The KL-divergence layer: an identity layer that adds ``weight * KL(q || p)``."""

import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from kerasprob.dtypes import FullPrecision
from kerasprob.layers.priors import Prior
from kerasprob.math.distributions import as_distribution, standard_normal_like
from kerasprob.math.divergences import gaussian_kl_to_standard_normal, kl_divergence
from kerasprob.serialization import deserialize, register, serialize
from kerasprob.validation import check_choice, check_positive_float, check_positive_int

tfd = tfp.distributions


@register
class KLDivergenceLayer(FullPrecision, tf_keras.layers.Layer):
    """Identity layer that adds ``weight * mean_batch KL(q(z|x) || p(z))`` to the losses.

    ``q`` is given either as ``[mu, log_var]`` (a diagonal Gaussian, as in the
    concise Keras VAE) or as a distribution (the output of a
    :mod:`kerasprob.distributions` layer). The KL is analytic where TFP
    registers one (for ``[mu, log_var]`` against ``N(0, I)``:
    ``-1/2 sum(1 + log_var - mu^2 - exp(log_var))``), otherwise a Monte Carlo
    estimate from ``num_samples`` reparameterized draws. The batch mean KL
    (unweighted) is logged as the metric ``name`` (default ``"kl"``).

    Args:
      prior: ``None`` for ``N(0, I)``, or a :class:`kerasprob.layers.Prior`
        layer (fixed or learnable, e.g. ``MixtureNormalPrior``).
      weight: multiplier of the KL in the loss (``beta``); can be changed
        during training (``layer.weight = 0.5``, or ``callbacks.KLAnnealing``).
      method: ``"auto"``, ``"analytic"`` or ``"monte_carlo"``.
      num_samples: draws for the Monte Carlo estimate.

    The KL (and the loss) is computed in float32 under a mixed policy (in float16,
    ``exp(log_var)`` overflows from ``log_var = 11.1``), in float64 under ``"float64"``
    (:mod:`kerasprob.dtypes`); the prior must have the same dtype.

    Input: ``[mu, log_var]`` each ``[batch, d]``, or a distribution with batch shape ``[batch]``.
    Output: the input, unchanged (cast to the layer's computation dtype).

    References:
      Kingma & Welling (2014), Auto-Encoding Variational Bayes, appendix B.
    """

    def __init__(self, prior=None, weight=1.0, method="auto", num_samples=1, **kwargs):
        kwargs.setdefault("name", "kl")
        super().__init__(**kwargs)
        prior = deserialize(prior)
        if prior is not None and not isinstance(prior, Prior):
            raise TypeError(
                "prior must be None or a kerasprob.layers.Prior layer (e.g. NormalPrior, "
                f"MixtureNormalPrior). Received: prior={prior!r}"
            )
        if prior is not None and prior.compute_dtype != self.compute_dtype:
            raise ValueError(
                f"the prior computes in {prior.compute_dtype} but this layer in "
                f"{self.compute_dtype}: give both the same dtype (or set the global policy "
                f"before making them). Received: prior={prior.name} with "
                f"dtype={prior.dtype_policy.name!r}, dtype={self.network_policy.name!r}"
            )
        self.prior = prior
        self._initial_weight = check_positive_float("weight", weight, allow_zero=True)
        self.method = check_choice("method", method, ("auto", "analytic", "monte_carlo"))
        self.num_samples = check_positive_int("num_samples", num_samples)
        self._weight = None

    def build(self, input_shape):
        self._weight = self.add_weight(
            "kl_weight", shape=(), trainable=False,
            initializer=tf_keras.initializers.Constant(self._initial_weight),
        )
        if self.prior is not None:
            self.prior.ensure_built()
        super().build(input_shape)

    @property
    def weight(self):
        """The current KL multiplier, as a float."""
        if self._weight is None:
            return self._initial_weight
        return float(self._weight.numpy())

    @weight.setter
    def weight(self, value):
        value = check_positive_float("weight", value, allow_zero=True)
        if self._weight is None:
            self._initial_weight = value
        else:
            self._weight.assign(value)

    def prior_distribution(self, q):
        """``p(z)``: the prior layer's distribution, or ``N(0, I)`` shaped like ``q``'s events."""
        if self.prior is not None:
            return self.prior.distribution()
        return standard_normal_like(q)

    def kl_divergence(self, inputs):
        """``KL(q || p)`` per batch member, shape ``[batch]``."""
        q = as_distribution(inputs)
        if q is None:
            mu, log_var = (tf.cast(v, self.compute_dtype) for v in inputs)
            if self.prior is None and self.method != "monte_carlo":
                return gaussian_kl_to_standard_normal(mu, log_var)
            q = tfd.MultivariateNormalDiag(mu, tf.exp(0.5 * log_var))
        p = self.prior_distribution(q)
        return kl_divergence(q, p, method=self.method, num_samples=self.num_samples)

    def call(self, inputs):
        kl = tf.reduce_mean(self.kl_divergence(inputs))
        self.add_loss(tf.cast(self._weight, kl.dtype) * kl)
        self.add_metric(kl, name=self.name)
        return inputs

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(
                input_shape[0], (list, tuple, tf.TensorShape)):
            return [tf.TensorShape(shape) for shape in input_shape]
        return tf.TensorShape(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "prior": serialize(self.prior),
            "weight": self._initial_weight,
            "method": self.method,
            "num_samples": self.num_samples,
        }
