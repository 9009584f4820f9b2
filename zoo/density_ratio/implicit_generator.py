"""``zoo.ImplicitGenerator``: ``x = G(eps)``, ``eps ~ N(0, I)``, no density, only samples.

It is fitted to data ``x ~ q`` by minimizing ``KL[p_G || q]`` as estimated by a ratio
network trained at the same time (AffGAN; the step is
:func:`kerasprob.layers.density_ratio.adversarial_kl`).
"""

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.layers.density_ratio import (
    AdversarialKLDivergenceLayer,
    adapt_once,
    adversarial_kl,
)
from kerasprob.layers.mlp import MLP
from kerasprob.math.random import normal
from kerasprob.tuning import Float, Units
from kerasprob.validation import check_array, check_choice, check_positive_int, check_units
from zoo.base import ZooModel, as_numpy
from zoo.registry import register


@register
class ImplicitGenerator(ZooModel):
    """``x = G(eps)``, ``eps ~ N(0, I)``: a sampler fitted by adversarial KL minimization.

    Each step draws ``G(eps)`` for a batch of data, trains a ratio network
    ``log r = log p_G / q`` (generated: label 1, data: label 0) by cross-entropy, and moves
    ``G`` down ``E[log r(G(eps))]``, the current estimate of ``KL[p_G || q]`` (the seed's
    ``min E[-log r(G(z))]`` with the ratio inverted), through
    :class:`kerasprob.layers.AdversarialKLDivergenceLayer` with ``reference="samples"``.
    The loss Keras logs is that KL estimate (also logged as ``kl``); ``kl_ratio_loss`` is
    the ratio network's cross-entropy (``log 4 - 2 JS`` at the optimum, ``log 4`` when
    the generator matches the data).

    Args:
      input_shape: ``(d,)``, the shape of one example (``None``: read from the first ``fit``).
      noise_dim: size of ``eps``.
      hidden_units: hidden sizes of ``G`` (empty: ``G`` is affine, ``p_G`` Gaussian).
      ratio_hidden_units: hidden sizes of the ratio network.
      activation: activation of both networks.
      ratio_steps: updates of the ratio network per generator update (the generator needs
        a near-optimal ratio; one each is often unstable: mode hopping).
      learning_rate: Adam learning rate.

    Both networks work on standardized data: ``x = mean + std * G(eps)``, with the data's
    ``mean`` and ``std`` taken at the first ``fit`` (saved with the model).

    Input shape: data ``[batch, d]``; ``predict`` returns ``G(eps)`` for as many
    draws. References: Sønderby et al. (2017), AffGAN; Mohamed & Lakshminarayanan (2016),
    Learning in Implicit Generative Models.
    """

    data_kind = "unsupervised"
    plots = ("history", "samples")
    search_space = {
        "hidden_units": Units(widths=(32, 64, 128), depths=(1, 2)),
        "ratio_hidden_units": Units(widths=(32, 64, 128), depths=(1, 2)),
        "learning_rate": Float(1e-4, 1e-2, sampling="log"),
    }

    data_arguments = ("input_shape",)

    def __init__(self, input_shape=None, noise_dim=2, hidden_units=(64, 64),
                 ratio_hidden_units=(64, 64), activation="relu", ratio_steps=5,
                 learning_rate=1e-3, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.input_shape = input_shape
        self.ratio_steps = check_positive_int("ratio_steps", ratio_steps)
        self.noise_dim = check_positive_int("noise_dim", noise_dim)
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.ratio_hidden_units = check_units("ratio_hidden_units", ratio_hidden_units)
        self.activation = check_choice("activation", activation,
                                       ("relu", "tanh", "elu", "gelu", "softplus", "swish"))
        self._finish()

    def build_layers(self):
        self.generator = MLP(self.hidden_units, self.num_features, activation=self.activation,
                             dtype=self.dtype_policy, name="generator")
        self.kl = AdversarialKLDivergenceLayer(
            hidden_units=self.ratio_hidden_units, activation=self.activation,
            reference="samples", dtype=self.dtype_policy, name="kl",
        )
        self.normalizer = tf_keras.layers.Normalization(axis=-1, dtype=self.dtype_policy,
                                                        name="standardize")

    def _to_data(self, standardized):
        """``mean + std * g``: the generator's standardized output in data units."""
        return self.normalizer.mean + tf.sqrt(self.normalizer.variance) * standardized

    def call(self, inputs, training=None):
        noise = tf.random.normal([tf.shape(inputs)[0], self.noise_dim], dtype=inputs.dtype)
        standardized = self.generator(noise)
        self.kl([standardized, self.normalizer(inputs)])
        return self._to_data(standardized)

    def train_step(self, data):
        """``ratio_steps - 1`` updates of the ratio network alone, then one joint step."""
        x = tf_keras.utils.unpack_x_y_sample_weight(data)[0]
        classifier = self.kl.classifier
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for _ in range(self.ratio_steps - 1):
            noise = tf.random.normal([tf.shape(x)[0], self.noise_dim], dtype=x.dtype)
            with tf.GradientTape() as tape:
                _, ratio_loss = adversarial_kl(classifier, self.generator(noise),
                                               self.normalizer(x))
                ratio_loss = ratio_loss / replicas
            variables = classifier.trainable_variables
            self.optimizer.apply_gradients(zip(tape.gradient(ratio_loss, variables), variables))
        return super().train_step(data)

    def fit(self, x=None, y=None, **kwargs):
        """Fit ``G`` to data ``x`` ``[n, d]`` (or a ``tf.data`` dataset of batches);
        ``tf_keras.Model.fit`` arguments (``epochs``, ``batch_size``, ...)."""
        self.check_fit_arguments(kwargs)
        self.build_from_data(x, y)
        if isinstance(x, tf.data.Dataset):
            self.validate_data(x)
            first = np.concatenate([np.asarray(b) for b in x.take(8)], 0)
        else:
            x = check_array("x", x, feature_shape=self.input_shape)
            first = x
        adapt_once(self.normalizer, first)
        return super().fit(x, y, **kwargs)

    def build_inputs(self):
        return tf.zeros((2, self.num_features), self.compute_dtype)

    def input_feature_shape(self):
        return self.input_shape

    def default_loss(self):
        return None

    def sample(self, n, seed=None):
        """``n`` draws ``G(eps)`` ``[n, d]``; equal integer seeds give equal draws."""
        n = check_positive_int("n", n)
        self._require_built()
        shape = [n, self.noise_dim]
        noise = normal(shape, seed)
        return self.transform(noise)

    def transform(self, noise):
        """``G(eps)`` (in data units) for given noise ``[n, noise_dim]``."""
        noise = check_array("noise", noise, feature_shape=(self.noise_dim,))
        return as_numpy(self._to_data(self.generator(tf.cast(noise, self.compute_dtype))))

    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(32, 2)).astype("float32") * [1.0, 0.5] + [1.0, -1.0]
        return {"input_shape": (2,), "hidden_units": [8], "ratio_hidden_units": [8]}, x, None
