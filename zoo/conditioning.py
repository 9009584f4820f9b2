"""Conditioning, one way for every zoo model: a context ``c`` ``[batch, context_dim]`` beside
``x``, and the checks of contexts, labels and ``tf.data`` element specs.

A conditional model takes ``fit(x, c)``, ``[x, c]`` as its Keras inputs, and a
``tf.data.Dataset`` of ``(x, c)`` pairs. Flows condition every conditioner network on
``c``; the VAE gives ``c`` to its encoder and decoder. Class labels are a context too:
:func:`one_hot_context` turns integer labels into the one-hot ``c`` of
``zoo.ConditionalVAE``.

>>> import numpy as np
>>> check_context("c", np.zeros((3, 2)), context_dim=2, n=3).shape
(3, 2)
"""

import numpy as np
import tensorflow as tf

from kerasprob.validation import check_array

__all__ = ["DataSpec", "check_context", "check_dataset", "one_hot_context"]


def check_context(name, c, context_dim, n=None, x_name="x", model="model"):
    """``c`` as a float array ``[n, context_dim]`` (``None`` for an unconditional model).

    Raises:
      ValueError: a context for an unconditional model (``context_dim=0``), none for a
        conditional one, the wrong feature size, or another number of rows than ``x``.
    """
    if not context_dim:
        if c is not None:
            raise ValueError(
                f"this {model} is unconditional (context_dim=0); build it with context_dim=... "
                f"to condition on {name}. Received: {name} with shape {np.shape(c)}"
            )
        return None
    if c is None:
        raise ValueError(
            f"this {model} is conditional (context_dim={context_dim}); pass {name} of shape "
            f"[batch, {context_dim}]. Received: {name}=None"
        )
    c = check_array(name, c, feature_shape=(context_dim,))
    if n is not None and len(c) != n:
        raise ValueError(
            f"{x_name} and {name} must have the same number of examples. Received: {n} and "
            f"{len(c)}"
        )
    return c


def one_hot_context(labels, num_classes, dtype=tf.float32):
    """Labels ``[batch]`` -> one-hot contexts ``[batch, num_classes]``, checked in the graph
    (a label outside ``[0, num_classes)`` stops the step instead of training on zeros)."""
    labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
    checks = [
        tf.debugging.assert_non_negative(labels, message="labels must be >= 0"),
        tf.debugging.assert_less(labels, num_classes,
                                 message=f"labels must be < num_classes={num_classes}"),
    ]
    with tf.control_dependencies(checks):
        return tf.one_hot(labels, num_classes, dtype=dtype)


class DataSpec:
    """One component of a model's data: its name, the shape of one example and its kind.

    Args:
      name: e.g. ``"x"``, ``"c"``, ``"y"``.
      feature_shape: shape after the batch axis, ``None`` entries matching any size
        (``None`` itself: any shape).
      kind: ``"float"`` (any floating or integer dtype) or ``"int"`` (integers only).
    """

    def __init__(self, name, feature_shape, kind="float"):
        self.name, self.kind = name, kind
        self.feature_shape = None if feature_shape is None else tuple(feature_shape)

    def check(self, dataset_name, spec):
        shown = f"{dataset_name}'s {self.name}"
        if not isinstance(spec, tf.TensorSpec):
            raise TypeError(f"{shown} must be a tensor. Received: element spec {spec!r}")
        if self.kind == "int" and not spec.dtype.is_integer:
            raise TypeError(
                f"{shown} must hold integers. Received: dtype {spec.dtype.name} (element spec "
                f"{spec!r})"
            )
        if not (spec.dtype.is_floating or spec.dtype.is_integer or spec.dtype.is_bool):
            raise TypeError(f"{shown} must be numeric. Received: dtype {spec.dtype.name}")
        got, want = spec.shape, self.feature_shape
        if got.rank is None or want is None:
            return
        if got.rank != len(want) + 1 or any(
            w is not None and g is not None and g != w for g, w in zip(got[1:], want)
        ):
            expected = "[batch" + "".join(f", {w}" for w in want) + "]"
            raise ValueError(
                f"{shown} must have shape {expected} (batch the dataset with .batch(n)). "
                f"Received: shape {tuple(got)}"
            )


def check_dataset(name, dataset, structures):
    """Check a ``tf.data.Dataset``'s ``element_spec`` against the structures a model accepts,
    before any step.

    Args:
      name: the argument (``"x"``, ``"validation_data"``).
      dataset: a batched dataset.
      structures: list of tuples of :class:`DataSpec`, each an accepted element layout
        (e.g. ``[(x,), (x, y)]``); a trailing sample-weight component is refused here
        unless a structure lists it.

    Raises:
      TypeError / ValueError naming the dataset, the element spec received and the
      layouts expected.
    """
    spec = dataset.element_spec
    components = spec if isinstance(spec, tuple) else (spec,)
    expected = " or ".join("(" + ", ".join(s.name for s in layout) + ")"
                           for layout in structures)
    if isinstance(spec, dict) or any(isinstance(c, (dict, list, tuple)) for c in components):
        raise TypeError(
            f"{name} must be a tf.data.Dataset of tensors {expected}. Received: element spec "
            f"{spec!r}"
        )
    for layout in structures:
        if len(layout) == len(components):
            for data_spec, component in zip(layout, components):
                data_spec.check(name, component)
            return
    raise ValueError(
        f"{name} must be a tf.data.Dataset of {expected}. Received: {len(components)} "
        f"component(s), element spec {spec!r}"
    )
