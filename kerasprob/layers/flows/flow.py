"""``Flow``: a standard normal base distribution pushed through a stack of bijector layers.

The stack is listed from the data side: ``bijectors[0]`` touches the data
first on the way to the noise (as ``tfb.Chain``'s list). With
``z = f_1^{-1}(... f_K^{-1}(x))`` (``f_k = bijectors[k - 1]``)::

    log p(x | c) = log N(z; 0, I) + sum_k log|det d f_k^{-1} / d y_k|

computed directly from the layers' tensor functions (no TFP bijector
machinery in the training step). The same distribution is available as a
``tfd.TransformedDistribution`` through ``transformed_distribution()``.

>>> import numpy as np
>>> from kerasprob.layers.flows import AffineCoupling, Flow, Permute
>>> flow = Flow([AffineCoupling([16]), Permute(), AffineCoupling([16])])
>>> x = np.random.default_rng(0).normal(size=(5, 2)).astype("float32")
>>> flow.log_prob(x).shape
TensorShape([5])
>>> flow.sample(3).shape
TensorShape([3, 2])
"""

import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras
from tf_keras.src.mixed_precision import policy as policy_lib

from kerasprob.dtypes import FullPrecision
from kerasprob.layers.flows.base import BijectorLayer, _shape_list
from kerasprob.math.distributions import standard_normal_log_prob
from kerasprob.math.random import normal
from kerasprob.serialization import deserialize, register, serialize
from kerasprob.validation import check_choice, check_positive_int

tfd = tfp.distributions
tfb = tfp.bijectors


def _standard_normal(shape, seed=None, dtype=tf.float32):
    """``N(0, 1)`` draws of ``shape``; reproducible for a given ``seed``.

    ``seed``: None (stateful ``tf.random.normal``), an int ``s`` (stateless draws keyed by
    ``[s, 0]``) or a stateless seed, an integer tensor of shape ``[2]`` (as TFP's samplers);
    see :func:`kerasprob.distributions.stateless_seed`.
    """
    return normal(shape, seed, dtype=dtype)


class FlowDistribution(tfd.Distribution):
    """The distribution of a :class:`Flow`: ``x = f_1(... f_K(z))``, ``z ~ N(0, I_d)``.

    Batch shape ``[]`` without context, ``context.shape[:-1]`` with one;
    event shape ``[d]``. ``log_prob`` runs the layers' inverses in one pass
    each (for MAF and coupling layers); ``sample`` runs their forwards.

    Args:
      layers: the bijector layers, data side first.
      event_dim: ``d``.
      context: ``[batch, c]`` tensor or None.
      training: passed to the layers (batch norm statistics, actnorm initialization).
      dtype: of samples and log-densities (the layers' computation dtype).
    """

    def __init__(self, layers, event_dim, context=None, training=False, flow_input=None,
                 name="Flow", dtype=tf.float32):
        self._layers = list(layers)
        self._event_dim = int(event_dim)
        self._context = context
        self._training = bool(training)
        self.flow_input = flow_input
        self._cache = None
        parameters = dict(locals())
        super().__init__(
            dtype=tf.as_dtype(dtype),
            reparameterization_type=tfd.FULLY_REPARAMETERIZED,
            validate_args=False,
            allow_nan_stats=True,
            parameters=parameters,
            name=name,
        )

    @property
    def context(self):
        return self._context

    @property
    def layers(self):
        return self._layers

    def _event_shape(self):
        return tf.TensorShape([self._event_dim])

    def _event_shape_tensor(self):
        return tf.constant([self._event_dim], tf.int32)

    def _batch_shape(self):
        if self._context is None:
            return tf.TensorShape([])
        return self._context.shape[:-1]

    def _batch_shape_tensor(self):
        if self._context is None:
            return tf.constant([], tf.int32)
        return tf.shape(self._context)[:-1]

    def normalize(self, x):
        """``(z, sum_k ildj_k)``: data ``[batch..., d]`` to noise, with the log-determinant."""
        z = tf.cast(x, self.dtype)
        total = tf.zeros(tf.shape(z)[:-1], z.dtype)
        for layer in self._layers:
            z, log_det = layer.inverse_and_log_det(z, self._context, self._training)
            total = total + log_det
        return z, total

    def _log_prob(self, x):
        if self._cache is not None and x is self._cache[0]:
            return self._cache[1]
        z, log_det = self.normalize(x)
        log_prob = standard_normal_log_prob(z) + log_det
        self._cache = (x, log_prob)
        return log_prob

    def _prob(self, x):
        return tf.exp(self._log_prob(x))

    def push_forward(self, z):
        """Noise ``z`` ``[batch..., d]`` to data ``x``."""
        for layer in reversed(self._layers):
            z = layer.forward_and_log_det(z, self._context)[0]
        return z

    def _sample_n(self, n, seed=None):
        shape = tf.concat([[n], self.batch_shape_tensor(), [self._event_dim]], axis=0)
        return self.push_forward(_standard_normal(shape, seed, self.dtype))  # [n, batch..., d]

    @property
    def bijector(self):
        """The flow as one ``tfb.Chain`` (data side first), conditioned on this context."""
        return tfb.Chain([layer.bijector(self._context) for layer in self._layers])

    def transformed_distribution(self):
        """The same distribution as a ``tfd.TransformedDistribution`` (slower ``log_prob``)."""
        base = tfd.Independent(
            tfd.Normal(tf.zeros(tf.concat([self.batch_shape_tensor(), [self._event_dim]], 0),
                                self.dtype), tf.constant(1.0, self.dtype)),
            reinterpreted_batch_ndims=1,
        )
        return tfd.TransformedDistribution(base, self.bijector)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return {}


def _log_prob_of_input(distribution):
    return distribution.log_prob(distribution.flow_input)


def _sample_one(distribution):
    if distribution.context is None:
        return distribution.sample(tf.shape(distribution.flow_input)[0])
    return distribution.sample()


_CONVERSIONS = {"log_prob": _log_prob_of_input, "sample": _sample_one}


@register
class Flow(FullPrecision, tfp.layers.DistributionLambda):
    """Normalizing flow layer: ``x = f_1(f_2(... f_K(z)))``, ``z ~ N(0, I_d)``, given a context.

    ``log p(x | c) = log N(z; 0, I) + sum_k log|det d f_k^{-1}/d y_k|``, with
    every conditioner network receiving the context ``c`` (conditional flows).

    Called on ``x`` (or ``[x, c]``) in a Keras model it outputs the
    distribution ``p(. | c)``; as a tensor (``predict``, downstream layers)
    that output is ``log p(x | c)`` (``convert_to_tensor_fn="log_prob"``,
    shape ``[batch]``) or one draw per example (``"sample"``). The model's
    loss ``kerasprob.losses.NegativeLogLikelihood`` then trains it by
    maximum likelihood with ``model.fit(x, x)`` (or ``fit([x, c], x)``);
    the log-density computed for the output is reused by the loss. Layers with
    a data-dependent initialization (:class:`ActNorm`) are set from data by
    ``flow.initialize(x)`` before training (the zoo flows do it in ``fit``).

    Args:
      bijectors: list of :class:`BijectorLayer`, data side first.
      convert_to_tensor_fn: ``"log_prob"`` or ``"sample"``.
      event_dim: ``d``; optional (the first input sets it), needed to ``sample`` from an
        unconditional flow before it has seen data.

    Input shape: ``[batch, d]`` or ``[[batch, d], [batch, c]]``.
    Output: distribution with batch shape ``[]`` (``[batch]`` with a context),
    event shape ``[d]``.

    References:
      Papamakarios, Nalisnick, Rezende, Mohamed & Lakshminarayanan (2021),
      Normalizing Flows for Probabilistic Modeling and Inference. JMLR 22(57).
    """

    def __init__(self, bijectors, convert_to_tensor_fn="log_prob", event_dim=None, **kwargs):
        check_choice("convert_to_tensor_fn", convert_to_tensor_fn, _CONVERSIONS)
        if not isinstance(bijectors, (list, tuple)) or not bijectors:
            raise ValueError(
                f"bijectors must be a non-empty list of bijector layers. Received: "
                f"bijectors={bijectors!r}"
            )
        layers = [deserialize(b) for b in bijectors]
        for i, layer in enumerate(layers):
            if not isinstance(layer, BijectorLayer):
                raise TypeError(
                    "bijectors must hold kerasprob.layers.flows.BijectorLayer instances. "
                    f"Received: bijectors[{i}]={layer!r}"
                )
        self.convert_to_tensor_fn = convert_to_tensor_fn
        super().__init__(self._make_distribution, _CONVERSIONS[convert_to_tensor_fn], **kwargs)
        self._fn_expects_training_arg = True  # Lambda inspects DistributionLambda's wrapper
        for i, layer in enumerate(layers):
            if layer.compute_dtype != self.compute_dtype:
                raise ValueError(
                    f"every bijector must compute in the flow's dtype, {self.compute_dtype}. "
                    f"Received: bijectors[{i}]={layer.name} with dtype "
                    f"{layer.network_policy.name!r}, dtype={self.network_policy.name!r} (give "
                    "them the same dtype, or set the global policy before making them)"
                )
        self.bijector_layers = layers
        self.event_dim = check_positive_int("event_dim", event_dim, allow_none=True)
        self._given_event_dim = self.event_dim
        self.context_dim = 0

    def build(self, input_shape):
        x_shape, c_shape = _shape_list(input_shape)
        if self._given_event_dim is not None and int(x_shape[-1]) != self._given_event_dim:
            raise ValueError(
                f"this flow was made with event_dim={self._given_event_dim}. Received: inputs "
                f"with shape {tuple(x_shape)}"
            )
        self.event_dim = int(x_shape[-1])
        self.context_dim = 0 if c_shape is None else int(c_shape[-1])
        shape = [x_shape, c_shape] if c_shape is not None else x_shape
        for layer in self.bijector_layers:
            if not layer.built:
                layer.build(shape)
        super().build(input_shape)

    def _split(self, inputs):
        if isinstance(inputs, (list, tuple)):
            x = inputs[0]
            context = inputs[1] if len(inputs) > 1 else None
        else:
            x, context = inputs, None
        x = self._cast(x)
        if context is not None:
            context = self._cast(context)
        return x, context

    def _cast(self, value):
        """``value`` as a tensor of the flow's computation dtype (float64 under a float64
        policy, float32 under the float32 and mixed ones)."""
        return tf.cast(value, self.compute_dtype)

    def _make_distribution(self, inputs, training=None):
        x, context = self._split(inputs)
        return self.distribution(context, training=bool(training), flow_input=x)

    # ------------------------------------------------------------ public math
    def _ensure_built(self, x_shape, context):
        """Build for events of size ``x_shape[-1]``; once built, check that size (static)."""
        event_dim = tf.TensorShape(x_shape)[-1]
        if not self.built:
            shape = tf.TensorShape([None, event_dim])
            self.build(shape if context is None else [shape, tf.TensorShape(context.shape)])
        elif event_dim is not None and event_dim != self.event_dim:
            raise ValueError(
                f"x must have {self.event_dim} features (last axis), the event_dim this flow "
                f"was built with. Received: x with shape {tuple(x_shape)}"
            )

    def _check_context(self, context):
        if context is None:
            if self.context_dim:
                raise ValueError(
                    f"this flow is conditional (context_dim={self.context_dim}); pass context=... "
                    "of shape [batch, context_dim]. Received: context=None"
                )
            return None
        context = self._cast(context)
        if self.built and context.shape[-1] != self.context_dim:
            raise ValueError(
                f"context must have {self.context_dim} features (last axis). Received: context "
                f"with shape {tuple(context.shape)}"
            )
        return context

    def distribution(self, context=None, training=False, flow_input=None):
        """The :class:`FlowDistribution` ``p(. | context)``."""
        if not self.built and self.event_dim is not None:
            self._ensure_built([None, self.event_dim], context)
        context = self._check_context(context)
        if not self.built:
            raise ValueError(
                "the flow does not know its event size yet: pass event_dim=... to Flow, or call "
                "it on data (e.g. log_prob(x)) first"
            )
        return FlowDistribution(
            self.bijector_layers, self.event_dim, context, training, flow_input, name=self.name,
            dtype=self.compute_dtype,
        )

    def log_prob(self, x, context=None, training=False):
        """``log p(x | c)``: ``[batch, d] -> [batch]``."""
        x = self._cast(x)
        self._ensure_built(x.shape, context)
        return self.distribution(context, training).log_prob(x)

    def initialize(self, x, context=None, force=False):
        """Data-dependent initialization: push ``x`` (``[batch, d]``) towards the noise side and
        initialize every layer that has an ``initialize`` method (e.g. :class:`ActNorm`) from
        the values it sees. Layers already initialized are left alone unless ``force``.

        Returns:
          The number of layers initialized.
        """
        z = self._cast(x)
        self._ensure_built(z.shape, context)
        context = self._check_context(context)
        count = 0
        for layer in self.bijector_layers:
            flag = getattr(layer, "initialized", None)
            if hasattr(layer, "initialize") and (force or flag is None or float(flag) < 0.5):
                layer.initialize(z)
                count += 1
            z = layer.inverse_and_log_det(z, context)[0]
        return count

    def normalize(self, x, context=None):
        """``z = f^{-1}(x)``: data to noise, ``[batch, d] -> [batch, d]``."""
        x = self._cast(x)
        self._ensure_built(x.shape, context)
        return self.distribution(context).normalize(x)[0]

    def sample(self, n, context=None, seed=None):
        """``n`` draws: ``[n, d]``, or ``[n, batch, d]`` given a context ``[batch, c]``.

        ``seed``: None, an int or a stateless seed (integer tensor ``[2]``); equal seeds give
        equal draws.
        """
        return self.distribution(context).sample(n, seed=seed)

    def bijector(self, context=None):
        """The whole flow as a ``tfb.Chain`` (data side first)."""
        return self.distribution(context).bijector

    def get_config(self):
        base = tf_keras.layers.Layer.get_config(self)
        base["dtype"] = policy_lib.serialize(self.network_policy)  # as requested (FullPrecision)
        return {
            **base,
            "bijectors": [serialize(layer) for layer in self.bijector_layers],
            "convert_to_tensor_fn": self.convert_to_tensor_fn,
            "event_dim": self._given_event_dim,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
