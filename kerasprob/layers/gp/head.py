"""A likelihood at the end of a Keras model: ``q(f(x)) -> p(y* | x)``, saved with the model.

:class:`LikelihoodLayer` wraps a likelihood (:mod:`kerasprob.layers.gp.likelihoods`), so its
variables (a Gaussian's noise variance, a Student-t's scale) are the model's weights, and
turns the output of an :class:`kerasprob.layers.gp.SVGP` layer into the predictive
:class:`VariationalPredictive` distribution. Compiled with the registered
:class:`kerasprob.losses.NegativeExpectedLogLikelihood`, ``-mean_b E_q[log p(y | f)]`` plus the
SVGP layer's ``KL / N`` is the negative ELBO per example; the model (a feature extractor, an
SVGP layer, a likelihood) saves to a ``.keras`` file that loads, compiled, in a fresh
process with no custom objects and no code from the file.

>>> import numpy as np, tf_keras
>>> from kerasprob.layers.gp import SVGP, Gaussian
>>> from kerasprob.losses import NegativeExpectedLogLikelihood
>>> inputs = tf_keras.Input((1,), dtype="float64")
>>> q_f = SVGP("rbf", num_inducing=4, input_dim=1, num_data=8, dtype="float64")(inputs)
>>> model = tf_keras.Model(inputs, LikelihoodLayer(Gaussian(0.1, dtype="float64"))(q_f))
>>> model.compile("adam", loss=NegativeExpectedLogLikelihood())
>>> model.predict(np.zeros((2, 1)), verbose=0).shape   # the predictive mean of y*
(2, 1)

References:
  GPflux's ``LikelihoodLayer`` and ``LikelihoodLoss`` (the same split, there not saveable).
"""

import tensorflow as tf
import tensorflow_probability as tfp

from kerasprob.layers.distributions import DistributionLayer
from kerasprob.layers.gp.likelihoods import Likelihood
from kerasprob.math.distributions import as_distribution
from kerasprob.serialization import deserialize, register, serialize

tfd = tfp.distributions

__all__ = ["LikelihoodLayer", "VariationalPredictive"]


class VariationalPredictive(tfd.Distribution):
    """``p(y* | x) = int p(y* | f) q(f) df`` for marginals ``q(f) = N(f_mean, f_var)``.

    Batch ``[batch]``, event ``[L]`` (``f_mean``, ``f_var`` ``[batch, L]``). ``log_prob(y)``
    is the predictive log density, ``mean()`` / ``variance()`` the predictive moments, and
    :meth:`expected_log_likelihood` the ELBO's data term ``E_q[log p(y | f)]``, ``[batch]``.
    """

    def __init__(self, likelihood, f_mean, f_var, name="VariationalPredictive"):
        parameters = dict(locals())
        self._likelihood = likelihood
        self._f_mean = tf.convert_to_tensor(f_mean)
        self._f_var = tf.cast(f_var, self._f_mean.dtype)
        super().__init__(dtype=self._f_mean.dtype,
                         reparameterization_type=tfd.NOT_REPARAMETERIZED,
                         validate_args=False, allow_nan_stats=True, parameters=parameters,
                         name=name)

    @property
    def f_mean(self):
        return self._f_mean

    @property
    def f_var(self):
        return self._f_var

    def expected_log_likelihood(self, y):
        """``sum_l E_{q(f)}[log p(y_l | f_l)]``: ``[batch]``."""
        return self._likelihood.expected_log_likelihood(y, self._f_mean, self._f_var)

    def _batch_shape(self):
        return self._f_mean.shape[:-1]

    def _batch_shape_tensor(self):
        return tf.shape(self._f_mean)[:-1]

    def _event_shape(self):
        return self._f_mean.shape[-1:]

    def _event_shape_tensor(self):
        return tf.shape(self._f_mean)[-1:]

    def _log_prob(self, y):
        return self._likelihood.predictive_log_density(y, self._f_mean, self._f_var)

    def _mean(self):
        return self._likelihood.predictive(self._f_mean, self._f_var)[0]

    def _variance(self):
        return self._likelihood.predictive(self._f_mean, self._f_var)[1]


@register
class LikelihoodLayer(DistributionLayer):
    """``q(f(x))`` (an SVGP layer's output) ``-> p(y* | x)``, a :class:`VariationalPredictive`.

    Args:
      likelihood: a :class:`kerasprob.layers.gp.Likelihood` layer (or its serialized form);
        its variables are this layer's, trained and saved with the model.
      convert_to_tensor_fn: the tensor ``predict`` returns: ``"mean"`` (default, the
        predictive mean of ``y*``).

    Input: the output of an SVGP layer, or ``[mean, var]`` of ``q(f)`` (marginals
    ``[batch, L]`` either way). Output: a distribution with batch ``[batch]``, event ``[L]``.
    """

    conversions = ("mean",)

    def __init__(self, likelihood, convert_to_tensor_fn="mean", **kwargs):
        likelihood = deserialize(likelihood)
        if not isinstance(likelihood, Likelihood):
            raise TypeError(
                "likelihood must be a kerasprob.layers.gp.Likelihood layer (Gaussian, "
                f"Bernoulli, ...). Received: likelihood of type {type(likelihood).__name__}")
        kwargs.setdefault("dtype", likelihood.dtype_policy.name)
        super().__init__(convert_to_tensor_fn=convert_to_tensor_fn, **kwargs)
        self.likelihood = likelihood

    def build(self, input_shape=None):
        self.likelihood.ensure_built()
        super().build(input_shape)

    def make_distribution(self, inputs):
        q_f = as_distribution(inputs)
        if q_f is not None:
            return VariationalPredictive(self.likelihood, q_f.mean(), q_f.variance())
        if isinstance(inputs, (list, tuple)) and len(inputs) == 2:
            mean, var = (tf.cast(t, self.likelihood.dtype) for t in inputs)
            return VariationalPredictive(self.likelihood, mean, var)
        raise TypeError(
            "LikelihoodLayer takes the output of an SVGP layer (a distribution over f) or "
            f"[mean, var] of q(f). Received: {inputs!r}")

    def get_config(self):
        return {**super().get_config(), "likelihood": serialize(self.likelihood)}
