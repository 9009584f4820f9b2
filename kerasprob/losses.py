"""Keras losses on distribution outputs.

``NegativeLogLikelihood`` is a Keras loss for any model whose output is a
distribution: ``model.compile(loss=kp.losses.NegativeLogLikelihood())``.
The variational bounds (ELBO, IWAE) are tensor functions in :mod:`kerasprob.math.bounds`.
"""

import tensorflow as tf
import tf_keras

from kerasprob.math.distributions import as_distribution
from kerasprob.serialization import register


@register
class NegativeExpectedLogLikelihood(tf_keras.losses.Loss):
    """``-E_{q(f)}[log p(y_true | f)]``, the data term of the negative ELBO, per example.

    ``y_pred`` must be the output of a :class:`kerasprob.layers.gp.LikelihoodLayer` (a
    :class:`kerasprob.layers.gp.VariationalPredictive`); with the SVGP layers' added
    ``KL / N`` the model's loss is the negative ELBO per example (Hensman et al. 2013).
    Registered, so a model compiled with it saves and loads compiled.
    """

    def __init__(self, name="negative_expected_log_likelihood", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        predictive = as_distribution(y_pred)
        if not hasattr(predictive, "expected_log_likelihood"):
            raise TypeError(
                "NegativeExpectedLogLikelihood needs a model whose output is a "
                "kerasprob.layers.gp.LikelihoodLayer. Received: y_pred of type "
                f"{type(predictive if predictive is not None else y_pred).__name__}")
        return -predictive.expected_log_likelihood(tf.cast(y_true, predictive.dtype))


@register
class NegativeLogLikelihood(tf_keras.losses.Loss):
    """``-log p(y_true)`` under the predicted distribution ``y_pred``.

    ``y_pred`` must be the output of a distribution layer; ``y_true`` has
    its event shape. Returns one value per example (reduced by Keras).
    """

    def __init__(self, name="negative_log_likelihood", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        distribution = as_distribution(y_pred)
        if distribution is None:
            raise TypeError(
                "NegativeLogLikelihood needs a model whose output is a distribution (a "
                f"kerasprob.distributions layer). Received: y_pred={y_pred!r}"
            )
        y_true = tf.cast(y_true, distribution.dtype)
        return -distribution.log_prob(y_true)
