"""``zoo.DensityRatioEstimator``: density ratios and divergences from samples.

It fits ``log r(x) = log p(x) / q(x)`` from samples of ``p`` and ``q`` alone (arrays,
``tf.data`` datasets or sampler callables) with ``model.fit``, choosing the network's
capacity by cross-validation; ``kl_divergence``, ``js_divergence`` and ``f_divergence``
then return estimates with standard errors, cross-fitted on the fitted samples.

>>> import numpy as np, zoo
>>> rng = np.random.default_rng(0)
>>> x_p, x_q = rng.normal(1, 1, (2000, 1)), rng.normal(0, 2, (2000, 1))
>>> est = zoo.DensityRatioEstimator(num_steps=300)
>>> history = est.fit(x_p, x_q, verbose=0)
>>> kl = est.kl_divergence(x_p)   # exact KL[N(1, 1) || N(0, 4)] = 0.4431
>>> abs(kl.value - 0.4431) < 3 * kl.standard_error
True
>>> list(est.held_out_loss)   # the ladder, scored by 5-fold cross-validation
['quadratic', 'quadratic+mlp', 'mlp']
"""


import math

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.layers.cross_fitting import FAMILIES, CrossFittedLogRatio, fold_ids
from kerasprob.layers.density_ratio import DensityRatioClassifier
from kerasprob.math import density_ratio as dr
from kerasprob.optimizers import Adam
from kerasprob.tuning import Choice, Float, Units
from kerasprob.validation import (
    check_bool,
    check_choice,
    check_int_at_least,
    check_positive_float,
    check_positive_int,
    check_units,
)
from zoo.base import ZooModel, as_numpy, in_batches
from zoo.density_ratio import samples
from zoo.registry import register

#: Examples per chunk when log ratios are computed for estimates.
_CHUNK = 8192


class _Pooled:
    """Checked, pooled data ``(x, labels, fold)``, passed through ``ZooModel.fit`` unchanged."""

    def __init__(self, x, labels, fold):
        self.x, self.labels, self.fold = x, labels, fold


@register
class DensityRatioEstimator(ZooModel):
    """Density-ratio estimation by probabilistic classification, and divergences from it.

    ``log r(x) = log p(x) / q(x)`` is a network trained on samples of ``p`` (label 1) and
    ``q`` (label 0) with a proper ``objective`` (see
    :class:`kerasprob.layers.DensityRatioClassifier`); unequal sample counts are corrected
    by the class prior odds ``log(N_p / N_q)``.

    **Capacity from the data.** With ``network="auto"`` a ladder of candidates (the
    quadratic family, exact for two Gaussians; a quadratic with a weight-decayed MLP
    residual; an unpenalized MLP) is trained at once, each as ``folds`` fold members and
    one all-data member (:class:`kerasprob.layers.CrossFittedLogRatio`). The least
    flexible candidate whose ``folds``-fold held-out loss is within a standard error of
    the best is selected (``selected_network``, ``held_out_loss``, saved with the model),
    and its all-data member is ``log r``. Streams (datasets, samplers) assign folds by a
    hash of each example's values, so a repeated or reshuffled example stays in its fold.

    **Honest estimates.** On the very samples it was fitted on (recognised by their
    values), every estimate uses out-of-fold log ratios (cross-fitting: each point scored
    by a member that did not see it), so ``kl_divergence(x_p)`` on the training sample is
    as good as on fresh samples. Its standard error includes the error the learnt ratio
    carries from the fitted samples (``Var_q[r] / N_q``, and ``Var_p[log r] / N_p`` on
    fresh samples), not only the Monte Carlo spread.

    Args:
      input_shape: ``(d,)``, the shape of one sample (``None``: read from the first ``fit``).
      network: ``"auto"``, or one family: ``"quadratic"`` (``log r = b + w^T x + x^T A x``,
        logistic regression on quadratic features), ``"quadratic+mlp"`` or ``"mlp"``.
      hidden_units: hidden sizes of the MLPs.
      activation: their activation.
      objective: ``"bce"``, ``"kl"`` or a ``tfp.vi`` Csiszar function name; candidates are
        scored by its held-out value.
      standardize: the networks see ``(x - mean) / std``, both taken from the pooled data
        of the first ``fit`` (saved with the model); ``r(x)`` is a function of the raw
        ``x``.
      folds: ``k >= 2`` folds for selection and cross-fitting; ``None`` trains one network
        on all the data (``"mlp"`` or ``"quadratic"``; no selection, estimates on the
        training sample are then biased by its reuse).
      weight_decay: L2 penalty of the ``"quadratic+mlp"`` residual's kernels, per example
        of loss (the ``"mlp"`` rung is unpenalized).
      batch_size: pooled examples per step (both classes) in ``fit``'s default.
      num_steps: training steps of a ``fit`` called without ``epochs`` (arrays) or
        without ``steps_per_epoch`` (datasets and samplers).
      learning_rate: Adam learning rate; it decays to a tenth along the default run
        (``tf_keras.utils.set_random_seed`` before construction makes a fit repeatable).

    Input shape: ``[batch, d]``. ``predict`` returns ``log r(x)`` ``[batch]``.

    References:
      Sugiyama, Suzuki & Kanamori (2012), Density Ratio Estimation in Machine Learning.
      Chernozhukov et al. (2018), Double/debiased machine learning. Econometrics J. 21(1).
      Tiao (2018), Density Ratio Estimation for KL Divergence Minimization between
      Implicit Distributions.
    """

    data_kind = "two_sample"
    plots = ("history", "log_ratio")
    search_space = {
        "hidden_units": Units(widths=(16, 32, 64, 128), depths=(1, 2, 3)),
        "batch_size": Choice((256, 512, 1024, 2048)),
        "learning_rate": Float(1e-4, 3e-2, sampling="log"),
    }

    data_arguments = ("input_shape",)

    def __init__(self, input_shape=None, network="auto", hidden_units=(32, 32),
                 activation="relu", objective="bce", standardize=True, folds=5,
                 weight_decay=1e-3, batch_size=1024, num_steps=1000, learning_rate=1e-2,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.input_shape = input_shape
        self.network = check_choice("network", network, ("auto", *FAMILIES))
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.activation = check_choice("activation", activation,
                                       ("relu", "tanh", "elu", "gelu", "softplus", "swish"))
        self.objective = check_choice("objective", objective, dr.OBJECTIVES)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.num_steps = check_positive_int("num_steps", num_steps)
        self.standardize = check_bool("standardize", standardize)
        self.folds = None if folds is None else check_int_at_least("folds", folds, 2)
        self.weight_decay = check_positive_float("weight_decay", weight_decay, allow_zero=True)
        if self.folds is None:
            if network not in ("mlp", "quadratic"):
                raise ValueError("folds=None trains one network on all the data: network must "
                                 f"be 'mlp' or 'quadratic'. Received: network={network!r}")
            self.classifier = DensityRatioClassifier(
                network=network, hidden_units=self.hidden_units, activation=activation,
                objective=objective, standardize=self.standardize, dtype=self.dtype_policy,
                name="classifier")
            # kerasprob 0.1 saved the standardization under this path.
            self.normalizer = self.classifier.standardization
        else:
            self.classifier = CrossFittedLogRatio(
                candidates=FAMILIES if network == "auto" else [network], folds=self.folds,
                hidden_units=self.hidden_units, activation=activation,
                weight_decay=self.weight_decay, objective=objective,
                standardize=self.standardize, dtype=self.dtype_policy, name="classifier")
        self._finish()

    @classmethod
    def upgrade_config(cls, config):
        """kerasprob 0.1 files hold one network trained on all the data: ``folds=None``."""
        config = super().upgrade_config(config)
        config.setdefault("folds", None)
        return config

    def build_layers(self):
        if self.folds is not None:
            # Fingerprints of the fitted samples of p and q, and the out-of-fold moments
            # [N_p, mean log r(x_p), Var log r(x_p), N_q, mean r(x_q), Var r(x_q)].
            self._fitted_samples = self.add_weight(
                "fitted_samples", shape=(2,), dtype=tf.int64, trainable=False,
                initializer="zeros")
            self._fitted_moments = self.add_weight(
                "fitted_moments", shape=(6,), dtype=tf.float64, trainable=False,
                initializer="zeros")

    # ------------------------------------------------------------------ keras
    def call(self, inputs, training=None):
        return self.classifier(list(inputs) if isinstance(inputs, (list, tuple)) else inputs)

    def build_inputs(self):
        return tf.zeros((1, self.num_features), self.compute_dtype)

    def input_feature_shape(self):
        return self.input_shape

    def default_loss(self):
        return None  # the classifier adds its objective

    def _with_target(self, data):
        x, target, sample_weight = tf_keras.utils.unpack_x_y_sample_weight(data)
        if target is None:
            return data
        parts = tuple(target) if isinstance(target, (tuple, list)) else (target,)
        return tf_keras.utils.pack_x_y_sample_weight((x, *parts), None, sample_weight)

    def compile(self, optimizer=None, loss=None, **kwargs):
        if optimizer is None:
            # Adam whose rate decays to a tenth over the default run: the estimate settles
            # instead of jittering with the last steps' gradient noise.
            schedule = tf_keras.optimizers.schedules.CosineDecay(
                self.learning_rate, self.num_steps, alpha=0.1)
            optimizer = Adam(schedule)
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    # ----------------------------------------------------------- the choice
    @property
    def selected_network(self):
        """The network family ``log r`` uses (the selected candidate under ``"auto"``)."""
        if self.folds is None or not self.built:
            return self.network
        return self.classifier.selected_network

    @property
    def held_out_loss(self):
        """``{family: held-out objective per example}`` of the candidates (k-fold, out of
        fold); zeros before a fit, empty without folds."""
        if self.folds is None or not self.built:
            return {}
        return dict(zip(self.classifier.candidates, self.classifier.held_out_loss.tolist()))

    # ------------------------------------------------------------------- data
    def _check_samples(self, name, x):
        return samples.check_samples(name, x, self.input_shape)

    def _check_pair(self, x_p, x_q, prefix=""):
        return samples.check_pair(x_p, x_q, self.input_shape, prefix)

    def validate_data(self, x, y=None, prefix=""):
        if isinstance(x, _Pooled):
            return x.x, (x.labels if self.folds is None else (x.labels, x.fold))
        if samples.is_dataset(x) or x is None:
            return x, y
        if y is None:  # predict(x): one set of points
            return self._check_samples(prefix + "x", x), None
        pooled_x, labels, _ = samples.pool(*self._check_pair(x, y, prefix))
        return pooled_x, labels

    def _validation_data(self, data):
        if data is None or samples.is_dataset(data):
            return data
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError("validation_data must be (x_p_val, x_q_val) or a tf.data.Dataset "
                             f"of (x, labels). Received: validation_data of type "
                             f"{type(data).__name__}")
        return self.validate_data(data[0], data[1], "validation_")

    def _ensure_built(self, d):
        if self.input_shape is None:
            self._set_data_arguments({"input_shape": (int(d),)})
        elif d != self.num_features:
            raise ValueError(f"x_p and x_q must have {self.num_features} features "
                             f"(input_shape={self.input_shape}). Received: {d}")

    # ------------------------------------------------------------------ train
    def fit(self, x_p=None, x_q=None, *, epochs=None, batch_size=None, steps_per_epoch=None,
            **kwargs):
        """Fit ``log r = log p / q`` from samples ``x_p`` of ``p`` and ``x_q`` of ``q``, then
        choose the network (``network="auto"``) and record what cross-fitting needs.

        Args:
          x_p, x_q: arrays ``[n_p, d]`` and ``[n_q, d]`` (pooled and shuffled each epoch;
            ``n_p != n_q`` is corrected by ``log(N_p / N_q)``), or ``tf.data`` datasets of
            batches ``[b, d]`` (or of single examples ``[d]``), or sampler callables
            ``f(n) -> [n, d]`` (implicit distributions: fresh draws every step). Datasets and
            samplers are drawn batch against batch, ``batch_size / 2`` a side for
            samplers and arrays, the correction taken from the first batches' sizes; their
            examples are assigned folds by a hash of their values.
          epochs: default: ``num_steps`` steps in all (arrays), 1 (streams).
          batch_size: pooled batch size (arrays), default ``self.batch_size``.
          steps_per_epoch: steps per epoch of a stream, default ``num_steps``.
          **kwargs: for ``tf_keras.Model.fit`` (``validation_data=(x_p_val, x_q_val)``,
            ``callbacks``, ``verbose``, ...).
        """
        self.check_fit_arguments({"epochs": epochs, "batch_size": batch_size,
                                  "steps_per_epoch": steps_per_epoch, **kwargs})
        if samples.is_stream(x_p) or samples.is_stream(x_q):
            return self._fit_streams(x_p, x_q, epochs, batch_size, steps_per_epoch, kwargs)
        x_p, x_q = self._check_pair(x_p, x_q)
        self._ensure_built(x_p.shape[1])
        batch = batch_size or self.batch_size
        if epochs is None:
            epochs = max(1, math.ceil(self.num_steps / math.ceil((len(x_p) + len(x_q)) / batch)))
        fold_p = fold_q = None
        if self.folds is None:
            self.classifier.set_sample_sizes(len(x_p), len(x_q))
        else:
            fold_p, fold_q = self._fold_ids(len(x_p), "p"), self._fold_ids(len(x_q), "q")
            self.classifier.set_fold_sizes(fold_p, fold_q)
        self.classifier.adapt_standardization(np.concatenate([x_p, x_q], 0))
        history = super().fit(_Pooled(*samples.pool(x_p, x_q, fold_p, fold_q)), None,
                              epochs=epochs, batch_size=batch, steps_per_epoch=steps_per_epoch,
                              shuffle=kwargs.pop("shuffle", True), **kwargs)
        if self.folds is not None:
            self._cross_fit(x_p, x_q, fold_p, fold_q)
        return history

    def _fit_streams(self, x_p, x_q, epochs, batch_size, steps_per_epoch, kwargs):
        if batch_size is not None:
            raise ValueError("batch_size applies to arrays; datasets bring their batches and "
                             "samplers draw batch_size / 2 of the constructor's batch_size. "
                             f"Received: batch_size={batch_size!r}")
        ds, d, (b_p, b_q), (size_p, size_q) = samples.pooled_stream(
            x_p, x_q, self.batch_size, self.folds or 0)
        self._ensure_built(d)
        self.classifier.set_sample_sizes(b_p, b_q)
        self.classifier.adapt_standardization(
            np.concatenate([x for x, _ in ds.take(8).as_numpy_iterator()], 0))
        if self.folds is None:
            ds = ds.map(lambda x, target: (x, target[0]))
        steps = (steps_per_epoch or self.num_steps) * (epochs or 1)
        history = super().fit(ds, epochs=epochs or 1,
                              steps_per_epoch=steps_per_epoch or self.num_steps, **kwargs)
        if self.folds is not None:
            # Folds by content: each scored example is out of fold for its member, also
            # when a finite dataset repeats it. The fit saw steps * b examples a side, or
            # the whole of a finite dataset.
            scored = list(ds.take(samples.SCORED_BATCHES).as_numpy_iterator())
            x = np.concatenate([x for x, _ in scored])
            labels, fold = (np.concatenate([target[i] for _, target in scored]) for i in (0, 1))
            is_p = labels > 0.5
            self._select_and_record(x[is_p], x[~is_p], fold[is_p], fold[~is_p],
                                    min(steps * b_p, size_p or math.inf),
                                    min(steps * b_q, size_q or math.inf))
        return history

    def _fold_ids(self, num, side):
        return fold_ids(num, self.folds, seed=1 if side == "p" else 2)

    @tf.function(reduce_retracing=True, autograph=False)
    def _out_of_fold_fn(self, x, fold):
        return tf.transpose(self.classifier.out_of_fold_log_ratios(x, fold))  # [b, C]

    def _out_of_fold(self, x, fold):
        """``[C, n]`` out-of-fold log ratios of every candidate (all-data members where
        ``fold`` is None)."""
        fold = np.full(len(x), -1, np.int32) if fold is None else fold
        return in_batches(self._out_of_fold_fn, x, fold, batch_size=_CHUNK).T

    def _cross_fit(self, x_p, x_q, fold_p, fold_q):
        self._select_and_record(x_p, x_q, fold_p, fold_q, len(x_p), len(x_q))
        self._fitted_samples.assign([samples.fingerprint(x_p), samples.fingerprint(x_q)])

    def _select_and_record(self, x_p, x_q, fold_p, fold_q, num_p, num_q):
        """Select the candidate of least held-out loss over out-of-sample log ratios at
        ``x_p``, ``x_q``; record the winner's moments for estimates fitted on ``N_p`` and
        ``N_q`` samples."""
        oof_p, oof_q = self._out_of_fold(x_p, fold_p), self._out_of_fold(x_q, fold_q)
        loss = lambda labels, fold, oof: as_numpy(self.classifier.held_out_losses(  # noqa: E731
            labels, np.full(oof.shape[1], -1) if fold is None else fold, oof))
        self.classifier.select(np.concatenate([loss(np.ones(len(x_p)), fold_p, oof_p),
                                               loss(np.zeros(len(x_q)), fold_q, oof_q)], 1))
        best = self.classifier.selected
        log_ratio_p, ratio_q = oof_p[best].astype(np.float64), np.exp(oof_q[best].astype(
            np.float64))
        self._fitted_moments.assign([num_p, log_ratio_p.mean(), log_ratio_p.var(ddof=1),
                                     num_q, ratio_q.mean(), ratio_q.var(ddof=1)])
        self._fitted_samples.assign([0, 0])

    def evaluate(self, x_p=None, x_q=None, **kwargs):
        """The objective on samples ``x_p``, ``x_q`` (their own class odds), per example."""
        if self.is_validation_pass(kwargs):  # fit's validation data: pooled and checked
            return tf_keras.Model.evaluate(self, **kwargs)
        if samples.is_dataset(x_p):
            return super().evaluate(x_p, **kwargs)
        x_p, x_q = self._check_pair(x_p, x_q)
        odds = self.classifier._log_prior_odds
        trained = odds.numpy()
        self.classifier.set_sample_sizes(len(x_p), len(x_q))
        try:
            return super().evaluate(_Pooled(*samples.pool(x_p, x_q)), None, **kwargs)
        finally:
            odds.assign(trained)

    # ---------------------------------------------------------------- estimates
    @tf.function(reduce_retracing=True, autograph=False)
    def _log_ratio_fn(self, x):
        return self.classifier.log_ratio(x)

    def _log_ratio(self, x, name="x"):
        self._require_built()
        return tf.constant(in_batches(self._log_ratio_fn, self._check_samples(name, x),
                                      batch_size=_CHUNK))

    def _is_fitted_sample(self, x, side):
        if self.folds is None or not self.built:
            return False
        moments = self._fitted_moments.numpy()
        stored = int(self._fitted_samples.numpy()[0 if side == "p" else 1])
        num = moments[0 if side == "p" else 3]
        return stored != 0 and len(x) == num and samples.fingerprint(x) == stored

    def _estimate_log_ratio(self, x, name, side):
        """``(log r at x [n], cross_fitted)``: out-of-fold log ratios when ``x`` is the
        sample of ``side`` (``"p"`` or ``"q"``) the ratio was fitted on."""
        self._require_built()
        x = self._check_samples(name, x)
        if not self._is_fitted_sample(x, side):
            return self._log_ratio(x, name), False
        oof = self._out_of_fold(x, self._fold_ids(len(x), side))
        return tf.constant(oof[self.classifier.selected]), True

    def log_ratio(self, x):
        """``log r(x) = log p(x) / q(x)``: ``[n, d] -> [n]`` numpy array."""
        return as_numpy(self._log_ratio(x))

    def ratio(self, x):
        """``r(x) = p(x) / q(x)``: ``[n, d] -> [n]``."""
        return np.exp(self.log_ratio(x))

    def classifier_probability(self, x):
        """``p(x) / (p(x) + q(x)) = sigmoid(log r(x))``: ``[n, d] -> [n]``."""
        return as_numpy(tf.sigmoid(self._log_ratio(x)))

    @staticmethod
    def _numbers(estimate):
        return dr.Estimate(float(estimate.value), float(estimate.standard_error))

    def kl_divergence(self, x_p):
        """``KL[p || q] ~ mean log r(x_p)`` from samples ``x_p`` ``[n, d]`` of ``p``:
        ``Estimate(value, standard_error)`` (floats).

        On the sample of ``p`` the ratio was fitted on, ``log r`` is out of fold
        (cross-fitted) and the standard error is ``sqrt(Var_p[log r] / N_p + Var_q[r] /
        N_q)``; elsewhere the learnt ratio's variance from both fitted samples is added to
        the Monte Carlo one (:func:`kerasprob.math.density_ratio.kl_learning_variance`)."""
        log_ratio, cross_fitted = self._estimate_log_ratio(x_p, "x_p", "p")
        learning = 0.0
        if self.folds is not None and self.built:
            num_p, _, var_p, num_q, _, var_q = self._fitted_moments.numpy().tolist()
            if cross_fitted:
                learning = var_q / num_q
            elif num_p:
                learning = dr.kl_learning_variance(var_p, num_p, var_q, num_q)
        return self._numbers(dr.kl_divergence_estimate(log_ratio, learning))

    def kl_lower_bound(self, x_p, x_q):
        """``E_p[log r] - E_q[r - 1]`` with its standard error (cross-fitted on the fitted
        samples; first-order insensitive to the ratio's error, so the two samples' Monte
        Carlo error is the whole of it)."""
        return self._numbers(dr.kl_lower_bound_estimate(
            self._estimate_log_ratio(x_p, "x_p", "p")[0],
            self._estimate_log_ratio(x_q, "x_q", "q")[0]))

    def js_divergence(self, x_p, x_q):
        """``JS[p || q]`` (plug-in) with its standard error (cross-fitted on the fitted
        samples)."""
        return self._numbers(dr.js_divergence_estimate(
            self._estimate_log_ratio(x_p, "x_p", "p")[0],
            self._estimate_log_ratio(x_q, "x_q", "q")[0]))

    def f_divergence(self, f, x_q, x_p=None):
        """``D_f[p || q] ~ mean f(r(x_q))``, or with ``x_p`` the variational form
        ``E_p[f'(r)] - E_q[f*(f'(r))]`` (first-order insensitive to the ratio's error: its
        standard error is honest; the plug-in's counts only the spread of ``x_q``); ``f`` a
        ``tfp.vi`` Csiszar function name (e.g. ``"squared_hellinger"``). Cross-fitted on
        the fitted samples."""
        log_ratio_q = self._estimate_log_ratio(x_q, "x_q", "q")[0]
        if x_p is None:
            return self._numbers(dr.f_divergence_estimate(log_ratio_q, f))
        return self._numbers(dr.f_divergence_lower_bound_estimate(
            self._estimate_log_ratio(x_p, "x_p", "p")[0], log_ratio_q, f))

    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x_p = rng.normal(1.0, 1.0, (32, 1)).astype("float32")
        x_q = rng.normal(0.0, 2.0, (32, 1)).astype("float32")
        return {"input_shape": (1,), "hidden_units": [8], "num_steps": 8}, x_p, x_q
