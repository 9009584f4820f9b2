"""Encoder and decoder networks for latent-variable models (dense ones are :class:`MLP`).

``ConvEncoder`` maps images ``[batch, H, W, C]`` to a parameter vector (for
example the ``params_size`` of a posterior); ``ConvDecoder`` maps a latent code
``[batch, d]`` to the flat parameter vector of an image likelihood layer of
:mod:`kerasprob.distributions` (``IndependentBernoulli``, ``IndependentNormal``,
``DiscretizedLogistic``, ...), so ``Dense(params_size)`` composition carries over
to images. ``conv_architecture(image_shape)`` gives the convolutional VAE of the
TFP course write-up for 36 x 36 images, and a scaled-down variant of
it for other sizes.

>>> import numpy as np
>>> enc = ConvEncoder(output_units=5, **CONV_VAE_36X36["encoder"])
>>> enc(np.zeros((2, 36, 36, 3), "float32")).shape
TensorShape([2, 5])
>>> dec = ConvDecoder((36, 36, 3), output_units=36 * 36 * 3, **CONV_VAE_36X36["decoder"])
>>> dec(np.zeros((2, 2), "float32")).shape
TensorShape([2, 3888])
"""

import numbers

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.math.conv import few_channel_conv2d, upsample_conv2d
from kerasprob.serialization import register
from kerasprob.validation import check_positive_int, check_shape

# The custom-gradient convolutions are tier-1 math (kerasprob.math.conv), imported here.
__all__ = ["CONV_VAE_36X36", "ConvDecoder", "ConvEncoder", "FewChannelConv2D", "UpsampleConv2D",
           "conv_architecture"]

#: The TFP course's convolutional VAE ("Probabilistic generative models" capstone):
#: encoder Conv(32, 3, /2) BN, Conv(64, 3, /2) BN, Conv(128, 3, /3) BN, Flatten, Dense;
#: decoder Dense(1152) -> (3, 3, 128), Up(3) Conv(64, 3), Up(2) Conv(32, 2),
#: Up(2) Conv(128, 2), Conv(C, 2). For 36 x 36 images.
CONV_VAE_36X36 = {
    "encoder": {"filters": [32, 64, 128], "kernel_size": [3, 3, 3], "strides": [2, 2, 3],
                "batch_norm": True},
    "decoder": {"initial_shape": [3, 3, 128], "upsampling": [3, 2, 2], "filters": [64, 32, 128],
                "kernel_size": [3, 2, 2], "output_kernel_size": 2},
}


def _int_list(name, value, length=None):
    """An int or a list of positive ints -> a list (an int is repeated ``length`` times)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = [value] * (length or 1)
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{name} must be a positive int or a list of them. Received: "
                         f"{name}={value!r}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name} must hold positive integers. Received: {name}={value!r}")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} must have {length} entries (one per layer). Received: "
                         f"{name}={list(value)!r}")
    return [int(v) for v in value]


def conv_architecture(image_shape):
    """Encoder and decoder keyword arguments for images of ``image_shape``.

    36 x 36 (any multiple of 12) gets the course's network, ``CONV_VAE_36X36``. Other
    sizes keep its filters and kernels with strides (and mirrored upsampling)
    ``(2, 2, 1)`` when ``H`` and ``W`` divide by 4, ``(2, 1, 1)`` when they
    divide by 2, else ``(1, 1, 1)``.

    Args:
      image_shape: ``(H, W)`` or ``(H, W, C)``.

    Returns:
      ``{"encoder": {...}, "decoder": {...}}`` for :class:`ConvEncoder` and
      :class:`ConvDecoder`.
    """
    shape = check_shape("image_shape", image_shape)
    if len(shape) not in (2, 3):
        raise ValueError("a convolutional network needs image_shape (H, W) or (H, W, C). "
                         f"Received: image_shape={shape!r}")
    h, w = shape[:2]
    if h % 12 == 0 and w % 12 == 0:
        strides = [2, 2, 3]
    elif h % 4 == 0 and w % 4 == 0:
        strides = [2, 2, 1]
    elif h % 2 == 0 and w % 2 == 0:
        strides = [2, 1, 1]
    else:
        strides = [1, 1, 1]
    down = int(np.prod(strides))
    encoder = {**CONV_VAE_36X36["encoder"], "strides": strides}
    decoder = {**CONV_VAE_36X36["decoder"], "upsampling": strides[::-1],
               "initial_shape": [h // down, w // down, 128]}
    return {"encoder": encoder, "decoder": decoder}


@register
class FewChannelConv2D(tf_keras.layers.Conv2D):
    """``Conv2D(filters, kernel_size, padding="same")`` computed by :func:`few_channel_conv2d`.

    The same layer (same weights, outputs and gradients) with a faster kernel gradient
    when ``kernel_size^2 * filters`` is small next to the input channels, as in the last
    layer of an image decoder.

    Input shape: ``[batch, H, W, c_in]``. Output shape: ``[batch, H, W, filters]``.
    """

    def __init__(self, filters, kernel_size, **kwargs):
        kwargs["padding"] = "same"
        super().__init__(filters, kernel_size, **kwargs)
        if self.kernel_size[0] != self.kernel_size[1] or self.strides != (1, 1):
            raise ValueError("FewChannelConv2D needs a square kernel and stride 1. Received: "
                             f"kernel_size={self.kernel_size}, strides={self.strides}")

    def call(self, inputs):
        y = few_channel_conv2d(inputs, self.kernel)
        if self.use_bias:
            y = tf.nn.bias_add(y, self.bias)
        return self.activation(y) if self.activation is not None else y


@register
class UpsampleConv2D(tf_keras.layers.Conv2D):
    """``UpSampling2D(factor)`` then ``Conv2D(filters, kernel_size, padding="same")``, fused.

    The same layer as the two-layer stack (same weights: a ``Conv2D`` kernel
    ``[k, k, c_in, filters]`` and bias, same outputs and gradients), whose gradient
    :func:`upsample_conv2d` computes at the input resolution with fewer multiply-adds.

    Args:
      filters, kernel_size, activation, ...: as ``Conv2D`` (stride 1, square kernel;
        ``padding`` is always ``"same"``).
      factor: the nearest-neighbour upsampling factor.

    Input shape: ``[batch, h, w, c_in]``. Output shape: ``[batch, factor h, factor w, filters]``.
    """

    def __init__(self, filters, kernel_size, factor=2, **kwargs):
        kwargs["padding"] = "same"
        super().__init__(filters, kernel_size, **kwargs)
        self.factor = check_positive_int("factor", factor)
        if self.kernel_size[0] != self.kernel_size[1] or self.strides != (1, 1):
            raise ValueError("UpsampleConv2D needs a square kernel and stride 1. Received: "
                             f"kernel_size={self.kernel_size}, strides={self.strides}")

    def call(self, inputs):
        y = upsample_conv2d(inputs, self.kernel, self.factor, self.bias if self.use_bias else None)
        return self.activation(y) if self.activation is not None else y

    def compute_output_shape(self, input_shape):
        b, h, w, _ = tf.TensorShape(input_shape).as_list()
        f = self.factor
        return tf.TensorShape(
            [b, None if h is None else f * h, None if w is None else f * w, self.filters])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@register
class ConvEncoder(tf_keras.layers.Layer):
    """``[Conv2D(f_i, k_i, stride s_i, act) -> BatchNorm] * L -> Flatten -> Dense(output_units)``.

    With a context (e.g. one-hot labels of a conditional VAE), the input is
    ``[images, context]`` and the context is concatenated to the flattened
    features before the final ``Dense``.

    Args:
      output_units: size of the output (e.g. a posterior's ``params_size``).
      filters: filters of each conv layer.
      kernel_size: int or one per layer.
      strides: int or one per layer (``"same"`` padding).
      batch_norm: a ``BatchNormalization`` after each conv layer (as the course's network).
      activation: activation of the conv layers.

    Input shape: ``[batch, H, W, C]`` or ``[batch, H, W]`` (one channel), or
    ``[images, context]`` with ``context`` of shape ``[batch, c]``.
    Output shape: ``[batch, output_units]``, in the policy's variable dtype: float64 for
    ``dtype="float64"``, float32 for float32 and the mixed policies
    (``dtype="mixed_bfloat16"`` runs the convolutions in bfloat16).
    """

    def __init__(self, output_units, filters=(32, 64, 128), kernel_size=3, strides=(2, 2, 3),
                 batch_norm=True, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.output_units = check_positive_int("output_units", output_units)
        self.filters = _int_list("filters", filters)
        n = len(self.filters)
        self.kernel_size = _int_list("kernel_size", kernel_size, n)
        self.strides = _int_list("strides", strides, n)
        self.batch_norm = bool(batch_norm)
        self.activation = activation
        dtype = self.dtype_policy  # sublayers share it (e.g. "mixed_bfloat16")
        self.convs = [
            tf_keras.layers.Conv2D(f, k, strides=s, padding="same", activation=activation,
                                   name=f"conv_{i}", dtype=dtype)
            for i, (f, k, s) in enumerate(zip(self.filters, self.kernel_size, self.strides))
        ]
        self.norms = [tf_keras.layers.BatchNormalization(name=f"batch_norm_{i}", dtype=dtype)
                      for i in range(n)] if self.batch_norm else []
        self.flatten = tf_keras.layers.Flatten(name="flatten", dtype=dtype)
        self.out = tf_keras.layers.Dense(self.output_units, name="output", dtype=dtype)

    def call(self, inputs, training=None):
        x, context = (inputs if isinstance(inputs, (list, tuple)) else (inputs, None))
        h = x[..., None] if x.shape.rank == 3 else x  # [batch, H, W, C]
        for i, conv in enumerate(self.convs):
            h = conv(h)
            if self.batch_norm:
                h = self.norms[i](h, training=training)
        h = self.flatten(h)  # [batch, features]
        if context is not None:
            h = tf.concat([h, tf.cast(context, h.dtype)], axis=-1)
        return tf.cast(self.out(h), self.dtype_policy.variable_dtype)

    def compute_output_shape(self, input_shape):
        first = input_shape[0] if isinstance(input_shape, (list, tuple)) and isinstance(
            input_shape[0], (list, tuple, tf.TensorShape)) else input_shape
        return tf.TensorShape(first)[:1].concatenate([self.output_units])

    def get_config(self):
        return {**super().get_config(), "output_units": self.output_units,
                "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "batch_norm": self.batch_norm,
                "activation": self.activation}


@register
class ConvDecoder(tf_keras.layers.Layer):
    """``Dense(prod(initial_shape)) -> [UpSampling2D(u_i) -> Conv2D(f_i, k_i)] * L -> Conv2D``.

    The last convolution has ``m C`` channels, ``m = output_units / (H W C)``
    parameters per pixel; they are returned flat as ``m`` consecutive blocks of
    ``H W C`` values (``[block_1 | ... | block_m]``), the layout of the image
    likelihood layers: ``IndependentBernoulli`` (``m = 1``, logits),
    ``IndependentNormal`` (``m = 2``, locs then raw scales), ... so
    ``ConvDecoder(shape, Layer.params_size(shape))`` composes like ``Dense``.

    Args:
      output_shape: ``(H, W, C)`` or ``(H, W)`` of the image.
      output_units: ``m H W C``, e.g. a likelihood layer's ``params_size``.
      initial_shape: ``(h, w, c)`` the ``Dense`` output is reshaped to;
        ``h prod(upsampling) = H`` and ``w prod(upsampling) = W``.
      upsampling: nearest-neighbour factors before each conv layer.
      filters, kernel_size: of each conv layer (``"same"`` padding).
      output_kernel_size: kernel of the final, linear, conv layer.
      activation: activation of the dense and hidden conv layers.
      fused_upsampling: compute each upsampling + conv pair as one
        :class:`UpsampleConv2D`: same weights, outputs and gradients, with the gradient
        computed at the input resolution (default True; the course's network trains
        about 15% faster per step).

    The last convolution is a :class:`FewChannelConv2D` (a ``Conv2D`` with a faster
    kernel gradient for few output channels).

    Input shape: ``[batch, d]``. Output shape: ``[batch, output_units]``, in the policy's
    variable dtype: float64 for ``dtype="float64"``, float32 for float32 and the mixed
    policies (``dtype="mixed_bfloat16"`` runs the convolutions in bfloat16).
    """

    def __init__(self, output_shape, output_units, initial_shape=(3, 3, 128),
                 upsampling=(3, 2, 2), filters=(64, 32, 128), kernel_size=(3, 2, 2),
                 output_kernel_size=2, activation="relu", fused_upsampling=True, **kwargs):
        super().__init__(**kwargs)
        self.output_shape_ = check_shape("output_shape", output_shape)
        if len(self.output_shape_) not in (2, 3):
            raise ValueError("output_shape must be (H, W) or (H, W, C). Received: "
                             f"output_shape={self.output_shape_!r}")
        h, w = self.output_shape_[:2]
        c = self.output_shape_[2] if len(self.output_shape_) == 3 else 1
        self.output_units = check_positive_int("output_units", output_units)
        if self.output_units % (h * w * c):
            raise ValueError(
                f"output_units must be a multiple of H * W * C = {h * w * c} (whole parameters "
                f"per pixel). Received: output_units={self.output_units}")
        self.params_per_value = self.output_units // (h * w * c)
        self.initial_shape = check_shape("initial_shape", initial_shape)
        if len(self.initial_shape) != 3:
            raise ValueError("initial_shape must be (h, w, channels). Received: "
                             f"initial_shape={self.initial_shape!r}")
        self.filters = _int_list("filters", filters)
        n = len(self.filters)
        self.upsampling = _int_list("upsampling", upsampling, n)
        self.kernel_size = _int_list("kernel_size", kernel_size, n)
        self.output_kernel_size = check_positive_int("output_kernel_size", output_kernel_size)
        self.activation = activation
        self.fused_upsampling = bool(fused_upsampling)
        up = int(np.prod(self.upsampling))
        if (self.initial_shape[0] * up, self.initial_shape[1] * up) != (h, w):
            raise ValueError(
                f"initial_shape {list(self.initial_shape)} upsampled by {up} gives "
                f"{self.initial_shape[0] * up} x {self.initial_shape[1] * up}, not the "
                f"output_shape {h} x {w}. Received: initial_shape={list(self.initial_shape)}, "
                f"upsampling={self.upsampling}")
        self._channels = c
        dtype = self.dtype_policy  # sublayers share it (e.g. "mixed_bfloat16")
        self.dense = tf_keras.layers.Dense(int(np.prod(self.initial_shape)),
                                           activation=activation, name="dense", dtype=dtype)
        fused = self.fused_upsampling
        self.ups = [tf_keras.layers.UpSampling2D(u, name=f"upsample_{i}", dtype=dtype)
                    if u > 1 and not fused else None for i, u in enumerate(self.upsampling)]
        self.convs = [
            UpsampleConv2D(f, k, factor=u, activation=activation, name=f"conv_{i}", dtype=dtype)
            if fused and u > 1 else
            tf_keras.layers.Conv2D(f, k, padding="same", activation=activation, name=f"conv_{i}",
                                   dtype=dtype)
            for i, (f, k, u) in enumerate(zip(self.filters, self.kernel_size, self.upsampling))
        ]
        self.out = FewChannelConv2D(self.params_per_value * c, self.output_kernel_size,
                                    name="output", dtype=dtype)

    def call(self, z):
        h = tf.reshape(self.dense(z), [-1, *self.initial_shape])  # [batch, h, w, c0]
        for up, conv in zip(self.ups, self.convs):
            h = conv(up(h) if up is not None else h)
        h = tf.cast(self.out(h), self.dtype_policy.variable_dtype)  # [batch, H, W, m C]
        if self.params_per_value == 1:
            return tf.reshape(h, [-1, self.output_units])
        hh, ww = self.output_shape_[:2]
        h = tf.reshape(h, [-1, hh, ww, self.params_per_value, self._channels])
        h = tf.transpose(h, [0, 3, 1, 2, 4])  # [batch, m, H, W, C]
        return tf.reshape(h, [-1, self.output_units])

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:1].concatenate([self.output_units])

    def get_config(self):
        return {**super().get_config(), "output_shape": list(self.output_shape_),
                "output_units": self.output_units, "initial_shape": list(self.initial_shape),
                "upsampling": self.upsampling, "filters": self.filters,
                "kernel_size": self.kernel_size, "output_kernel_size": self.output_kernel_size,
                "activation": self.activation,
                "fused_upsampling": self.fused_upsampling}
