"""``zoo.ConditionalVAE``: a VAE whose encoder and decoder both see the label.

``q(z | x, y)`` and ``p(x | z, y)`` receive the one-hot label ``y`` (concatenated to
the flattened input of a dense encoder, to the convolutional features before the
last ``Dense`` of a conv encoder, and to ``z`` in the decoder); the prior stays
``p(z)``. Training maximizes the conditional ELBO of ``log p(x | y)``, so
``sample(n, y)`` draws images of class ``y``.

>>> import numpy as np, zoo
>>> cvae = zoo.ConditionalVAE(input_shape=(8, 8), num_classes=3, hidden_units=[16])
>>> x, y = np.random.rand(30, 8, 8), np.arange(30) % 3
>>> history = cvae.fit(x, y, epochs=1, verbose=0)
>>> cvae.sample(4, y=2).shape
(4, 8, 8)
"""

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.validation import check_array, check_int_at_least, check_positive_int
from zoo.base import as_numpy
from zoo.registry import register
from zoo.vae.model import VAE


@register
class ConditionalVAE(VAE):
    """Conditional variational autoencoder: ``fit(x, y)`` with integer labels ``y``.

    Args:
      num_classes: number of labels ``C``; labels are integers in ``[0, C)``.
      **VAE arguments: every variant of :class:`zoo.VAE` (encoder, posterior,
        prior, likelihood, num_samples, ...).

    Input: ``[x, y]`` with ``x [batch, *input_shape]`` and ``y [batch]`` integer
    labels (``fit(x, y)`` / ``evaluate(x, y)`` pass them so).
    Output: ``p(x | z, y)``.

    References:
      Sohn, Lee & Yan (2015), Learning Structured Output Representation using Deep
      Conditional Generative Models.
    """

    target_is_input = False

    def __init__(self, input_shape=(8, 8), num_classes=10, **kwargs):
        self.num_classes = check_int_at_least("num_classes", num_classes, 2)
        super().__init__(input_shape=input_shape, **kwargs)

    def build_inputs(self):
        return [tf.zeros((1, *self.input_shape_)), tf.zeros((1,), tf.int64)]

    # ------------------------------------------------------------------ data
    def validate_target(self, name, y):
        y = check_array(name, y, feature_shape=(), dtype="int")
        low, high = int(y.min()), int(y.max())
        if low < 0 or high >= self.num_classes:
            bad = y[(y < 0) | (y >= self.num_classes)]
            raise ValueError(
                f"{name} must hold class labels in [0, {self.num_classes - 1}] "
                f"(num_classes={self.num_classes}). Received: {name} with label(s) "
                f"{sorted(set(bad.tolist()))[:5]}"
            )
        return y

    def validate_data(self, x, y=None, prefix=""):
        if y is None and not isinstance(x, tf.data.Dataset) and x is not None:
            raise ValueError(
                f"ConditionalVAE needs labels: call fit(x, y) with {prefix}y the integer "
                f"classes in [0, {self.num_classes - 1}]. Received: {prefix}y=None"
            )
        return super().validate_data(x, y, prefix)

    def _labels(self, name, y, n):
        if np.ndim(y) == 0:
            y = np.full((n,), y)
        y = self.validate_target(name, y)
        if len(y) != n:
            raise ValueError(f"{name} must have one label per example ({n}). Received: "
                             f"{len(y)} labels")
        return y

    def _pack(self, data):
        x, y, sample_weight = tf_keras.utils.unpack_x_y_sample_weight(data)
        return tf_keras.utils.pack_x_y_sample_weight((x, y), x, sample_weight)

    def train_step(self, data):
        return tf_keras.Model.train_step(self, self._pack(data))

    def test_step(self, data):
        return tf_keras.Model.test_step(self, self._pack(data))

    def predict(self, x, **kwargs):
        """Mean of ``p(x | z, y)``: ``predict((x, y))``, or ``predict(dataset)`` with a
        ``tf.data.Dataset`` of ``(x, y)`` batches (not checked)."""
        if isinstance(x, tf.data.Dataset):  # Keras would read the labels as targets
            return tf_keras.Model.predict(self, x.map(lambda *pair: (pair,)), **kwargs)
        if not (isinstance(x, (list, tuple)) and len(x) == 2):
            raise ValueError("ConditionalVAE.predict takes (x, y): images and their labels. "
                             f"Received: x of type {type(x).__name__}")
        images = self._check_x(x[0])
        labels = self._labels("y", x[1], len(images))
        return tf_keras.Model.predict(self, (images, labels), **kwargs)

    # ---------------------------------------------------------------- pieces
    def _split_inputs(self, inputs):
        x, y = inputs
        return x, tf.one_hot(tf.cast(tf.reshape(y, [-1]), tf.int32), self.num_classes,
                             dtype=x.dtype)

    def _context(self, y):
        return tf.one_hot(y, self.num_classes, dtype=tf.float32)

    # ------------------------------------------------------------ public API
    def encode(self, x, y):
        """``q(z | x, y)`` (before any flow), batch shape ``[batch]``."""
        x = self._check_x(x)
        context = self._context(self._labels("y", y, len(x)))
        return self.posterior_layer.distribution(self._posterior_params(x, context))

    def decode(self, z, y):
        """``p(x | z, y)`` for ``z [batch, latent_dim]`` and labels ``y`` (int or ``[batch]``)."""
        z = check_array("z", z, feature_shape=(self.latent_dim,))
        context = self._context(self._labels("y", y, len(z)))
        return self.likelihood_layer(self._decoder_params(z, context))

    def reconstruct(self, x, y):
        """Mean of ``p(x | z = E[z | x, y], y)``."""
        return as_numpy(self.decode(self.encode(x, y).mean(), y).mean())

    def sample(self, n, y, seed=None, mean=True):
        """``n`` draws of class ``y`` (an int, or ``n`` labels): ``z ~ p(z)``, ``x ~ p(x | z, y)``.

        ``seed``: ``None``, or an int for reproducible draws (see ``VAE.sample``).

        Returns:
          ``np.ndarray`` of shape ``[n, *input_shape]`` (the mean of ``p(x | z, y)``
          unless ``mean=False``).
        """
        n = check_positive_int("n", n)
        return self._sample(n, self._context(self._labels("y", y, n)), seed, mean)

    def log_likelihood(self, x, y, num_samples=100, batch_size=64, seed=None):
        """Importance-sampling estimate of ``log p(x | y)`` per example (see ``VAE``)."""
        x = self._check_x(x)
        context = as_numpy(self._context(self._labels("y", y, len(x))))
        return self._log_likelihood(x, context, num_samples, batch_size, seed)

    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x = (rng.random((16, 4, 4)) > 0.5).astype("float32")
        y = np.arange(16) % 3
        return ({"input_shape": (4, 4), "num_classes": 3, "latent_dim": 2,
                 "hidden_units": [8]}, x, y)
