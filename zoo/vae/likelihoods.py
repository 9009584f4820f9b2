"""Decoder likelihoods ``p(x | z)`` of the VAE family: one class each, one table.

A likelihood knows everything a model needs about its data distribution: the
distribution-output layer it builds (and so its ``params_size``), what the encoder
sees of the data, and which data values it accepts. :class:`zoo.VAE` reads them from
:data:`LIKELIHOODS` by name; a new likelihood is one class and one row there.

>>> lik = LIKELIHOODS["categorical"](event_shape=(2, 2), num_bins=4)
>>> lik.params_size()  # 4 logits per value
16
>>> float(lik.encoder_input(3.0))  # the encoder sees x / (num_bins - 1)
1.0
"""

import numpy as np

from kerasprob.layers.distributions import (
    DiscretizedLogistic,
    IndependentBernoulli,
    IndependentNormal,
    IndependentNormalFixedScale,
    PixelCategorical,
)

__all__ = [
    "LIKELIHOODS",
    "BernoulliLikelihood",
    "CategoricalLikelihood",
    "GaussianLikelihood",
    "Likelihood",
    "LogisticLikelihood",
]


class Likelihood:
    """``p(x | decoder output)`` over ``event_shape``, and what it needs of the data.

    Args:
      event_shape: shape of one example.
      num_bins: values of integer data ``0 .. num_bins - 1`` (integer likelihoods only).
      scale: a fixed scale (``GaussianLikelihood`` only; ``None`` learns one per value).
      data_max: the data's largest value (``BernoulliLikelihood`` only): it models
        ``x / data_max``, so raw grey levels ``0 .. data_max`` go in and come out.

    Class attributes:
      options: the model arguments this likelihood reads (besides ``event_shape``).
    """

    options = ()

    def __init__(self, event_shape, num_bins=256, scale=None, data_max=None):
        self.event_shape = tuple(event_shape)
        self.num_bins = num_bins
        self.scale = scale
        self.data_max = data_max

    def layer_class_and_arguments(self):
        """``(DistributionLayer subclass, its positional constructor arguments)``."""
        raise NotImplementedError

    def layer(self, **kwargs):
        """The distribution layer: decoder output ``[batch, params_size]`` -> ``p(x | z)``."""
        cls, args = self.layer_class_and_arguments()
        return cls(*args, **kwargs)

    def params_size(self):
        """Units the decoder outputs (``params_size`` takes the layer's constructor arguments)."""
        cls, args = self.layer_class_and_arguments()
        return cls.params_size(*args)

    def encoder_input(self, x):
        """What the encoder sees of data ``x`` (``x`` itself unless the data are integers)."""
        return x

    def target(self, x):
        """What ``p(x | z)`` scores of data ``x`` (``x`` itself unless rescaled)."""
        return x

    def to_data(self, value):
        """A mean or draw of ``p(x | z)`` in the data's units (inverse of :meth:`target`)."""
        return value

    def check_values(self, name, x):
        """Raise ``ValueError`` naming ``name`` if array ``x`` holds values ``p`` can't score."""


class BernoulliLikelihood(Likelihood):
    """Independent Bernoulli per value of ``x / data_max`` in [0, 1] (binary, or grey levels
    as targets): data in ``[0, data_max]``; ``data_max=None`` (not read yet) takes any
    ``x >= 0``."""

    options = ("data_max",)

    def layer_class_and_arguments(self):
        return IndependentBernoulli, (self.event_shape,)

    @staticmethod
    def read_data_max(x):
        """``max(1, max x)`` of an array of data, 1 for a dataset or anything that is not an
        array of numbers (the checks that follow say what is wrong with it)."""
        numeric = isinstance(x, np.ndarray) and x.dtype.kind in "fiu"
        try:  # no float64 copy of an array of numbers
            top = float(np.max(x if numeric else np.asarray(x, dtype=np.float64)))
        except (TypeError, ValueError):
            return 1.0
        return max(1.0, top) if np.isfinite(top) else 1.0

    def _scale(self):
        return 1.0 if self.data_max is None else self.data_max

    def encoder_input(self, x):
        return x / self._scale() if self._scale() != 1.0 else x

    target = encoder_input

    def to_data(self, value):
        return value * self._scale() if self._scale() != 1.0 else value

    def check_values(self, name, x):
        low, high = float(x.min()), float(x.max())
        top = np.inf if self.data_max is None else self.data_max
        if low < 0.0 or high > top:
            raise ValueError(
                f"{name} must lie in [0, {top:g}] for likelihood='bernoulli' with "
                f"input_max={self.data_max!r}. Received: {name} with values in "
                f"[{low:g}, {high:g}]; rescale it or use likelihood='gaussian'"
            )


class GaussianLikelihood(Likelihood):
    """Independent Gaussian per value: a learned scale per value, or a fixed ``scale``."""

    options = ("scale",)

    def layer_class_and_arguments(self):
        if self.scale is None:
            return IndependentNormal, (self.event_shape,)
        return IndependentNormalFixedScale, (self.event_shape, self.scale)


class _IntegerLikelihood(Likelihood):
    """A likelihood of integers ``0 .. num_bins - 1`` (e.g. 8-bit pixels).

    It scores the integers; the encoder gets them as ``x / (num_bins - 1)`` in [0, 1]
    (raw 0..255 inputs saturate it).
    """

    options = ("num_bins",)
    name = None

    def encoder_input(self, x):
        return x / (self.num_bins - 1)

    def check_values(self, name, x):
        low, high = float(x.min()), float(x.max())
        integers = bool(np.all(x == np.round(x)))
        if low < 0 or high > self.num_bins - 1 or not integers:
            raise ValueError(
                f"{name} must hold integers in [0, {self.num_bins - 1}] for "
                f"likelihood={self.name!r} with num_bins={self.num_bins}. Received: "
                f"{name} with values in [{low:g}, {high:g}]"
                + ("" if integers else " (not all integers)")
            )


class LogisticLikelihood(_IntegerLikelihood):
    """Discretized logistic per value (PixelCNN++'s, one component)."""

    name = "logistic"

    def layer_class_and_arguments(self):
        return DiscretizedLogistic, (self.event_shape, self.num_bins)


class CategoricalLikelihood(_IntegerLikelihood):
    """A ``num_bins``-way softmax per value (no order between values)."""

    name = "categorical"

    def layer_class_and_arguments(self):
        return PixelCategorical, (self.event_shape, self.num_bins)


#: ``zoo.VAE(likelihood=name)`` -> its class.
LIKELIHOODS = {
    "bernoulli": BernoulliLikelihood,
    "gaussian": GaussianLikelihood,
    "logistic": LogisticLikelihood,
    "categorical": CategoricalLikelihood,
}
