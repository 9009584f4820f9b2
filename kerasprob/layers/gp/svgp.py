"""The sparse variational GP layer: ``x -> q(f(x))``, adding ``KL[q(u) || p(u)] / num_data``.

``SVGP`` owns M inducing inputs ``Z`` ``[M, D]``, the variational ``q(u) = N(m, S S^T)`` for
``num_latent_gps`` L independent GPs sharing one kernel and ``Z`` (``m`` ``[M, L]``, ``S``
``[L, M, M]`` lower triangular or ``[M, L]`` diagonal), and a mean function. Called on
``x`` ``[batch, D]`` it returns ``q(f(x))`` (:func:`kerasprob.math.gp.conditional`) as a
distribution:

* marginals (default): ``Independent(Normal(mean, sqrt(var)))``, batch ``[batch]``, event
  ``[L]``;
* ``full_cov=True``: ``MultivariateNormalTriL``, batch ``[L]``, event ``[batch]`` (the
  covariance between the batch's points, for joint samples and prediction; not for
  stacking, since its draws are ``[L, batch]``).

and adds ``KL[q(u) || p(u)] / num_data`` to the layer's losses (logged as the metric
``<name>_prior_kl``), so a model compiled with the negative expected log-likelihood per
example as its loss minimizes the negative ELBO per example (Hensman et al. 2013). Under
``tf.distribute`` tf-keras scales added losses by the replica count: the KL counts once.

As the next layer's input, the output becomes a tensor by ``convert_to_tensor_fn``
(``"sample"``: one draw per example), so two SVGP layers in a ``tf_keras.Sequential`` are a
deep GP trained by sample propagation (Salimbeni & Deisenroth 2017; give hidden layers
``mean_function="linear"``, which starts as the identity on the first features).

>>> import numpy as np, tf_keras
>>> from kerasprob.layers.gp import SVGP
>>> gp = SVGP("rbf", num_inducing=4, input_dim=1, num_data=10, dtype="float64")
>>> q = gp(np.zeros((3, 1)))
>>> q.mean().shape, q.variance().shape          # q(f) at 3 points, one latent GP
(TensorShape([3, 1]), TensorShape([3, 1]))
>>> float(gp.prior_kl())                         # q(v) starts at the whitened prior N(0, I)
0.0

References:
  Hensman, J., Fusi, N. & Lawrence, N. (2013). Gaussian processes for big data. UAI.
  Salimbeni, H. & Deisenroth, M. (2017). Doubly stochastic variational inference for deep
  Gaussian processes. NeurIPS.
  GPflux's ``GPLayer`` (the KL / num_data loss and metric).
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from kerasprob.layers.distributions import DistributionLayer
from kerasprob.layers.gp import kernels as kernel_lib
from kerasprob.math import gp as gp_math
from kerasprob.math.linalg import safe_cholesky
from kerasprob.math.natural_gradients import natural_gradient_step
from kerasprob.math.positive import inverse_softplus, positive
from kerasprob.math.sgpr import jittered_cholesky
from kerasprob.optimizers import register_natural_parameters
from kerasprob.serialization import register, serialize
from kerasprob.validation import (
    check_array,
    check_bool,
    check_choice,
    check_positive_float,
    check_positive_int,
)

tfd = tfp.distributions

__all__ = ["MEAN_FUNCTIONS", "SVGP"]

MEAN_FUNCTIONS = ("zero", "constant", "linear")
INDUCING_METHODS = ("kmeans", "random")


@register
class SVGP(DistributionLayer):
    """A sparse variational Gaussian process layer (see the module docstring).

    Args:
      kernel: a kernel layer (:mod:`kerasprob.layers.gp.kernels`, in the layer's dtype), a
        serialized one (its parts made in the layer's dtype) or a name of
        ``kernels.KERNELS`` (``"rbf"`` is built with ARD lengthscales over ``input_dim``).
      num_inducing: M.
      input_dim: D, the number of input features.
      num_latent_gps: L, independent GPs sharing the kernel and the inducing inputs.
      mean_function: ``"zero"``, ``"constant"`` (one learnable constant per latent GP) or
        ``"linear"`` (``x W + b``, ``W`` ``[D, L]`` starting as the identity on the first
        ``min(D, L)`` features, ``b`` at 0).
      whiten: ``q`` over ``v = L^{-1} u`` (``p(v) = N(0, I)``; better conditioned) or over
        ``u`` (``p(u) = N(0, K_uu)``).
      q_diag: ``S`` diagonal (``[M, L]``, positive by softplus) instead of full lower
        triangular (``[L, M, M]``).
      train_inducing: train ``Z`` with the rest (else it stays where it was initialized).
      num_data: N, the training-set size the KL is divided by (None: 1, i.e. the KL is added
        whole; :meth:`set_num_data` changes it, e.g. at ``fit``).
      full_cov: output the full covariance over the batch instead of the marginals.
      jitter: absolute jitter added to the diagonal of ``K_uu`` (None: 1e-8 in float64,
        1e-6 in float32, :func:`kerasprob.math.sgpr.default_jitter`) before
        :func:`kerasprob.math.linalg.safe_cholesky`, which escalates it (relative to the mean
        diagonal, with a warning) only where the factorization fails; 0 for none. Absolute,
        so a kernel variance of 2500 gets no more jitter than one of 1.
      convert_to_tensor_fn: how the output becomes a tensor for the next layer or
        ``predict``: ``"sample"``, ``"mean"`` or ``"mode"``.
      seed: seed of the initial inducing inputs (standard normal draws until
        :meth:`initialize_inducing_inputs` places them on the data).

    Input shape: ``[batch, D]``. Output: a distribution over ``[batch, L]`` (see above).
    """

    def __init__(self, kernel, num_inducing, input_dim, num_latent_gps=1, mean_function="zero",
                 whiten=True, q_diag=False, train_inducing=True, num_data=None, full_cov=False,
                 jitter=None, convert_to_tensor_fn="sample", seed=0, **kwargs):
        super().__init__(convert_to_tensor_fn=convert_to_tensor_fn, **kwargs)
        self.num_inducing = check_positive_int("num_inducing", num_inducing)
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.num_latent_gps = check_positive_int("num_latent_gps", num_latent_gps)
        self.mean_function = check_choice("mean_function", mean_function, MEAN_FUNCTIONS)
        self.whiten = check_bool("whiten", whiten)
        self.q_diag = check_bool("q_diag", q_diag)
        self.train_inducing = check_bool("train_inducing", train_inducing)
        self.num_data = check_positive_int("num_data", num_data, allow_none=True)
        self.full_cov = check_bool("full_cov", full_cov)
        self.jitter = None if jitter is None else check_positive_float("jitter", jitter,
                                                                       allow_zero=True)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int. Received: seed={seed!r}")
        self.seed = seed
        if isinstance(kernel, str):
            kernel = kernel_lib.get(kernel, input_dim=self.input_dim, dtype=self.dtype)
        else:  # a serialized kernel's parts take the layer's dtype; a layer must match it
            kernel = kernel_lib.get(kernel, dtype=self.dtype)
        if kernel.dtype != self.dtype:
            raise ValueError(
                f"kernel must compute in the layer's dtype {self.dtype}. Received: kernel with "
                f"dtype {kernel.dtype} (give both the same dtype=...)")
        self.kernel = kernel
        self.build(None)

    # ------------------------------------------------------------------------------ weights
    def build(self, input_shape=None):
        if self.built:
            return
        m, d, latents = self.num_inducing, self.input_dim, self.num_latent_gps
        z0 = np.random.default_rng(self.seed).standard_normal((m, d))
        self.inducing_inputs = self.add_weight(
            name="inducing_inputs", shape=(m, d), dtype=self.dtype,
            initializer=tf_keras.initializers.Constant(z0), trainable=self.train_inducing)
        self.q_mu = self.add_weight(name="q_mu", shape=(m, latents), dtype=self.dtype,
                                    initializer="zeros")
        if self.q_diag:
            self.raw_q_sqrt = self.add_weight(
                name="raw_q_sqrt", shape=(m, latents), dtype=self.dtype,
                initializer=tf_keras.initializers.Constant(inverse_softplus(1.0)))
        else:
            eye = np.broadcast_to(np.eye(m), (latents, m, m))
            self.raw_q_sqrt = self.add_weight(
                name="q_sqrt", shape=(latents, m, m), dtype=self.dtype,
                initializer=tf_keras.initializers.Constant(eye))
        if self.mean_function == "constant":
            self.mean_constant = self.add_weight(name="mean_constant", shape=(latents,),
                                                 dtype=self.dtype, initializer="zeros")
        elif self.mean_function == "linear":
            self.mean_weights = self.add_weight(
                name="mean_weights", shape=(d, latents), dtype=self.dtype,
                initializer=tf_keras.initializers.Constant(np.eye(d, latents)))
            self.mean_bias = self.add_weight(name="mean_bias", shape=(latents,),
                                             dtype=self.dtype, initializer="zeros")
        self.num_data_weight = self.add_weight(
            name="num_data", shape=(), dtype=self.dtype, trainable=False,
            initializer=tf_keras.initializers.Constant(float(self.num_data or 1)))
        self.kernel.ensure_built()
        register_natural_parameters(self, self.natural_parameters())
        super().build(input_shape)

    @property
    def q_sqrt(self):
        """``S``: ``[L, M, M]`` lower triangular, or ``[M, L]`` positive (``q_diag``)."""
        if self.q_diag:
            return positive(self.raw_q_sqrt)
        return tf.linalg.band_part(self.raw_q_sqrt, -1, 0)

    def natural_parameters(self):
        """``(q_mu, raw q_sqrt)``: the variables :class:`kerasprob.optimizers.NaturalGradient`
        moves by natural gradients."""
        return self.q_mu, self.raw_q_sqrt

    def natural_gradient_values(self, gradients, gamma):
        """New ``(q_mu, raw q_sqrt)`` after one natural-gradient step of size ``gamma``.

        ``gradients`` are those of a per-example loss (the layer adds ``KL / N``) for
        :meth:`natural_parameters`; times ``N`` they are the gradients of ``-ELBO``, which
        :func:`kerasprob.math.natural_gradients.natural_gradient_step` takes.
        """
        grad_mu, grad_raw = (tf.cast(g, self.dtype) * self.num_data_weight for g in gradients)
        if self.q_diag:  # q_sqrt = softplus(raw): d/d q_sqrt = d/d raw / sigmoid(raw)
            grad_sqrt = grad_raw / tf.sigmoid(self.raw_q_sqrt)
        else:
            grad_sqrt = grad_raw
        q_mu, q_sqrt = natural_gradient_step(self.q_mu, self.q_sqrt, grad_mu, grad_sqrt, gamma)
        raw = tfp.math.softplus_inverse(q_sqrt) if self.q_diag else q_sqrt
        return q_mu, raw

    def set_num_data(self, num_data):
        """Set N, the training-set size the KL is divided by (no retracing)."""
        self.num_data = check_positive_int("num_data", num_data)
        self.num_data_weight.assign(float(self.num_data))

    def initialize_inducing_inputs(self, x, method="kmeans", seed=0):
        """Place ``Z`` on the data ``x`` ``[N, D]``: ``"kmeans"`` centres or a ``"random"``
        subset of distinct rows (:mod:`kerasprob.math.gp`). Returns the new ``Z`` (numpy).

        Raises:
          ValueError: ``x`` is not ``[N, D]``, holds NaN/inf, or has fewer rows than M.
        """
        method = check_choice("method", method, INDUCING_METHODS)
        check_array("x", x, feature_shape=(self.input_dim,))  # shape, numbers, finite
        x = np.asarray(x, dtype=np.float64)  # (check_array's copy is float32)
        if len(x) < self.num_inducing:
            raise ValueError(
                f"num_inducing={self.num_inducing} needs at least that many rows of x. "
                f"Received: x with shape {x.shape}")
        fn = gp_math.kmeans_inducing_inputs if method == "kmeans" else (
            gp_math.random_inducing_inputs)
        z = fn(x, self.num_inducing, seed=seed)
        self.inducing_inputs.assign(z.astype(self.dtype))
        return z

    def assign_variational(self, q_mu, q_sqrt, whitened=None):
        """Set ``q(u)`` (e.g. the closed-form optimum of an SGPR fit).

        Args:
          q_mu: ``[M, L]``.
          q_sqrt: ``[L, M, M]`` lower triangular (``[M, M]`` for L = 1), or ``[M, L]`` for a
            ``q_diag`` layer.
          whitened: whether the given ``q`` is over ``v = L^{-1} u`` (default: as the layer).
            A whitened ``q`` is converted for an unwhitened layer by ``m_u = L m_v``,
            ``S_u = L S_v`` (and back with triangular solves), ``L = chol(K_uu)`` at the
            current inducing inputs and kernel.

        Raises:
          ValueError: shapes that do not match the layer's, or a full ``q_sqrt`` given to a
            ``q_diag`` layer with a conversion that would make it non-diagonal.
        """
        m, latents = self.num_inducing, self.num_latent_gps
        q_mu = np.asarray(q_mu, dtype=np.float64)
        q_sqrt = np.asarray(q_sqrt, dtype=np.float64)
        if q_sqrt.ndim == 2 and not self.q_diag and q_sqrt.shape == (m, m):
            q_sqrt = q_sqrt[None]
        expected_s = (m, latents) if self.q_diag else (latents, m, m)
        if q_mu.shape != (m, latents) or q_sqrt.shape != expected_s:
            raise ValueError(
                f"q_mu must have shape {(m, latents)} and q_sqrt {expected_s}. Received: q_mu "
                f"with shape {q_mu.shape}, q_sqrt with shape {q_sqrt.shape}")
        whitened = self.whiten if whitened is None else check_bool("whitened", whitened)
        if whitened != self.whiten:
            if self.q_diag:
                raise ValueError("converting q between whitened and unwhitened forms makes a "
                                 "diagonal q_sqrt full; use a layer with q_diag=False. Received: "
                                 f"whitened={whitened} for a layer with whiten={self.whiten}")
            chol = self.kuu_cholesky().numpy().astype(np.float64)
            if whitened:  # v -> u
                q_mu, q_sqrt = chol @ q_mu, chol @ q_sqrt
            else:  # u -> v
                q_mu = np.linalg.solve(chol, q_mu)
                q_sqrt = np.linalg.solve(chol, q_sqrt)
        self.q_mu.assign(q_mu.astype(self.dtype))
        if self.q_diag:
            raw = inverse_softplus(np.maximum(q_sqrt, 1e-30))
            self.raw_q_sqrt.assign(raw.astype(self.dtype))
        else:
            self.raw_q_sqrt.assign(np.tril(q_sqrt).astype(self.dtype))

    # ------------------------------------------------------------------------------ math
    def kuu_cholesky(self):
        """``chol(K_uu + jitter I)``, ``[M, M]`` (safe: escalating only where it fails)."""
        return jittered_cholesky(self.kernel.matrix(self.inducing_inputs), self.jitter)

    def prior_kl(self, chol_kuu=None):
        """``sum_l KL[q(u_l) || p(u_l)]``, a scalar (:func:`kerasprob.math.gp.prior_kl`)."""
        if chol_kuu is None and not self.whiten:
            chol_kuu = self.kuu_cholesky()
        return gp_math.prior_kl(self.q_mu, self.q_sqrt, chol_kuu, whiten=self.whiten)

    def negative_elbo(self, x, y, likelihood, **likelihood_kwargs):
        """The training loss of a batch: its negative ELBO per example,

        ``-(1/b) sum_n E_{q(f_n)}[log p(y_n | f_n)] + KL[q(u) || p(u)] / N``,

        whose mean over the batches of an epoch is ``-ELBO / N`` (Hensman et al. 2013).

        Args:
          x: ``[b, D]`` inputs.
          y: ``[b, 1]`` (or ``[b]``) targets or labels.
          likelihood: a :mod:`kerasprob.layers.gp` likelihood (its
            ``expected_log_likelihood(y, mean, var, **likelihood_kwargs)`` gives ``[b]``).
          **likelihood_kwargs: e.g. ``seed`` of a Monte Carlo expectation.

        Returns:
          A scalar in the layer's dtype. ``N`` is :meth:`set_num_data`'s.
        """
        x = tf.cast(tf.convert_to_tensor(x), self.dtype)
        y = tf.reshape(tf.cast(y, self.dtype), (-1, 1))
        chol = self.kuu_cholesky()
        mean, var = self.predict_f(x, chol_kuu=chol)
        ell = likelihood.expected_log_likelihood(y, mean, var, **likelihood_kwargs)  # [b]
        kl = self.prior_kl(None if self.whiten else chol)
        return -tf.reduce_mean(ell) + kl / self.num_data_weight

    def mean_fn(self, x):
        """The prior mean ``mu(x)``: ``[batch, L]``."""
        x = tf.cast(x, self.dtype)
        shape = tf.stack([tf.shape(x)[0], self.num_latent_gps])
        if self.mean_function == "constant":
            return tf.zeros(shape, self.dtype) + self.mean_constant
        if self.mean_function == "linear":
            return tf.linalg.matmul(x, self.mean_weights) + self.mean_bias
        return tf.zeros(shape, self.dtype)

    def predict_f(self, x, full_cov=False, chol_kuu=None):
        """``q(f(x))`` as tensors: ``(mean [batch, L], var [batch, L])``, or with ``full_cov``
        ``(mean [batch, L], cov [L, batch, batch])``. Adds no loss."""
        x = tf.cast(tf.convert_to_tensor(x), self.dtype)
        chol = self.kuu_cholesky() if chol_kuu is None else chol_kuu
        kuf = self.kernel.matrix(self.inducing_inputs, x)  # [M, batch]
        kff = self.kernel.matrix(x) if full_cov else self.kernel.diag(x)
        mean, cov = gp_math.conditional(kuf, chol, kff, self.q_mu, self.q_sqrt,
                                        whiten=self.whiten, full_cov=full_cov)
        if not full_cov:
            cov = tf.maximum(cov, tf.zeros([], self.dtype))  # round-off below 0 at Z
        return mean + self.mean_fn(x), cov

    def make_distribution(self, inputs):
        x = tf.cast(tf.convert_to_tensor(inputs), self.dtype)
        chol = self.kuu_cholesky()
        mean, cov = self.predict_f(x, full_cov=self.full_cov, chol_kuu=chol)
        kl = self.prior_kl(chol if not self.whiten else None) / self.num_data_weight
        self.add_loss(kl)
        self.add_metric(kl, name=f"{self.name}_prior_kl", aggregation="mean")
        if self.full_cov:
            scale = safe_cholesky(cov, name="the predictive covariance")
            return tfd.MultivariateNormalTriL(loc=tf.transpose(mean), scale_tril=scale)
        return tfd.Independent(tfd.Normal(mean, tf.sqrt(cov)), reinterpreted_batch_ndims=1)

    def __call__(self, inputs, *args, **kwargs):
        # DistributionLambda.__call__ / call without its shared flag `_enter_dunder_call`,
        # which MirroredStrategy's replica threads race on (one replica's call returned a bare
        # distribution where the other expected a pair), and without Lambda's ban on creating
        # variables in a call (the KL metric's accumulators are created at the first call).
        distribution, _ = tf_keras.layers.Layer.__call__(self, inputs, *args, **kwargs)
        return distribution

    def call(self, inputs, training=None):
        """``(q(f(x)), its tensor)``: the layer's ``__call__`` returns the distribution."""
        distribution, value = self.function(inputs)
        self._most_recently_built_distribution_vars = distribution.variables
        return distribution, value

    def get_config(self):
        config = super().get_config()
        return {**config, "kernel": serialize(self.kernel), "num_inducing": self.num_inducing,
                "input_dim": self.input_dim, "num_latent_gps": self.num_latent_gps,
                "mean_function": self.mean_function, "whiten": self.whiten,
                "q_diag": self.q_diag, "train_inducing": self.train_inducing,
                "num_data": self.num_data, "full_cov": self.full_cov, "jitter": self.jitter,
                "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["kernel"] = kernel_lib.get(config["kernel"])
        return cls(**config)
