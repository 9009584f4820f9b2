"""What an integer seed means, once: a stateless seed ``[seed, stream]``.

Every ``seed=`` argument of kerasprob and zoo that draws random numbers takes
``None`` (fresh draws from the global generator), an int, or an integer tensor
``[2]``. An int ``s`` (in ``[0, 2**31)``, :func:`kerasprob.validation.check_seed`) means
the stateless seed ``[s, stream]``: equal seeds give equal draws, call after call, in
eager mode and in graphs alike.

>>> import tensorflow as tf
>>> a = tf.random.stateless_normal([2], seed=stateless_seed(3))
>>> b = tf.random.stateless_normal([2], seed=stateless_seed(3))
>>> bool(tf.reduce_all(a == b))
True
"""

import numbers

import tensorflow as tf

from kerasprob.validation import check_seed


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
