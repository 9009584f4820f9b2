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

#: Batches of each stream held out (never trained on) to choose the network.
HELD_OUT_BATCHES = 8


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


def stream(name, source, batch, d, hold_out):
    """``(train, b, held_out)``: a repeating dataset of float32 batches ``[b, d]`` of one
    class, its batch size, and ``[m b, d]`` samples drawn first and never trained on
    (``hold_out`` batches; fewer for a short dataset, ``None`` for none)."""
    if is_dataset(source):
        spec = source.element_spec
        if not isinstance(spec, tf.TensorSpec) or spec.shape.rank not in (1, 2):
            raise ValueError(f"{name} must be a dataset of tensors [d] or batches [b, d]. "
                             f"Received: element_spec={spec}")
        if spec.shape.rank == 1:
            source = source.batch(batch, drop_remainder=True)
        first = next(iter(source.take(1)), None)
        if first is None:
            raise ValueError(f"{name} is an empty dataset")
        check_samples(f"{name}'s first batch", np.asarray(first))
        if first.shape[-1] != d:
            raise ValueError(f"{name} must yield batches with {d} features. Received: a "
                             f"batch with shape {tuple(first.shape)}")
        size = int(source.cardinality())
        if size >= 0:  # finite: keep at least four fifths for training
            hold_out = min(hold_out, size // 5)
        held_out = None
        if hold_out:
            held_out = np.concatenate(list(source.take(hold_out).as_numpy_iterator()), 0)
            source = source.skip(hold_out)
        train = source.map(lambda v: tf.cast(v, tf.float32)).repeat()
        return train, int(first.shape[0]), held_out
    if is_sampler(source):
        def draws():
            for _ in itertools.count():
                yield np.asarray(source(batch), np.float32)

        first = check_samples(f"{name}({batch})", np.asarray(source(batch)))
        if first.shape != (batch, d):
            raise ValueError(f"{name}(n) must return an array [n, {d}]. Received: "
                             f"{name}({batch}) with shape {first.shape}")
        held_out = (np.concatenate([np.asarray(source(batch)) for _ in range(hold_out)], 0)
                    if hold_out else None)
        signature = tf.TensorSpec((batch, d), tf.float32)
        return tf.data.Dataset.from_generator(draws, output_signature=signature), batch, held_out
    x = check_samples(name, source)
    if x.shape[1] != d:
        raise ValueError(f"{name} must have {d} features. Received: {name} with shape "
                         f"{x.shape}")
    x = x[np.random.default_rng(0).permutation(len(x))]
    m = min(hold_out * batch, len(x) // 5)
    held_out, x = (x[:m], x[m:]) if m >= 2 else (None, x)
    ds = tf.data.Dataset.from_tensor_slices(x).repeat().shuffle(min(len(x), 100_000))
    return ds.batch(batch, drop_remainder=True), batch, held_out


def pooled_stream(x_p, x_q, batch_size, hold_out=HELD_OUT_BATCHES):
    """The pooled dataset of ``(x, labels)`` batches, ``d``, ``(b_p, b_q)`` and the held-out
    samples ``(held_p, held_q)`` (``None`` where a side holds none back)."""
    d_p, d_q = feature_size("x_p", x_p), feature_size("x_q", x_q)
    if d_p != d_q:
        raise ValueError("x_p and x_q must have the same number of features. Received: "
                         f"{d_p} and {d_q}")
    half = max(1, batch_size // 2)
    ds_p, b_p, held_p = stream("x_p", x_p, half, d_p, hold_out)
    ds_q, b_q, held_q = stream("x_q", x_q, half, d_q, hold_out)

    def mix(a, b):
        labels = tf.concat([tf.ones(tf.shape(a)[:1]), tf.zeros(tf.shape(b)[:1])], 0)
        return tf.concat([a, b], 0), labels

    ds = tf.data.Dataset.zip((ds_p, ds_q)).map(mix).prefetch(2)
    return ds, d_p, (b_p, b_q), (held_p, held_q)
