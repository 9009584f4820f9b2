"""Distribution-output layers: a tensor of parameters in, a distribution out.

Each layer maps the output of a ``Dense(params_size)`` to a
``tfd.Distribution`` whose batch shape is the input's batch shape. Names
follow ``tfp.layers`` so code can swap over; unlike those layers, each one
here has a plain ``get_config`` (no pickled functions) and is registered
serializable, so models using them save and load in ``.keras`` format.

Downstream Keras layers see the distribution as a tensor through
``convert_to_tensor_fn``, chosen by name: ``"sample"``, ``"mean"`` or
``"mode"``. Losses such as :class:`kerasprob.losses.NegativeLogLikelihood`
see the distribution itself.

Example:

>>> import numpy as np, tf_keras
>>> import kerasprob as kp
>>> inputs = tf_keras.Input((3,))
>>> params = tf_keras.layers.Dense(kp.distributions.IndependentNormal.params_size(2))(inputs)
>>> model = tf_keras.Model(inputs, kp.distributions.IndependentNormal(2)(params))
>>> model(np.zeros((5, 3), "float32")).log_prob(np.zeros((5, 2), "float32")).shape
TensorShape([5])
"""

import math
import numbers

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras
from tensorflow_probability.python.internal import samplers

from kerasprob.serialization import register
from kerasprob.validation import check_choice, check_positive_int, check_shape

tfd = tfp.distributions
tfb = tfp.bijectors

__all__ = [
    "Categorical",
    "DistributionLayer",
    "IndependentBernoulli",
    "IndependentNormal",
    "LogitBernoulli",
    "MixtureNormal",
    "MultivariateNormalTriL",
    "OneHotCategorical",
]

_CONVERSIONS = {
    "sample": tfd.Distribution.sample,
    "mean": tfd.Distribution.mean,
    "mode": tfd.Distribution.mode,
}

#: Lower bound added to every softplus scale, so scales never reach 0.
SCALE_FLOOR = 1e-5


def positive_scale(raw):
    """``softplus(raw) + 1e-5``: an unconstrained tensor -> a positive scale."""
    return tf.nn.softplus(raw) + SCALE_FLOOR


def standard_normal_log_prob(eps):
    """``log N(eps; 0, I) = -1/2 |eps|^2 - d/2 log(2 pi)``: ``[batch..., d] -> [batch...]``."""
    d = tf.cast(tf.shape(eps)[-1], eps.dtype)
    return -0.5 * tf.reduce_sum(tf.square(eps), axis=-1) - 0.5 * d * math.log(2.0 * math.pi)


def stateless_seed(seed, stream=0):
    """A stateless random seed, an int32 tensor ``[2]`` (as TFP's): ``[seed, stream]`` for an int
    ``seed`` (``stream`` keeps the draws of one seed apart); an integer tensor ``[2]``
    passes as it is. Stateless draws repeat for equal seeds, where an op-level seed would
    not (in eager mode its stream advances from call to call).

    Raises:
      ValueError: ``seed`` is neither an int in ``[-2**31, 2**31)`` nor an integer tensor
        of shape ``[2]`` (a larger int would wrap around and repeat another seed's draws).
    """
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if not -(2**31) <= seed < 2**31:
            raise ValueError("seed must be an int that fits in 32 bits, in [-2**31, 2**31). "
                             f"Received: seed={seed}")
        return tf.constant([int(seed), int(stream)], tf.int32)
    seed = tf.convert_to_tensor(seed)
    if not seed.dtype.is_integer or seed.shape != (2,):
        raise ValueError(
            "seed must be None, an int or an integer tensor of shape [2]. Received: seed with "
            f"dtype {seed.dtype.name} and shape {tuple(seed.shape)}"
        )
    return tf.cast(seed, tf.int32)


def unflatten(params, event_shape):
    """Reshape ``[batch..., prod(event_shape)]`` -> ``[batch..., *event_shape]``."""
    batch = tf.shape(params)[:-1]
    return tf.reshape(params, tf.concat([batch, event_shape], axis=0))


class DistributionLayer(tfp.layers.DistributionLambda):
    """Base class: a layer whose output is a ``tfd.Distribution``.

    Subclasses implement ``make_distribution(params)`` and the static
    ``params_size(...)``, and list the conversions their distribution supports.

    Args:
      convert_to_tensor_fn: how the distribution becomes a tensor for the
        next Keras layer or for ``predict``: ``"sample"``, ``"mean"`` or
        ``"mode"``.
    """

    conversions = ("sample", "mean", "mode")

    def __init__(self, convert_to_tensor_fn="sample", **kwargs):
        check_choice("convert_to_tensor_fn", convert_to_tensor_fn, self.conversions)
        self.convert_to_tensor_fn = convert_to_tensor_fn
        super().__init__(
            self.make_distribution, _CONVERSIONS[convert_to_tensor_fn], **kwargs
        )

    def make_distribution(self, params):
        raise NotImplementedError

    def get_config(self):
        base = tf_keras.layers.Layer.get_config(self)
        return {**base, "convert_to_tensor_fn": self.convert_to_tensor_fn}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@register
class IndependentNormal(DistributionLayer):
    """Diagonal Gaussian ``N(loc, diag(scale^2))`` over ``event_shape``.

    ``loc, raw = split(params)``, ``scale = softplus(raw) + 1e-5``.

    Args:
      event_shape: int or tuple, the shape of one draw.
      convert_to_tensor_fn: ``"sample"``, ``"mean"`` or ``"mode"``.

    Input shape: ``[batch..., 2 * prod(event_shape)]``.
    Output: distribution with batch shape ``[batch...]`` and event shape ``event_shape``.
    """

    def __init__(self, event_shape, convert_to_tensor_fn="sample", **kwargs):
        self.event_shape = check_shape("event_shape", event_shape)
        super().__init__(convert_to_tensor_fn, **kwargs)

    @staticmethod
    def params_size(event_shape):
        """``2 * prod(event_shape)``."""
        return 2 * int(np.prod(check_shape("event_shape", event_shape)))

    def make_distribution(self, params):
        loc, raw = tf.split(params, 2, axis=-1)
        return tfd.Independent(
            tfd.Normal(
                unflatten(loc, self.event_shape), positive_scale(unflatten(raw, self.event_shape))
            ),
            reinterpreted_batch_ndims=len(self.event_shape),
        )

    def get_config(self):
        return {**super().get_config(), "event_shape": list(self.event_shape)}


@register
class MultivariateNormalTriL(DistributionLayer):
    """Full-covariance Gaussian ``N(loc, L L^T)`` with ``L`` lower triangular.

    The ``n (n + 1) / 2`` trailing parameters fill ``L`` row by row
    (``tfb.FillScaleTriL``: softplus on the diagonal plus 1e-5).

    Args:
      event_size: ``n``, the dimension of one draw.
      convert_to_tensor_fn: ``"sample"``, ``"mean"`` or ``"mode"``.

    Input shape: ``[batch..., n + n (n + 1) / 2]``.
    Output: distribution with batch shape ``[batch...]`` and event shape ``[n]``.
    """

    def __init__(self, event_size, convert_to_tensor_fn="sample", **kwargs):
        self.event_size = check_positive_int("event_size", event_size)
        self._fill = tfb.FillScaleTriL(diag_shift=SCALE_FLOOR)
        super().__init__(convert_to_tensor_fn, **kwargs)

    @staticmethod
    def params_size(event_size):
        """``n + n (n + 1) / 2``."""
        n = check_positive_int("event_size", event_size)
        return n + n * (n + 1) // 2

    def make_distribution(self, params):
        loc, raw = params[..., : self.event_size], params[..., self.event_size :]
        return tfd.MultivariateNormalTriL(loc, self._fill.forward(raw))

    def get_config(self):
        return {**super().get_config(), "event_size": self.event_size}


class LogitBernoulli(tfd.Bernoulli):
    """``tfd.Bernoulli(logits=l)`` with ``log p(x) = x l - softplus(l)``: one softplus.

    The same value as TFP's ``-x softplus(-l) - (1 - x) softplus(l)`` for finite
    logits and any real ``x`` (``softplus(-l) = softplus(l) - l``), with half the
    transcendental work; an image decoder evaluates it for every pixel of every
    training example.

    >>> d = LogitBernoulli(logits=[0.0, 2.0], dtype=tf.float32)
    >>> np.round(d.log_prob([1.0, 0.25]).numpy(), 4)
    array([-0.6931, -1.6269], dtype=float32)
    """

    def _log_prob(self, event):
        logits = tf.convert_to_tensor(self._logits)
        return tf.cast(event, logits.dtype) * logits - tf.math.softplus(logits)


@register
class IndependentBernoulli(DistributionLayer):
    """Independent Bernoulli over ``event_shape``, parameterized by logits.

    Draws are float32 so ``log_prob`` accepts binary or [0, 1] float data
    (for fractional data it is the continuous cross-entropy, as in the seed).

    Args:
      event_shape: int or tuple, the shape of one draw (e.g. ``(28, 28, 1)``).
      convert_to_tensor_fn: ``"sample"``, ``"mean"`` (the probabilities) or ``"mode"``.

    Input shape: ``[batch..., prod(event_shape)]`` logits.
    Output: distribution with batch shape ``[batch...]`` and event shape ``event_shape``.
    """

    def __init__(self, event_shape, convert_to_tensor_fn="sample", **kwargs):
        self.event_shape = check_shape("event_shape", event_shape)
        super().__init__(convert_to_tensor_fn, **kwargs)

    @staticmethod
    def params_size(event_shape):
        """``prod(event_shape)``."""
        return int(np.prod(check_shape("event_shape", event_shape)))

    def make_distribution(self, params):
        logits = unflatten(params, self.event_shape)
        return tfd.Independent(
            LogitBernoulli(logits=logits, dtype=tf.float32),
            reinterpreted_batch_ndims=len(self.event_shape),
        )

    def get_config(self):
        return {**super().get_config(), "event_shape": list(self.event_shape)}


@register
class OneHotCategorical(DistributionLayer):
    """Categorical over ``event_size`` classes, drawn as one-hot float vectors.

    Args:
      event_size: number of classes ``K``.
      convert_to_tensor_fn: ``"sample"``, ``"mean"`` (the probabilities) or ``"mode"``.

    Input shape: ``[batch..., K]`` logits.
    Output: distribution with batch shape ``[batch...]`` and event shape ``[K]``.
    """

    def __init__(self, event_size, convert_to_tensor_fn="sample", **kwargs):
        self.event_size = check_positive_int("event_size", event_size)
        super().__init__(convert_to_tensor_fn, **kwargs)

    @staticmethod
    def params_size(event_size):
        """``K``."""
        return check_positive_int("event_size", event_size)

    def make_distribution(self, params):
        return tfd.OneHotCategorical(logits=params, dtype=tf.float32)

    def get_config(self):
        return {**super().get_config(), "event_size": self.event_size}


@register
class Categorical(DistributionLayer):
    """Categorical over ``num_classes`` integer labels ``{0, ..., K-1}``.

    Args:
      num_classes: ``K``.
      convert_to_tensor_fn: ``"sample"`` or ``"mode"``.

    Input shape: ``[batch..., K]`` logits.
    Output: distribution with batch shape ``[batch...]``, scalar integer events.
    """

    conversions = ("sample", "mode")

    def __init__(self, num_classes, convert_to_tensor_fn="mode", **kwargs):
        self.num_classes = check_positive_int("num_classes", num_classes)
        super().__init__(convert_to_tensor_fn, **kwargs)

    @staticmethod
    def params_size(num_classes):
        """``K``."""
        return check_positive_int("num_classes", num_classes)

    def make_distribution(self, params):
        return tfd.Categorical(logits=params)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


@register
class MixtureNormal(DistributionLayer):
    """Mixture of ``K`` diagonal Gaussians: ``sum_k pi_k N(mu_k, diag(s_k^2))``.

    Parameters are laid out as ``[K logits | K * d locs | K * d raw scales]``.

    Args:
      num_components: ``K``.
      event_shape: int or tuple, the shape of one draw (``d = prod(event_shape)``).
      convert_to_tensor_fn: ``"sample"`` or ``"mean"`` (mixtures have no closed-form mode).

    Input shape: ``[batch..., K + 2 K d]``.
    Output: distribution with batch shape ``[batch...]`` and event shape ``event_shape``.
    """

    conversions = ("sample", "mean")

    def __init__(self, num_components, event_shape, convert_to_tensor_fn="sample", **kwargs):
        self.num_components = check_positive_int("num_components", num_components)
        self.event_shape = check_shape("event_shape", event_shape)
        super().__init__(convert_to_tensor_fn, **kwargs)

    @staticmethod
    def params_size(num_components, event_shape):
        """``K + 2 K prod(event_shape)``."""
        k = check_positive_int("num_components", num_components)
        return k + 2 * k * int(np.prod(check_shape("event_shape", event_shape)))

    def make_distribution(self, params):
        k, shape = self.num_components, self.event_shape
        size = int(np.prod(shape))
        logits = params[..., :k]
        loc = unflatten(params[..., k : k + k * size], (k, *shape))
        raw = unflatten(params[..., k + k * size :], (k, *shape))
        return tfd.MixtureSameFamily(
            tfd.Categorical(logits=logits),
            tfd.Independent(tfd.Normal(loc, positive_scale(raw)), len(shape)),
        )

    def get_config(self):
        return {
            **super().get_config(),
            "num_components": self.num_components,
            "event_shape": list(self.event_shape),
        }


# --------------------------------------------------------------------------------------------
# Image decoders: a Gaussian with a fixed scale, and 8-bit (discretized) pixel likelihoods.
# --------------------------------------------------------------------------------------------

from kerasprob.validation import check_int_at_least, check_positive_float  # noqa: E402

__all__ += ["DiscretizedLogistic", "IndependentNormalFixedScale"]


@register
class IndependentNormalFixedScale(DistributionLayer):
    """Diagonal Gaussian ``N(loc, scale^2 I)`` over ``event_shape`` with a fixed ``scale``.

    ``-log p(x) = |x - loc|^2 / (2 scale^2) + D log(scale sqrt(2 pi))``: a squared-error
    reconstruction loss with a known noise level.

    Args:
      event_shape: int or tuple, the shape of one draw.
      scale: the standard deviation, a positive float.
      convert_to_tensor_fn: ``"sample"``, ``"mean"`` or ``"mode"``.

    Input shape: ``[batch..., prod(event_shape)]`` locations.
    Output: distribution with batch shape ``[batch...]`` and event shape ``event_shape``.
    """

    def __init__(self, event_shape, scale=1.0, convert_to_tensor_fn="sample", **kwargs):
        self.event_shape = check_shape("event_shape", event_shape)
        self.scale = check_positive_float("scale", scale)
        super().__init__(convert_to_tensor_fn, **kwargs)

    @staticmethod
    def params_size(event_shape):
        """``prod(event_shape)``."""
        return int(np.prod(check_shape("event_shape", event_shape)))

    def make_distribution(self, params):
        loc = unflatten(params, self.event_shape)
        return tfd.Independent(tfd.Normal(loc, tf.cast(self.scale, loc.dtype)),
                               reinterpreted_batch_ndims=len(self.event_shape))

    def get_config(self):
        return {**super().get_config(), "event_shape": list(self.event_shape),
                "scale": self.scale}


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


@register
class DiscretizedLogistic(DistributionLayer):
    """Independent discretized logistics over ``event_shape``: an 8-bit image likelihood.

    Each value ``x in {0, ..., num_bins - 1}`` (e.g. a pixel intensity, 256 bins)
    has ``P(x) = sigma((x / (K-1) + h - loc) / s) - sigma((x / (K-1) - h - loc) / s)``,
    ``h = 1 / (2 (K - 1))``, end bins taking the tails (see
    :class:`DiscretizedLogisticDistribution`). ``loc`` and ``s`` are on the [0, 1]
    scale; ``log_prob`` takes data on the integer scale ``0 .. K - 1``, and ``mean``,
    ``mode``, ``sample`` return it.
    The parameters are offset so that zeros give ``loc = 1/2``, ``s = 0.17``:
    ``loc = 1/2 + params_loc``, ``s = (softplus(params_raw) + 1e-5) / 4``.

    Args:
      event_shape: int or tuple, the shape of one image.
      num_bins: ``K`` (256 for 8-bit data; 17 for the 0..16 digits).
      convert_to_tensor_fn: ``"sample"``, ``"mean"`` or ``"mode"``.

    Input shape: ``[batch..., 2 * prod(event_shape)]``.
    Output: distribution with batch shape ``[batch...]`` and event shape ``event_shape``.

    References:
      Salimans et al. (2017), PixelCNN++; Kingma et al. (2016), IAF, appendix.
    """

    def __init__(self, event_shape, num_bins=256, convert_to_tensor_fn="sample", **kwargs):
        self.event_shape = check_shape("event_shape", event_shape)
        self.num_bins = check_int_at_least("num_bins", num_bins, 2)
        super().__init__(convert_to_tensor_fn, **kwargs)

    @staticmethod
    def params_size(event_shape):
        """``2 * prod(event_shape)``."""
        return 2 * int(np.prod(check_shape("event_shape", event_shape)))

    def make_distribution(self, params):
        loc, raw = tf.split(params, 2, axis=-1)
        return tfd.Independent(
            DiscretizedLogisticDistribution(
                unflatten(loc, self.event_shape) + 0.5,
                positive_scale(unflatten(raw, self.event_shape)) * 0.25,
                self.num_bins,
            ),
            reinterpreted_batch_ndims=len(self.event_shape),
        )

    def get_config(self):
        return {**super().get_config(), "event_shape": list(self.event_shape),
                "num_bins": self.num_bins}


@register
class PixelCategorical(DistributionLayer):
    """Independent ``num_bins``-way categoricals over ``event_shape``: the 8-bit softmax.

    Each value ``x in {0, ..., K - 1}`` (a pixel intensity) has its own categorical,
    ``P(x = j) = softmax(logits)_j``, with no ordering assumed between bins. The
    parameters come as ``K`` consecutive blocks of ``prod(event_shape)`` logits (block
    ``j`` for bin ``j``), the layout :class:`kerasprob.layers.ConvDecoder` emits.
    ``log_prob``, ``mean``, ``mode`` and ``sample`` work on the integer scale
    ``0 .. K - 1`` (float32), as a ``tfd.FiniteDiscrete`` over those outcomes.

    Args:
      event_shape: int or tuple, the shape of one image.
      num_bins: ``K`` (256 for 8-bit data).
      convert_to_tensor_fn: ``"sample"``, ``"mean"`` or ``"mode"``.

    Input shape: ``[batch..., K * prod(event_shape)]``.
    Output: distribution with batch shape ``[batch...]`` and event shape ``event_shape``.

    References:
      van den Oord, Kalchbrenner & Kavukcuoglu (2016), Pixel Recurrent Neural Networks.
    """

    def __init__(self, event_shape, num_bins=256, convert_to_tensor_fn="sample", **kwargs):
        self.event_shape = check_shape("event_shape", event_shape)
        self.num_bins = check_int_at_least("num_bins", num_bins, 2)
        super().__init__(convert_to_tensor_fn, **kwargs)

    @staticmethod
    def params_size(event_shape, num_bins=256):
        """``num_bins * prod(event_shape)``."""
        return check_int_at_least("num_bins", num_bins, 2) * int(
            np.prod(check_shape("event_shape", event_shape)))

    def make_distribution(self, params):
        k, shape = self.num_bins, self.event_shape
        logits = unflatten(params, (k, *shape))  # [batch..., K, *event]
        rank = len(logits.shape)
        perm = [*range(rank - len(shape) - 1), *range(rank - len(shape), rank),
                rank - len(shape) - 1]
        logits = tf.transpose(logits, perm)  # [batch..., *event, K]
        return tfd.Independent(
            tfd.FiniteDiscrete(tf.range(k, dtype=logits.dtype), logits=logits),
            reinterpreted_batch_ndims=len(shape),
        )

    def get_config(self):
        return {**super().get_config(), "event_shape": list(self.event_shape),
                "num_bins": self.num_bins}


__all__ += ["PixelCategorical"]
