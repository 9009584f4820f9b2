"""``zoo.DensityRatioEstimator``: density ratios and divergences from samples.

It fits ``log r(x) = log p(x) / q(x)`` from samples of ``p`` and ``q`` alone (arrays,
``tf.data`` datasets or sampler callables), by training a
:class:`kerasprob.layers.DensityRatioClassifier` with ``model.fit``; ``kl_divergence``,
``js_divergence`` and ``f_divergence`` then return estimates with standard errors.

>>> import numpy as np, zoo
>>> rng = np.random.default_rng(0)
>>> x_p, x_q = rng.normal(1, 1, (2000, 1)), rng.normal(0, 2, (2000, 1))
>>> est = zoo.DensityRatioEstimator(network="quadratic", num_steps=300)
>>> history = est.fit(x_p, x_q, verbose=0)
>>> abs(est.kl_divergence(x_p).value - 0.4431) < 0.05   # exact KL[N(1, 1) || N(0, 4)]
True
"""


import itertools
import math

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.layers.density_ratio import (
    DensityRatioClassifier,
)
from kerasprob.math import density_ratio as dr
from kerasprob.optimizers import Adam
from kerasprob.tuning import Choice, Float, Units
from kerasprob.validation import (
    check_array,
    check_bool,
    check_choice,
    check_positive_int,
    check_units,
)
from zoo.base import ZooModel, as_numpy, in_batches
from zoo.registry import register

#: Examples per chunk when log ratios are computed for estimates.
_CHUNK = 65536


class _Pooled:
    """Checked, pooled data ``(x, labels)``, passed through ``ZooModel.fit`` unchanged."""

    def __init__(self, x, labels):
        self.x, self.labels = x, labels


def _is_dataset(value):
    return isinstance(value, tf.data.Dataset)


def _is_sampler(value):
    return callable(value) and not _is_dataset(value) and not isinstance(value, np.ndarray)


@register
class DensityRatioEstimator(ZooModel):
    """Density-ratio estimation by probabilistic classification, and divergences from it.

    ``log r(x) = log p(x) / q(x)`` is a network trained on samples of ``p`` (label 1) and
    ``q`` (label 0) with a proper ``objective`` (see
    :class:`kerasprob.layers.DensityRatioClassifier`); unequal sample counts are corrected
    by the class prior odds ``log(N_p / N_q)``. The loss Keras logs is the objective's
    value per example (for ``"bce"`` the pooled cross-entropy, ``log 2 - JS`` at the
    optimum with equal counts).

    Args:
      input_shape: ``(d,)``, the shape of one sample (``None``: read from the first ``fit``).
      network: ``"mlp"`` or ``"quadratic"`` (``log r = b + w^T x + x^T A x``, the exact
        family for two Gaussians: logistic regression on quadratic features).
      hidden_units: hidden sizes of the ``"mlp"`` network.
      activation: its activation (``benchmarks/README.md`` has the figures behind the
        default, ``"relu"``).
      objective: ``"bce"``, ``"kl"`` or a ``tfp.vi`` Csiszar function name.
      standardize: the network sees ``(x - mean) / std``, both taken from the pooled data
        of the first ``fit`` (saved with the model); ``r(x)`` itself does not depend on it,
        but the fit converges much faster.
      batch_size: pooled examples per step (both classes) in ``fit``'s default.
      num_steps: training steps of a ``fit`` called without ``epochs`` (arrays) or
        without ``steps_per_epoch`` (datasets and samplers).
      learning_rate: Adam learning rate; it decays to a tenth along the default run
        (``tf_keras.utils.set_random_seed`` before construction makes a fit repeatable).

    Input shape: ``[batch, d]``. ``predict`` returns ``log r(x)`` ``[batch]``.

    References:
      Sugiyama, Suzuki & Kanamori (2012), Density Ratio Estimation in Machine Learning.
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

    def __init__(self, input_shape=None, network="mlp", hidden_units=(64, 64), activation="relu",
                 objective="bce", standardize=True, batch_size=1024, num_steps=1000,
                 learning_rate=1e-2, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.input_shape = input_shape
        self.network = check_choice("network", network, ("mlp", "quadratic"))
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.activation = check_choice("activation", activation,
                                       ("relu", "tanh", "elu", "gelu", "softplus", "swish"))
        self.objective = check_choice("objective", objective, dr.OBJECTIVES)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.num_steps = check_positive_int("num_steps", num_steps)
        self.standardize = check_bool("standardize", standardize)
        self.classifier = DensityRatioClassifier(
            network=network, hidden_units=self.hidden_units, activation=activation,
            objective=objective, standardize=self.standardize, dtype=self.dtype_policy,
            name="classifier",
        )
        # The classifier owns the standardization (its log_ratio takes raw x); the name
        # ``normalizer`` keeps the path kerasprob 0.1 saved it under, so their files load.
        self.normalizer = self.classifier.standardization
        self._finish()

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
        x, labels, sample_weight = tf_keras.utils.unpack_x_y_sample_weight(data)
        if labels is None:
            return data
        return tf_keras.utils.pack_x_y_sample_weight((x, labels), None, sample_weight)

    def compile(self, optimizer=None, loss=None, **kwargs):
        if optimizer is None:
            # Adam whose rate decays to a tenth over the default run: the estimate settles
            # instead of jittering with the last steps' gradient noise.
            schedule = tf_keras.optimizers.schedules.CosineDecay(
                self.learning_rate, self.num_steps, alpha=0.1)
            optimizer = Adam(schedule)
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    # ------------------------------------------------------------------- data
    def _check_samples(self, name, x):
        x = check_array(name, x, feature_shape=self.input_shape)
        if x.ndim != 2:
            raise ValueError(f"{name} must have shape [n, d]. Received: {name} with shape "
                             f"{x.shape}")
        if len(x) < 2:
            raise ValueError(f"{name} must hold at least 2 samples. Received: {name} with shape "
                             f"{x.shape}")
        return x

    def _check_pair(self, x_p, x_q, prefix=""):
        """Both sample arrays checked: ``[n_p, d]`` and ``[n_q, d]``, finite, ``n >= 2``."""
        if x_p is None or x_q is None:
            raise ValueError(f"{prefix}x_p and {prefix}x_q (samples of p and of q) are both "
                             f"needed. Received: {prefix}x_p={type(x_p).__name__}, "
                             f"{prefix}x_q={type(x_q).__name__}")
        x_p = self._check_samples(prefix + "x_p", x_p)
        x_q = self._check_samples(prefix + "x_q", x_q)
        if x_p.shape[1] != x_q.shape[1]:
            raise ValueError(
                f"{prefix}x_p and {prefix}x_q must have the same number of features. Received: "
                f"{prefix}x_p with shape {x_p.shape} and {prefix}x_q with shape {x_q.shape}"
            )
        return x_p, x_q

    @staticmethod
    def _pool(x_p, x_q):
        """``(x, labels)``, the two classes mixed by a fixed permutation (so that every batch
        holds both, also with ``shuffle=False``)."""
        x = np.concatenate([x_p, x_q], 0)
        labels = np.concatenate([np.ones(len(x_p), np.float32), np.zeros(len(x_q), np.float32)])
        order = np.random.default_rng(0).permutation(len(x))
        return x[order], labels[order]

    def validate_data(self, x, y=None, prefix=""):
        if isinstance(x, _Pooled):
            return x.x, x.labels
        if _is_dataset(x) or x is None:
            return x, y
        if y is None:  # predict(x): one set of points
            return self._check_samples(prefix + "x", x), None
        return self._pool(*self._check_pair(x, y, prefix))

    def _validation_data(self, data):
        if data is None or _is_dataset(data):
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

    # ------------------------------------------------------------- streams
    def _stream(self, name, source, batch, d):
        """A dataset of batches ``[b, d]`` of one class, and its batch size ``b``."""
        if _is_dataset(source):
            spec = source.element_spec
            if not isinstance(spec, tf.TensorSpec) or spec.shape.rank not in (1, 2):
                raise ValueError(f"{name} must be a dataset of tensors [d] or batches [b, d]. "
                                 f"Received: element_spec={spec}")
            if spec.shape.rank == 1:
                source = source.batch(batch, drop_remainder=True)
            first = next(iter(source.take(1)), None)
            if first is None:
                raise ValueError(f"{name} is an empty dataset")
            self._check_samples(f"{name}'s first batch", np.asarray(first))
            if first.shape[-1] != d:
                raise ValueError(f"{name} must yield batches with {d} features. Received: a "
                                 f"batch with shape {tuple(first.shape)}")
            return source.map(lambda v: tf.cast(v, tf.float32)).repeat(), int(first.shape[0])
        if _is_sampler(source):
            def draws():
                for _ in itertools.count():
                    yield np.asarray(source(batch), np.float32)

            first = self._check_samples(f"{name}({batch})", np.asarray(source(batch)))
            if first.shape != (batch, d):
                raise ValueError(f"{name}(n) must return an array [n, {d}]. Received: "
                                 f"{name}({batch}) with shape {first.shape}")
            signature = tf.TensorSpec((batch, d), tf.float32)
            return tf.data.Dataset.from_generator(draws, output_signature=signature), batch
        x = self._check_samples(name, source)
        if x.shape[1] != d:
            raise ValueError(f"{name} must have {d} features. Received: {name} with shape "
                             f"{x.shape}")
        ds = tf.data.Dataset.from_tensor_slices(x).repeat().shuffle(min(len(x), 100_000))
        return ds.batch(batch, drop_remainder=True), batch

    def _feature_size(self, name, source):
        if _is_dataset(source):
            return int(source.element_spec.shape[-1])
        if _is_sampler(source):
            return int(np.shape(source(2))[-1])
        return int(self._check_samples(name, source).shape[1])

    def _streamed(self, x_p, x_q):
        """The pooled dataset of ``(x, labels)`` batches, and ``(b_p, b_q)``."""
        d_p, d_q = self._feature_size("x_p", x_p), self._feature_size("x_q", x_q)
        if d_p != d_q:
            raise ValueError("x_p and x_q must have the same number of features. Received: "
                             f"{d_p} and {d_q}")
        half = max(1, self.batch_size // 2)
        ds_p, b_p = self._stream("x_p", x_p, half, d_p)
        ds_q, b_q = self._stream("x_q", x_q, half, d_q)

        def pool(a, b):
            labels = tf.concat([tf.ones(tf.shape(a)[:1]), tf.zeros(tf.shape(b)[:1])], 0)
            return tf.concat([a, b], 0), labels

        ds = tf.data.Dataset.zip((ds_p, ds_q)).map(pool).prefetch(2)
        return ds, d_p, (b_p, b_q)

    # ------------------------------------------------------------------ train
    def fit(self, x_p=None, x_q=None, *, epochs=None, batch_size=None, steps_per_epoch=None,
            **kwargs):
        """Fit ``log r = log p / q`` from samples ``x_p`` of ``p`` and ``x_q`` of ``q``.

        Args:
          x_p, x_q: arrays ``[n_p, d]`` and ``[n_q, d]`` (pooled and shuffled each epoch;
            ``n_p != n_q`` is corrected by ``log(N_p / N_q)``), or ``tf.data`` datasets of
            batches ``[b, d]`` (or of single examples ``[d]``), or sampler callables
            ``f(n) -> [n, d]`` (implicit distributions: fresh draws every step). Datasets and
            samplers are drawn batch against batch, ``batch_size / 2`` a side for
            samplers and arrays, the correction taken from the first batches' sizes.
          epochs: default: ``num_steps`` steps in all (arrays), 1 (streams).
          batch_size: pooled batch size (arrays), default ``self.batch_size``.
          steps_per_epoch: steps per epoch of a stream, default ``num_steps``.
          **kwargs: for ``tf_keras.Model.fit`` (``validation_data=(x_p_val, x_q_val)``,
            ``callbacks``, ``verbose``, ...).
        """
        if not (_is_dataset(x_p) or _is_dataset(x_q) or _is_sampler(x_p) or _is_sampler(x_q)):
            x_p, x_q = self._check_pair(x_p, x_q)
            self._ensure_built(x_p.shape[1])
            self.classifier.set_sample_sizes(len(x_p), len(x_q))
            self.classifier.adapt_standardization(np.concatenate([x_p, x_q], 0))
            batch = check_positive_int("batch_size", batch_size or self.batch_size)
            n = len(x_p) + len(x_q)
            if epochs is None:
                epochs = max(1, math.ceil(self.num_steps / math.ceil(n / batch)))
            return super().fit(_Pooled(*self._pool(x_p, x_q)), None, epochs=epochs,
                               batch_size=batch, steps_per_epoch=steps_per_epoch,
                               shuffle=kwargs.pop("shuffle", True), **kwargs)
        if batch_size is not None:
            raise ValueError("batch_size applies to arrays; datasets bring their batches and "
                             "samplers draw batch_size / 2 of the constructor's batch_size. "
                             f"Received: batch_size={batch_size!r}")
        ds, d, (b_p, b_q) = self._streamed(x_p, x_q)
        self._ensure_built(d)
        self.classifier.set_sample_sizes(b_p, b_q)
        self.classifier.adapt_standardization(
            np.concatenate([x for x, _ in ds.take(8).as_numpy_iterator()], 0))
        return super().fit(ds, epochs=epochs or 1,
                           steps_per_epoch=steps_per_epoch or self.num_steps, **kwargs)

    def evaluate(self, x_p=None, x_q=None, **kwargs):
        """The objective on samples ``x_p``, ``x_q`` (their own class odds), per example."""
        if self.is_validation_pass(kwargs):  # fit's validation data: pooled and checked
            return tf_keras.Model.evaluate(self, **kwargs)
        if _is_dataset(x_p):
            return super().evaluate(x_p, **kwargs)
        x_p, x_q = self._check_pair(x_p, x_q)
        trained = self.classifier.log_prior_odds
        self.classifier.set_sample_sizes(len(x_p), len(x_q))
        try:
            return super().evaluate(_Pooled(*self._pool(x_p, x_q)), None, **kwargs)
        finally:
            self.classifier._log_prior_odds.assign(trained)

    # ---------------------------------------------------------------- estimates
    @tf.function(reduce_retracing=True, autograph=False)
    def _log_ratio_fn(self, x):
        return self.classifier.log_ratio(x)

    def _log_ratio(self, x, name="x"):
        self._require_built()
        return tf.constant(in_batches(self._log_ratio_fn, self._check_samples(name, x),
                                      batch_size=_CHUNK))

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
        """``KL[p || q] ~ mean log r(x_p)`` over samples ``x_p`` ``[n, d]`` of ``p``:
        ``Estimate(value, standard_error)`` (floats)."""
        return self._numbers(dr.kl_divergence_estimate(self._log_ratio(x_p, "x_p")))

    def kl_lower_bound(self, x_p, x_q):
        """``E_p[log r] - E_q[r - 1]`` with its standard error."""
        return self._numbers(dr.kl_lower_bound_estimate(self._log_ratio(x_p, "x_p"),
                                                        self._log_ratio(x_q, "x_q")))

    def js_divergence(self, x_p, x_q):
        """``JS[p || q]`` (plug-in) with its standard error."""
        return self._numbers(dr.js_divergence_estimate(self._log_ratio(x_p, "x_p"),
                                                       self._log_ratio(x_q, "x_q")))

    def f_divergence(self, f, x_q, x_p=None):
        """``D_f[p || q] ~ mean f(r(x_q))``, or with ``x_p`` the variational lower bound;
        ``f`` a ``tfp.vi`` Csiszar function name (e.g. ``"squared_hellinger"``)."""
        log_ratio_q = self._log_ratio(x_q, "x_q")
        if x_p is None:
            return self._numbers(dr.f_divergence_estimate(log_ratio_q, f))
        return self._numbers(dr.f_divergence_lower_bound_estimate(
            self._log_ratio(x_p, "x_p"), log_ratio_q, f))

    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x_p = rng.normal(1.0, 1.0, (32, 1)).astype("float32")
        x_q = rng.normal(0.0, 2.0, (32, 1)).astype("float32")
        return {"input_shape": (1,), "hidden_units": [8], "num_steps": 8}, x_p, x_q
