"""Variational posteriors and evidence bounds for latent-variable models (VAE, IWAE).

``GaussianPosterior`` draws
reparameterized samples from ``q(z | x)`` together with their log-density,
``EvidenceBound`` turns ``log p(x | z_i)``, ``z_i`` and ``log q(z_i | x)`` into the
(importance-weighted) evidence lower bound and adds its negative as the loss.

>>> import numpy as np
>>> post = GaussianPosterior(2, covariance="full")
>>> params = np.zeros((3, GaussianPosterior.params_size(2, "full")), "float32")
>>> z, log_q = post.sample(params, num_samples=4)
>>> z.shape, log_q.shape
(TensorShape([3, 4, 2]), TensorShape([3, 4]))
"""

import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from kerasprob.dtypes import FullPrecision
from kerasprob.layers.kl import KLDivergenceLayer
from kerasprob.math.bounds import log_importance_weights, log_mean_exp
from kerasprob.math.distributions import scale_tril_from_params, standard_normal_log_prob
from kerasprob.math.divergences import (
    gaussian_kl_to_standard_normal,
    tril_gaussian_kl_to_standard_normal,
)
from kerasprob.math.random import normal
from kerasprob.serialization import register
from kerasprob.validation import check_choice, check_positive_int

tfd = tfp.distributions
tfb = tfp.bijectors

__all__ = ["EvidenceBound", "GaussianPosterior"]


@register
class GaussianPosterior(FullPrecision, tf_keras.layers.Layer):
    """Reparameterized draws ``z_i = mu + S eps_i`` from ``q(z | x) = N(mu, S S^T)``.

    ``covariance="diag"``: parameters ``[mu | log sigma^2]`` (``2 d``), ``S = diag(sigma)``,
    as the concise Keras VAE. ``covariance="full"``: parameters ``[mu | tril]``
    (``d + d (d + 1) / 2``), ``S = scale_tril_from_params(tril)``, as the seed's
    ``MultivariateNormalTriL``. The log-density of a draw is computed from its noise,
    ``log q(z_i | x) = log N(eps_i; 0, I) - sum_j log S_jj``, without building a
    distribution object.

    Args:
      latent_dim: ``d``.
      covariance: ``"diag"`` or ``"full"``.
      num_samples: ``k``, draws per example made by ``call``.

    Draws, noise and ``log q`` are float32 under a mixed policy, float64 under
    ``"float64"`` (:mod:`kerasprob.dtypes`).

    Input shape: ``[batch, params_size]``.
    Output shape: ``[batch, k, d]`` draws (``sample`` also returns ``log q``, ``[batch, k]``).

    References:
      Kingma & Welling (2014), Auto-Encoding Variational Bayes.
    """

    def __init__(self, latent_dim, covariance="diag", num_samples=1, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = check_positive_int("latent_dim", latent_dim)
        self.covariance = check_choice("covariance", covariance, ("diag", "full"))
        self.num_samples = check_positive_int("num_samples", num_samples)

    @staticmethod
    def params_size(latent_dim, covariance="diag"):
        """``2 d`` (diag) or ``d + d (d + 1) / 2`` (full)."""
        d = check_positive_int("latent_dim", latent_dim)
        check_choice("covariance", covariance, ("diag", "full"))
        return 2 * d if covariance == "diag" else d + d * (d + 1) // 2

    def split(self, params):
        """``(mu [batch, d], s)``: ``s`` is ``log sigma^2 [batch, d]`` or ``L [batch, d, d]``."""
        params = tf.cast(params, self.compute_dtype)  # float32 under a mixed policy
        d = self.latent_dim
        mu, rest = params[..., :d], params[..., d:]
        if self.covariance == "diag":
            return mu, rest
        return mu, scale_tril_from_params(rest)

    def distribution(self, params):
        """``q(z | x)`` as a TFP distribution with batch shape ``[batch]``, event ``[d]``."""
        mu, s = self.split(tf.convert_to_tensor(params))
        if self.covariance == "diag":
            return tfd.MultivariateNormalDiag(mu, tf.exp(0.5 * s))
        return tfd.MultivariateNormalTriL(mu, s)

    def sample(self, params, num_samples=None, seed=None):
        """``k`` draws per example and their log-density under ``q``.

        Args:
          params: ``[batch, params_size]``.
          num_samples: ``k`` (default: the layer's ``num_samples``).
          seed: ``None`` (stateful draws), or an int or a shape-``[2]`` integer tensor for
            stateless, reproducible draws (:func:`kerasprob.math.random.stateless_seed`).

        Returns:
          ``z [batch, k, d]`` and ``log q(z | x) [batch, k]``.
        """
        params = tf.convert_to_tensor(params)
        k = self.num_samples if num_samples is None else num_samples
        mu, s = self.split(params)
        shape = tf.concat([tf.shape(mu)[:1], [k], tf.shape(mu)[1:]], axis=0)
        eps = normal(shape, seed, dtype=mu.dtype)  # [batch, k, d]
        if self.covariance == "diag":
            z = mu[:, None] + tf.exp(0.5 * s)[:, None] * eps
            log_det = 0.5 * tf.reduce_sum(s, axis=-1)  # sum log sigma, [batch]
        else:
            z = mu[:, None] + tf.linalg.matvec(s[:, None], eps)
            log_det = tf.reduce_sum(tf.math.log(tf.linalg.diag_part(s)), axis=-1)
        return z, standard_normal_log_prob(eps) - log_det[:, None]

    def kl_to_standard_normal(self, params):
        """Analytic ``KL(q(z | x) || N(0, I))``, shape ``[batch]``."""
        mu, s = self.split(tf.convert_to_tensor(params))
        if self.covariance == "diag":
            return gaussian_kl_to_standard_normal(mu, s)
        return tril_gaussian_kl_to_standard_normal(mu, s)

    def call(self, params):
        return self.sample(params)[0]

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:1].concatenate([self.num_samples, self.latent_dim])

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim,
                "covariance": self.covariance, "num_samples": self.num_samples}


@register
class EvidenceBound(KLDivergenceLayer):
    """Adds ``-mean_batch L_k`` to the losses: the negative (importance-weighted) ELBO.

    ``L_k = log (1/k) sum_i exp(log p(x | z_i) + beta (log p(z_i) - log q(z_i | x)))``
    for ``z_1..z_k ~ q(z | x)``: the ELBO for ``k = 1`` and the IWAE bound for ``k > 1``
    (``beta = weight``; ``beta = 1`` gives a lower bound on ``log p(x)``). For ``k = 1``
    an analytic ``KL(q || p)`` may be passed as a fourth input; then
    ``L_1 = log p(x | z_1) - beta KL``, the lower-variance form. The KL estimate
    (analytic, or ``mean_i [log q(z_i | x) - log p(z_i)]``) is logged as ``kl``.

    As a :class:`KLDivergenceLayer`, its ``weight`` is annealed by
    :class:`kerasprob.callbacks.KLAnnealing`.

    Args:
      prior: ``None`` for ``N(0, I)`` or a :class:`kerasprob.layers.Prior` layer
        (e.g. a learnable ``MixtureNormalPrior``).
      weight: ``beta``.
      method: ``"auto"`` (use an analytic KL input when ``k = 1``), ``"analytic"``
        (require it) or ``"monte_carlo"`` (ignore it).
      num_samples: ``k``, the number of draws per example the bound expects.

    Input: ``[log_px [batch, k], z [batch, k, d], log_q [batch, k]]``, optionally
    ``+ [kl [batch]]``.
    Output shape: ``[batch]``, the bound per example.

    References:
      Burda, Grosse & Salakhutdinov (2016), Importance Weighted Autoencoders.
      Higgins et al. (2017), beta-VAE.
    """

    def __init__(self, prior=None, weight=1.0, method="auto", num_samples=1, **kwargs):
        kwargs.setdefault("name", "evidence_bound")
        super().__init__(prior=prior, weight=weight, method=method, num_samples=num_samples,
                         **kwargs)

    def prior_log_prob(self, z):
        """``log p(z)`` over the last axis: ``[batch..., d] -> [batch...]``."""
        if self.prior is None:
            return standard_normal_log_prob(z)
        return self.prior.distribution().log_prob(z)

    def _terms(self, inputs):
        log_px, z, log_q = (tf.cast(v, self.compute_dtype) for v in inputs[:3])
        kl = inputs[3] if len(inputs) > 3 and self.method != "monte_carlo" else None
        kl = None if kl is None else tf.cast(kl, self.compute_dtype)
        if kl is None and self.method == "analytic":
            raise ValueError("method='analytic' needs the analytic KL as the fourth input. "
                             f"Received: {len(inputs)} inputs")
        log_pz = self.prior_log_prob(z)  # [batch, k]
        return log_px, log_pz, log_q, kl

    def _bound_and_kl(self, inputs):
        log_px, log_pz, log_q, kl = self._terms(inputs)
        beta = (tf.cast(self._weight, log_px.dtype) if self._weight is not None
                else tf.constant(self.weight, log_px.dtype))
        if kl is not None and log_px.shape[-1] == 1:
            return log_px[:, 0] - beta * kl, kl
        bound = log_mean_exp(log_importance_weights(log_px, log_pz, log_q, beta), axis=-1)
        return bound, tf.reduce_mean(log_q - log_pz, axis=-1)

    def kl_divergence(self, inputs):
        """The KL estimate per example, ``[batch]``: the analytic input when ``k = 1``,
        else ``mean_i [log q(z_i | x) - log p(z_i)]``."""
        return self._bound_and_kl(inputs)[1]

    def bound(self, inputs):
        """``L_k`` per example, ``[batch]``."""
        return self._bound_and_kl(inputs)[0]

    def call(self, inputs):
        bound, kl = self._bound_and_kl(inputs)
        self.add_loss(-tf.reduce_mean(bound))
        self.add_metric(tf.reduce_mean(kl), name="kl")
        return bound

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape[0])[:1]
