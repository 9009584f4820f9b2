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
