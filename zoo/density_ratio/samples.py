"""The two samples a density ratio is fitted on: checks, pooling, streams, fingerprints.

Samples of ``p`` and ``q`` come as arrays ``[n, d]``, ``tf.data`` datasets of batches
``[b, d]`` (or single examples ``[d]``), or sampler callables ``f(n) -> [n, d]``. Arrays
are pooled with labels (1 for ``p``, 0 for ``q``) and fold ids; streams are drawn batch
against batch.
"""

import hashlib
import itertools

import numpy as np
import tensorflow as tf

from kerasprob.validation import check_array

#: Pooled batches of a stream scored out of fold to choose the network after a fit.
SCORED_BATCHES = 16


def is_dataset(value):
    return isinstance(value, tf.data.Dataset)


def is_sampler(value):
    return callable(value) and not is_dataset(value) and not isinstance(value, np.ndarray)


def is_stream(value):
    return is_dataset(value) or is_sampler(value)


def check_samples(name, x, feature_shape=None):
    """``x`` as a finite float array ``[n, d]`` with ``n >= 2``."""
    x = check_array(name, x, feature_shape=feature_shape)
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape [n, d]. Received: {name} with shape {x.shape}")
    if len(x) < 2:
        raise ValueError(f"{name} must hold at least 2 samples. Received: {name} with shape "
                         f"{x.shape}")
    return x


def check_pair(x_p, x_q, feature_shape=None, prefix=""):
    """Both sample arrays checked: ``[n_p, d]`` and ``[n_q, d]``, finite, ``n >= 2``."""
    if x_p is None or x_q is None:
        raise ValueError(f"{prefix}x_p and {prefix}x_q (samples of p and of q) are both "
                         f"needed. Received: {prefix}x_p={type(x_p).__name__}, "
                         f"{prefix}x_q={type(x_q).__name__}")
    x_p = check_samples(prefix + "x_p", x_p, feature_shape)
    x_q = check_samples(prefix + "x_q", x_q, feature_shape)
    if x_p.shape[1] != x_q.shape[1]:
        raise ValueError(
            f"{prefix}x_p and {prefix}x_q must have the same number of features. Received: "
            f"{prefix}x_p with shape {x_p.shape} and {prefix}x_q with shape {x_q.shape}")
    return x_p, x_q


def pool(x_p, x_q, fold_p=None, fold_q=None):
    """``(x, labels, fold)``: the two classes mixed by a fixed permutation (so that every
    batch holds both, also with ``shuffle=False``); fold ids ``-1`` where none are given."""
    x = np.concatenate([x_p, x_q], 0)
    labels = np.concatenate([np.ones(len(x_p), np.float32), np.zeros(len(x_q), np.float32)])
    fold = np.concatenate([np.full(len(x_p), -1, np.int32) if fold_p is None else fold_p,
                           np.full(len(x_q), -1, np.int32) if fold_q is None else fold_q])
    order = np.random.default_rng(0).permutation(len(x))
    return x[order], labels[order], fold[order].astype(np.int32)


def fingerprint(x):
    """A 63-bit hash of an array's shape and float64 values: recognises the sample a ratio
    was fitted on, whatever float dtype it is passed in."""
    x = np.ascontiguousarray(x, np.float64)
    digest = hashlib.blake2b(repr(x.shape).encode() + x.tobytes(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def feature_size(name, source, feature_shape=None):
    if is_dataset(source):
        return int(source.element_spec.shape[-1])
    if is_sampler(source):
        return int(np.shape(source(2))[-1])
    return int(check_samples(name, source, feature_shape).shape[1])


def content_folds(x, folds):
    """Fold ids ``[batch]`` in ``0 .. folds - 1`` from a hash of each row's float32 bits:
    the same example always lands in the same fold, however a stream orders, shuffles or
    repeats it, so a fold member never sees its fold."""
    bits = tf.cast(tf.bitcast(tf.cast(x, tf.float32), tf.int32), tf.int64)  # [b, d]
    d = int(x.shape[-1])
    weights = tf.constant(np.random.default_rng(0).integers(1, 2**31, d) * 2 + 1, tf.int64)
    h = tf.reduce_sum(bits * weights, -1)
    h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 29)) * 0x2545F4914F6CDD1D
    h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 32))
    return tf.cast(tf.math.floormod(h, folds), tf.int32)


def stream(name, source, batch, d):
    """``(train, b, size)``: a repeating dataset of float32 batches ``[b, d]`` of one class,
    its batch size, and the number of distinct examples (``None``: unbounded or unknown)."""
    if is_dataset(source):
        spec = source.element_spec
        if not isinstance(spec, tf.TensorSpec) or spec.shape.rank not in (1, 2):
            raise ValueError(f"{name} must be a dataset of tensors [d] or batches [b, d]. "
                             f"Received: element_spec={spec}")
        batches = int(source.cardinality())  # of the source's elements: -1, -2 unbounded
        if spec.shape.rank == 1:
            batches = batches // batch if batches >= 0 else batches
            source = source.batch(batch, drop_remainder=True)
        elif spec.shape[0] is None:
            # Batches of one size: a short last batch would shift the class odds of its
            # step, and so the intercept of log r (by (1 / batches) log(b_last / b)).
            first = next(iter(source.take(1)), None)
            if first is not None:
                source = source.unbatch().batch(int(first.shape[0]), drop_remainder=True)
        first = next(iter(source.take(1)), None)
        if first is None:
            raise ValueError(f"{name} is an empty dataset")
        check_samples(f"{name}'s first batch", np.asarray(first))
        if first.shape[-1] != d:
            raise ValueError(f"{name} must yield batches with {d} features. Received: a "
                             f"batch with shape {tuple(first.shape)}")
        train = source.map(lambda v: tf.cast(v, tf.float32)).repeat()
        size = batches * int(first.shape[0]) if batches >= 0 else None
        return train, int(first.shape[0]), size
    if is_sampler(source):
        def draws():
            for _ in itertools.count():
                yield np.asarray(source(batch), np.float32)

        first = check_samples(f"{name}({batch})", np.asarray(source(batch)))
        if first.shape != (batch, d):
            raise ValueError(f"{name}(n) must return an array [n, {d}]. Received: "
                             f"{name}({batch}) with shape {first.shape}")
        signature = tf.TensorSpec((batch, d), tf.float32)
        return tf.data.Dataset.from_generator(draws, output_signature=signature), batch, None
    x = check_samples(name, source)
    if x.shape[1] != d:
        raise ValueError(f"{name} must have {d} features. Received: {name} with shape "
                         f"{x.shape}")
    ds = tf.data.Dataset.from_tensor_slices(x).repeat().shuffle(min(len(x), 100_000))
    return ds.batch(batch, drop_remainder=True), batch, len(x)


def pooled_stream(x_p, x_q, batch_size, folds=0):
    """The pooled dataset of ``(x, (labels, fold))`` batches (fold ids by
    :func:`content_folds`, or -1 without ``folds``), ``d``, ``(b_p, b_q)`` and the sides'
    numbers of distinct examples ``(size_p, size_q)`` (``None``: unbounded)."""
    d_p, d_q = feature_size("x_p", x_p), feature_size("x_q", x_q)
    if d_p != d_q:
        raise ValueError("x_p and x_q must have the same number of features. Received: "
                         f"{d_p} and {d_q}")
    half = max(1, batch_size // 2)
    ds_p, b_p, size_p = stream("x_p", x_p, half, d_p)
    ds_q, b_q, size_q = stream("x_q", x_q, half, d_q)

    def mix(a, b):
        x = tf.concat([a, b], 0)
        labels = tf.concat([tf.ones(tf.shape(a)[:1]), tf.zeros(tf.shape(b)[:1])], 0)
        fold = content_folds(x, folds) if folds else -tf.ones(tf.shape(x)[:1], tf.int32)
        return x, (labels, fold)

    ds = tf.data.Dataset.zip((ds_p, ds_q)).map(mix).prefetch(2)
    return ds, d_p, (b_p, b_q), (size_p, size_q)
