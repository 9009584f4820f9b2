"""Normalizing-flow density estimators: ``zoo.RealNVP``, ``zoo.MAF``, ``zoo.IAF``,
``zoo.NeuralSplineFlow``.

Each is a stack of :mod:`kerasprob.layers.flows` bijector layers on a
standard normal base, trained by maximum likelihood (the loss Keras logs is
the negative log-likelihood in nats per example). With ``context_dim > 0``
every conditioner network also receives a context ``c`` and the model is a
conditional density ``p(x | c)``.

>>> import numpy as np, zoo
>>> x = np.random.default_rng(0).normal(size=(256, 2)).astype("float32")
>>> flow = zoo.NeuralSplineFlow(num_layers=2, hidden_units=[16])   # input_shape from fit
>>> history = flow.fit(x, epochs=1, batch_size=64, verbose=0)
>>> flow.log_prob(x[:3]).shape, flow.sample(5).shape, flow.normalize(x[:3]).shape
((3,), (5, 2), (3, 2))

Each flow standardizes its data first (``standardize=True``: a saved
:class:`kerasprob.layers.flows.Standardization` fitted from the first ``fit``'s data), and
its log-determinant is part of the density: ``log_prob`` is a density of the raw data, and
a loaded model takes raw data.

A conditional flow: ``flow = zoo.MAF(context_dim=1)``, then
``flow.fit(x, c)``, ``flow.log_prob(x, c)``, ``flow.sample(100, c=[0.5])``.
"""

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.layers.flows import (
    ActNorm,
    AffineCoupling,
    Flow,
    InverseAutoregressive,
    MaskedAutoregressive,
    SplineCoupling,
    Standardization,
    permuted_stack,
)
from kerasprob.tuning import Choice, Float, Int, Units
from kerasprob.validation import (
    check_array,
    check_bool,
    check_int_at_least,
    check_positive_float,
    check_positive_int,
    check_units,
)
from zoo.base import ZooModel, as_numpy
from zoo.conditioning import DataSpec, check_context
from zoo.registry import register


class FlowModel(ZooModel):
    """Base class of the zoo's flows: data checks, ``fit(x, c)``, ``log_prob``, ``sample``.

    Args:
      input_shape: ``(d,)``, the shape of one example of ``x`` (an int ``d`` too; ``None``:
        read from the first ``fit``).
      context_dim: size of the context ``c`` (0: an unconditional density).
      num_layers: number of flow layers (coupling or autoregressive).
      hidden_units: hidden sizes of each conditioner network.
      actnorm: put an :class:`ActNorm` on the data side, initialized from the
        training data at the first ``fit`` so that the flow sees standardized
        data. Off by default for the affine flows, which learn any scale
        themselves and can overfit after standardizing near-constant features
        (the border pixels of 8x8 digits: held-out NLL of a [128, 128] MAF after
        2000 steps +27 nats with it, -56 without); on by default for
        :class:`NeuralSplineFlow`, whose splines act on ``[-bound, bound]`` only.
      jit_compile: compile the training step with XLA.
      learning_rate: Adam learning rate.
      standardize: a fixed :class:`Standardization` on the data side, set from the first
        ``fit``'s data (mean and standard deviation of each feature, saved with the model):
        the flow's layers see standardized data, and its log-determinant keeps ``log_prob``
        a density of the raw data. Files saved by kerasprob 0.1 load without it.

    Input: ``x`` ``[batch, d]``, or ``[x, c]`` with ``c`` ``[batch, context_dim]``.
    Output: the distribution ``p(. | c)``; ``predict`` returns ``log p(x | c)``.
    """

    target_is_input = True
    data_kind = "unsupervised"
    plots = ("history", "density", "samples")
    data_arguments = ("input_shape",)
    search_space = {
        "num_layers": Int(2, 8),
        "hidden_units": Units(widths=(32, 64, 128, 256), depths=(1, 2)),
        "learning_rate": Float(1e-4, 1e-2, sampling="log"),
    }

    def __init__(
        self,
        input_shape=None,
        context_dim=0,
        num_layers=5,
        hidden_units=(64, 64),
        actnorm=False,
        jit_compile=True,
        learning_rate=1e-3,
        standardize=True,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.input_shape = input_shape
        self.context_dim = check_int_at_least("context_dim", context_dim, 0)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.actnorm = check_bool("actnorm", actnorm)
        self.jit_compile = check_bool("jit_compile", jit_compile)
        self.standardize = check_bool("standardize", standardize)

    @classmethod
    def upgrade_config(cls, config):
        """kerasprob 0.1 flows (``event_dim``) had no data-side standardization."""
        if "event_dim" in config:
            config.setdefault("standardize", False)
        return super().upgrade_config(config)

    def coupling_layers(self):
        """The flow's own layers, data side first (the subclass's stack)."""
        raise NotImplementedError

    def build_layers(self):
        """Wrap the stack (data side first, after the scaling) in a :class:`Flow`."""
        layers = self.coupling_layers()
        if self.actnorm:
            layers = [ActNorm(name="actnorm", **self._actnorm_options()), *layers]
        if self.standardize:
            layers = [Standardization(name="standardization"), *layers]
        self.flow = Flow(layers, name="flow")

    def _actnorm_options(self):
        """Keyword arguments of the data-side :class:`ActNorm` (when ``actnorm``)."""
        return {}

    def compile(self, optimizer=None, loss=None, **kwargs):
        kwargs.setdefault("jit_compile", self.jit_compile)
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    # ------------------------------------------------------------------ keras
    def call(self, inputs, training=None):
        return self.flow(inputs, training=training)

    def build_inputs(self):
        x = tf.zeros((1, self.num_features))
        return [x, tf.zeros((1, self.context_dim))] if self.context_dim else x

    def input_feature_shape(self):
        return self.input_shape

    def _with_target(self, data):
        x, y, sample_weight = tf_keras.utils.unpack_x_y_sample_weight(data)
        if self.context_dim and y is not None and not isinstance(x, (list, tuple)):
            x, y = [x, y], None  # a tf.data.Dataset of (x, c) pairs: c is the context
        if y is None:
            y = self._input_target(x)
        return tf_keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    # ------------------------------------------------------------------- data
    def _check_x(self, x, name="x"):
        self._require_built()
        return check_array(name, x, feature_shape=self.input_shape)

    def _check_c(self, c, n=None, name="c", x_name="x"):
        return check_context(name, c, self.context_dim, n, x_name, model="flow")

    def dataset_structures(self):
        """``(x,)`` batches, or ``(x, c)`` pairs for a conditional flow."""
        x = DataSpec("x", self.input_shape)
        if self.context_dim:
            return [(x, DataSpec("c", (self.context_dim,)))]
        return [(x,)]

    def _inputs(self, x, c, prefix=""):
        if isinstance(x, (list, tuple)) and c is None and len(x) == 2 and self.context_dim:
            x, c = x  # already packed as [x, c] (Keras' validation pass)
        x = self._check_x(x, prefix + "x")
        c = self._check_c(c, len(x), prefix + "c", prefix + "x")
        return x if c is None else [x, c]

    def validate_data(self, x, y=None, prefix=""):
        """``x`` (and the context ``c``, passed as ``y`` or packed as ``[x, c]``) checked once:
        ``(inputs, None)``."""
        if isinstance(x, tf.data.Dataset) or x is None:
            return super().validate_data(x, y, prefix)
        if isinstance(x, (list, tuple)):
            return self._inputs(x[0], x[1] if len(x) > 1 else None, prefix), None
        return self._inputs(x, y, prefix), None

    def _validation_data(self, data):
        if data is None or isinstance(data, tf.data.Dataset):
            return super()._validation_data(data)
        if isinstance(data, (list, tuple)) and len(data) == 2 and self.context_dim:
            return (self._inputs(data[0], data[1], "validation_"),)
        if isinstance(data, (list, tuple)) and len(data) == 1:
            data = data[0]
        return (self._inputs(data, None, "validation_"),)

    # ------------------------------------------------------------------ train
    def fit(self, x=None, c=None, **kwargs):
        """Maximum likelihood on ``x`` ``[n, d]`` (given contexts ``c`` ``[n, context_dim]``).

        Keyword arguments go to ``tf_keras.Model.fit`` (``epochs``,
        ``batch_size``, ``validation_data=x_val`` or ``(x_val, c_val)``, ...). ``x`` may
        also be a ``tf.data.Dataset`` of batches of ``x`` (of ``(x, c)`` pairs for a
        conditional flow), checked by its ``element_spec``. The first ``fit`` initializes the
        data-side layers (the standardization, an actnorm) from the data (a dataset's first
        batches, up to 4096 examples).
        """
        return super().fit(x, c, **kwargs)

    def prepare_fit(self, x, y, fit_kwargs):
        self._initialize(_first_batches(x) if isinstance(x, tf.data.Dataset) else x)
        return x, y, fit_kwargs

    def _initialize(self, inputs, max_examples=4096):
        """Data-dependent initialization of the actnorm layers (first fit only)."""
        x, c = (inputs if isinstance(inputs, list) else (inputs, None))
        self.flow.initialize(x[:max_examples], None if c is None else c[:max_examples])

    def evaluate(self, x=None, c=None, **kwargs):
        """Mean negative log-likelihood of ``x`` (given ``c``)."""
        return super().evaluate(x, kwargs.pop("y", c), **kwargs)  # fit's pass names it y

    def predict(self, x, c=None, **kwargs):
        """``log p(x | c)`` as a numpy array ``[n]`` (batched by ``tf_keras.Model.predict``)."""
        return super().predict(x if c is None else [x, c], **kwargs)

    def _one_row(self, c):
        """``(c, single)``: one context ``[context_dim]`` as a batch of one ``[1, context_dim]``."""
        if c is not None and self.context_dim and np.shape(c) == (self.context_dim,):
            return np.asarray(c)[None, :], True
        return c, False

    def _density_inputs(self, x, c):
        """``(x, c)`` checked; one context row (``[context_dim]`` or ``[1, context_dim]``) is
        repeated for every row of ``x``."""
        c = self._one_row(c)[0]
        if self.context_dim and np.ndim(c) == 2 and len(c) == 1 and np.ndim(x) == 2:
            c = np.repeat(c, len(x), axis=0)
        inputs = self._inputs(x, c)
        return inputs if isinstance(inputs, list) else (inputs, None)

    # ---------------------------------------------------------------- density
    def log_prob(self, x, c=None):
        """``log p(x | c)``: ``[n, d] -> [n]`` numpy array (nats).

        ``c``: ``[n, context_dim]``, or one context (``[context_dim]`` or ``[1, context_dim]``)
        for every row of ``x``.
        """
        x, c = self._density_inputs(x, c)
        return as_numpy(self._log_prob_fn(x, c))

    @tf.function(reduce_retracing=True, autograph=False)
    def _log_prob_fn(self, x, c):
        return self.flow.log_prob(x, c)

    def normalize(self, x, c=None):
        """``z = f^{-1}(x)``: data to the standard normal base, ``[n, d] -> [n, d]``.

        ``c`` as in :meth:`log_prob`.
        """
        x, c = self._density_inputs(x, c)
        return as_numpy(self.flow.normalize(x, c))

    def sample(self, n, c=None, seed=None):
        """``n`` draws from the model.

        Args:
          n: number of draws.
          c: for conditional flows, one context ``[context_dim]`` (returns
            ``[n, d]``) or a batch ``[m, context_dim]`` (returns ``[n, m, d]``).
          seed: integer seed (or a stateless seed, an integer tensor ``[2]``): equal seeds
            give equal draws, also after ``save``/``load``.

        Returns:
          numpy array ``[n, d]`` (or ``[n, m, d]``).
        """
        n = check_positive_int("n", n)
        self._require_built()
        c, single = self._one_row(c)
        c = self._check_c(c)
        out = as_numpy(self.flow.sample(n, c, seed=seed))
        return out[:, 0] if single else out

    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(32, 2)).astype("float32")
        return {"input_shape": (2,), "num_layers": 2, "hidden_units": [8]}, x, None


def _first_batches(dataset, max_examples=4096):
    """``x`` or ``[x, c]`` from a dataset's first batches (up to ``max_examples`` rows): the
    data a flow's data-side layers are initialized from."""
    parts, n = [], 0
    for element in dataset:
        element = element if isinstance(element, tuple) else (element,)
        parts.append([np.asarray(t) for t in element[:2]])
        n += len(parts[-1][0])
        if n >= max_examples:
            break
    if not parts:
        raise ValueError("x is an empty tf.data.Dataset: a flow needs data to fit. Received: "
                         f"element spec {dataset.element_spec!r}")
    columns = [np.concatenate(column, 0) for column in zip(*parts)]
    return columns[0] if len(columns) == 1 else columns


def _coupling_stack(num_layers, mask, make):
    """``num_layers`` couplings: with ``mask="half"`` reverse permutations between them (the
    seed's RealNVP); with ``"alternating"`` the kept parity flips from layer to layer."""
    if mask == "half":
        return permuted_stack(lambda i: make(mask, False), num_layers)
    return permuted_stack(lambda i: make(mask, bool(i % 2)), num_layers, permutation=None)


@register
class RealNVP(FlowModel):
    """RealNVP: affine couplings with reverse permutations between them.

    ``y_B = x_B * exp(s(x_A, c)) + t(x_A, c)`` on half the features, the
    halves swapped by a reverse permutation after each layer; the log-scale
    ``s`` is softly clamped to ``(-clamp, clamp)``.

    Args:
      mask: ``"half"`` (``d`` must be even) or ``"alternating"``.
      clamp: bound of each layer's log-scale.
      (others: see :class:`FlowModel`)

    References:
      Dinh, Sohl-Dickstein & Bengio (2017), Density estimation using Real NVP. ICLR.
    """

    search_space = {**FlowModel.search_space, "clamp": Choice((2.0, 3.0, 5.0))}

    def __init__(self, input_shape=None, context_dim=0, num_layers=5, hidden_units=(64, 64),
                 mask="half", clamp=3.0, actnorm=False, jit_compile=True, learning_rate=1e-3,
                 standardize=True, **kwargs):
        super().__init__(input_shape=input_shape, context_dim=context_dim,
                         num_layers=num_layers, hidden_units=hidden_units, actnorm=actnorm,
                         jit_compile=jit_compile, learning_rate=learning_rate,
                         standardize=standardize, **kwargs)
        if mask not in ("half", "alternating"):
            raise ValueError(f"mask must be 'half' or 'alternating'. Received: mask={mask!r}")
        self.mask = mask
        self.clamp = check_positive_float("clamp", clamp)
        self._finish()

    def _check_data_arguments(self):
        super()._check_data_arguments()
        d = self.num_features
        if d < 2:
            raise ValueError(
                f"RealNVP couples two groups of features; x needs d >= 2 features. "
                f"Received: input_shape={self.input_shape!r}"
            )
        if self.mask == "half" and d % 2:
            raise ValueError(
                "mask='half' needs an even number of features; use mask='alternating'. "
                f"Received: input_shape={self.input_shape!r}"
            )

    def coupling_layers(self):
        return _coupling_stack(
            self.num_layers, self.mask,
            lambda m, flip: AffineCoupling(self.hidden_units, mask=m, flip=flip, clamp=self.clamp),
        )


@register
class MAF(FlowModel):
    """Masked autoregressive flow: affine MADE layers with reverse permutations between them.

    ``x_i = z_i exp(s_i) + t_i`` with ``(s_i, t_i) = MADE(x_{<i}, c)``: density
    evaluation (training) is one pass per layer, sampling ``d`` passes.

    Args:
      clamp: bound of each layer's log-scale.
      (others: see :class:`FlowModel`)

    References:
      Papamakarios, Pavlakou & Murray (2017), Masked Autoregressive Flow for
      Density Estimation. NeurIPS.
    """

    layer_class = MaskedAutoregressive
    search_space = {**FlowModel.search_space, "clamp": Choice((2.0, 3.0, 5.0))}

    def __init__(self, input_shape=None, context_dim=0, num_layers=5, hidden_units=(64, 64),
                 clamp=3.0, actnorm=False, jit_compile=True, learning_rate=1e-3,
                 standardize=True, **kwargs):
        super().__init__(input_shape=input_shape, context_dim=context_dim,
                         num_layers=num_layers, hidden_units=hidden_units, actnorm=actnorm,
                         jit_compile=jit_compile, learning_rate=learning_rate,
                         standardize=standardize, **kwargs)
        self.clamp = check_positive_float("clamp", clamp)
        self._finish()

    def coupling_layers(self):
        return permuted_stack(
            lambda i: self.layer_class(self.hidden_units, clamp=self.clamp), self.num_layers)


@register
class IAF(MAF):
    """Inverse autoregressive flow: sampling in one pass per layer, density in ``d`` passes.

    ``x_i = z_i exp(s_i) + t_i`` with ``(s_i, t_i) = MADE(z_{<i}, c)``. Fitting
    data evaluates the density of every training example (``d`` passes per
    layer), so it is slower to train than :class:`MAF` for large ``d``; it
    samples fast. Same arguments as :class:`MAF`.

    References:
      Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling (2016), Improved
      Variational Inference with Inverse Autoregressive Flow. NeurIPS.
    """

    layer_class = InverseAutoregressive


@register
class NeuralSplineFlow(FlowModel):
    """Neural spline flow: rational-quadratic spline layers (autoregressive or coupling).

    Each layer maps every feature through a monotonic spline with ``bins``
    bins on ``[-bound, bound]`` (identity outside: linear tails) whose
    parameters come from a MADE over ``x_{<i}`` (``coupling=False``, as zuko's
    NSF) or from an MLP over the other half (``coupling=True``: one pass in
    both directions). Reverse permutations separate the layers. The default
    for 64-d data such as 8x8 digits: splines do not blow up where affine
    flows do.

    Args:
      bins: number of spline bins (``>= 2``).
      bound: half-width of the spline interval.
      coupling: coupling layers instead of autoregressive ones (``d >= 2``).
      actnorm: an :class:`ActNorm` (learned, data-initialized) before the splines
        that brings features reaching outside ``[-bound, bound]`` into it: it centres
        them and shrinks those wider than unit standard deviation (default True).
        Features already inside start untouched, and none is ever magnified:
        standardizing dequantized 8x8 digits let the splines fit the noise of
        near-constant pixels (held-out NLL -77 nats, against -87 left as they are).
      (others: see :class:`FlowModel`)

    References:
      Durkan, Bekasov, Murray & Papamakarios (2019), Neural Spline Flows. NeurIPS.
    """

    search_space = {
        **FlowModel.search_space,
        "bins": Int(4, 16, step=4),
    }

    def __init__(self, input_shape=None, context_dim=0, num_layers=5, hidden_units=(64, 64),
                 bins=8, bound=5.0, coupling=False, actnorm=True, jit_compile=True,
                 learning_rate=1e-3, standardize=True, **kwargs):
        super().__init__(input_shape=input_shape, context_dim=context_dim,
                         num_layers=num_layers, hidden_units=hidden_units, actnorm=actnorm,
                         jit_compile=jit_compile, learning_rate=learning_rate,
                         standardize=standardize, **kwargs)
        self.bins = check_int_at_least("bins", bins, 2)
        self.bound = check_positive_float("bound", bound)
        self.coupling = check_bool("coupling", coupling)
        self._finish()

    def _check_data_arguments(self):
        super()._check_data_arguments()
        if self.coupling and self.num_features < 2:
            raise ValueError(
                "coupling=True needs d >= 2 features (use coupling=False for 1-d data). "
                f"Received: input_shape={self.input_shape!r}"
            )

    def coupling_layers(self):
        if self.coupling:
            return _coupling_stack(
                self.num_layers, "alternating",
                lambda m, flip: SplineCoupling(self.hidden_units, mask=m, flip=flip,
                                               bins=self.bins, bound=self.bound),
            )
        return permuted_stack(
            lambda i: MaskedAutoregressive(self.hidden_units, transformer="spline",
                                           bins=self.bins, bound=self.bound),
            self.num_layers)

    def _actnorm_options(self):
        return {"shrink_only": True, "bound": self.bound}
