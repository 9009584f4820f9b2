"""What an integer seed means, once: a stateless seed ``[seed, stream]``.

Every ``seed=`` argument of kerasprob and zoo that draws random numbers takes
``None`` (fresh draws from the global generator), an int, or an integer tensor
``[2]``. An int ``s`` means the stateless seed ``[s, stream]``: equal seeds give
equal draws, call after call, in eager mode and in graphs alike.

>>> import tensorflow as tf
>>> a = tf.random.stateless_normal([2], seed=stateless_seed(3))
>>> b = tf.random.stateless_normal([2], seed=stateless_seed(3))
>>> bool(tf.reduce_all(a == b))
True
"""

import numbers

import tensorflow as tf

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


def normal(shape, seed=None, stream=0, dtype=tf.float32):
    """Standard normal draws of ``shape``: stateful (``tf.random.normal``) for ``seed=None``,
    stateless keyed by :func:`stateless_seed` ``(seed, stream)`` otherwise. The one seeded
    normal draw.

    >>> bool(tf.reduce_all(normal([3], seed=1) == normal([3], seed=1)))
    True
    """
    if seed is None:
        return tf.random.normal(shape, dtype=dtype)
    return tf.random.stateless_normal(shape, seed=stateless_seed(seed, stream), dtype=dtype)


def stateless_seed(seed, stream=0):
    """A stateless random seed, an int32 tensor ``[2]`` (as TFP's): ``[seed, stream]`` for an int
    ``seed`` (``stream`` keeps the draws of one seed apart); an integer tensor ``[2]``
    passes as it is. Stateless draws repeat for equal seeds, where an op-level seed would
    not (in eager mode its stream advances from call to call).

    Raises:
      ValueError: ``seed`` is neither an int in ``[0, 2**31)`` (:func:`check_seed`) nor an
        integer tensor of shape ``[2]`` (a larger int would wrap around and repeat another
        seed's draws).
    """
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return tf.constant([check_seed("seed", seed), int(stream)], tf.int32)
    seed = tf.convert_to_tensor(seed)
    if not seed.dtype.is_integer or seed.shape != (2,):
        raise ValueError(
            "seed must be None, an int or an integer tensor of shape [2]. Received: seed with "
            f"dtype {seed.dtype.name} and shape {tuple(seed.shape)}"
        )
    return tf.cast(seed, tf.int32)
