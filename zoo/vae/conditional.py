"""``zoo.ConditionalVAE``: the VAE whose context is the one-hot class label.

``q(z | x, y)`` and ``p(x | z, y)`` receive the one-hot label ``y`` as the VAE's context
(:mod:`zoo.conditioning`: concatenated to the flattened input of a dense encoder, to
the convolutional features before the last ``Dense`` of a conv encoder, and to ``z`` in
the decoder); the prior stays ``p(z)``. Training maximizes the conditional ELBO of
``log p(x | y)``, so ``sample(n, y)`` draws images of class ``y``.

>>> import numpy as np, zoo
>>> cvae = zoo.ConditionalVAE(hidden_units=[16])   # input_shape, num_classes from fit
>>> x, y = np.random.rand(30, 8, 8), np.arange(30) % 3
>>> history = cvae.fit(x, y, epochs=1, verbose=0)
>>> cvae.sample(4, y=2).shape
(4, 8, 8)
"""

import numpy as np
import tensorflow as tf

from kerasprob.validation import check_int_at_least, check_labels
from zoo.conditioning import DataSpec, one_hot_context
from zoo.registry import register
from zoo.vae.model import VAE


@register
class ConditionalVAE(VAE):
    """Conditional variational autoencoder: ``fit(x, y)`` with integer labels ``y``.

    The :class:`zoo.VAE` with ``context_dim = num_classes`` whose context is
    ``one_hot(y)``; every method that takes a context takes the labels instead.

    Args:
      num_classes: number of labels ``C``; labels are integers in ``[0, C)`` (``None``: one
        more than the largest label of the first ``fit``).
      **VAE arguments: every variant of :class:`zoo.VAE` (encoder, posterior,
        prior, likelihood, num_samples, ...).

    Input: ``[x, y]`` with ``x [batch, *input_shape]`` and ``y [batch]`` integer
    labels (``fit(x, y)`` / ``evaluate(x, y)`` pass them so; a ``tf.data.Dataset`` of
    ``(x, y)`` batches too).
    Output: ``p(x | z, y)``.

    References:
      Sohn, Lee & Yan (2015), Learning Structured Output Representation using Deep
      Conditional Generative Models.
    """

    data_kind = "conditional"
    data_arguments = ("input_shape", "num_classes")
    min_classes = 2
    plots = ("history", "reconstructions", "samples")

    def __init__(self, input_shape=None, num_classes=None, **kwargs):
        self.num_classes = (None if num_classes is None
                            else check_int_at_least("num_classes", num_classes, 2))
        context_dim = kwargs.pop("context_dim", None)
        unset = context_dim == 0 and num_classes is None  # a config saved before any fit
        if context_dim is not None and context_dim != self.num_classes and not unset:
            raise ValueError(
                "a ConditionalVAE's context is the one-hot label: context_dim is num_classes. "
                f"Received: context_dim={context_dim!r}, num_classes={num_classes!r}"
            )
        super().__init__(input_shape=input_shape, context_dim=self.num_classes or 0, **kwargs)

    def _check_data_arguments(self):
        super()._check_data_arguments()
        self.context_dim = self.num_classes

    def build_inputs(self):
        return [tf.zeros((1, *self.input_shape)), tf.zeros((1,), tf.int64)]

    # ------------------------------------------------------------------ data
    def _context_spec(self):
        return DataSpec("y", (), kind="int")

    def _check_context(self, prefix, y, n, one_row=False):
        if y is None:
            raise ValueError(
                f"ConditionalVAE needs labels: call fit(x, y) with {prefix}y the integer "
                f"classes in [0, {self.num_classes - 1}]. Received: {prefix}y=None"
            )
        if one_row and np.ndim(y) == 0:
            y = np.full((n,), y)
        return check_labels(prefix + "y", y, self.num_classes, n)

    def _context_tensor(self, y):
        return one_hot_context(y, self.num_classes)

    def _split_inputs(self, inputs):
        x, y = inputs
        return x, one_hot_context(y, self.num_classes, dtype=x.dtype)

    # ------------------------------------------------------------ public API
    def encode(self, x, y):
        """``q(z | x, y)`` (before any flow), batch shape ``[batch]``."""
        return super().encode(x, y)

    def decode(self, z, y):
        """``p(x | z, y)`` for ``z [batch, latent_dim]`` and labels ``y`` (int or ``[batch]``)."""
        return super().decode(z, y)

    def reconstruct(self, x, y):
        """Mean of ``p(x | z = E[z | x, y], y)``."""
        return super().reconstruct(x, y)

    def sample(self, n, y, seed=None, mean=True):
        """``n`` draws of class ``y`` (an int, or ``n`` labels): ``z ~ p(z)``, ``x ~ p(x | z, y)``.

        ``seed``: ``None``, or an int for reproducible draws (see ``VAE.sample``).

        Returns:
          ``np.ndarray`` of shape ``[n, *input_shape]`` (the mean of ``p(x | z, y)``
          unless ``mean=False``).
        """
        return super().sample(n, y, seed, mean)

    def log_likelihood(self, x, y, num_samples=100, batch_size=64, seed=None):
        """Importance-sampling estimate of ``log p(x | y)`` per example (see ``VAE``)."""
        return super().log_likelihood(x, num_samples, batch_size, seed, c=y)

    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x = (rng.random((16, 4, 4)) > 0.5).astype("float32")
        y = np.arange(16) % 3
        return ({"input_shape": (4, 4), "num_classes": 3, "latent_dim": 2,
                 "hidden_units": [8]}, x, y)
