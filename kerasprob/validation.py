"""Argument and data validation with errors that name what was received.

Every check raises ``ValueError`` or ``TypeError`` whose message names the
argument, echoes the value received and says what was expected, e.g.::

    latent_dim must be a positive integer. Received: latent_dim=0
"""

import collections.abc
import numbers

import numpy as np


def _show(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_positive_int(name, value, *, allow_none=False):
    """Return ``value`` if it is an integer >= 1 (bools refused)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={_show(value)}")
    return int(value)


def check_int_at_least(name, value, minimum):
    """Return ``value`` if it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"{name} must be an integer >= {minimum}. Received: {name}={_show(value)}"
        )
    return int(value)


def check_positive_float(name, value, *, allow_zero=False):
    """Return ``float(value)`` if it is a finite real number > 0 (>= 0 if allowed)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number. Received: {name}={_show(value)}")
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not (ok and np.isfinite(value)):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {bound} number. Received: {name}={value!r}")
    return value


def check_bool(name, value):
    """Return ``value`` as a ``bool`` if it is one (Python or numpy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False. Received: {name}={value!r}")
    return bool(value)


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"{name} must be one of {sorted(choices)}. Received: {name}={_show(value)}"
        )
    return value


def check_shape(name, value):
    """Return ``value`` as a tuple of positive ints (an int ``n`` means ``(n,)``)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or not value:
        raise ValueError(
            f"{name} must be a positive int or a non-empty tuple of positive ints. "
            f"Received: {name}={_show(value)}"
        )
    for dim in value:
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim < 1:
            raise ValueError(
                f"{name} must contain only positive integers. Received: {name}={_show(value)}"
            )
    return tuple(int(d) for d in value)


def check_units(name, value):
    """Return hidden-layer sizes as a tuple of positive ints (may be empty)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be a list of positive ints. Received: {name}={_show(value)}")
    return check_shape(name, value) if value else ()


def check_array(name, value, *, feature_shape=None, dtype="float", allow_nonfinite=False):
    """Validate a data array and return it as a numpy array.

    Args:
      name: the argument's name, used in error messages.
      value: array-like of shape ``[batch, *feature_shape]``.
      feature_shape: expected shape after the batch axis; ``None`` entries
        match any size. ``None`` skips the shape check.
      dtype: ``"float"`` (any real numeric dtype, returned as float32) or
        ``"int"`` (integer labels, returned as int64).
      allow_nonfinite: if False, NaN or inf raise ``ValueError``.

    Returns:
      ``np.ndarray`` with the batch axis first.
    """
    if isinstance(value, collections.abc.Iterator):  # np.asarray would make an object scalar
        raise TypeError(
            f"{name} must be an array (or, where accepted, a tf.data.Dataset). Received: {name} "
            f"of type {type(value).__name__}; wrap a generator in "
            "tf.data.Dataset.from_generator, or collect it with np.stack"
        )
    array = np.asarray(value)
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be a numeric array. Received: {name} with dtype {array.dtype}"
        )
    if dtype == "int":
        if array.dtype.kind not in "iu" and not (
            array.dtype.kind == "f"
            and np.all(np.isfinite(array))
            and np.all(array == np.round(array))
        ):
            raise TypeError(
                f"{name} must hold integers. Received: {name} with dtype {array.dtype}"
            )
        array = array.astype(np.int64)
    else:
        if array.dtype.kind == "b":
            raise TypeError(f"{name} must hold floats. Received: {name} with dtype bool")
        array = array.astype(np.float32)
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError(
            f"{name} must be a non-empty array with a batch axis. Received: {name} with shape "
            f"{array.shape}"
        )
    if feature_shape is not None:
        expected = tuple(feature_shape)
        got = array.shape[1:]
        if len(got) != len(expected) or any(
            e is not None and e != g for e, g in zip(expected, got)
        ):
            dims = ["batch", *("?" if e is None else str(e) for e in expected)]
            shown = "[" + ", ".join(dims) + "]"
            raise ValueError(
                f"{name} must have shape {shown}. Received: {name} with shape {array.shape}"
            )
    if not allow_nonfinite and array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"{name} must be finite. Received: {name} with {bad} NaN or inf value(s)"
        )
    return array


def check_labels(name, value, num_classes=None, n=None):
    """Integer class labels as an int64 array ``[n]``: the one rule for labels.

    Accepts ``[n]`` or ``[n, 1]`` arrays of integers (or of integral floats); with ``n``,
    a single int stands for ``n`` copies and the count must be ``n``; with
    ``num_classes``, every label must lie in ``[0, num_classes)`` (else in ``[0, inf)``).

    >>> check_labels("y", [[0], [2], [1]], num_classes=3).tolist()
    [0, 2, 1]
    """
    if n is not None and np.ndim(value) == 0:
        value = np.full((n,), value)
    array = np.asarray(value)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"{name} must hold one integer class label per example, shape [batch] or "
            f"[batch, 1]. Received: {name} with shape {array.shape}")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite. Received: {name} with "
                         f"{int(np.sum(~np.isfinite(array)))} NaN or inf value(s)")
    labels = check_array(name, array, feature_shape=(), dtype="int")
    top = np.inf if num_classes is None else num_classes
    bad = labels[(labels < 0) | (labels >= top)]
    if bad.size:
        expected = "[0, inf)" if num_classes is None else f"[0, {num_classes - 1}]"
        raise ValueError(
            f"{name} must hold class labels in {expected} (num_classes={num_classes}). "
            f"Received: {name} with label(s) {sorted(set(bad.tolist()))[:5]}")
    if n is not None and len(labels) != n:
        raise ValueError(f"{name} must have one label per example ({n}). Received: "
                         f"{len(labels)} labels")
    return labels


def _show_bound(bound):
    text = f"{bound:g}"
    return text if float(text) == bound else repr(float(bound))


def check_finite_real(name, value, *, greater_than=None, at_least=None, less_than=None,
                      at_most=None):
    """Return ``float(value)`` if it is a finite real number in the interval the bounds give.

    ``greater_than`` / ``at_least`` bound it below (open / closed), ``less_than`` /
    ``at_most`` above; each end is optional. Bools are refused. Every failure, a value that
    is not a real number included, raises ``ValueError`` stating the interval, e.g.::

        test_fraction must be a finite real number in (0, 1). Received: test_fraction=1.5
    """
    if greater_than is not None and at_least is not None:
        raise TypeError("check_finite_real takes greater_than or at_least, not both")
    if less_than is not None and at_most is not None:
        raise TypeError("check_finite_real takes less_than or at_most, not both")
    low = greater_than if greater_than is not None else at_least
    high = less_than if less_than is not None else at_most
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if ok:
        number = float(value)
        ok = bool(np.isfinite(number))
        ok = ok and (low is None or (number > low if greater_than is not None else number >= low))
        ok = ok and (high is None or (number < high if less_than is not None else number <= high))
    if not ok:
        if low is not None and high is not None:
            left = "(" if greater_than is not None else "["
            right = ")" if less_than is not None else "]"
            where = f" in {left}{_show_bound(low)}, {_show_bound(high)}{right}"
        elif low is not None:
            where = f" {'>' if greater_than is not None else '>='} {_show_bound(low)}"
        elif high is not None:
            where = f" {'<' if less_than is not None else '<='} {_show_bound(high)}"
        else:
            where = ""
        raise ValueError(
            f"{name} must be a finite real number{where}. Received: {name}={_show(value)}"
        )
    return number


#: Integer seeds are ints in ``[0, SEED_LIMIT)``: what TensorFlow's stateless ops (int32) and
#: numpy's ``default_rng`` both take, so one seed means one thing everywhere.
SEED_LIMIT = 2**31


def check_seed(name, value, *, allow_none=False):
    """``int(value)`` if it is an int in ``[0, 2**31)`` (or ``None`` with ``allow_none``);
    else ``ValueError`` naming ``name`` and the value. The one rule for integer seeds.

    >>> check_seed("seed", 7)
    7
    """
    if value is None and allow_none:
        return None
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or not 0 <= value < SEED_LIMIT):
        expected = ("None or " if allow_none else "") + "an int in [0, 2**31)"
        raise ValueError(f"{name} must be {expected}. Received: {name}={value!r}")
    return int(value)


def check_rng(name, value):
    """Return a ``numpy.random.Generator``: ``value`` itself if it is one, else
    ``numpy.random.default_rng(value)`` for a non-negative integer seed; else ``ValueError``."""
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0:
        return np.random.default_rng(int(value))
    raise ValueError(
        f"{name} must be a numpy.random.Generator or a non-negative integer seed. "
        f"Received: {name}={_show(value)}"
    )


def check_points(name, value, dim):
    """Return ``value`` as a float64 array ``[..., dim]`` of points in ``R^dim``.

    Any array-like that numpy converts to float64 is accepted; anything else, a scalar, or a
    last axis of another size raises ``ValueError``, e.g.::

        x must be an array of 2-D points of shape [..., 2]. Received: x with shape (4, 3)
    """
    expected = f"{name} must be an array of {dim}-D points of shape [..., {dim}]"
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{expected}. Received: {name}={_show(value)}") from None
    if array.ndim < 1 or array.shape[-1] != dim:
        raise ValueError(f"{expected}. Received: {name} with shape {array.shape}")
    return array
