"""The base of the zoo's Gaussian class-conditional classifiers, ``p(y = k) p(x | y = k)``
with Gaussian ``p(x | k)``: class counts, means and squared deviations streamed through
``model.fit`` into non-trainable variables (Chan et al.'s exact merge, summed over replicas),
the data and label checks, and batched predictions. :class:`zoo.GaussianNaiveBayes` (per-class
diagonal covariances) and :class:`zoo.GenerativeLogisticRegression` (one shared covariance)
build on it.
"""


import json

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from kerasprob.dtypes import FLOAT_PRECISIONS, resolve_precision
from kerasprob.math.naive_bayes import (
    class_log_joint,
    class_moments,
    merge_class_moments,
)
from kerasprob.validation import (
    check_int_at_least,
    check_labels,
    check_positive_int,
)
from zoo.base import ZooModel, in_batches
from zoo.classifiers.streaming import (
    FIT_BATCH,
    PREDICT_BATCH,
    array_batches,
    replica_sum,
)
from zoo.conditioning import DataSpec

tfd = tfp.distributions



def _is_named(y):
    """Whether labels ``y`` are names (strings, or objects) rather than class indices."""
    return not isinstance(y, tf.data.Dataset) and np.asarray(y).dtype.kind in "OUS"


def _check_classes(classes):
    """``classes`` as a list of distinct labels (strings or ints), or None."""
    if classes is None:
        return None
    values = np.asarray(classes).tolist() if not isinstance(classes, list) else classes
    if (not isinstance(values, list) or not values
            or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values)
            or len(set(values)) != len(values)):
        raise ValueError(f"classes must be a list of distinct labels (strings or ints). "
                         f"Received: classes={classes!r}")
    return values



def _replica_merge(count, mean, m2):
    """Merge per-replica class moments into the global batch's (identity on one replica)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return count, mean, m2
    total, weighted = replica_sum([count, count[:, None] * mean])
    grand = weighted / tf.maximum(total, 1)[:, None]
    spread = m2 + count[:, None] * tf.square(mean - grand)
    return total, grand, replica_sum(spread)


class GaussianClassConditional(ZooModel):
    """Base of the Gaussian class-conditional classifiers (not registered itself): class
    statistics streamed by ``fit``, data checks, batched predictions, TFP distributions.

    Args:
      input_shape: ``(d,)``, the shape of one example (``None``: read from the first ``fit``).
      num_classes: ``K``; labels are integers in ``[0, K)`` (``None``: one more than the
        largest label of the first ``fit``).
      classes: the class labels, in order, when they are not ``0 .. K - 1`` (``None``: the
        sorted distinct labels of the first ``fit`` if they are strings): ``y`` and
        ``predict`` speak in them.
      precision: ``"float64"`` (default, as scikit-learn) or ``"float32"``: statistics,
        data and every computation use it, whatever the global mixed-precision policy.
      learning_rate: Adam learning rate (used only by subclasses with trainable weights).

    Input: ``x`` ``[batch, d]``; targets ``y`` ``[batch]`` integer labels.
    Output: ``log p(y = k | x)`` ``[batch, K]`` (what Keras' ``predict`` returns on a
    dataset).
    """

    plots = ("confusion",)
    search_space = {}
    min_classes = 1
    data_arguments = ("input_shape", "num_classes")

    def __init__(self, input_shape=None, num_classes=None, classes=None, precision="float64",
                 learning_rate=1e-3, **kwargs):
        precision = resolve_precision(precision, allowed=FLOAT_PRECISIONS)
        kwargs.pop("dtype", None)  # the dtype is `precision`
        super().__init__(learning_rate=learning_rate, dtype=precision, **kwargs)
        self.input_shape = input_shape
        self.classes = classes
        if classes is not None:
            num_classes = len(classes) if num_classes is None else num_classes
        self.num_classes = (None if num_classes is None else
                            check_int_at_least("num_classes", num_classes, self.min_classes))
        if classes is not None and self.num_classes != len(classes):
            raise ValueError(
                f"num_classes must be the number of classes. Received: num_classes="
                f"{num_classes!r} with {len(classes)} classes {classes!r}")
        self.precision = precision
        self.loss_tracker = tf_keras.metrics.Mean(name="loss", dtype=precision)
        self.accuracy_tracker = tf_keras.metrics.Mean(name="accuracy", dtype=precision)

    @property
    def classes(self):
        """The class labels in order (``None``: the classes are ``0 .. K - 1``)."""
        return json.loads(self._classes_json)

    @classes.setter
    def classes(self, value):
        self._classes_json = json.dumps(_check_classes(value))

    def read_data_arguments(self, x, y=None):
        """As :meth:`zoo.ZooModel.read_data_arguments`; labels that are names give
        ``classes`` (sorted, when not given) and ``num_classes`` (when not given: else the
        names must be that many)."""
        if self.classes is not None or y is None or not _is_named(y):
            return super().read_data_arguments(x, y)
        names = np.unique(np.asarray(y).astype(str)).tolist()
        if self.num_classes is not None and len(names) != self.num_classes:
            raise ValueError(
                f"y must name num_classes={self.num_classes} classes. Received: y with "
                f"{len(names)} distinct labels {names[:5]}")
        missing = self.missing_data_arguments()
        found = {"classes": names}
        if "num_classes" in missing:
            found["num_classes"] = len(names)
        if "input_shape" in missing:
            found["input_shape"] = self._read_input_shape(x, y)
        return found

    def build_layers(self):
        k, d = self.num_classes, self.num_features
        stat = dict(trainable=False, dtype=self.precision, initializer="zeros",
                    aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.class_count = self.add_weight(name="class_count", shape=(k,), **stat)
        self.class_mean = self.add_weight(name="class_mean", shape=(k, d), **stat)
        self.class_m2 = self.add_weight(name="class_m2", shape=(k, d), **stat)

    # ------------------------------------------------------------------- keras
    def build_inputs(self):
        return tf.zeros((1, self.num_features), self.precision)

    def input_feature_shape(self):
        return self.input_shape

    def default_loss(self):
        return None  # train_step / test_step compute what they log

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def fit_variables(self):
        return [self.class_count, self.class_mean, self.class_m2]

    def call(self, inputs, training=None):
        return self._log_posterior(inputs)

    # ----------------------------------------------------------- the estimates
    def _log_prior(self):
        """``log pi_k = log(n_k / N)`` ``[K]`` (``-inf`` for a class never seen)."""
        return tf.math.log(self.class_count) - tf.math.log(tf.reduce_sum(self.class_count))

    def _loc(self):
        return tf.convert_to_tensor(self.class_mean)

    def _variance(self):
        """Class-conditional variances ``[K, d]`` (or a shared ``[d]``)."""
        raise NotImplementedError

    def _log_joint(self, x):
        x = tf.cast(x, self.precision)
        return class_log_joint(x, self._log_prior(), self._loc(), self._variance())

    def _log_posterior(self, x):
        joint = self._log_joint(x)  # [batch, K]
        return joint - tf.reduce_logsumexp(joint, axis=-1, keepdims=True)

    @property
    def prior(self):
        """The class prior ``p(y)``, a ``tfd.Categorical`` with ``K`` classes."""
        return tfd.Categorical(logits=self._log_prior())

    @property
    def class_conditionals(self):
        """``p(x | y = k)``: a ``tfd.MultivariateNormalDiag`` with batch shape ``[K]`` and
        event shape ``[d]``."""
        scale = tf.sqrt(tf.broadcast_to(self._variance(), tf.shape(self.class_mean)))
        return tfd.MultivariateNormalDiag(loc=self._loc(), scale_diag=scale)

    # -------------------------------------------------------------- training
    def reset_statistics(self):
        """Forget every example seen (``fit`` starts with this)."""
        for v in (self.class_count, self.class_mean, self.class_m2):
            v.assign(tf.zeros_like(v))

    def _accumulate(self, x, y):
        """Add one batch to the class statistics (summed over replicas)."""
        x = tf.cast(x, self.precision)
        y = tf.reshape(tf.cast(y, tf.int32), [-1])
        batch = _replica_merge(*class_moments(x, y, self.num_classes, self.precision))
        state = (self.class_count, self.class_mean, self.class_m2)
        merged = merge_class_moments(tuple(tf.convert_to_tensor(v) for v in state), batch)
        for variable, value in zip(state, merged):
            variable.assign(value)
        return x, y

    def train_step(self, data):
        x, y, _ = tf_keras.utils.unpack_x_y_sample_weight(data)
        self._accumulate(x, y)
        return {"examples": tf.reduce_sum(self.class_count)}

    def test_step(self, data):
        """``loss``: the mean negative log-probability of the true class,
        ``-log p(y | x)`` (nats per example); ``accuracy``."""
        x, y, _ = tf_keras.utils.unpack_x_y_sample_weight(data)
        y = tf.reshape(tf.cast(y, tf.int32), [-1])
        log_post = self._log_posterior(x)
        nll = -tf.gather(log_post, y, axis=1, batch_dims=1)
        hit = tf.cast(tf.equal(tf.argmax(log_post, axis=-1, output_type=tf.int32), y),
                      self.precision)
        self.loss_tracker.update_state(nll)
        self.accuracy_tracker.update_state(hit)
        return {m.name: m.result() for m in self.metrics}

    # ------------------------------------------------------------------- data
    def dataset_structures(self):
        """``(x, y)`` batches, ``y`` the integer labels."""
        return [(DataSpec("x", self.input_shape), DataSpec("y", None, kind="int"))]

    def validate_target(self, name, y):
        return self.class_indices(name, y)

    def class_indices(self, name, y, n=None):
        """Labels ``y`` ``[n]`` as class indices ``0 .. K - 1`` (through ``classes`` when the
        labels are names); ``ValueError`` naming a label that is no class."""
        classes = self.classes
        if classes is None:
            return check_labels(name, y, self.num_classes, n)
        labels = np.asarray(y)
        if labels.ndim != 1 or labels.size == 0:
            raise ValueError(f"{name} must be a non-empty array of labels [n]. Received: "
                             f"{name} with shape {labels.shape}")
        index = {label: k for k, label in enumerate(classes)}
        keys = labels.astype(str) if isinstance(classes[0], str) else labels.tolist()
        unknown = sorted({str(v) for v in keys if v not in index})
        if unknown:
            raise ValueError(f"{name} must hold labels of the classes {classes}. Received: "
                             f"{name} with label(s) {unknown[:5]}")
        return np.array([index[v] for v in keys], np.int64)

    def class_labels(self, indices):
        """Class indices ``[n]`` as the labels ``y`` used (``classes`` when they are names)."""
        classes = self.classes
        return indices if classes is None else np.asarray(classes)[indices]

    def validate_data(self, x, y=None, prefix=""):
        if isinstance(x, tf.data.Dataset) or x is None:
            return super().validate_data(x, y, prefix)
        raw = x
        x, y = super().validate_data(x, y, prefix)  # shape, finiteness, lengths, labels
        return np.asarray(raw, self.precision), y

    def _check_x(self, x, name="x"):
        return self.validate_data(x, prefix=name[:-1])[0]

    def _check_fit_data(self, x, y):
        x, y = self.validate_data(x, y)
        if len(x) < 2:
            raise ValueError(f"fit needs at least 2 examples. Received: x with shape {x.shape}")
        counts = np.bincount(y, minlength=self.num_classes)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            raise ValueError(
                f"every class needs at least one example; class(es) {empty.tolist()} have "
                f"none. Received: y with counts {counts.tolist()} (num_classes="
                f"{self.num_classes})"
            )
        return x, y

    def _check_fitted_statistics(self):
        """After a fit from a dataset: refuse classes never seen and zero variances."""
        counts = self.class_count.numpy()
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            raise ValueError(
                f"every class needs at least one example; the data had none of class(es) "
                f"{empty.tolist()}. Received: class counts {counts.tolist()}"
            )
        if counts.sum() < 2:
            raise ValueError(f"fit needs at least 2 examples. Received: {int(counts.sum())}")

    def fit(self, x=None, y=None, batch_size=None, shuffle=False, **kwargs):
        """Maximum likelihood from ``x`` ``[n, d]`` and labels ``y`` ``[n]`` (or a
        ``tf.data.Dataset`` of ``(x, y)`` batches), in one pass per epoch.

        Statistics are reset first, then accumulated over every batch of every epoch
        (complete epochs repeat each example equally, so the estimates do not change).
        ``batch_size`` defaults to 8192; ``shuffle`` to False (order does not matter).
        Other keyword arguments go to ``tf_keras.Model.fit``.
        """
        self.check_fit_arguments({"batch_size": batch_size, **kwargs})
        if y is None and not isinstance(x, tf.data.Dataset):
            raise ValueError(
                f"{type(self).__name__} needs labels: fit(x, y) with y the class of each row. "
                "Received: y=None"
            )
        self.build_from_data(x, y)
        if not isinstance(x, tf.data.Dataset):
            x, y = self._check_fit_data(x, y)
            x = self._as_dataset(x, y, batch_size or FIT_BATCH, shuffle)
            y = batch_size = None
        elif batch_size is not None:
            raise ValueError(
                "batch_size must be None when x is a tf.data.Dataset (batch the dataset). "
                f"Received: batch_size={batch_size!r}"
            )
        else:
            self.validate_data(x)
        self._before_fit()
        history = super().fit(x, y, **kwargs)
        self._check_fitted_statistics()
        return history

    def _before_fit(self):
        self.reset_statistics()

    def _as_dataset(self, x, y, batch_size, shuffle):
        """Checked arrays as a ``tf.data.Dataset`` of ``(x, y)`` batches (no second check in
        ``ZooModel.fit``)."""
        return array_batches(x, y, check_positive_int("batch_size", batch_size), shuffle)

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        """Mean ``-log p(y | x)`` (``loss``) and ``accuracy`` on labelled data."""
        if not isinstance(x, tf.data.Dataset):
            batch_size = batch_size or PREDICT_BATCH
        return super().evaluate(x, y, batch_size=batch_size, **kwargs)

    # ------------------------------------------------------------- prediction
    @tf.function(reduce_retracing=True, autograph=False)
    def _log_posterior_fn(self, x):
        return self._log_posterior(x)

    @tf.function(reduce_retracing=True, autograph=False)
    def _log_joint_fn(self, x):
        return self._log_joint(x)

    def _batched(self, fn, x, name="x"):
        if isinstance(x, tf.data.Dataset):
            return np.concatenate([fn(xb[0] if isinstance(xb, tuple) else xb).numpy()
                                   for xb in x])
        return in_batches(fn, self._check_x(x, name), batch_size=PREDICT_BATCH)

    def predict_log_proba(self, x):
        """``log p(y = k | x)``, ``[n, d] -> [n, K]``, normalized in log space."""
        return self._batched(self._log_posterior_fn, x)

    def predict_proba(self, x):
        """``p(y = k | x)``, ``[n, d] -> [n, K]``."""
        return np.exp(self.predict_log_proba(x))

    def predict(self, x, **kwargs):
        """The most probable class, ``[n, d] -> [n]`` int64 labels (the ``classes``' labels
        when they are names). Keras' ``verbose`` is accepted and ignored."""
        kwargs.pop("verbose", None)
        if kwargs:
            raise TypeError(
                f"predict(x) takes no keyword arguments but verbose. Received: {sorted(kwargs)}"
            )
        return self.class_labels(np.argmax(self.predict_log_proba(x), axis=-1).astype(np.int64))

    def log_prob(self, x, y=None):
        """``log p(x) = logsumexp_k log p(x, y = k)`` ``[n]``; with labels, ``log p(x, y)``."""
        joint = self._batched(self._log_joint_fn, x)  # [n, K]
        if y is None:
            peak = joint.max(axis=-1, keepdims=True)
            return (peak + np.log(np.sum(np.exp(joint - peak), -1, keepdims=True)))[:, 0]
        y = self.class_indices("y", y)
        if len(y) != len(joint):
            raise ValueError(
                f"x and y must have the same number of examples. Received: {len(joint)} and "
                f"{len(y)}"
            )
        return joint[np.arange(len(y)), y]

    def score(self, x, y):
        """Accuracy of :meth:`predict` on ``(x, y)``."""
        y = self.class_indices("y", y)
        return float(np.mean(np.argmax(self.predict_log_proba(x), axis=-1) == y))

    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        y = np.arange(40) % 3
        x = rng.normal(size=(40, 2)) + y[:, None]
        return {"input_shape": (2,), "num_classes": 3}, x, y
