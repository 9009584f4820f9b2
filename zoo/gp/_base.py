"""What every zoo GP model shares: float64 data checks, inducing-input initialization, batched
prediction, and a train loop whose loss is a negative bound per example.

Subclasses set their arguments in ``__init__`` and end it with ``self._finish()``; they
implement ``build_layers()`` (the :class:`kerasprob.layers.gp.SVGP` layers and the
likelihood, from ``self.num_features``), ``_negative_objective(x, y, training)`` (a scalar: nats
per example, the loss Keras logs), ``_predict_f_batch(x, full_cov)`` (latent mean and
variance), ``_predict_y_batch(x)`` and ``_first_layer()`` (the SVGP layer on the inputs).
With ``input_shape=None`` the layers are built at the first ``fit``, from the data.
"""

import json
import math

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.callbacks import ConvergenceStopping
from kerasprob.dtypes import FLOAT_PRECISIONS, resolve_precision
from kerasprob.layers.gp import SVGP
from kerasprob.layers.gp import kernels as kernel_lib
from kerasprob.layers.gp.kernels import KERNELS, Kernel, in_dtype
from kerasprob.math import gp as gp_math
from kerasprob.math.positive import TRANSFORMS, inverse_positive
from kerasprob.optimizers import NaturalGradient
from kerasprob.serialization import serialize
from kerasprob.validation import (
    check_array,
    check_bool,
    check_choice,
    check_positive_float,
    check_positive_int,
    check_seed,
)
from zoo.base import ZooModel, in_batches

# A zoo GP computes in its ``precision`` (kerasprob.dtypes.FLOAT_PRECISIONS): a Cholesky in
# 16 bits is hopeless, so under a mixed global policy it still computes (and keeps its
# variables) in float64 or float32.

#: Examples per batch of the prediction loops (``predict_f``, ``predict_log_density``, ...).
PREDICT_BATCH = 4096

#: A ``fit`` that does not say ``epochs`` runs until converged
#: (:class:`kerasprob.callbacks.ConvergenceStopping`): until the loss's mean over a window
#: of at least ``CONVERGED_WINDOW`` steps improves by less than ``CONVERGED_DELTA`` nats per
#: example on the window before; at most ``MAX_STEPS`` optimizer steps (whole epochs).
MAX_STEPS = 20000
CONVERGED_DELTA = 1e-3
CONVERGED_WINDOW = 200


class GaussianProcessModel(ZooModel):
    """Base class of the zoo's sparse GP models (not registered itself).

    Args:
      input_shape: ``(D,)``, the shape of one example of ``x`` (an int ``D`` too; ``None``:
        read from the first ``fit``'s data, and the model is built then).
      num_inducing: ``M``, the number of inducing inputs (at most the number of training
        examples; ``fit`` refuses more).
      kernel: the covariance function: a name of ``kerasprob.layers.gp.kernels.KERNELS``
        (``"rbf"`` with ARD lengthscales, ``"matern12"``, ``"matern32"``, ``"matern52"``,
        ``"rational_quadratic"``, ``"linear"``, ...), a kernel layer (e.g.
        ``SquaredExponential(...) + Linear(...)``; the model keeps a copy of its
        configuration, every part in ``precision``, whatever dtype it was made with) or one
        serialized (a dict).
      inducing_init: ``"random"`` (a random subset of the first ``fit``'s inputs) or
        ``"kmeans"`` (k-means centres of them).
      train_inducing: learn the inducing inputs (else they stay where initialized).
      seed: seed of the inducing-input initialization (and of nothing else).
      precision: ``"float64"`` (default; GP users' default, for a stable Cholesky) or
        ``"float32"``. Variables, data and every computation use it, whatever the global
        mixed-precision policy says.
      learning_rate: Adam learning rate.
      jitter: absolute jitter on the diagonal of ``K_uu`` (None: 1e-8 in float64, 1e-6 in
        float32; escalated, with a warning, only where its Cholesky factorization fails; see
        :class:`kerasprob.layers.gp.SVGP`).
      natural_gradient: ``None`` (Adam moves every weight) or a step size ``gamma`` in
        ``(0, 1]``: ``q(u)`` then takes natural-gradient steps and the other weights Adam's
        (:class:`kerasprob.optimizers.NaturalGradient`). With a Gaussian likelihood and the
        whole training set in one batch, ``gamma=1`` puts ``q(u)`` at its optimum each step;
        with minibatches or other likelihoods, 0.1 is steadier.
      positive: how a named kernel's and the noise's positive hyperparameters are stored:
        ``"exp"`` (default: a log scale, so an Adam step changes a variance of 2500 by the
        same fraction as one of 1, and data in raw units trains as standardized data would)
        or ``"softplus"`` (GPflow's choice; steps of about the learning rate in the
        parameter's own units). Files saved before this argument existed load as softplus.

    A kernel given by name starts at the data's scales at the first ``fit``: lengthscales
    at each feature's standard deviation (and, for a regressor, the variance at ``var(y)``
    and, unless ``noise_variance`` is given, the noise at ``var(y) / 10``), so raw,
    unstandardized data trains as standardized data would.

    Input: ``x`` ``[batch, D]``. Targets: see the subclass.
    """

    plots = ("history", "predictions")
    data_arguments = ("input_shape",)

    def __init__(self, input_shape=None, num_inducing=50, kernel="rbf", inducing_init="kmeans",
                 train_inducing=True, seed=0, precision="float64", learning_rate=1e-2,
                 jitter=None, natural_gradient=None, positive="exp", **kwargs):
        precision = resolve_precision(precision, allowed=FLOAT_PRECISIONS)
        kwargs.pop("dtype", None)  # the dtype is `precision`
        super().__init__(learning_rate=learning_rate, dtype=precision, **kwargs)
        self.input_shape = input_shape
        self.num_inducing = check_positive_int("num_inducing", num_inducing)
        if isinstance(kernel, Kernel):
            kernel = serialize(kernel)  # the config: the model makes its own copy
        if not isinstance(kernel, (str, dict)):
            raise TypeError(
                "kernel must be a kernel name, a kernel layer or a serialized kernel layer. "
                f"Received: kernel of type {type(kernel).__name__}")
        if isinstance(kernel, str):
            check_choice("kernel", kernel, tuple(KERNELS))
        else:
            kernel = in_dtype(kernel, precision)
        # Kept as JSON text: Keras would wrap a dict attribute in a tracking container.
        self._kernel_json = json.dumps(kernel)
        self.inducing_init = check_choice("inducing_init", inducing_init, ("random", "kmeans"))
        self.train_inducing = check_bool("train_inducing", train_inducing)
        self.seed = check_seed("seed", seed)
        self.precision = precision
        self.jitter = None if jitter is None else check_positive_float("jitter", jitter,
                                                                       allow_zero=True)
        self.natural_gradient = self._check_natural_gradient(natural_gradient)
        self.positive = check_choice("positive", positive, TRANSFORMS)
        self.loss_tracker = tf_keras.metrics.Mean(name="loss", dtype=precision)
        # Whether the inducing inputs were set from data (saved with the model, so a loaded
        # model is not re-initialized by its next fit).
        self.initialized = self.add_weight(
            name="initialized", shape=(), dtype=precision, trainable=False,
            initializer="zeros")
        self.num_data = self.add_weight(
            name="num_data", shape=(), dtype=precision, trainable=False,
            initializer=tf_keras.initializers.Constant(1.0))

    #: Whether ``q(u)`` is trained by gradients (so ``natural_gradient`` applies).
    variational_by_gradient = True

    @classmethod
    def upgrade_config(cls, config):
        """Configs saved before ``positive`` existed stored softplus raw weights."""
        config = super().upgrade_config(config)
        config.setdefault("positive", "softplus")
        return config

    def _check_natural_gradient(self, gamma):
        if gamma is None:
            return None
        if not self.variational_by_gradient:
            raise ValueError(
                f"{type(self).__name__} sets q(u) in closed form, not by gradient steps; "
                f"natural_gradient does not apply. Received: natural_gradient={gamma!r}")
        gamma = check_positive_float("natural_gradient", gamma)
        if gamma > 1.0:
            raise ValueError(f"natural_gradient must be in (0, 1]. Received: "
                             f"natural_gradient={gamma}")
        return gamma

    def compile(self, optimizer=None, **kwargs):
        """:class:`kerasprob.optimizers.NaturalGradient` when ``natural_gradient`` is set
        (else :class:`zoo.base.ZooModel`'s Adam), unless ``optimizer`` is given."""
        if optimizer is None and self.natural_gradient is not None:
            optimizer = NaturalGradient(self.natural_gradient, self.learning_rate)
        super().compile(optimizer=optimizer, **kwargs)

    @property
    def kernel(self):
        """The ``kernel`` argument (a name, or a serialized kernel layer as a plain dict)."""
        return json.loads(self._kernel_json)

    # ---------------------------------------------------------------- building
    def _make_svgp(self, input_dim, num_latent_gps, mean_function, name, **kwargs):
        """One :class:`kerasprob.layers.gp.SVGP` layer in ``precision`` (``kwargs``: its
        ``whiten``, ``q_diag``, ...; whitened with a full ``q_sqrt`` by default)."""
        kernel = self.kernel
        if isinstance(kernel, str):
            kernel = kernel_lib.get(kernel, input_dim=input_dim, dtype=self.precision,
                                    positive=self.positive)
        return SVGP(kernel, self.num_inducing, input_dim, num_latent_gps=num_latent_gps,
                    mean_function=mean_function, train_inducing=self.train_inducing,
                    jitter=self.jitter, seed=self.seed, dtype=self.precision, name=name,
                    **kwargs)

    def _svgp_layers(self):
        """The model's SVGP layers, input side first."""
        return [self._first_layer()]

    # ------------------------------------------------------------------- keras
    def build_inputs(self):
        return tf.zeros((1, self.num_features), self.precision)

    def input_feature_shape(self):
        return self.input_shape

    def default_loss(self):
        return None  # the loss is the negative bound, computed in train_step

    @property
    def metrics(self):
        return [self.loss_tracker]

    def _train_variables(self):
        """The variables the optimizer updates (all trainable ones unless overridden)."""
        return self.trainable_variables

    def _scaled(self, loss):
        """Per-replica share of a per-example loss: gradients are summed over replicas."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return loss / tf.cast(replicas, loss.dtype)

    def train_step(self, data):
        x, y, _ = tf_keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            loss = self._negative_objective(x, y, training=True)
            scaled = self._scaled(loss)
        variables = self._train_variables()
        self.optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        x, y, _ = tf_keras.utils.unpack_x_y_sample_weight(data)
        self.loss_tracker.update_state(self._negative_objective(x, y, training=False))
        return {"loss": self.loss_tracker.result()}

    def predict_step(self, data):
        x, _, _ = tf_keras.utils.unpack_x_y_sample_weight(data)
        return self._predict_y_batch(tf.cast(x, self.precision))

    # -------------------------------------------------------------------- data
    def _as_precision(self, name, value, feature_shape):
        """``value`` checked (shape, finite) and returned in ``precision`` (float64 kept)."""
        check_array(name, value, feature_shape=feature_shape)
        return np.asarray(value, dtype=self.precision)

    def _check_x(self, x, name="x"):
        self._require_built()
        return self._as_precision(name, x, self.input_shape)

    def validate_data(self, x, y=None, prefix=""):
        if isinstance(x, tf.data.Dataset) or x is None:
            return super().validate_data(x, y, prefix)
        x = self._check_x(x, prefix + "x")
        if y is not None:
            y = self.validate_target(prefix + "y", y)
            if len(y) != len(x):
                raise ValueError(
                    f"{prefix}x and {prefix}y must have the same number of examples. "
                    f"Received: {len(x)} and {len(y)}"
                )
        return x, y

    # ---------------------------------------------------------------- training
    def _inducing_from_data(self, x):
        """``[M, D]`` initial inducing inputs from the training inputs ``x``."""
        if self.inducing_init == "kmeans":
            return gp_math.kmeans_inducing_inputs(x, self.num_inducing, seed=self.seed)
        return gp_math.random_inducing_inputs(x, self.num_inducing, seed=self.seed)

    def _set_inducing_inputs(self, z):
        """Place the first layer's inducing inputs at ``z``; deeper layers (a deep GP) get
        ``z``'s first features, where their identity-initialized linear means put the data."""
        for layer in self._svgp_layers():
            width = layer.input_dim
            zl = z[:, :width]
            if zl.shape[1] < width:
                zl = np.concatenate([zl, np.zeros((len(z), width - zl.shape[1]))], 1)
            layer.inducing_inputs.assign(zl.astype(self.precision))

    def _check_num_data(self, n):
        if self.num_inducing > n:
            raise ValueError(
                f"num_inducing must be at most the number of training examples. Received: "
                f"num_inducing={self.num_inducing} with {n} examples in x; pass "
                f"num_inducing<={n}"
            )

    def _prepare_fit(self, x, y):
        """Before the first step: ``num_data`` from the data, inducing inputs at the first fit."""
        n = len(x)
        self._check_num_data(n)
        self.set_num_data(n)
        if not self.initialized.numpy():
            self._set_inducing_inputs(self._inducing_from_data(x))
            self._initialize_kernel(x)
            self._initialize_from_targets(y)
            self.initialized.assign(1.0)

    def _prepare_dataset_fit(self, dataset):
        """``N`` counted over one pass of a finite dataset (unless set), and at the first fit
        the inducing inputs from its first batches (up to ``max(4096, 10 M)`` examples)."""
        if not self._num_data_set:
            size = int(dataset.cardinality())
            if size < 0:
                raise ValueError(
                    "x is a tf.data.Dataset of unknown or infinite size, so the number of "
                    "training examples N (the KL is divided by it) cannot be counted. Call "
                    f"set_num_data(N) before fit. Received: cardinality {size}")
            n = int(dataset.reduce(np.int64(0), lambda total, batch: total + tf.cast(
                tf.shape(tf.nest.flatten(batch)[0])[0], tf.int64)))
            self._check_num_data(n)
            self.set_num_data(n)
        if not self.initialized.numpy():
            xs, ys, total = [], [], 0
            for batch in dataset:
                xs.append(np.asarray(batch[0]))
                ys.append(np.asarray(batch[1]))
                total += len(xs[-1])
                if total >= max(4096, 10 * self.num_inducing):
                    break
            x, y = np.concatenate(xs, 0).astype(self.precision), np.concatenate(ys, 0)
            self._check_num_data(len(x))
            self._set_inducing_inputs(self._inducing_from_data(x))
            self._initialize_kernel(x)
            self._initialize_from_targets(y)
            self.initialized.assign(1.0)

    @property
    def _num_data_set(self):
        """Whether ``N`` was set, by :meth:`set_num_data` or an earlier fit."""
        return bool(self.initialized.numpy()) or float(self.num_data.numpy()) != 1.0

    def _initialize_kernel(self, x):
        """A named kernel starts at the data's scale: its lengthscales (per feature, or their
        mean if shared) at the standard deviation of each feature of the first ``fit``'s
        ``x`` (1 for a constant feature). A kernel given as an object keeps its values."""
        kernel = self._first_layer().kernel
        raw = getattr(kernel, "raw_lengthscales", None)
        if not isinstance(self.kernel, str) or raw is None or self.kernel == "periodic":
            return
        std = np.std(np.asarray(x, dtype=np.float64), axis=0)
        std = np.where(std > 10 * kernel.floor, std, 1.0)
        value = std if raw.shape.rank == 1 else np.mean(std)
        raw.assign(inverse_positive(value, kernel.floor, kernel.positive).astype(self.precision))

    def _initialize_from_targets(self, y):
        """Data-dependent initialization from the first fit's targets (none by default)."""

    def fit(self, x=None, y=None, batch_size=None, epochs=None, **kwargs):
        """Train on ``x`` ``[N, D]``, ``y`` (see the subclass) with ``tf_keras.Model.fit``.

        ``num_data`` is set to ``N`` (the KL term is divided by it); the first ``fit``
        places the inducing inputs (``inducing_init``). Keyword arguments go to
        ``tf_keras.Model.fit`` (``epochs``, ``validation_data``, ``callbacks``, ...).
        A ``tf.data.Dataset`` of ``(x, y)`` batches is checked by its ``element_spec``;
        unless :meth:`set_num_data` was called, ``N`` is counted over one pass of it (a
        dataset of unknown or infinite size is refused: ``N`` is never silently 1), and the
        first fit places the inducing inputs from its first batches. A regressor's constant
        mean starts at the mean of the first ``fit``'s ``y``.

        Without ``epochs`` it trains until converged (at most ``MAX_STEPS`` steps): until
        the loss's mean over a window of ``CONVERGED_WINDOW`` steps improves by less than
        ``CONVERGED_DELTA`` nats per example on the window before
        (:class:`kerasprob.callbacks.ConvergenceStopping`).
        """
        if not isinstance(x, tf.data.Dataset) and y is None:
            raise ValueError(f"{type(self).__name__}.fit needs targets y. Received: y=None")
        callbacks = list(kwargs.pop("callbacks", None) or [])
        if epochs is None:  # prepare_fit sets the most epochs, from the steps per epoch
            callbacks.extend(self._convergence_callbacks())
        return super().fit(x, y, batch_size=batch_size, epochs=epochs, callbacks=callbacks,
                           **kwargs)

    def _convergence_callbacks(self):
        """What stops a ``fit`` without ``epochs`` once it has converged."""
        return [ConvergenceStopping(min_delta=CONVERGED_DELTA, window_steps=CONVERGED_WINDOW)]

    def prepare_fit(self, x, y, fit_kwargs):
        """``num_data`` and, at the first fit, the inducing inputs, from the checked data."""
        if isinstance(x, tf.data.Dataset):
            self._prepare_dataset_fit(x)
            steps = fit_kwargs.get("steps_per_epoch") or max(int(x.cardinality()), 1)
        else:
            self._prepare_fit(x, y)
            if fit_kwargs.get("batch_size") is None:
                fit_kwargs = {**fit_kwargs, "batch_size": self._default_batch_size(len(x))}
            steps = fit_kwargs.get("steps_per_epoch") or math.ceil(
                len(x) / fit_kwargs["batch_size"])
        if fit_kwargs.get("epochs") is None:
            fit_kwargs = {**fit_kwargs, "epochs": self._max_epochs(steps)}
        return x, y, fit_kwargs

    def _max_epochs(self, steps_per_epoch):
        """The most epochs of a ``fit`` run until converged: ``MAX_STEPS`` steps."""
        return max(1, math.ceil(MAX_STEPS / steps_per_epoch))

    def _default_batch_size(self, n):
        return min(n, 256)

    def set_num_data(self, n):
        """Set ``N``, the size of the training set (for training from a ``tf.data.Dataset``)."""
        n = check_positive_int("n", n)
        self.num_data.assign(n)
        for layer in self._svgp_layers():
            layer.set_num_data(n)

    def set_inducing_inputs(self, z):
        """Place the inducing inputs at ``z`` ``[M, D]`` (marks them initialized)."""
        self._require_built()
        z = self._as_precision("z", z, self.input_shape)
        if len(z) != self.num_inducing:
            raise ValueError(
                f"z must have num_inducing={self.num_inducing} rows. Received: z with shape "
                f"{z.shape}"
            )
        self._set_inducing_inputs(z)
        self.initialized.assign(1.0)

    # -------------------------------------------------------------- prediction
    def _batched(self, fn, *arrays, batch_size=PREDICT_BATCH):
        """``fn`` over row batches of ``arrays`` (:func:`zoo.base.in_batches`)."""
        return in_batches(fn, *arrays, batch_size=batch_size)

    def predict(self, x, batch_size=PREDICT_BATCH, verbose=0, **kwargs):
        """``(mean, variance)`` of ``y*`` at ``x`` ``[N*, D]`` (``tf_keras.Model.predict``,
        in batches of ``batch_size``; no progress bar unless ``verbose``)."""
        self._require_built()
        if isinstance(x, tf.data.Dataset):
            return super(ZooModel, self).predict(x, verbose=verbose, **kwargs)
        return super().predict(self._check_x(x), batch_size=batch_size, verbose=verbose,
                               **kwargs)

    def predict_f(self, x, full_cov=False, batch_size=PREDICT_BATCH):
        """The latent ``q(f*)`` at ``x`` ``[N*, D]``: ``(mean [N*, L], var [N*, L])``.

        With ``full_cov=True`` (one batch, so keep ``N*`` moderate): ``(mean [N*, L],
        cov [L, N*, N*])``. ``L`` is the number of latent functions (1 for regression).
        """
        self._require_built()
        x = self._check_x(x)
        if full_cov:
            mean, cov = self._predict_f_fn_full(tf.constant(x))
            return np.asarray(mean), np.asarray(cov)
        return self._batched(self._predict_f_fn, x, batch_size=batch_size)

    @tf.function(reduce_retracing=True)
    def _predict_f_fn(self, x):
        return self._predict_f_batch(x, full_cov=False)

    @tf.function(reduce_retracing=True)
    def _predict_f_fn_full(self, x):
        return self._predict_f_batch(x, full_cov=True)

    def sample_f(self, x, n, seed=None):
        """``n`` joint draws of the latent function at ``x`` ``[N*, D]``: ``[n, N*, L]``.

        Draws from the full covariance of ``q(f*)`` (one Cholesky of ``[N*, N*]``, so keep
        ``N*`` moderate). ``seed``: an int gives the same draws call after call.
        """
        from kerasprob.math.linalg import safe_cholesky
        from kerasprob.math.random import normal

        n = check_positive_int("n", n)
        mean, cov = self.predict_f(x, full_cov=True)  # [N*, L], [L, N*, N*]
        chol = safe_cholesky(tf.constant(cov), name="the predictive covariance")  # [L, N*, N*]
        shape = (n, *mean.shape[::-1])  # [n, L, N*]
        eps = normal(shape, seed, dtype=self.precision)
        draws = tf.einsum("lij,slj->sil", chol, eps)  # [n, N*, L]
        return mean[None] + draws.numpy()
