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

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras
from tf_keras.src.mixed_precision import policy as policy_lib

from kerasprob.dtypes import FullPrecision
from kerasprob.math.distributions import (
    DiscretizedLogisticDistribution,
    LogitBernoulli,
    positive_scale,
    scale_tril_from_params,
    unflatten,
)
from kerasprob.serialization import register
from kerasprob.validation import (
    check_choice,
    check_int_at_least,
    check_positive_float,
    check_positive_int,
    check_shape,
)

tfd = tfp.distributions
tfb = tfp.bijectors

__all__ = [
    "Categorical",
    "DiscretizedLogistic",
    "DistributionLayer",
    "IndependentBernoulli",
    "IndependentNormal",
    "IndependentNormalFixedScale",
    "MixtureNormal",
    "MultivariateNormalTriL",
    "OneHotCategorical",
    "PixelCategorical",
]

_CONVERSIONS = {
    "sample": tfd.Distribution.sample,
    "mean": tfd.Distribution.mean,
    "mode": tfd.Distribution.mode,
}


class DistributionLayer(FullPrecision, tfp.layers.DistributionLambda):
    """Base class: a layer whose output is a ``tfd.Distribution``.

    Subclasses implement ``make_distribution(params)`` and the static
    ``params_size(...)``, and list the conversions their distribution supports.
    ``params_size`` takes the constructor's arguments, in the constructor's order
    (all but ``convert_to_tensor_fn``): ``Layer.params_size(*args)`` is the width of the
    ``Dense`` that feeds ``Layer(*args)``.

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
        base["dtype"] = policy_lib.serialize(self.network_policy)  # the policy as requested
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
        super().__init__(convert_to_tensor_fn, **kwargs)

    @staticmethod
    def params_size(event_size):
        """``n + n (n + 1) / 2``."""
        n = check_positive_int("event_size", event_size)
        return n + n * (n + 1) // 2

    def make_distribution(self, params):
        loc, raw = params[..., : self.event_size], params[..., self.event_size :]
        return tfd.MultivariateNormalTriL(loc, scale_tril_from_params(raw))

    def get_config(self):
        return {**super().get_config(), "event_size": self.event_size}


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
    def params_size(event_shape, scale=1.0):
        """``prod(event_shape)``."""
        return int(np.prod(check_shape("event_shape", event_shape)))

    def make_distribution(self, params):
        loc = unflatten(params, self.event_shape)
        return tfd.Independent(tfd.Normal(loc, tf.cast(self.scale, loc.dtype)),
                               reinterpreted_batch_ndims=len(self.event_shape))

    def get_config(self):
        return {**super().get_config(), "event_shape": list(self.event_shape),
                "scale": self.scale}


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
    def params_size(event_shape, num_bins=256):
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

