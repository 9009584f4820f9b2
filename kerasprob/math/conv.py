"""Convolutions with cheaper custom gradients, as pure tensor functions.

``upsample_conv2d`` is ``UpSampling2D(s)`` then a "same" ``Conv2D``, with its
gradients computed at the input resolution; ``few_channel_conv2d`` is a "same"
``Conv2D`` whose kernel gradient is one matmul, fast when the output has few
channels (an image decoder's last layer). Both give the outputs and gradients of
the plain ops (to rounding); only the work done differs. Their layers are
:class:`kerasprob.layers.networks.UpsampleConv2D` and
:class:`kerasprob.layers.networks.FewChannelConv2D`; the measured costs are in
``benchmarks/README.md`` ("Where the conv VAE's time goes").

>>> import numpy as np
>>> x = np.ones((1, 2, 2, 1), "float32")
>>> kernel = np.ones((2, 2, 1, 1), "float32")
>>> upsample_conv2d(x, kernel, factor=2).shape
TensorShape([1, 4, 4, 1])
"""

import numpy as np
import tensorflow as tf

__all__ = ["few_channel_conv2d", "upsample_conv2d"]


def _gradient_taps(factor, kernel_size):
    """The 1-D tap matrix ``M`` ``[factor + kernel_size - 1, kernel_size]`` of the input
    gradient of ``UpSampling(factor) -> Conv(kernel_size, "same")``.

    With ``b = (kernel_size - 1) // 2`` zeros of "same" padding before, output ``y`` reads
    the upsampled input at ``y + a - b``, so input pixel ``i`` receives
    ``sum_{p < factor, a} dY[factor i + p - a + b] K[a]``. Grouping the pairs ``(p, a)`` by
    ``u = p - a + b`` gives one stride-``factor`` correlation of ``dY`` with the kernel
    ``G[u] = sum_a M[u, a] K[a]``; ``M`` counts the pairs.
    """
    taps = np.zeros((factor + kernel_size - 1, kernel_size), np.float32)
    for p in range(factor):
        for a in range(kernel_size):
            taps[p - a + kernel_size - 1, a] += 1.0
    return taps


def _output_gradient_padding(kernel_size):
    """Pads ``dY`` so that every ``k x k`` tap of a stride-1 "same" convolution reads it at
    a non-negative offset: tap ``a`` of output row ``y`` is padded row ``y + k - 1 - a``."""
    before = (kernel_size - 1) // 2
    rows = [kernel_size - 1 - before, before]
    return [[0, 0], rows, rows, [0, 0]]


def _kernel_layout(matrix, kernel_size, c_out):
    """``[c_in, k k c_out]`` (tap-major columns) -> a ``Conv2D`` kernel ``[k, k, c_in, c_out]``."""
    c_in = matrix.shape[0]
    return tf.transpose(tf.reshape(matrix, [c_in, kernel_size, kernel_size, c_out]), [1, 2, 0, 3])


def _nearest_upsample(x, factor):
    """``[b, h, w, c] -> [b, s h, s w, c]``, each pixel repeated ``s x s`` times."""
    return tf.repeat(tf.repeat(x, factor, axis=1), factor, axis=2)


def upsample_conv2d(x, kernel, factor, bias=None):
    """``conv2d(UpSampling2D(factor)(x), kernel, padding="same") (+ bias)``, cheaper gradient.

    The forward pass is oneDNN's convolution of the upsampled tensor (the fastest way
    on CPU). The gradient works at the input resolution instead, where nearest-neighbour
    upsampling lets the ``s x s`` copies of a pixel share work:

    - input: ``dX = conv(dY, G, stride s)`` with the ``(s + k - 1)^2`` taps ``G`` of
      :func:`_gradient_taps`, instead of a full-resolution transposed convolution and a
      sum over each ``s x s`` block (``(s + k - 1)^2 / (s k)^2`` of the multiply-adds:
      9/16 for ``s = k = 2``);
    - kernel: ``dK[a, b] = X^T P_ab`` where ``P_ab`` sums ``dY`` over the ``s x s`` block
      that reads input pixel ``(i, j)`` through tap ``(a, b)`` (``1 / s^2`` of the
      multiply-adds of the full-resolution kernel gradient);
    - bias: the sum of ``dY``, which the centre tap's blocks cover exactly once: one
      more row of the same matmul, ``[X, 1]^T P``.

    In float32 (and every dtype but bfloat16) the kernel gradient is oneDNN's own, on the
    upsampled input kept from the forward pass (``s^2`` times the multiply-adds, but no
    pooling passes over ``dY``, which cost more than they save at float32's width), and
    the bias gradient is the sum of ``dY``; the input gradient is the stride-``s``
    convolution above, padded in place.

    Args:
      x: ``[batch, h, w, c_in]`` (``h``, ``w`` known statically).
      kernel: ``[k, k, c_in, c_out]``, a ``Conv2D`` kernel (square).
      factor: the upsampling factor ``s``.
      bias: ``[c_out]`` or None.

    Returns:
      ``[batch, s h, s w, c_out]`` (no activation).
    """
    kernel = tf.cast(kernel, x.dtype)  # a tensor (the gradient reaches a variable through it)
    k = kernel.shape[0]
    h, w = x.shape[1], x.shape[2]
    if h is None or w is None:  # the gradient below needs static sizes
        y = tf.nn.conv2d(_nearest_upsample(x, factor), kernel, 1, "SAME")
        return y if bias is None else tf.nn.bias_add(y, tf.cast(bias, x.dtype))
    taps = _gradient_taps(factor, k)
    before = (k - 1) // 2
    pooled = x.dtype == tf.bfloat16  # else float32: oneDNN's own kernel gradient (see above)

    def gradient(x, upsampled, kernel, dy):  # dy: [batch, s h, s w, c_out]
        c_in, c_out = kernel.shape[2], kernel.shape[3]
        m = tf.constant(taps, kernel.dtype)
        g = tf.einsum("ua,abio,vb->uvoi", m, kernel, m)  # [s + k - 1, s + k - 1, c_out, c_in]
        if not pooled:
            dx = tf.nn.conv2d(dy, g, factor, _output_gradient_padding(k))  # [batch, h, w, c_in]
            dk = tf.compat.v1.nn.conv2d_backprop_filter(
                upsampled, kernel.shape, dy, [1, 1, 1, 1], "SAME")
            return [dx, dk] if bias is None else [dx, dk, tf.reduce_sum(dy, axis=[0, 1, 2])]
        dy_padded = tf.pad(dy, _output_gradient_padding(k))
        dx = tf.nn.conv2d(dy_padded, g, factor, "VALID")  # [batch, h, w, c_in]
        blocks = []  # block means of dY per tap (a, b); pooled in the padded frame
        for a in range(k):
            for b in range(k):
                window = dy_padded[:, k - 1 - a: k - 1 - a + factor * h,
                                   k - 1 - b: k - 1 - b + factor * w]
                blocks.append(tf.nn.avg_pool2d(window, factor, factor, "VALID"))
        means = tf.reshape(tf.concat(blocks, axis=-1), [-1, k * k * c_out])  # [n, k k c_out]
        inputs = tf.reshape(x, [-1, c_in])
        if bias is not None:
            inputs = tf.concat([inputs, tf.ones_like(inputs[:, :1])], axis=-1)  # [n, c_in + 1]
        products = float(factor * factor) * tf.linalg.matmul(inputs, means, transpose_a=True)
        grads = [dx, _kernel_layout(products[:c_in], k, c_out)]  # products: [c_in (+1), k k c_out]
        if bias is None:
            return grads
        centre = (before * k + before) * c_out  # tap (before, before) covers dY exactly once
        return [*grads, products[c_in, centre: centre + c_out]]

    @tf.custom_gradient
    def forward(*args):
        x, kernel = args[0], args[1]
        upsampled = _nearest_upsample(x, factor)
        y = tf.nn.conv2d(upsampled, kernel, 1, "SAME")
        if bias is not None:
            y = tf.nn.bias_add(y, args[2])
        kept = None if pooled else upsampled  # only float32's kernel gradient reads it
        return y, lambda dy: gradient(x, kept, kernel, dy)

    args = (x, kernel) if bias is None else (x, kernel, tf.cast(bias, x.dtype))
    return forward(*args)


def few_channel_conv2d(x, kernel):
    """``conv2d(x, kernel, stride 1, padding="same")`` with a kernel gradient for few outputs.

    The kernel gradient ``dK[a, b] = sum_y x[y + (a, b) - o] dY[y]`` (``o`` the "same"
    padding before) is computed as one matmul ``X^T D`` of the input ``[n, c_in]`` with
    the ``k^2`` shifted copies of the output gradient ``D`` ``[n, k^2 c_out]``. With few
    output channels (an image's ``C`` or ``m C`` parameters) ``D`` is small, and the matmul
    reads ``x`` once; oneDNN's kernel-gradient convolution runs such layers far below its
    usual rate. The forward pass and the input gradient are the usual convolutions.

    Args:
      x: ``[batch, H, W, c_in]`` (``H``, ``W`` known statically).
      kernel: ``[k, k, c_in, c_out]`` (square).

    Returns:
      ``[batch, H, W, c_out]`` (no bias).
    """
    kernel = tf.cast(kernel, x.dtype)  # a tensor (the gradient reaches a variable through it)
    k = kernel.shape[0]
    h, w = x.shape[1], x.shape[2]
    if h is None or w is None:
        return tf.nn.conv2d(x, kernel, 1, "SAME")

    @tf.custom_gradient
    def forward(x, kernel):
        def gradient(dy):  # dy: [batch, H, W, c_out]
            c_in, c_out = kernel.shape[2], kernel.shape[3]
            dx = tf.nn.conv2d_transpose(dy, kernel, tf.shape(x), 1, "SAME")
            dy_padded = tf.pad(dy, _output_gradient_padding(k))
            shifted = tf.concat([dy_padded[:, k - 1 - a: k - 1 - a + h, k - 1 - b: k - 1 - b + w]
                                 for a in range(k) for b in range(k)], axis=-1)  # [..., k k c_out]
            dk = tf.linalg.matmul(tf.reshape(x, [-1, c_in]),
                                  tf.reshape(shifted, [-1, k * k * c_out]), transpose_a=True)
            return dx, _kernel_layout(dk, k, c_out)

        return tf.nn.conv2d(x, kernel, 1, "SAME"), gradient

    return forward(x, kernel)
