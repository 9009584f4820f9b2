"""Coupling layers (RealNVP): half the features condition an elementwise map of the rest.

With a binary mask splitting ``x`` into ``x_A`` (kept) and ``x_B`` (transformed)::

    y_A = x_A,    y_B = g(x_B; NN([x_A, c])),    log|det J| = sum_B log g'(x_B)

Both directions cost one network pass. ``g`` is affine (RealNVP) or a
rational-quadratic spline (neural spline flow, coupling form).
"""

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.layers.flows.autoregressive import hidden_initializer
from kerasprob.layers.flows.base import BijectorLayer
from kerasprob.layers.mlp import MLP
from kerasprob.math.spline import check_transformer, params_per_feature, transform
from kerasprob.serialization import register
from kerasprob.validation import check_units

MASKS = ("half", "alternating")


def coupling_mask(mask, event_dim, flip=False):
    """The boolean mask (True = kept, conditions the rest) of ``event_dim`` features.

    ``"half"``: the first ``d / 2`` features are kept (``d`` must be even);
    ``"alternating"``: features ``0, 2, 4, ...`` are kept; a list of 0/1 gives
    the mask explicitly. ``flip`` swaps the roles.
    """
    if isinstance(mask, list):
        mask = list(mask)  # a layer's attribute is a ListWrapper: show it as a plain list
    if isinstance(mask, str):
        if mask == "half":
            if event_dim % 2:
                raise ValueError(
                    "mask='half' needs an even number of features; use mask='alternating' or an "
                    f"explicit 0/1 list. Received: mask='half' with event_dim={event_dim}"
                )
            kept = np.arange(event_dim) < event_dim // 2
        else:
            kept = np.arange(event_dim) % 2 == 0
    else:
        kept = np.asarray(mask, dtype=bool)
        if kept.shape != (event_dim,):
            raise ValueError(
                f"mask must have one 0/1 entry per feature ({event_dim}). Received: mask={mask!r}"
            )
    if flip:
        kept = ~kept
    if kept.all() or not kept.any():
        raise ValueError(
            "a coupling mask must keep at least one feature and transform at least one. "
            f"Received: mask={mask!r}, flip={flip} with event_dim={event_dim}"
        )
    return kept


def _check_mask(mask):
    if isinstance(mask, str):
        if mask not in MASKS:
            raise ValueError(
                f"mask must be 'half', 'alternating' or a list of 0/1. Received: mask={mask!r}"
            )
        return mask
    if isinstance(mask, (list, tuple, np.ndarray)):
        if any(isinstance(v, str) or v not in (0, 1) for v in mask):  # int() would take 0.5 as 0
            raise ValueError(f"mask must hold only 0 and 1. Received: mask={mask!r}")
        return [int(v) for v in mask]
    raise TypeError(f"mask must be 'half', 'alternating' or a list of 0/1. Received: mask={mask!r}")


@register
class Coupling(BijectorLayer):
    """Coupling layer ``y_B = g(x_B; NN([x_A, c]))``, ``y_A = x_A``, with ``g`` affine or spline.

    Args:
      hidden_units: hidden sizes of the conditioner MLP.
      mask: ``"half"`` (first half kept; even ``d`` only), ``"alternating"``
        (even indices kept) or a list of 0/1 with 1 = kept.
      flip: swap kept and transformed features (alternate it between layers).
      transformer: ``"affine"`` or ``"spline"``.
      bins: spline bins (``>= 2``).
      bound: spline interval ``[-bound, bound]``; identity outside.
      clamp: bound of the affine log-scale (soft clamp ``c tanh(s / c)``).
      activation: hidden activation of the conditioner.

    The conditioner's last layer starts at zero, so the layer starts as the identity; its
    hidden kernels start uniform in ``+-1 / sqrt(fan_in)`` (:func:`hidden_initializer`, as
    MADE's, PyTorch's default) rather than Glorot's. On the iris RealNVP benchmark (5
    couplings, hidden [20, 20], Adam 1e-2, 2501 full-batch steps, 10 seeds) the final training
    NLL had median 2.26 (range 2.12..2.64) against Glorot's 2.31 (2.08..2.95).

    Input shape: ``[batch..., d]`` (and ``[batch..., c]`` for the context).
    Output shape: ``[batch..., d]``.

    References:
      Dinh, Sohl-Dickstein & Bengio (2017), Density estimation using Real NVP. ICLR.
      Durkan et al. (2019), Neural Spline Flows. NeurIPS.
    """

    conditional = True

    def __init__(
        self,
        hidden_units=(64, 64),
        mask="half",
        flip=False,
        transformer="affine",
        bins=8,
        bound=5.0,
        clamp=3.0,
        activation="relu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.mask = _check_mask(mask)
        self.flip = bool(flip)
        self.transformer, self.bins, self.bound, self.clamp = check_transformer(
            transformer, bins, bound, clamp
        )
        self.activation = activation

    def build_bijector(self, event_dim, context_dim):
        kept = coupling_mask(self.mask, event_dim, self.flip)
        self.kept_index = np.flatnonzero(kept).astype(np.int32)
        self.moved_index = np.flatnonzero(~kept).astype(np.int32)
        self.merge_index = np.argsort(
            np.concatenate([self.kept_index, self.moved_index])
        ).astype(np.int32)
        # Contiguous halves ("half" masks, flipped or not) split with slices, not gathers: the
        # graph (and its gradient) is smaller and traces faster.
        k = len(self.kept_index)
        if np.array_equal(self.kept_index, np.arange(k)):
            self._split_at, self._kept_first = k, True
        elif np.array_equal(self.moved_index, np.arange(event_dim - k)):
            self._split_at, self._kept_first = event_dim - k, False
        else:
            self._split_at = None
        self.num_params = params_per_feature(self.transformer, self.bins)
        self.conditioner = MLP(
            self.hidden_units, len(self.moved_index) * self.num_params,
            activation=self.activation,
            # A config, not an instance: each Dense then makes its own. One shared unseeded
            # instance gives every hidden kernel of the same shape the same values.
            kernel_initializer=tf_keras.initializers.serialize(hidden_initializer()),
            output_initializer="zeros", name="conditioner", dtype=self.network_policy,
        )
        self.conditioner.build((None, len(self.kept_index) + context_dim))

    def _split(self, x):
        if self._split_at is None:
            return tf.gather(x, self.kept_index, axis=-1), tf.gather(x, self.moved_index, axis=-1)
        first, second = x[..., : self._split_at], x[..., self._split_at :]
        return (first, second) if self._kept_first else (second, first)

    def _merge(self, x_a, y_b):
        if self._split_at is None:
            return tf.gather(tf.concat([x_a, y_b], axis=-1), self.merge_index, axis=-1)
        return tf.concat([x_a, y_b] if self._kept_first else [y_b, x_a], axis=-1)

    def _apply(self, x, context, inverse):
        x_a, x_b = self._split(x)  # [batch..., k_A], [batch..., k_B]
        h = x_a if context is None else tf.concat([x_a, context], axis=-1)
        params = tf.cast(self.conditioner(h), x.dtype)  # 16-bit under a mixed policy
        params = tf.reshape(
            params, tf.concat([tf.shape(x_b)[:-1], [self.num_params, len(self.moved_index)]], 0)
        )  # [batch..., p, k_B]
        y_b, log_det = transform(
            x_b, params, self.transformer, self.bins, self.bound, self.clamp, inverse
        )
        return self._merge(x_a, y_b), log_det

    def _forward(self, x, context, training):
        return self._apply(x, context, inverse=False)

    def _inverse(self, y, context, training):
        return self._apply(y, context, inverse=True)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_units": list(self.hidden_units),
            "mask": self.mask,
            "flip": self.flip,
            "transformer": self.transformer,
            "bins": self.bins,
            "bound": self.bound,
            "clamp": self.clamp,
            "activation": self.activation,
        }


@register
class AffineCoupling(Coupling):
    """RealNVP affine coupling: ``y_B = x_B * exp(s(x_A, c)) + t(x_A, c)``, ``log|det J| = sum s``.

    ``s`` is softly clamped to ``(-clamp, clamp)``. Same arguments as
    :class:`Coupling` without ``transformer``/``bins``/``bound``.

    References:
      Dinh, Sohl-Dickstein & Bengio (2017), Density estimation using Real NVP. ICLR.
    """

    def __init__(self, hidden_units=(64, 64), mask="half", flip=False, clamp=3.0,
                 activation="relu", **kwargs):
        super().__init__(hidden_units, mask, flip, "affine", 8, 5.0, clamp, activation, **kwargs)

    def get_config(self):
        config = super().get_config()
        for key in ("transformer", "bins", "bound"):
            config.pop(key)
        return config


@register
class SplineCoupling(Coupling):
    """Rational-quadratic spline coupling: ``y_B = RQS(x_B; NN(x_A, c))`` on ``[-bound, bound]``.

    Identity (linear tails) outside the bound. Same arguments as
    :class:`Coupling` without ``transformer``/``clamp``.

    References:
      Durkan, Bekasov, Murray & Papamakarios (2019), Neural Spline Flows. NeurIPS.
    """

    def __init__(self, hidden_units=(64, 64), mask="half", flip=False, bins=8, bound=5.0,
                 activation="relu", **kwargs):
        super().__init__(hidden_units, mask, flip, "spline", bins, bound, 3.0, activation,
                         **kwargs)

    def get_config(self):
        config = super().get_config()
        for key in ("transformer", "clamp"):
            config.pop(key)
        return config
