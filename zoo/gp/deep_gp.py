"""``zoo.DeepGP``: a deep Gaussian process trained by doubly stochastic variational inference.

``num_layers`` :class:`kerasprob.layers.gp.SVGP` layers, each a GP over the previous one's
output; hidden layers have ``hidden_dim`` latent GPs and a linear mean function starting as
the identity (Salimbeni & Deisenroth 2017), the last one a single GP, then a Gaussian
likelihood. The ELBO

    sum_n E_{q(f_n^L)}[log N(y_n; f_n^L, sigma^2)] - sum_l KL[q(U^l) || p(U^l)]

is estimated by propagating ``num_samples`` reparameterized draws per example through the
layers, ``h^l = mean^l(h^{l-1}) + sqrt(var^l(h^{l-1})) eps`` (marginals only: the bound
needs nothing else), the last layer's expectation in closed form. Predictions average
``num_predict_samples`` seeded draws: ``q(f*)`` is a mixture of Gaussians, summarized by its
mean and variance; ``predict_log_density`` is the log of the mixture density.

>>> import numpy as np, zoo
>>> x = np.linspace(-2.0, 2.0, 32)[:, None]
>>> dgp = zoo.DeepGP(num_inducing=6, num_layers=2)
>>> history = dgp.fit(x, np.sign(x[:, 0]), epochs=1, batch_size=16, verbose=0)
>>> [a.shape for a in dgp.predict(x[:3])]
[(3, 1), (3, 1)]
"""

import math

import numpy as np
import tensorflow as tf

from kerasprob.math.linalg import safe_cholesky
from kerasprob.math.random import normal, stateless_seed
from kerasprob.tuning import Choice, Float, Int
from kerasprob.validation import check_positive_float, check_positive_int
from zoo.gp._base import PREDICT_BATCH, GaussianProcessModel
from zoo.gp.regression import RegressionMixin, gaussian_likelihood
from zoo.registry import register

#: Initial scale of the hidden layers' ``q_sqrt`` (times I): near-deterministic layers at the
#: start, so the identity mean passes the inputs through (Salimbeni & Deisenroth 2017).
HIDDEN_Q_SQRT = 1e-5


@register
class DeepGP(RegressionMixin, GaussianProcessModel):
    """Deep GP regression (doubly stochastic variational inference).

    Args:
      num_layers: number of GP layers (1 is an SVGP regressor).
      hidden_dim: latent GPs of each hidden layer (None: ``D``, the number of features).
      noise_variance: initial ``sigma^2`` (learned); ``None``: ``var(y) / 10`` at the first
        ``fit`` (1 before it).
      num_samples: draws per example propagated through the layers in training.
      num_predict_samples: draws per example in predictions (seeded by ``seed``).
      (others: see :class:`zoo.gp.GaussianProcessModel`; every layer has ``num_inducing``
      inducing inputs and its own kernel of type ``kernel``)

    Input: ``x`` ``[batch, D]``. Target: ``y`` ``[batch]`` or ``[batch, 1]``.

    References:
      Salimbeni, H. & Deisenroth, M. (2017). Doubly stochastic variational inference for deep
      Gaussian processes. NeurIPS.
      Damianou, A. & Lawrence, N. (2013). Deep Gaussian processes. AISTATS.
    """

    search_space = {
        "num_layers": Int(1, 3),
        "num_inducing": Int(16, 256, sampling="log"),
        "kernel": Choice(("rbf", "matern32", "matern52")),
        "learning_rate": Float(1e-3, 1e-1, sampling="log"),
    }

    def __init__(self, input_shape=None, num_layers=2, hidden_dim=None, num_inducing=50,
                 kernel="rbf", noise_variance=None, num_samples=1, num_predict_samples=32,
                 inducing_init="kmeans", train_inducing=True, seed=0, precision="float64",
                 learning_rate=1e-2, **kwargs):
        super().__init__(input_shape, num_inducing, kernel, inducing_init, train_inducing, seed,
                         precision, learning_rate, **kwargs)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.hidden_dim = check_positive_int("hidden_dim", hidden_dim, allow_none=True)
        self.noise_variance = (None if noise_variance is None
                               else check_positive_float("noise_variance", noise_variance))
        self.num_samples = check_positive_int("num_samples", num_samples)
        self.num_predict_samples = check_positive_int("num_predict_samples",
                                                      num_predict_samples)
        self._finish()

    def build_layers(self):
        width = self.hidden_dim or self.num_features
        self.gp_layers = []
        dim = self.num_features
        for i in range(self.num_layers - 1):
            layer = self._make_svgp(dim, width, "linear", f"svgp_{i}")
            eye = np.broadcast_to(np.eye(self.num_inducing), (width, *[self.num_inducing] * 2))
            layer.assign_variational(np.zeros((self.num_inducing, width)), HIDDEN_Q_SQRT * eye)
            self.gp_layers.append(layer)
            dim = width
        self.gp_layers.append(self._make_svgp(dim, 1, "constant", f"svgp_{self.num_layers - 1}"))
        self.likelihood = gaussian_likelihood(self.noise_variance, self.precision,
                                              self.positive)

    def _first_layer(self):
        return self.gp_layers[0]

    def _svgp_layers(self):
        return list(self.gp_layers)

    # ------------------------------------------------------------------ the math
    def call(self, x, training=None):
        return self._predict_y_batch(tf.cast(x, self.precision))

    def _propagate(self, x, num_samples, seed=None):
        """Last-layer marginals for ``num_samples`` draws per example: ``(mean, var)``
        ``[S, b, 1]`` each. ``seed``: a stateless seed (None: fresh draws)."""
        b = tf.shape(x)[0]
        h = tf.tile(tf.cast(x, self.precision), [num_samples, 1])  # [S * b, D]
        for i, layer in enumerate(self.gp_layers[:-1]):
            mean, var = layer.predict_f(h)  # [S * b, H]
            shape = tf.shape(mean)
            eps = (tf.random.normal(shape, dtype=self.precision) if seed is None else
                   tf.random.stateless_normal(shape, seed + tf.constant([0, i]),
                                              dtype=self.precision))
            h = mean + tf.sqrt(var) * eps
        mean, var = self.gp_layers[-1].predict_f(h)  # [S * b, 1]
        shape = tf.stack([num_samples, b, 1])
        return tf.reshape(mean, shape), tf.reshape(var, shape)

    def prior_kl(self):
        """``sum_l KL[q(U^l) || p(U^l)]``, a scalar."""
        return tf.add_n([layer.prior_kl() for layer in self.gp_layers])

    def _seed(self):
        return stateless_seed(self.seed, 2)

    def _negative_objective(self, x, y, training=False):
        """``-mean_{b, S} E_q[log p(y | f^L)] + sum_l KL_l / N``."""
        seed = None if training else self._seed()
        mean, var = self._propagate(x, self.num_samples, seed)  # [S, b, 1]
        y = tf.reshape(tf.cast(y, self.precision), (1, -1, 1))
        ell = self.likelihood.expected_log_likelihood(
            tf.broadcast_to(y, tf.shape(mean))[..., 0:1], mean, var)  # [S, b]
        return -tf.reduce_mean(ell) + self.prior_kl() / self.num_data

    def _predict_f_batch(self, x, full_cov=False):
        if full_cov:
            raise ValueError("a deep GP's q(f*) is a mixture, not a Gaussian: full_cov=True "
                             "has no meaning here; draw joint samples with sample_f. "
                             "Received: full_cov=True")
        mean, var = self._propagate(x, self.num_predict_samples, self._seed())  # [S, b, 1]
        m = tf.reduce_mean(mean, 0)
        v = tf.reduce_mean(var + tf.square(mean), 0) - tf.square(m)  # mixture moments
        return m, tf.maximum(v, tf.zeros([], self.precision))

    def predict_f(self, x, full_cov=False, batch_size=PREDICT_BATCH):
        """Mean and variance of the mixture ``q(f*)`` at ``x``: ``[N*, 1]`` each."""
        if full_cov:
            self._predict_f_batch(None, full_cov=True)
        return super().predict_f(x, batch_size=batch_size)

    @tf.function(reduce_retracing=True)
    def _log_density_fn(self, x, y):
        mean, var = self._propagate(x, self.num_predict_samples, self._seed())  # [S, b, 1]
        var = var + self.likelihood.variance
        y = tf.reshape(tf.cast(y, self.precision), (1, -1, 1))
        log_n = -0.5 * (math.log(2.0 * math.pi) + tf.math.log(var) + tf.square(y - mean) / var)
        return (tf.reduce_logsumexp(log_n[..., 0], 0)
                - math.log(self.num_predict_samples))  # [b]: log mean_s N(y; m_s, v_s)

    def sample_f(self, x, n, seed=None):
        """``n`` joint draws of the last layer's function at ``x`` ``[N*, D]``: ``[n, N*, 1]``.

        Each draw goes through the layers with full covariances over the ``N*`` points
        (one Cholesky of ``[N*, N*]`` per latent GP and layer, so keep ``N*`` moderate).
        """
        self._require_built()
        n = check_positive_int("n", n)
        x = tf.constant(self._check_x(x))
        draws = []
        for s in range(n):
            h = x
            for i, layer in enumerate(self.gp_layers):
                mean, cov = layer.predict_f(h, full_cov=True)  # [N, L], [L, N, N]
                chol = safe_cholesky(cov, name="the predictive covariance")
                shape = tf.shape(mean)[::-1]  # [L, N]
                eps = normal(shape, seed, s * 64 + i, dtype=self.precision)
                h = mean + tf.transpose(tf.linalg.matvec(chol, eps))  # [N, L]
            draws.append(h.numpy())
        return np.stack(draws)

    # ------------------------------------------------------------------- contract
    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x = rng.uniform(-2.0, 2.0, size=(32, 1))
        y = np.sign(x[:, 0]) + 0.1 * rng.normal(size=32)
        return {"input_shape": (1,), "num_layers": 2, "num_inducing": 6}, x, y
