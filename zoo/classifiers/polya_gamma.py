"""``zoo.PolyaGammaLogisticRegression``: Bayesian logistic regression by exact Gibbs sampling
with Pólya-gamma auxiliary variables.

Model: ``y_i ~ Bernoulli(sigmoid(phi(x_i)^T beta))``, ``beta ~ N(0, alpha^{-1} I)``, with
``phi`` a polynomial basis ``[1, x, x^2, ..., x^degree]`` (per feature, no cross terms).
With ``omega_i ~ PG(1, 0)`` the likelihood is Gaussian in ``beta`` given ``omega``
(Polson, Scott & Windle 2013), so the Gibbs sweep alternates two exact draws::

    omega_i | beta ~ PG(1, phi_i^T beta)
    beta | omega   ~ N(Sigma Phi^T kappa, Sigma),  Sigma = (alpha I + Phi^T Omega Phi)^{-1},
                     kappa_i = y_i - 1/2

Through ``model.fit``: each training step draws ``omega`` for its batch (the sampler of
:mod:`kerasprob.math.polya_gamma`) and adds ``Phi^T Omega Phi`` and ``Phi^T kappa`` of the
batch to non-trainable accumulators; when a full pass over the data is in (the batch for
full-batch data; one epoch for a ``tf.data.Dataset``) ``beta`` is drawn for every chain,
kept after ``burn_in`` sweeps every ``thinning``-th sweep, and the accumulators reset. So
``tf.data`` input, callbacks, the progress bar and distribution strategies (statistics
summed over replicas) work, and ``omega`` is never stored.

>>> import numpy as np, zoo
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(100, 1)); y = (x[:, 0] + rng.normal(size=100) > 0).astype(int)
>>> model = zoo.PolyaGammaLogisticRegression(degree=1, burn_in=20, num_samples=50, seed=1)
>>> history = model.fit(x, y, verbose=0)
>>> model.posterior_samples().shape, model.predict_proba(np.zeros((2, 1))).shape
((50, 4, 2), (2,))

References:
  N. G. Polson, J. G. Scott, J. Windle (2013). Bayesian inference for logistic models using
  Pólya-gamma latent variables. JASA 108 (504): 1339-1349.
  L. C. Tiao (2021). A primer on Pólya-gamma random variables, part II: Bayesian logistic
  regression (the seed post; its loop is one chain of this sampler, full batch).
  A. Vehtari et al. (2021). Rank-normalization, folding, and localization: an improved
  R-hat (R-hat and ESS here are TFP's split-chain estimators).
"""

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from kerasprob.dtypes import FLOAT_PRECISIONS, resolve_precision
from kerasprob.math.polya_gamma import sample_polya_gamma
from kerasprob.math.random import stateless_seed
from kerasprob.tuning import Float, Int
from kerasprob.validation import (
    check_int_at_least,
    check_labels,
    check_positive_float,
    check_positive_int,
    check_seed,
)
from zoo.base import ZooModel, in_batches
from zoo.classifiers.streaming import array_batches, replica_sum
from zoo.conditioning import DataSpec
from zoo.registry import register

PREDICT_BATCH = 8192


class _SweepAtEpochEnd(tf_keras.callbacks.Callback):
    """Draws ``beta`` at the end of each epoch when ``fit`` reads a ``tf.data.Dataset``
    (an epoch is then a pass over the data)."""

    def on_epoch_end(self, epoch, logs=None):
        self.model._draw_beta_fn()


@register
class PolyaGammaLogisticRegression(ZooModel):
    """Bayesian logistic regression, exact Gibbs sampling with Pólya-gamma variables.

    Args:
      input_shape: ``(D,)``, the shape of one example (``None``: read from the first ``fit``).
      degree: the polynomial basis' highest power (``>= 1``; the default 1 is linear
        logistic regression with a bias): ``K = 1 + D * degree`` weights. The seed post's
        ``degree=3`` (``np.power(x, np.arange(3))``) is ``degree=2`` here.
      prior_precision: ``alpha`` in ``beta ~ N(0, alpha^{-1} I)`` (the post's 2.0).
      num_chains: independent chains, run together (their draws in one batch).
      burn_in: sweeps discarded at the start of each ``fit``.
      num_samples: posterior samples kept per chain (the latest ones, if ``fit`` runs
        longer).
      thinning: keep every ``thinning``-th sweep after burn-in.
      seed: int (reproducible: equal seeds give equal chains, also after save/load) or
        None (fresh draws at each ``fit``).
      precision: ``"float64"`` (default) or ``"float32"`` for the statistics and samples
        (the Pólya-gamma draws are made in float64).

    Input: ``x`` ``[batch, D]``; targets ``y`` ``[batch]`` in ``{0, 1}``.
    Output: the posterior predictive ``p(y = 1 | x)`` ``[batch]`` (the mean over the kept
    samples of ``sigmoid(phi(x)^T beta)``).
    """

    plots = ("confusion",)
    search_space = {
        "degree": Int(1, 4),
        "prior_precision": Float(1e-2, 1e2, sampling="log"),
    }

    data_arguments = ("input_shape",)

    def __init__(self, input_shape=None, degree=1, prior_precision=1.0, num_chains=4,
                 burn_in=200, num_samples=500, thinning=1, seed=0, precision="float64",
                 learning_rate=1e-3, **kwargs):
        precision = resolve_precision(precision, allowed=FLOAT_PRECISIONS)
        kwargs.pop("dtype", None)  # the dtype is `precision`
        super().__init__(learning_rate=learning_rate, dtype=precision, **kwargs)
        self.input_shape = input_shape
        self.degree = check_positive_int("degree", degree)
        self.prior_precision = check_positive_float("prior_precision", prior_precision)
        self.num_chains = check_positive_int("num_chains", num_chains)
        self.burn_in = check_int_at_least("burn_in", burn_in, 0)
        self.num_samples = check_positive_int("num_samples", num_samples)
        self.thinning = check_positive_int("thinning", thinning)
        self.seed = check_seed("seed", seed, allow_none=True)
        self.precision = precision
        self.loss_tracker = tf_keras.metrics.Mean(name="loss", dtype=precision)
        self.accuracy_tracker = tf_keras.metrics.Mean(name="accuracy", dtype=precision)
        self._finish()

    def build_layers(self):
        k, c, precision = self.num_weights, self.num_chains, self.precision

        def state(name, shape, dtype=precision):
            return self.add_weight(
                name=name, shape=shape, dtype=dtype, trainable=False, initializer="zeros",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

        self.beta = state("beta", (c, k))
        self.beta_samples = state("beta_samples", (self.num_samples, c, k))
        self.num_kept = state("num_kept", (), tf.int64)
        self.num_sweeps = state("num_sweeps", (), tf.int64)
        self.num_steps = state("num_steps", (), tf.int64)
        self.num_data = state("num_data", (), tf.int64)  # 0: a sweep per epoch
        self.seed_state = state("seed_state", (2,), tf.int32)
        self.omega_precision = state("omega_precision", (c, k, k))  # sum Omega phi phi^T
        self.kappa_phi = state("kappa_phi", (k,))  # sum (y - 1/2) phi
        self.examples = state("examples", (), tf.int64)

    @property
    def num_weights(self):
        """``K = 1 + D * degree``, the number of basis functions."""
        return 1 + self.num_features * self.degree

    # ------------------------------------------------------------------- keras
    def build_inputs(self):
        return tf.zeros((1, self.num_features), self.precision)

    def input_feature_shape(self):
        return self.input_shape

    def default_loss(self):
        return None

    def compile(self, optimizer=None, loss=None, **kwargs):
        """As ``ZooModel.compile``, with ``steps_per_execution=32`` unless given: a small
        data set's sweep is a short step, and Keras' per-call overhead would dominate it
        (the post's example: 1000 one-chain sweeps 5.3 s -> 0.7 s on a loaded 2-core CPU)."""
        kwargs.setdefault("steps_per_execution", 32)
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def fit_variables(self):
        return [self.beta, self.beta_samples, self.num_sweeps]

    def basis(self, x):
        """``phi(x) = [1, x, x^2, ..., x^degree]``: ``[batch, D] -> [batch, K]``."""
        x = tf.cast(x, self.precision)
        powers = [tf.ones_like(x[:, :1])] + [x**p for p in range(1, self.degree + 1)]
        return tf.concat(powers, axis=-1)

    def _kept_samples(self):
        """``[S', C, K]`` the kept samples (any order), or the current ``beta`` if none."""
        n = tf.minimum(self.num_kept, self.num_samples)
        return tf.cond(n > 0, lambda: self.beta_samples[:n], lambda: self.beta[None])

    def _probabilities(self, x):
        """``sigmoid(phi(x)^T beta_s)`` for every kept sample: ``[batch, S' * C]``."""
        samples = tf.reshape(self._kept_samples(), [-1, self.num_weights])  # [S' C, K]
        return tf.math.sigmoid(tf.linalg.matmul(self.basis(x), samples, transpose_b=True))

    def call(self, inputs, training=None):
        return tf.reduce_mean(self._probabilities(inputs), axis=-1)

    # ----------------------------------------------------------------- Gibbs
    def reset_chains(self):
        """Start the chains afresh: ``beta`` drawn from the prior, no samples kept."""
        seed = self.seed
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31))
        self.seed_state.assign(stateless_seed(seed))
        for v in (self.num_kept, self.num_sweeps, self.num_steps, self.examples,
                  self.omega_precision, self.kappa_phi, self.beta_samples):
            v.assign(tf.zeros_like(v))
        start = tf.random.stateless_normal(
            self.beta.shape, seed=tf.random.experimental.stateless_fold_in(self.seed_state, -1),
            dtype=self.precision)
        self.beta.assign(start / math.sqrt(self.prior_precision))

    def _draw_beta(self, complete=True):
        """``beta | omega ~ N(Sigma Phi^T kappa, Sigma)`` for every chain, from the
        accumulated statistics, if ``complete`` (a pass over the data is in): keeps it if
        due and resets the accumulators. No assignment sits in a conditional (a
        distribution strategy's replicas cannot synchronize there): new values are
        selected with ``tf.where`` and always written."""
        complete = tf.convert_to_tensor(complete)
        k = self.num_weights
        eye = tf.eye(k, dtype=self.precision)
        precision = self.prior_precision * eye + self.omega_precision  # [C, K, K]
        chol = tf.linalg.cholesky(precision)
        shift = tf.broadcast_to(self.kappa_phi[None, :, None], [self.num_chains, k, 1])
        mean = tf.linalg.cholesky_solve(chol, shift)[..., 0]  # [C, K]
        seed = tf.random.experimental.stateless_fold_in(
            tf.random.experimental.stateless_fold_in(self.seed_state, 1), self.num_sweeps)
        noise = tf.random.stateless_normal([self.num_chains, k, 1], seed=seed,
                                           dtype=self.precision)
        # L^{-T} eps has covariance (L L^T)^{-1} = Sigma.
        draw = tf.linalg.triangular_solve(chol, noise, lower=True, adjoint=True)[..., 0]
        beta = tf.where(complete, mean + draw, self.beta)
        sweeps = self.num_sweeps + tf.cast(complete, tf.int64)
        after = sweeps - self.burn_in
        keep = complete & (after > 0) & tf.equal(after % self.thinning, 0)
        slot = tf.cast(self.num_kept % self.num_samples, tf.int32)
        samples = tf.tensor_scatter_nd_update(
            self.beta_samples, slot[None, None],
            tf.where(keep, beta, self.beta_samples[slot])[None])
        self.beta.assign(beta)
        self.num_sweeps.assign(sweeps)
        self.beta_samples.assign(samples)
        self.num_kept.assign_add(tf.cast(keep, tf.int64))
        for v in (self.omega_precision, self.kappa_phi, self.examples):
            v.assign(tf.where(complete, tf.zeros_like(v), v))
        return beta

    @tf.function(autograph=False)
    def _draw_beta_fn(self):
        return self._draw_beta()

    def train_step(self, data):
        x, y, _ = tf_keras.utils.unpack_x_y_sample_weight(data)
        phi = self.basis(x)  # [b, K]
        y = tf.reshape(tf.cast(y, self.precision), [-1])
        beta = tf.convert_to_tensor(self.beta)
        logits = tf.linalg.matmul(beta, phi, transpose_b=True)  # [C, b]
        context = tf.distribute.get_replica_context()
        replica = 0 if context is None else context.replica_id_in_sync_group
        seed = tf.random.experimental.stateless_fold_in(
            tf.random.experimental.stateless_fold_in(self.seed_state, 2), self.num_steps)
        seed = tf.random.experimental.stateless_fold_in(seed, replica)
        omega = sample_polya_gamma(logits, seed=seed, dtype=self.precision)  # [C, b]
        weighted = omega[:, :, None] * phi[None]  # [C, b, K]
        batch_precision = tf.linalg.matmul(weighted, phi[None], transpose_a=True)  # [C, K, K]
        batch_shift = tf.linalg.matvec(phi, y - 0.5, transpose_a=True)  # [K]
        batch_count = tf.shape(phi, out_type=tf.int64)[0]
        batch_precision, batch_shift, batch_count = replica_sum(
            [batch_precision, batch_shift, batch_count])
        self.omega_precision.assign_add(batch_precision)
        self.kappa_phi.assign_add(batch_shift)
        self.examples.assign_add(batch_count)
        self.num_steps.assign_add(1)
        self._draw_beta(tf.logical_and(self.num_data > 0, self.examples >= self.num_data))
        # The Bernoulli negative log-likelihood of the batch under the chains' beta.
        nll = tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.broadcast_to(y[None], tf.shape(logits)), logits=logits)
        self.loss_tracker.update_state(tf.reduce_mean(nll, axis=0))
        return {"loss": self.loss_tracker.result(), "sweeps": self.num_sweeps}

    def test_step(self, data):
        """``loss``: ``-log p(y | x)`` under the posterior predictive (nats per example);
        ``accuracy`` of thresholding it at 1/2."""
        x, y, _ = tf_keras.utils.unpack_x_y_sample_weight(data)
        y = tf.reshape(tf.cast(y, self.precision), [-1])
        p = self(x)
        tiny = tf.constant(np.finfo(self.precision).tiny, self.precision)
        nll = -(y * tf.math.log(tf.maximum(p, tiny))
                + (1 - y) * tf.math.log(tf.maximum(1 - p, tiny)))
        hit = tf.cast(tf.equal(tf.cast(p >= 0.5, self.precision), y), self.precision)
        self.loss_tracker.update_state(nll)
        self.accuracy_tracker.update_state(hit)
        return {m.name: m.result() for m in self.metrics}

    # ------------------------------------------------------------------- data
    def dataset_structures(self):
        """``(x, y)`` batches, ``y`` the integer labels."""
        return [(DataSpec("x", self.input_shape), DataSpec("y", None, kind="int"))]

    def validate_target(self, name, y):
        return check_labels(name, y, 2)

    def validate_data(self, x, y=None, prefix=""):
        if isinstance(x, tf.data.Dataset) or x is None:
            return super().validate_data(x, y, prefix)
        raw = x
        x, y = super().validate_data(x, y, prefix)
        return np.asarray(raw, self.precision), y

    def fit(self, x=None, y=None, epochs=None, batch_size=None, reset=True, **kwargs):
        """Run Gibbs sweeps on ``x`` ``[n, D]`` with labels ``y`` ``[n]`` in ``{0, 1}`` (or a
        ``tf.data.Dataset`` of ``(x, y)`` batches, one sweep per epoch).

        Args:
          epochs: number of sweeps (default ``burn_in + num_samples * thinning``). For
            arrays they run as one Keras epoch of ``sweeps * ceil(n / batch_size)``
            steps, so the progress bar counts steps; for a dataset, an epoch is a sweep.
          batch_size: examples per step for arrays (default all of them: a step is then
            a sweep). Any batch size samples the same posterior.
          reset: restart the chains (default); ``reset=False`` continues them (more
            sweeps, keeping the samples and the burn-in already done).
          **kwargs: to ``tf_keras.Model.fit`` (``callbacks``, ``verbose``, ...).
        """
        sweeps = epochs if epochs is not None else self.burn_in + self.num_samples * self.thinning
        sweeps = check_positive_int("epochs", sweeps)
        self.check_fit_arguments({"batch_size": batch_size, **kwargs})
        callbacks = list(kwargs.pop("callbacks", None) or [])
        for name in ("steps_per_epoch", "shuffle"):
            if kwargs.get(name) is not None:
                raise ValueError(
                    f"{name} is set by PolyaGammaLogisticRegression.fit (a sweep is a pass "
                    f"over the data). Received: {name}={kwargs[name]!r}"
                )
        if y is not None or isinstance(x, tf.data.Dataset):
            self.build_from_data(x, y)
        if isinstance(x, tf.data.Dataset):
            if batch_size is not None:
                raise ValueError(
                    "batch_size must be None when x is a tf.data.Dataset (batch the "
                    f"dataset). Received: batch_size={batch_size!r}")
            self.validate_data(x)
            if reset:
                self.reset_chains()
            self.num_data.assign(0)
            callbacks.append(_SweepAtEpochEnd())
            return super().fit(x, epochs=sweeps, callbacks=callbacks, **kwargs)
        if y is None:
            raise ValueError(
                "PolyaGammaLogisticRegression needs labels: fit(x, y) with y in {0, 1}. "
                "Received: y=None")
        x, y = self.validate_data(x, y)
        if len(x) < 2:
            raise ValueError(f"fit needs at least 2 examples. Received: x with shape {x.shape}")
        batch_size = check_positive_int("batch_size", batch_size or len(x))
        steps = -(-len(x) // batch_size)
        if reset:
            self.reset_chains()
        self.num_data.assign(len(x))
        self.examples.assign(0)
        ds = array_batches(x, y, batch_size, repeat=True)
        return super().fit(ds, epochs=1, steps_per_epoch=sweeps * steps, callbacks=callbacks,
                           **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        """Mean ``-log p(y | x)`` under the posterior predictive (``loss``), ``accuracy``."""
        if not isinstance(x, tf.data.Dataset):
            batch_size = batch_size or PREDICT_BATCH
        return super().evaluate(x, y, batch_size=batch_size, **kwargs)

    # ------------------------------------------------------------- posterior
    def _require_samples(self):
        if int(self.num_kept.numpy()) == 0:
            raise ValueError(
                "no posterior samples yet: fit for more than burn_in sweeps first. Received: "
                f"{int(self.num_sweeps.numpy())} sweep(s) with burn_in={self.burn_in}")

    def posterior_samples(self):
        """Kept samples of ``beta`` in sweep order: ``[S', num_chains, K]`` numpy."""
        self._require_samples()
        kept = int(self.num_kept.numpy())
        samples = self.beta_samples.numpy()
        if kept <= self.num_samples:
            return samples[:kept]
        start = kept % self.num_samples
        return np.concatenate([samples[start:], samples[:start]])

    def diagnostics(self):
        """Split-chain potential scale reduction ``r_hat`` and effective sample size
        ``ess`` (summed over chains) of each weight: ``{"r_hat": [K], "ess": [K]}``."""
        samples = tf.constant(self.posterior_samples())  # [S', C, K]
        ess = tfp.mcmc.effective_sample_size(samples, cross_chain_dims=1
                                             if self.num_chains > 1 else None)
        if self.num_chains == 1:
            ess = ess[0]
        r_hat = tfp.mcmc.potential_scale_reduction(samples, independent_chain_ndims=1,
                                                   split_chains=True)
        return {"r_hat": r_hat.numpy(), "ess": np.asarray(ess)}

    def _check_x(self, x):
        return self.validate_data(x)[0]

    @tf.function(reduce_retracing=True, autograph=False)
    def _probabilities_fn(self, x):
        return self._probabilities(x)

    def _sample_probabilities(self, x):
        return in_batches(self._probabilities_fn, self._check_x(x), batch_size=PREDICT_BATCH)

    def predict_proba(self, x):
        """Posterior predictive ``p(y = 1 | x) = E[sigmoid(phi(x)^T beta)]`` ``[n]``."""
        self._require_samples()
        return self._sample_probabilities(x).mean(axis=-1)

    def predict_interval(self, x, level=0.9):
        """Equal-tailed credible interval of ``sigmoid(phi(x)^T beta)`` under the posterior:
        ``(lower [n], upper [n])``."""
        level = check_positive_float("level", level)
        if not level < 1:
            raise ValueError(f"level must be in (0, 1). Received: level={level}")
        self._require_samples()
        p = self._sample_probabilities(x)
        tail = (1 - level) / 2
        return np.quantile(p, tail, axis=-1), np.quantile(p, 1 - tail, axis=-1)

    def predict(self, x, **kwargs):
        """Labels ``[n]``: 1 where the posterior predictive is at least 1/2 (Keras'
        ``verbose`` is accepted and ignored)."""
        kwargs.pop("verbose", None)
        if kwargs:
            raise TypeError(f"predict(x) takes no keyword arguments. Received: {sorted(kwargs)}")
        return (self.predict_proba(x) >= 0.5).astype(np.int64)

    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(24, 1))
        y = (x[:, 0] + 0.5 * rng.normal(size=24) > 0).astype(np.int64)
        kwargs = {"input_shape": (1,), "degree": 2, "num_chains": 2, "burn_in": 0,
                  "num_samples": 5}
        return kwargs, x, y
