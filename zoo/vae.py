"""``zoo.VAE``: the concise Keras variational autoencoder.

``x -> MLP -> [mu, log_var] -> KLDivergenceLayer -> z = mu + sigma * eps ->
MLP -> p(x | z)``. Training minimizes the negative ELBO
``-E_q[log p(x | z)] + KL(q(z | x) || p(z))`` (per example, in nats): the
``loss`` Keras logs; the KL term is logged as ``kl``.

>>> import numpy as np, zoo
>>> vae = zoo.VAE(input_shape=(8, 8), latent_dim=2, hidden_units=[32])
>>> history = vae.fit(np.random.rand(64, 8, 8), epochs=1, verbose=0)
>>> vae.encode(np.random.rand(3, 8, 8)).mean().shape
TensorShape([3, 2])
>>> vae.sample(4).shape
(4, 8, 8)
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from kerasprob.distributions import IndependentBernoulli, IndependentNormal
from kerasprob.layers import MLP, GaussianReparameterization, KLDivergenceLayer
from kerasprob.tuning import Choice, Float, Int, Units
from kerasprob.validation import (
    check_array,
    check_choice,
    check_positive_float,
    check_positive_int,
    check_shape,
    check_units,
)
from zoo.base import ZooModel, as_numpy
from zoo.registry import register

tfd = tfp.distributions

LIKELIHOODS = {"bernoulli": IndependentBernoulli, "gaussian": IndependentNormal}


@register
class VAE(ZooModel):
    """Variational autoencoder with a diagonal Gaussian posterior and a N(0, I) prior.

    Args:
      input_shape: shape of one example, e.g. ``(28, 28, 1)`` or ``(64,)``.
      latent_dim: dimension of ``z``.
      hidden_units: hidden sizes of the encoder MLP (the decoder mirrors them).
      likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"`` (real data;
        the decoder outputs a mean and a scale per feature).
      kl_weight: ``beta``, the weight of the KL term (1 gives the ELBO).
      learning_rate: Adam learning rate.

    Input shape: ``[batch, *input_shape]``. Output: ``p(x | z)``, a
    distribution with batch shape ``[batch]`` and event shape ``input_shape``.

    References:
      Kingma & Welling (2014), Auto-Encoding Variational Bayes.
    """

    target_is_input = True
    search_space = {
        "latent_dim": Int(2, 32, sampling="log"),
        "hidden_units": Units(widths=(64, 128, 256, 512), depths=(1, 2)),
        "learning_rate": Float(1e-4, 1e-2, sampling="log"),
        "kl_weight": Choice((0.5, 1.0)),
    }

    def __init__(
        self,
        input_shape=(8, 8),
        latent_dim=2,
        hidden_units=(256,),
        likelihood="bernoulli",
        kl_weight=1.0,
        learning_rate=1e-3,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.input_shape_ = check_shape("input_shape", input_shape)
        self.latent_dim = check_positive_int("latent_dim", latent_dim)
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.likelihood = check_choice("likelihood", likelihood, LIKELIHOODS)
        self.kl_weight = check_positive_float("kl_weight", kl_weight, allow_zero=True)
        likelihood_layer = LIKELIHOODS[likelihood]
        self.flatten = tf_keras.layers.Flatten(name="flatten")
        self.encoder = MLP(self.hidden_units, 2 * self.latent_dim, name="encoder")
        self.kl = KLDivergenceLayer(weight=self.kl_weight, name="kl")
        self.sampler = GaussianReparameterization(name="reparameterization")
        self.decoder = MLP(
            self.hidden_units[::-1], likelihood_layer.params_size(self.input_shape_),
            name="decoder",
        )
        self.likelihood_layer = likelihood_layer(
            self.input_shape_, convert_to_tensor_fn="mean", name="likelihood"
        )
        self._finish()

    @property
    def input_shape(self):
        return self.input_shape_

    def get_config(self):
        return {**super().get_config(), "input_shape": list(self.input_shape_)}

    def build_inputs(self):
        return tf.zeros((1, *self.input_shape_))

    def input_feature_shape(self):
        return self.input_shape_

    def validate_data(self, x, y=None, prefix=""):
        x, y = super().validate_data(x, y, prefix)
        if self.likelihood == "bernoulli" and isinstance(x, np.ndarray):
            low, high = float(x.min()), float(x.max())
            if low < 0.0 or high > 1.0:
                raise ValueError(
                    f"{prefix}x must lie in [0, 1] for likelihood='bernoulli'. Received: "
                    f"{prefix}x with values in [{low:g}, {high:g}]; rescale it (e.g. x / x.max()) "
                    "or use likelihood='gaussian'"
                )
        return x, y

    # ---------------------------------------------------------------- pieces
    def _posterior_params(self, x):
        mu, log_var = tf.split(self.encoder(self.flatten(x)), 2, axis=-1)  # [batch, d] each
        return mu, log_var

    def call(self, x, training=None):
        mu, log_var = self.kl(self._posterior_params(x))
        z = self.sampler([mu, log_var])  # [batch, d]
        return self.likelihood_layer(self.decoder(z))

    def encode(self, x):
        """``q(z | x)``: a ``MultivariateNormalDiag`` with batch shape ``[batch]``."""
        x = check_array("x", x, feature_shape=self.input_shape_)
        mu, log_var = self._posterior_params(x)
        return tfd.MultivariateNormalDiag(mu, tf.exp(0.5 * log_var))

    def decode(self, z):
        """``p(x | z)`` for latent codes ``z`` of shape ``[batch, latent_dim]``."""
        z = check_array("z", z, feature_shape=(self.latent_dim,))
        return self.likelihood_layer(self.decoder(z))

    def reconstruct(self, x):
        """Mean of ``p(x | z = E[z | x])``, shape ``[batch, *input_shape]``."""
        return as_numpy(self.decode(self.encode(x).mean()).mean())

    def sample(self, n, seed=None, mean=True):
        """``n`` draws from the model: ``z ~ p(z)``, then the mean of ``p(x | z)`` (or a draw).

        Returns:
          ``np.ndarray`` of shape ``[n, *input_shape]``.
        """
        n = check_positive_int("n", n)
        z = self.kl.prior_distribution(tfd.MultivariateNormalDiag(tf.zeros(self.latent_dim)))
        decoded = self.decode(as_numpy(z.sample(n, seed=seed)))
        return as_numpy(decoded.mean() if mean else decoded.sample(seed=seed))

    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x = (rng.random((16, 4, 4)) > 0.5).astype("float32")
        return {"input_shape": (4, 4), "latent_dim": 2, "hidden_units": [8]}, x, None
