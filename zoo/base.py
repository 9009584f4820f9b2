"""``ZooModel``: a compiled-by-default ``tf_keras.Model`` that checks its data.

A zoo model is a tf-keras model subclass whose constructor is its config:
every hyperparameter is a keyword argument stored under the same name and
returned by ``get_config``. It builds its weights and compiles itself in the
constructor, so ``fit`` works at once, and it

- checks ``fit`` / ``evaluate`` / ``predict`` data before any step
  (``ValueError`` / ``TypeError`` naming the argument and the value received);
- stops on a NaN loss and keeps its last finite weights;
- saves atomically (``save`` writes a temporary file, then renames it);
- declares a ``search_space`` whose names are constructor arguments, and a
  keras-tuner ``hypermodel()`` built from it;
- reads its data-shaped arguments from the first ``fit`` when they are ``None``, as
  scikit-learn estimators do: ``input_shape`` (the shape of one example of ``x``, the one
  name for it across the zoo) and, for classifiers, ``num_classes``.

Subclasses check their arguments in ``__init__`` and end it with ``self._finish()``; they make
their layers in ``build_layers()``, which runs then if every data argument is known, else at
the first ``fit``.
"""

import inspect
import os

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.callbacks import TerminateOnNaN
from kerasprob.losses import NegativeLogLikelihood
from kerasprob.math.distributions import as_distribution
from kerasprob.optimizers import Adam
from kerasprob.tuning import Float, ModelHyperModel, Objective
from kerasprob.validation import (
    check_array,
    check_int_at_least,
    check_labels,
    check_positive_float,
    check_positive_int,
    check_shape,
)
from zoo.conditioning import DataSpec, check_dataset
from zoo.files import atomic_path

#: Constructor arguments of kerasprob 0.1 files and the name each has now (``event_dim``,
#: ``input_dim`` and ``num_features`` were three names of ``input_shape``).
LEGACY_ARGUMENTS = {"event_dim": "input_shape", "input_dim": "input_shape",
                    "num_features": "input_shape"}


class ZooModel(tf_keras.Model):
    """Base class of zoo models.

    Args:
      learning_rate: Adam learning rate of the default compile.

    Class attributes:
      search_space: ``{constructor argument: kerasprob.tuning space}``.
      tuning_objective: the default tuning objective (a ``keras_tuner.Objective``: a metric
        the model logs and its direction), used by ``hypermodel()``'s tuners when given none
        (named apart from any constructor argument: ``DensityRatioEstimator(objective=...)``
        is its training loss).
      target_is_input: if True, ``fit(x)`` trains with ``y = x`` (autoencoders).
      data_kind: what ``fit`` takes, for the command line (``python -m zoo``):
        ``"unsupervised"`` ``fit(x)``, ``"supervised"`` ``fit(x, y)``, ``"conditional"``
        ``fit(x, c)`` (``c`` a label or context), ``"two_sample"`` ``fit(x_p, x_q)``.
      plots: the figures ``python -m zoo fit`` draws (names in ``zoo.plots.PLOTS``).
      data_arguments: the constructor arguments the first ``fit`` reads from its data when
        they are ``None``: ``"input_shape"`` and ``"num_classes"``.
      input_rank: the rank of one example (1: vectors ``[batch, d]``; ``None``: any, e.g.
        images for a VAE).
    """

    search_space = {"learning_rate": Float(1e-4, 1e-2, sampling="log")}
    tuning_objective = Objective("val_loss", "min")
    target_is_input = False
    data_kind = "supervised"
    plots = ("history",)
    data_arguments = ()
    input_rank = 1

    def __init__(self, learning_rate=1e-3, **kwargs):
        for old, new in LEGACY_ARGUMENTS.items():
            if old in kwargs:
                raise TypeError(
                    f"{old} is now {new}, one name for the shape of an example across the "
                    f"zoo (and optional: read from the first fit). Received: {old}="
                    f"{kwargs[old]!r}. Expected: {new}={kwargs[old]!r} or nothing")
        super().__init__(**kwargs)
        self.learning_rate = check_positive_float("learning_rate", learning_rate)

    # ------------------------------------------------------- data-shaped arguments
    @property
    def input_shape(self):
        """``input_shape``: the shape of one example of ``x`` (``None`` until the first
        ``fit`` when not given)."""
        return self.__dict__.get("_input_shape_argument")

    @input_shape.setter
    def input_shape(self, value):
        value = None if value is None else check_shape("input_shape", value)
        self.__dict__["_input_shape_argument"] = value  # a plain tuple, untracked by Keras

    @property
    def num_features(self):
        """``d``, the number of values in one example (the product of ``input_shape``)."""
        shape = self.input_shape
        return None if shape is None else int(np.prod(shape))

    def missing_data_arguments(self):
        """The :attr:`data_arguments` still ``None`` (read at the first ``fit``)."""
        return [name for name in self.data_arguments if getattr(self, name) is None]

    def _require_built(self):
        """Refuse to compute before the data-shaped arguments are known."""
        missing = self.missing_data_arguments()
        if missing:
            raise ValueError(
                f"{type(self).__name__} has not seen data yet: {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} read from the first fit: call fit "
                f"first, or pass {', '.join(f'{n}=...' for n in missing)} to the constructor")

    def read_data_arguments(self, x, y=None):
        """``{argument: value}`` for each missing data argument, read from ``fit``'s data
        (arrays or a ``tf.data.Dataset``); checks only what the reading needs."""
        found = {}
        missing = self.missing_data_arguments()
        if "input_shape" in missing:
            found["input_shape"] = self._read_input_shape(x, y)
        if "num_classes" in missing:
            found["num_classes"] = self._count_classes(x, y)
        return found

    def _read_input_shape(self, x, y):
        return _example_shape("x", self._features_of(x, y))

    def _features_of(self, x, y):
        """The features of ``fit``'s ``x``: ``x``, or the first of ``[x, c]`` packed for a model
        with a context (``context_dim > 0``)."""
        packed = isinstance(x, (list, tuple)) and len(x) == 2 and getattr(self, "context_dim", 0)
        return x[0] if packed else x

    def _count_classes(self, x, y):
        """``K``: one more than the largest integer label of ``y``."""
        if isinstance(x, tf.data.Dataset) or y is None:
            raise ValueError(
                f"{type(self).__name__} reads num_classes from the labels of fit(x, y), which "
                f"a tf.data.Dataset does not show before training. Received: x of type "
                f"{type(x).__name__}, y={'None' if y is None else type(y).__name__}. "
                "Expected: num_classes=... in the constructor")
        labels = check_labels("y", y)
        return max(int(labels.max()) + 1, getattr(self, "min_classes", 1))

    def build_from_data(self, x, y=None):
        """Read the missing data arguments from ``fit``'s data (``x``, ``y`` as ``fit`` takes
        them), then make the layers and weights; nothing once they are known. ``fit`` calls
        it first; call it to build a model before training it (e.g. to ``evaluate``)."""
        self._set_data_arguments(self.read_data_arguments(x, y))

    def _set_data_arguments(self, found):
        """Set data arguments ``{name: value}`` read from data; build if not built yet (a built
        model may still read names: a classifier's ``classes``)."""
        for name, value in found.items():
            setattr(self, name, value)
        if found and not self.built:
            self._check_data_arguments()
            self._build_now()

    # ----------------------------------------------------------------- config
    @classmethod
    def constructor_arguments(cls):
        """Names of the constructor's keyword arguments (this class and its bases)."""
        names = []
        for klass in cls.__mro__:
            if klass is tf_keras.Model:
                break
            for name, param in inspect.signature(klass.__init__).parameters.items():
                keyword = param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
                if name != "self" and keyword and name not in names:
                    names.append(name)
        return names

    def get_config(self):
        config = {"name": self.name}
        for name in self.constructor_arguments():
            value = getattr(self, name)
            config[name] = list(value) if isinstance(value, tuple) else value
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**cls.upgrade_config(dict(config)))

    @classmethod
    def upgrade_config(cls, config):
        """A config saved by kerasprob 0.1 in today's names (``event_dim``, ``input_dim`` and
        ``num_features`` become ``input_shape``); today's configs pass unchanged."""
        for old, new in LEGACY_ARGUMENTS.items():
            if old in config and old not in cls.constructor_arguments():
                value = config.pop(old)
                config.setdefault(new, None if value is None else [value])
        return config

    @classmethod
    def hypermodel(cls, **fixed):
        """A keras-tuner ``HyperModel`` over ``search_space``; ``fixed`` arguments are not tuned."""
        return ModelHyperModel(cls, **fixed)

    def fit_variables(self):
        """The state ``fit`` must change: the trainable weights of a model trained by gradient
        descent; models fitted otherwise (sufficient statistics, Gibbs sweeps, closed-form
        posteriors) return the variables their ``train_step`` writes."""
        return self.trainable_weights

    # --------------------------------------------------------- building, compiling
    def build_inputs(self):
        """A batch of one example, used to create every weight in ``__init__``."""
        raise NotImplementedError

    def build_layers(self):
        """Make the model's layers from its (complete) constructor arguments."""

    def _check_data_arguments(self):
        """Checks that need the data-shaped arguments (run once they are known); subclasses
        add theirs after this one's."""
        shape = self.input_shape
        if self.input_rank is not None and shape is not None and len(shape) != self.input_rank:
            raise ValueError(
                f"{type(self).__name__} takes examples of rank {self.input_rank} ([batch, d] "
                f"for vectors; flatten the examples first). Received: input_shape={shape!r}")

    def _finish(self):
        """Compile; make the layers and every weight now if the data arguments are known
        (so saved files load by layer path), else at the first ``fit``."""
        if not self.missing_data_arguments():
            self._check_data_arguments()
            self._build_now()
        self.compile()

    def _build_now(self):
        """Make the layers and every weight (under the distribution strategy the model was
        made in, also when that is at the first ``fit``); the optimizer's slots too once
        compiled."""
        with self.distribute_strategy.scope():
            self.build_layers()
            self(self.build_inputs())
            if self.optimizer is not None:
                self._build_optimizer()

    def _build_optimizer(self):
        """The optimizer's state slots now that the weights exist."""
        if isinstance(self.optimizer, tf_keras.optimizers.Optimizer):
            self.optimizer.build(self.trainable_variables)
        elif isinstance(self.optimizer, tf_keras.optimizers.legacy.Optimizer):
            # Legacy optimizers make their slots in the first step; made now, TerminateOnNaN
            # snapshots them with the weights (a NaN first step would keep NaN moments).
            self.optimizer._create_all_weights(self.trainable_variables)

    def compile(self, optimizer=None, loss=None, **kwargs):
        """``Adam(learning_rate)`` (:class:`kerasprob.optimizers.Adam`, tf-keras's Adam with
        a fused update) and the negative log-likelihood, unless given; builds the
        optimizer's state when the model's weights exist."""
        optimizer = optimizer or Adam(self.learning_rate)
        loss = loss or self.default_loss()
        super().compile(optimizer=optimizer, loss=loss, **kwargs)
        # The optimizer's slots now: made during the first training step instead, they make
        # tf.function trace the step twice (about 1 s for a small flow).
        if self.built:
            self._build_optimizer()

    def default_loss(self):
        """The loss of the default compile: the negative log-likelihood of the output
        distribution (``None`` for models that add their loss themselves)."""
        return NegativeLogLikelihood()

    def compile_from_config(self, config):
        """Restore a saved compile (optimizer, loss) and the optimizer's state slots."""
        self.compile(**tf_keras.saving.deserialize_keras_object(config))

    # ------------------------------------------------------------------- data
    def input_feature_shape(self):
        """Shape of one input example, ``None`` entries matching any size."""
        raise NotImplementedError

    def target_feature_shape(self):
        """Shape of one target, or ``None`` to skip the check."""
        return None

    def dataset_structures(self):
        """The element layouts a ``tf.data.Dataset`` for this model may have: a list of tuples
        of :class:`zoo.conditioning.DataSpec` (default ``(x,)``, ``(x, y)``, ``(x, y, w)``)."""
        x = DataSpec("x", self.input_feature_shape())
        y = DataSpec("y", self.target_feature_shape())
        w = DataSpec("sample_weight", None)
        return [(x,), (x, y), (x, y, w)]

    def validate_data(self, x, y=None, prefix=""):
        """Check ``x`` (and ``y``) and return them as arrays; a dataset's ``element_spec`` is
        checked against :meth:`dataset_structures`."""
        self._require_built()
        if isinstance(x, tf.data.Dataset):
            check_dataset(prefix + "x", x, self.dataset_structures())
            return x, y
        if x is None:
            return x, y
        x = check_array(prefix + "x", x, feature_shape=self.input_feature_shape())
        if y is not None:
            y = self.validate_target(prefix + "y", y)
            if len(y) != len(x):
                raise ValueError(
                    f"{prefix}x and {prefix}y must have the same number of examples. "
                    f"Received: {len(x)} and {len(y)}"
                )
        return x, y

    def validate_target(self, name, y):
        return check_array(name, y, feature_shape=self.target_feature_shape())

    def _check_weights(self, name, value):
        """Refuse per-example weights when there is no compiled loss for them to weight."""
        if value is not None and not getattr(self, "loss", None):  # None or an empty container
            raise ValueError(
                f"{type(self).__name__} cannot weight examples: Keras applies {name} to the "
                "compiled loss, and this model's loss (e.g. the negative ELBO) is added by its "
                f"layers, so the weights would be ignored. Received: {name} of type "
                f"{type(value).__name__}. Expected: no {name} (repeat or subsample the examples "
                "instead)"
            )

    @staticmethod
    def _input_target(x):
        """The target of a ``target_is_input`` model: ``x``, or the first of its inputs."""
        return x[0] if isinstance(x, (list, tuple)) else x

    def _target_for_weights(self, x, y, sample_weight):
        """The input target made explicit when weights come with a ``target_is_input``
        model: Keras drops sample weights that have no target."""
        if (sample_weight is None or y is not None or not self.target_is_input
                or isinstance(x, tf.data.Dataset)):
            return y
        return self._input_target(x)

    def _validation_data(self, data):
        if data is None:
            return data
        if isinstance(data, tf.data.Dataset):
            return self.validate_data(data, prefix="validation_")[0]
        if not isinstance(data, (tuple, list)):
            data = (data,)
        if len(data) > 2:
            self._check_weights("validation_data's sample weights", data[2])
        x, y = self.validate_data(data[0], data[1] if len(data) > 1 else None, "validation_")
        return (x,) if y is None else (x, y, *data[2:])

    # -------------------------------------------------------------- train loop
    def _with_target(self, data):
        x, y, sample_weight = tf_keras.utils.unpack_x_y_sample_weight(data)
        if y is None and self.target_is_input:
            y = self._input_target(x)
        return tf_keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    def train_step(self, data):
        return super().train_step(self._with_target(data))

    def test_step(self, data):
        return super().test_step(self._with_target(data))

    def predict_step(self, data):
        output = super().predict_step(data)
        return tf.convert_to_tensor(output) if as_distribution(output) is not None else output

    @staticmethod
    def check_fit_arguments(kwargs):
        """Check ``fit``'s loop arguments (``epochs``, ``batch_size``, ``steps_per_epoch``,
        ``initial_epoch``) before anything runs."""
        for name in ("epochs", "batch_size", "steps_per_epoch", "validation_batch_size"):
            if kwargs.get(name) is not None:
                check_positive_int(name, kwargs[name])
        if kwargs.get("initial_epoch") is not None:
            check_int_at_least("initial_epoch", kwargs["initial_epoch"], 0)

    def prepare_fit(self, x, y, fit_kwargs):
        """The state a fit sets from its checked data before the first step (data-dependent
        initialization, ``num_data``, default ``fit`` arguments): ``(x, y, fit_kwargs)``.
        Runs after every check, so a refused ``fit`` changes nothing; none by default."""
        return x, y, fit_kwargs

    def fit(self, x=None, y=None, *, validation_data=None, callbacks=None, **kwargs):
        """``tf_keras.Model.fit`` after reading the data arguments and checking the data once
        (arrays, datasets and ``validation_data``), then :meth:`prepare_fit`; stops on NaN
        keeping good weights."""
        self.check_fit_arguments(kwargs)
        self.build_from_data(x, y)
        x, y = self.validate_data(x, y)
        for name in ("sample_weight", "class_weight"):
            self._check_weights(name, kwargs.get(name))
        y = self._target_for_weights(x, y, kwargs.get("sample_weight"))
        validation_data = self._validation_data(validation_data)
        x, y, kwargs = self.prepare_fit(x, y, kwargs)
        callbacks = list(callbacks or [])
        if not any(isinstance(c, TerminateOnNaN) for c in callbacks):
            callbacks.append(TerminateOnNaN())
        return self.run_fit(x, y, validation_data=validation_data, callbacks=callbacks, **kwargs)

    def run_fit(self, x, y, **kwargs):
        """The training loop on checked, prepared data: ``tf_keras.Model.fit`` (a model
        trained otherwise, e.g. by L-BFGS, overrides it)."""
        return tf_keras.Model.fit(self, x, y, **kwargs)

    @staticmethod
    def is_validation_pass(kwargs):
        """Whether ``evaluate`` was called by ``fit`` on its ``validation_data`` (checked
        before the first step, then cached by Keras: not checked again each epoch)."""
        return bool(kwargs.get("_use_cached_eval_dataset"))

    def evaluate(self, x=None, y=None, **kwargs):
        """``tf_keras.Model.evaluate`` after checking the data."""
        if self.is_validation_pass(kwargs):
            return super().evaluate(x, y, **kwargs)
        x, y = self.validate_data(x, y)
        self._check_weights("sample_weight", kwargs.get("sample_weight"))
        y = self._target_for_weights(x, y, kwargs.get("sample_weight"))
        return super().evaluate(x, y, **kwargs)

    def predict(self, x, **kwargs):
        """``tf_keras.Model.predict`` after checking the data."""
        x, _ = self.validate_data(x)
        return super().predict(x, **kwargs)

    # ------------------------------------------------------------------ saving
    def save(self, filepath, overwrite=True, **kwargs):
        """Save in ``.keras`` format atomically: an interrupted save leaves any old file intact."""
        path = os.fspath(filepath)
        if not path.endswith(".keras"):
            raise ValueError(
                "filepath must end in '.keras' (the tf-keras v3 format). "
                f"Received: filepath={path!r}"
            )
        if os.path.exists(path) and not overwrite:
            raise FileExistsError(f"{path!r} exists and overwrite=False")
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise FileNotFoundError(
                f"filepath's directory does not exist. Received: filepath={path!r} "
                f"(directory {directory!r}); create it first"
            )
        with atomic_path(path, suffix=".keras") as tmp:
            super().save(tmp, overwrite=True, **kwargs)

    # ---------------------------------------------------------------- contract
    @classmethod
    def example(cls, seed=0):
        """A tiny ``(constructor kwargs, x, y)`` case for contract tests (``y`` may be None)."""
        raise NotImplementedError


def _example_shape(name, x):
    """The shape of one example of ``x`` (an array ``[n, ...]`` or a batched dataset)."""
    if isinstance(x, tf.data.Dataset):
        spec = x.element_spec
        spec = spec[0] if isinstance(spec, tuple) and spec else spec
        shape = getattr(spec, "shape", None)
        if shape is None or shape.rank is None or shape.rank < 2 or None in shape[1:]:
            raise ValueError(
                f"{name} must be a batched tf.data.Dataset whose first component has a known "
                f"shape [batch, ...] to read input_shape from. Received: element spec {spec!r}."
                " Expected: .batch(n) on a dataset of fixed-shape examples, or input_shape=... "
                "in the constructor")
        return tuple(int(d) for d in shape[1:])
    array = x if isinstance(x, np.ndarray) else np.asarray(x)
    if array.dtype.kind not in "biuf" or array.size == 0 or not np.all(np.isfinite(array)):
        check_array(name, array)  # the error that names the problem
    if array.ndim < 2:
        raise ValueError(
            f"{name} must have shape [batch, ...] (one row per example). Received: {name} "
            f"with shape {array.shape}")
    return array.shape[1:]


def in_batches(fn, *arrays, batch_size):
    """``fn`` over row batches of ``arrays`` (numpy), numpy outputs concatenated along axis 0:
    the zoo's one batched prediction loop (memory bounded by ``batch_size`` rows). ``fn``
    returns a tensor or a tuple of them; so does this, as numpy arrays.

    >>> in_batches(lambda a: a * 2, np.arange(5.0), batch_size=2).tolist()
    [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    batch_size = check_positive_int("batch_size", batch_size)
    outs = []
    for start in range(0, len(arrays[0]), batch_size):
        out = fn(*(tf.constant(a[start:start + batch_size]) for a in arrays))
        outs.append(tuple(np.asarray(o) for o in (out if isinstance(out, tuple) else (out,))))
    cat = tuple(np.concatenate(parts, axis=0) for parts in zip(*outs))
    return cat if len(cat) > 1 else cat[0]


def as_numpy(value):
    """A tensor or distribution's tensor value as a numpy array."""
    return np.asarray(tf.convert_to_tensor(value))
