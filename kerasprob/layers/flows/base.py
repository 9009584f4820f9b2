"""``BijectorLayer``: a Keras layer that owns a bijection's weights and exposes it to TFP.

Convention (TFP's): ``forward`` maps the base (noise) side to the data side,
``inverse`` maps data to noise. A flow's density is evaluated through the
inverses::

    log p(x) = log p_base(z) + sum_k log|det d f_k^{-1} / d y|,   z = f^{-1}(x).

Every bijector layer implements two tensor functions, each returning the
transformed tensor and the log-determinant of its Jacobian (summed over the
event axis)::

    layer.forward_and_log_det(x, context=None)   -> (y, fldj)   # [batch..., d], [batch...]
    layer.inverse_and_log_det(y, context=None)   -> (x, ildj)

and ``layer.bijector(context=None)`` wraps them as a ``tfb.Bijector`` (event
rank 1), so layers compose with ``tfb.Chain`` and
``tfd.TransformedDistribution``. Calling the layer on a tensor applies
``forward``. ``context`` (``[batch..., c]``) is the conditioning input of
conditional flows; layers whose bijection has no network ignore it.

A new bijector is a subclass that implements ``_forward(x, context,
training)`` and ``_inverse(y, context, training)``, each returning
``(value, log_det)``, and creates its weights in ``build_bijector(event_dim,
context_dim)``; see ``examples/custom_bijectors.py``.

Dtypes: a bijector layer computes (values and log-determinants) in float64 under a
``"float64"`` policy and in float32 under the float32 and mixed policies; the networks it
builds follow the policy as requested (16-bit under a mixed one) and their outputs are
cast up (:mod:`kerasprob.dtypes`).
"""

import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from kerasprob.dtypes import FullPrecision

tfb = tfp.bijectors


def _shape_list(input_shape):
    """``[x_shape, context_shape or None]`` from a Keras ``input_shape``."""
    if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(
        input_shape[0], (list, tuple, tf.TensorShape)
    ):
        shapes = [tf.TensorShape(s) for s in input_shape]
        return shapes[0], (shapes[1] if len(shapes) > 1 else None)
    return tf.TensorShape(input_shape), None


def broadcast_context(context, x):
    """Broadcast ``context`` ``[batch..., c]`` to ``x``'s leading shape: ``[*x.shape[:-1], c]``.

    Used when ``x`` carries extra sample axes in front (``sample(n)`` of a
    conditional flow gives ``x`` of shape ``[n, batch, d]``).
    """
    if context is None:
        return None
    if context.shape.rank == x.shape.rank and context.shape[:-1] == x.shape[:-1] and (
        x.shape[:-1].is_fully_defined()
    ):
        return context
    shape = tf.concat([tf.shape(x)[:-1], tf.shape(context)[-1:]], axis=0)
    return tf.broadcast_to(context, shape)


class BijectorLayer(FullPrecision, tf_keras.layers.Layer):
    """Base class of bijector layers (see the module docstring for the contract).

    Subclasses set ``conditional = True`` if their networks read the context.

    Input shape: ``[batch..., d]`` or ``[[batch..., d], [batch..., c]]`` (with context).
    Output shape: ``[batch..., d]`` (the forward transformation of the input).
    """

    conditional = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.event_dim = None
        self.context_dim = 0

    # ------------------------------------------------------------------ build
    def build(self, input_shape):
        x_shape, c_shape = _shape_list(input_shape)
        event_dim = x_shape[-1]
        if event_dim is None:
            raise ValueError(
                f"{type(self).__name__} needs a known event size (last axis). "
                f"Received: input_shape={input_shape}"
            )
        self.event_dim = int(event_dim)
        self.context_dim = 0 if c_shape is None else int(c_shape[-1])
        self.build_bijector(self.event_dim, self.context_dim)
        super().build(input_shape)

    def build_bijector(self, event_dim, context_dim):
        """Create the weights for events of size ``event_dim`` and a context of ``context_dim``."""

    def _ensure_built(self, x, context):
        """Build for ``x`` if needed; once built, check its event size (static, last axis)."""
        if not self.built:
            shape = x.shape if context is None else [x.shape, context.shape]
            self.build(shape)
        elif x.shape[-1] is not None and x.shape[-1] != self.event_dim:
            raise ValueError(
                f"{self.name} was built for events of size {self.event_dim} (last axis). "
                f"Received: input with shape {tuple(x.shape)}"
            )

    # ------------------------------------------------------------------ math
    def _forward(self, x, context, training):
        raise NotImplementedError

    def _inverse(self, y, context, training):
        raise NotImplementedError

    def forward_and_log_det(self, x, context=None, training=False):
        """``(f(x), log|det df/dx|)``: shapes ``[batch..., d]`` and ``[batch...]``."""
        x = tf.cast(x, self.compute_dtype)
        context = None if context is None else tf.cast(context, self.compute_dtype)
        self._ensure_built(x, context)
        return self._forward(x, self._context(context, x), training)

    def inverse_and_log_det(self, y, context=None, training=False):
        """``(f^{-1}(y), log|det df^{-1}/dy|)``: shapes ``[batch..., d]`` and ``[batch...]``."""
        y = tf.cast(y, self.compute_dtype)
        context = None if context is None else tf.cast(context, self.compute_dtype)
        self._ensure_built(y, context)
        return self._inverse(y, self._context(context, y), training)

    def forward(self, x, context=None):
        """``f(x)``, ``[batch..., d]``."""
        return self.forward_and_log_det(x, context)[0]

    def inverse(self, y, context=None):
        """``f^{-1}(y)``, ``[batch..., d]``."""
        return self.inverse_and_log_det(y, context)[0]

    def _context(self, context, x):
        if not self.conditional or self.context_dim == 0:
            return None
        if context is None:
            raise ValueError(
                f"{self.name} was built with a context of size {self.context_dim}; pass "
                "context=... (shape [batch, context_dim]). Received: context=None"
            )
        if context.shape[-1] is not None and context.shape[-1] != self.context_dim:
            raise ValueError(
                f"context must have {self.context_dim} features (last axis) for {self.name}. "
                f"Received: context with shape {tuple(context.shape)}"
            )
        return broadcast_context(context, x)

    def bijector(self, context=None):
        """This layer as a ``tfb.Bijector`` (event rank 1), conditioned on ``context``."""
        return LayerBijector(self, context)

    # ------------------------------------------------------------------ keras
    def call(self, inputs, training=None):
        if isinstance(inputs, (list, tuple)):
            x, context = inputs[0], (inputs[1] if len(inputs) > 1 else None)
        else:
            x, context = inputs, None
        return self.forward_and_log_det(x, context, training=bool(training))[0]

    def compute_output_shape(self, input_shape):
        return _shape_list(input_shape)[0]

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LayerBijector(tfb.Bijector):
    """A ``tfb.Bijector`` view of a :class:`BijectorLayer` with a fixed context."""

    def __init__(self, layer, context=None, name=None):
        self._layer = layer
        self._ctx = context
        super().__init__(
            forward_min_event_ndims=1,
            dtype=tf.as_dtype(layer.compute_dtype),
            validate_args=False,
            name=name or layer.name,
            parameters={"layer": layer, "context": context},
        )

    @property
    def layer(self):
        return self._layer

    def _forward(self, x):
        return self._layer.forward_and_log_det(x, self._ctx)[0]

    def _inverse(self, y):
        return self._layer.inverse_and_log_det(y, self._ctx)[0]

    def _forward_log_det_jacobian(self, x):
        return self._layer.forward_and_log_det(x, self._ctx)[1]

    def _inverse_log_det_jacobian(self, y):
        return self._layer.inverse_and_log_det(y, self._ctx)[1]

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return {}
