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


def stateless_seed(seed, stream=0):
    """A stateless random seed, an int32 tensor ``[2]`` (as TFP's): ``[seed, stream]`` for an int
    ``seed`` (``stream`` keeps the draws of one seed apart); an integer tensor ``[2]``
    passes as it is. Stateless draws repeat for equal seeds, where an op-level seed would
    not (in eager mode its stream advances from call to call).

    Raises:
      ValueError: ``seed`` is neither an int in ``[-2**31, 2**31)`` nor an integer tensor
        of shape ``[2]`` (a larger int would wrap around and repeat another seed's draws).
    """
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if not -(2**31) <= seed < 2**31:
            raise ValueError("seed must be an int that fits in 32 bits, in [-2**31, 2**31). "
                             f"Received: seed={seed}")
        return tf.constant([int(seed), int(stream)], tf.int32)
    seed = tf.convert_to_tensor(seed)
    if not seed.dtype.is_integer or seed.shape != (2,):
        raise ValueError(
            "seed must be None, an int or an integer tensor of shape [2]. Received: seed with "
            f"dtype {seed.dtype.name} and shape {tuple(seed.shape)}"
        )
    return tf.cast(seed, tf.int32)
