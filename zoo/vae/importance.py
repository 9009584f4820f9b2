"""The VAE's importance-sampling estimate of ``log p(x)``, in bounded memory.

``log p(x) ~ log (1/k) sum_i p(x, z_i) / q(z_i | x)``, ``z_i ~ q(z | x)`` (the IWAE bound
with ``k`` samples; Burda, Grosse & Salakhutdinov 2016), computed batch by batch, the
``k`` samples decoded in chunks of at most ``DECODE_BUDGET / batch_size``.
"""

import numpy as np
import tensorflow as tf

from kerasprob.math.bounds import log_mean_exp
from kerasprob.math.random import stateless_seed
from kerasprob.validation import check_int_at_least, check_positive_int

__all__ = ["DECODE_BUDGET", "importance_log_likelihood"]

#: Examples times samples decoded at once.
DECODE_BUDGET = 1024

_fold_in = tf.random.experimental.stateless_fold_in


def importance_log_likelihood(vae, x, context, num_samples, batch_size, seed):
    """``[n]`` estimates of ``log p(x)`` (``log p(x | c)``) of checked data ``x`` of a
    :class:`zoo.VAE`; ``seed`` an int gives one stateless stream per (batch, chunk)."""
    num_samples = check_positive_int("num_samples", num_samples)
    batch_size = check_positive_int("batch_size", batch_size)
    if seed is not None:  # one stream per (batch start, samples done): folded in below
        seed = stateless_seed(check_int_at_least("seed", seed, 0), 2)
    chunk = max(1, min(num_samples, DECODE_BUDGET // batch_size))
    out = []
    for start in range(0, len(x), batch_size):
        xb = tf.constant(x[start:start + batch_size])
        cb = None if context is None else tf.constant(context[start:start + batch_size])
        parts, done = [], 0
        while done < num_samples:
            k = min(chunk, num_samples - done)
            draw_seed = None if seed is None else _fold_in(_fold_in(seed, start), done)
            parts.append(_log_weights_function(vae, k)(xb, cb, draw_seed))
            done += k
        out.append(log_mean_exp(tf.concat(parts, axis=1), axis=1).numpy())
    return np.concatenate(out)


def _log_weights_function(vae, k):
    """A compiled ``(x, context) -> log p(x, z_i) - log q(z_i | x)``, ``[b, k]``, per ``k``
    (cached on the model, untracked by Keras; dropped when the model's data scale changes)."""
    cache = vae.__dict__.setdefault("_log_weight_fns", {})
    if k not in cache:
        def log_weights(xb, cb, seed):
            log_px, z, log_q, _, _ = vae._bound_terms(xb, cb, k, training=False, seed=seed)
            return log_px + vae.kl.prior_log_prob(z) - log_q

        cache[k] = tf.function(log_weights, reduce_retracing=True)
    return cache[k]
