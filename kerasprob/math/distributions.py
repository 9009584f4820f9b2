"""Distributions and distribution math on tensors: the pieces the layers build on.

``LogitBernoulli`` and ``DiscretizedLogisticDistribution`` are TFP distribution
subclasses; ``as_distribution`` unwraps a distribution-layer output;
``positive_scale``, ``unflatten`` and the log-space helpers are the shared
parameter transforms.

>>> import numpy as np
>>> d = LogitBernoulli(logits=[0.0, 2.0], dtype=tf.float32)
>>> np.round(d.log_prob([1.0, 0.25]).numpy(), 4)
array([-0.6931, -1.6269], dtype=float32)
"""

import math

import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.internal import samplers

tfd = tfp.distributions
tfb = tfp.bijectors

__all__ = [
    "SCALE_FLOOR",
    "DiscretizedLogisticDistribution",
    "LogitBernoulli",
    "as_distribution",
    "log1mexp",
    "log_sigmoid_difference",
    "positive_scale",
    "scale_tril_from_params",
    "standard_normal_like",
    "standard_normal_log_prob",
    "unflatten",
]


def as_distribution(value):
    """The distribution behind a distribution-layer output, or None.

    Unwraps the tensor-coercible wrapper of ``tfp.layers`` outputs, so KL
    lookups see the real class (e.g. ``Independent``).
    """
    value = getattr(value, "_tfp_distribution", value)
    value = getattr(value, "tensor_distribution", value)
    return value if isinstance(value, tfd.Distribution) else None


def standard_normal_like(q):
    """``N(0, I)`` over ``q``'s event shape, of the family TFP pairs with ``q`` for an exact KL.

    An ``Independent(Normal)`` ``q`` gets an ``Independent(Normal)`` prior; any
    other ``q`` (e.g. ``MultivariateNormalTriL``) gets a ``MultivariateNormalDiag``.
    """
    zeros = tf.zeros(q.event_shape, dtype=q.dtype)
    if isinstance(q, tfd.Independent):
        return tfd.Independent(tfd.Normal(zeros, 1.0), len(q.event_shape))
    return tfd.MultivariateNormalDiag(loc=zeros)


#: Lower bound added to every softplus scale, so scales never reach 0.
SCALE_FLOOR = 1e-5


def scale_tril_from_params(raw):
    """``L = fill_triangular(raw)`` with diagonal ``softplus(.) + 1e-5``.

    The layout of ``tfb.FillScaleTriL`` (and so of
    :class:`kerasprob.distributions.MultivariateNormalTriL`).

    Args:
      raw: ``[batch..., d (d + 1) / 2]``.

    Returns:
      ``[batch..., d, d]`` lower-triangular ``L`` with a positive diagonal.
    """
    raw = tf.convert_to_tensor(raw)
    return tfb.FillScaleTriL(diag_shift=tf.constant(SCALE_FLOOR, raw.dtype)).forward(raw)


def positive_scale(raw):
    """``softplus(raw) + 1e-5``: an unconstrained tensor -> a positive scale."""
    return tf.nn.softplus(raw) + SCALE_FLOOR


def standard_normal_log_prob(eps):
    """``log N(eps; 0, I) = -1/2 |eps|^2 - d/2 log(2 pi)``: ``[batch..., d] -> [batch...]``."""
    d = tf.cast(tf.shape(eps)[-1], eps.dtype)
    return -0.5 * tf.reduce_sum(tf.square(eps), axis=-1) - 0.5 * d * math.log(2.0 * math.pi)


def unflatten(params, event_shape):
    """Reshape ``[batch..., prod(event_shape)]`` -> ``[batch..., *event_shape]``."""
    batch = tf.shape(params)[:-1]
    return tf.reshape(params, tf.concat([batch, event_shape], axis=0))


class LogitBernoulli(tfd.Bernoulli):
    """``tfd.Bernoulli(logits=l)`` with ``log p(x) = x l - softplus(l)``: one softplus.

    The same value as TFP's ``-x softplus(-l) - (1 - x) softplus(l)`` for finite
    logits and any real ``x`` (``softplus(-l) = softplus(l) - l``), with half the
    transcendental work; an image decoder evaluates it for every pixel of every
    training example.

    >>> import numpy as np
    >>> d = LogitBernoulli(logits=[0.0, 2.0], dtype=tf.float32)
    >>> np.round(d.log_prob([1.0, 0.25]).numpy(), 4)
    array([-0.6931, -1.6269], dtype=float32)
    """

    def _log_prob(self, event):
        logits = tf.convert_to_tensor(self._logits)
        return tf.cast(event, logits.dtype) * logits - tf.math.softplus(logits)


def log1mexp(x):
    """``log(1 - exp(x))`` for ``x < 0``, accurate near 0 and for large ``|x|``."""
    x = tf.minimum(x, -1e-30)
    near = x > -0.6931472
    return tf.where(near, tf.math.log(-tf.math.expm1(tf.where(near, x, -0.6931472))),
                    tf.math.log1p(-tf.exp(tf.where(near, -0.6931472, x))))


def log_sigmoid_difference(a, b):
    """``log(sigma(a) - sigma(b))`` for ``a > b``, without cancellation in either tail.

    ``sigma(a) - sigma(b) = sigma(-b) - sigma(-a)``: the pair with ``a + b <= 0`` is
    used, then ``log sigma(a) + log(1 - exp(log sigma(b) - log sigma(a)))``.
    """
    left = a + b <= 0.0
    a, b = tf.where(left, a, -b), tf.where(left, b, -a)
    log_a = tf.math.log_sigmoid(a)
    return log_a + log1mexp(tf.math.log_sigmoid(b) - log_a)


class DiscretizedLogisticDistribution(tfd.Distribution):
    """A logistic discretized to the integers ``{0, ..., K - 1}`` (scalar events).

    With ``u = x / (K - 1)`` in [0, 1], half a bin ``h = 1 / (2 (K - 1))`` and
    ``sigma`` the logistic CDF:
    ``P(x) = sigma((u + h - loc) / scale) - sigma((u - h - loc) / scale)``, the two
    end bins taking the tails (``x = 0``: ``sigma((h - loc) / scale)``;
    ``x = K - 1``: ``1 - sigma((1 - h - loc) / scale)``). ``loc`` and ``scale`` are
    in units of the [0, 1] range.

    References:
      Salimans et al. (2017), PixelCNN++, section 2.1 (one mixture component).
    """

    def __init__(self, loc, scale, num_bins, validate_args=False, allow_nan_stats=True,
                 name="DiscretizedLogistic"):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            self._loc = tf.convert_to_tensor(loc)
            self._scale = tf.convert_to_tensor(scale, dtype=self._loc.dtype)
            self._num_bins = int(num_bins)
            super().__init__(dtype=self._loc.dtype,
                             reparameterization_type=tfd.NOT_REPARAMETERIZED,
                             validate_args=validate_args, allow_nan_stats=allow_nan_stats,
                             parameters=parameters, name=name)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        from tensorflow_probability.python.internal import parameter_properties

        return {"loc": parameter_properties.ParameterProperties(),
                "scale": parameter_properties.ParameterProperties()}

    @property
    def loc(self):
        return self._loc

    @property
    def scale(self):
        return self._scale

    @property
    def num_bins(self):
        return self._num_bins

    def _batch_shape(self):
        return tf.broadcast_static_shape(self._loc.shape, self._scale.shape)

    def _batch_shape_tensor(self):
        return tf.broadcast_dynamic_shape(tf.shape(self._loc), tf.shape(self._scale))

    def _event_shape(self):
        return tf.TensorShape([])

    def _event_shape_tensor(self):
        return tf.constant([], dtype=tf.int32)

    def _log_prob(self, x):
        top = float(self._num_bins - 1)
        half = 0.5 / top
        u = tf.cast(x, self.dtype) / top  # [0, 1]
        inv = 1.0 / self._scale
        plus = (u + half - self._loc) * inv
        minus = (u - half - self._loc) * inv
        return tf.where(u < 0.5 * half, tf.math.log_sigmoid(plus),  # x = 0: the left tail
                        tf.where(u > 1.0 - 0.5 * half, -tf.nn.softplus(minus),  # right tail
                                 log_sigmoid_difference(plus, minus)))

    def _bin_probs(self):
        """``P(x)`` for every bin: ``[K, batch...]``."""
        top = float(self._num_bins - 1)
        edges = (tf.range(1, self._num_bins, dtype=self.dtype) - 0.5) / top  # [K - 1]
        shape = tf.concat([[self._num_bins - 1], tf.ones_like(tf.shape(self._loc))], axis=0)
        cdf = tf.sigmoid((tf.reshape(edges, shape) - self._loc) / self._scale)  # [K - 1, ...]
        ones = tf.ones_like(cdf[:1])
        cdf = tf.concat([tf.zeros_like(ones), cdf, ones], axis=0)  # [K + 1, ...]
        return cdf[1:] - cdf[:-1]

    def _mean(self):
        probs = self._bin_probs()
        shape = tf.concat([[self._num_bins], tf.ones_like(tf.shape(self._loc))], axis=0)
        values = tf.reshape(tf.range(self._num_bins, dtype=self.dtype), shape)
        return tf.reduce_sum(probs * values, axis=0)

    def _mode(self):
        top = float(self._num_bins - 1)
        return tf.round(tf.clip_by_value(self._loc, 0.0, 1.0) * top)

    def _sample_n(self, n, seed=None):
        top = float(self._num_bins - 1)
        shape = tf.concat([[n], self._batch_shape_tensor()], axis=0)
        u = samplers.uniform(shape, 1e-6, 1.0 - 1e-6, dtype=self.dtype, seed=seed)
        draw = self._loc + self._scale * (tf.math.log(u) - tf.math.log1p(-u))
        return tf.round(tf.clip_by_value(draw, 0.0, 1.0) * top)
