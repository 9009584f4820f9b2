"""The Pólya-gamma distribution ``PG(b, c)``: an exact sampler and its moments.

``omega ~ PG(b, c)`` (Polson, Scott & Windle 2013) is the infinite convolution of gammas::

    omega = 1 / (2 pi^2) * sum_{k >= 1} g_k / ((k - 1/2)^2 + c^2 / (4 pi^2)),  g_k ~ Ga(b, 1)

with ``E[omega] = b / (2c) tanh(c / 2)`` (``b / 4`` at ``c = 0``) and
``Var[omega] = b / (4 c^3) (sinh(c) - c) / cosh^2(c / 2)`` (``b / 24`` at ``c = 0``). Its
Laplace transform ``E[exp(-omega t)] = cosh^b(c / 2) / cosh^b(sqrt(c^2 / 2 + t) / sqrt(2))``
makes the logistic likelihood conditionally Gaussian, hence the exact Gibbs sampler of
Bayesian logistic regression (``zoo.PolyaGammaLogisticRegression``).

:func:`sample_polya_gamma` draws ``PG(1, c)`` exactly with Devroye's alternating-series
method as Polson, Scott & Windle (2013, section 4) give it (``J*(1, z)`` with ``z = |c| / 2``,
a proposal mixing an exponential tail on ``[t, inf)`` and a truncated inverse Gaussian on
``(0, t)``, ``t = 0.64``, accepted with probability >= 0.9992), vectorized in TensorFlow:
every element that still waits runs one proposal per round, and the series test runs
term by term over all undecided elements at once. ``PG(b, c)`` for an integer ``b`` is a sum
of ``b`` independent ``PG(1, c)`` draws, so it is exact too.

Draws are computed in float64 whatever the output dtype, and are seeded as
:func:`kerasprob.math.random.stateless_seed` says: equal seeds and shapes give equal draws.

>>> import numpy as np
>>> w = sample_polya_gamma(np.zeros(20000), seed=0)
>>> round(float(np.mean(w)), 2), float(polya_gamma_mean(1.0, 0.0))
(0.25, 0.25)

References:
  N. G. Polson, J. G. Scott, J. Windle (2013). Bayesian inference for logistic models using
  Pólya-gamma latent variables. JASA 108 (504): 1339-1349. arXiv:1205.0310.
  L. Devroye (2009). On exact simulation algorithms for some distributions related to Jacobi
  theta functions. Statistics & Probability Letters 79 (21): 2251-2259.
  J. Windle, N. G. Polson, J. G. Scott (2014). Sampling Pólya-gamma random variates:
  alternate and approximate techniques. arXiv:1405.0506.
"""

import math
import numbers

import numpy as np
import tensorflow as tf

from kerasprob.math.random import stateless_seed

__all__ = ["polya_gamma_mean", "polya_gamma_variance", "sample_polya_gamma"]

_TRUNCATION = 0.64  # t: the proposal switches from inverse Gaussian to exponential here
_MAX_SERIES_TERMS = 200  # the series decides in a few terms; float64 ties end it by ~40
_MAX_ROUNDS = 1000  # acceptance >= 0.9992 per round: 1000 rounds are never reached


# ---------------------------------------------------------------------------- moments
def _as_float(value, dtype=None):
    value = tf.convert_to_tensor(value)
    if dtype is None:
        dtype = value.dtype if value.dtype.is_floating else tf.float32
    return tf.cast(value, dtype)


def polya_gamma_mean(b, c):
    """``E[PG(b, c)] = b / (2c) tanh(c / 2)``, ``b / 4`` at ``c = 0`` (a series near 0).

    Args:
      b: shape parameter(s) ``> 0``, broadcasting with ``c``.
      c: tilting parameter(s), any real.

    Returns:
      A tensor of the broadcast shape, in ``c``'s float dtype (float32 for ints).
    """
    c = _as_float(c)
    b = _as_float(b, c.dtype)
    z = tf.abs(c) / 2  # E[PG(b, c)] = b / 4 * tanh(z) / z
    small = z < 1e-2
    z_safe = tf.where(small, tf.ones_like(z), z)
    z2 = z * z
    series = 1 - z2 / 3 + 2 * z2 * z2 / 15
    return b / 4 * tf.where(small, series, tf.math.tanh(z_safe) / z_safe)


def polya_gamma_variance(b, c):
    """``Var[PG(b, c)] = b / (4 c^3) (sinh(c) - c) / cosh^2(c / 2)``, ``b / 24`` at ``c = 0``.

    Computed as ``b / 16 * (tanh(z)^2 / z^2 + (tanh(z) - z) / z^3)`` with ``z = |c| / 2``
    (the same quantity, without overflow at large ``c``), by its series near 0.

    Args:
      b: shape parameter(s) ``> 0``, broadcasting with ``c``.
      c: tilting parameter(s), any real.

    Returns:
      A tensor of the broadcast shape, in ``c``'s float dtype (float32 for ints).
    """
    c = _as_float(c)
    b = _as_float(b, c.dtype)
    z = tf.abs(c) / 2
    small = z < 1e-2
    z_safe = tf.where(small, tf.ones_like(z), z)
    tanh = tf.math.tanh(z_safe)
    exact = tanh**2 / z_safe**2 + (tanh - z_safe) / z_safe**3
    z2 = z * z
    series = 2 / 3 - 8 * z2 / 15 + 102 * z2 * z2 / 315
    return b / 16 * tf.where(small, series, exact)


# ---------------------------------------------------------------------------- sampler
def _check_b(b):
    """``b`` as an int32 tensor, refusing non-integer or negative values given as numbers."""
    if isinstance(b, tf.Tensor) or isinstance(b, tf.Variable):
        if not b.dtype.is_integer:
            raise TypeError(
                "b must hold integers (the alternating-series sampler is exact for integer b). "
                f"Received: b with dtype {b.dtype.name}"
            )
        return tf.cast(b, tf.int32)
    if isinstance(b, bool) or isinstance(b, np.bool_):
        raise TypeError(f"b must be a non-negative integer or integer array. Received: b={b!r}")
    array = np.asarray(b)
    integral = array.dtype.kind in "iu" or (
        array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array))
    )
    if not integral:
        raise TypeError(
            "b must hold integers (the alternating-series sampler is exact for integer b). "
            f"Received: b={_show(b)}"
        )
    if np.any(array < 0):
        raise ValueError(f"b must be >= 0. Received: b={_show(b)}")
    return tf.constant(array.astype(np.int32))


def _show(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _seed_tensor(seed):
    if seed is None:
        return tf.random.uniform([2], minval=-(2**31), maxval=2**31 - 1, dtype=tf.int32)
    return stateless_seed(seed)


def _uniform(shape, seed):
    return tf.random.stateless_uniform(shape, seed, dtype=tf.float64)


def _series_exponent(x):
    """``A(x)`` with ``a_n(x) / a_0(x) = (2n + 1) exp(n (n + 1) A(x))``.

    ``a_n`` are the terms of the ``J*(1)`` density's alternating series (Devroye 2009):
    ``a_n(x) = pi (n + 1/2) exp(-(n + 1/2)^2 pi^2 x / 2)`` for ``x > t`` and
    ``a_n(x) = pi (n + 1/2) (2 / (pi x))^{3/2} exp(-2 (n + 1/2)^2 / x)`` for ``x <= t``.
    """
    return tf.where(x > _TRUNCATION, -0.5 * math.pi**2 * x, -2.0 / tf.maximum(x, 1e-300))


def _series_accepts_loop(x, u):
    """Devroye's test ``u <= sum_n (-1)^n a_n(x) / a_0(x)``, decided term by term: odd
    partial sums lie below the limit (the first at or above ``u`` accepts), even ones above
    (the first below ``u`` rejects). Every undecided element advances one term per pass."""
    exponent = _series_exponent(x)
    s = tf.ones_like(x)
    undecided = tf.ones_like(x, dtype=tf.bool)
    accepted = tf.zeros_like(x, dtype=tf.bool)

    def cond(n, s, undecided, accepted):
        return tf.logical_and(n < _MAX_SERIES_TERMS, tf.reduce_any(undecided))

    def body(n, s, undecided, accepted):
        nf = tf.cast(n, tf.float64)
        term = (2 * nf + 1) * tf.exp(nf * (nf + 1) * exponent)
        if_odd = tf.equal(n % 2, 1)
        s = tf.where(if_odd, s - term, s + term)
        accept_now = undecided & if_odd & (u <= s)
        reject_now = undecided & tf.logical_not(if_odd) & (u > s)
        accepted = accepted | accept_now
        undecided = undecided & tf.logical_not(accept_now | reject_now)
        return n + 1, s, undecided, accepted

    _, _, _, accepted = tf.while_loop(
        cond, body, (tf.constant(1), s, undecided, accepted), parallel_iterations=1
    )
    return accepted


def _series_accepts(x, u):
    """Devroye's test, the first three terms at once for every element (almost all decide
    there: the undecided fraction is below 1e-8), the rest by :func:`_series_accepts_loop`."""
    exponent = _series_exponent(x)
    s1 = 1.0 - 3.0 * tf.exp(2.0 * exponent)
    s2 = s1 + 5.0 * tf.exp(6.0 * exponent)
    s3 = s2 - 7.0 * tf.exp(12.0 * exponent)
    accepted = (u <= s1) | ((u <= s2) & (u <= s3))
    undecided = (u > s1) & (u <= s2) & (u > s3)
    idx = tf.where(undecided)
    late = _series_accepts_loop(tf.gather_nd(x, idx), tf.gather_nd(u, idx))
    return tf.tensor_scatter_nd_update(accepted, idx, late)


def _truncated_inverse_gaussian_attempt(z, shape, seed):
    """One attempt per element at ``IG(mean 1/z, shape 1)`` truncated to ``(0, t)``, ``z >= 0``:
    ``(x, success)``, both of ``shape`` (``z`` broadcasting to it).

    For ``z < 1/t``: ``x = 1 / N^2`` with ``N`` a standard normal conditioned on
    ``|N| > 1/sqrt(t)`` (by inversion), kept with probability ``exp(-z^2 x / 2)``.
    Otherwise: Michael, Schucany & Haas' inverse-Gaussian draw, kept when ``x < t``.
    """
    t = _TRUNCATION
    tail_mass = float(0.5 * math.erfc(1.0 / math.sqrt(t) / math.sqrt(2.0)))  # Phi(-1/sqrt t)
    seeds = tf.random.experimental.stateless_split(seed, 3)
    u1, u2 = _uniform(shape, seeds[0]), _uniform(shape, seeds[1])
    normal = -tf.math.ndtri((1.0 - u1) * tail_mass)  # >= 1/sqrt(t); 1 - u1 in (0, 1]
    x_small = 1.0 / (normal * normal)
    keep_small = u2 <= tf.exp(-0.5 * z * z * x_small)
    big = z >= 1.0 / t
    mu = 1.0 / tf.where(big, z, tf.ones_like(z))
    mu_y = mu * tf.square(tf.random.stateless_normal(shape, seeds[2], dtype=tf.float64))
    x_ig = mu + 0.5 * mu * mu_y - 0.5 * mu * tf.sqrt(4.0 * mu_y + mu_y * mu_y)
    x_ig = tf.where(u2 > mu / (mu + x_ig), mu * mu / x_ig, x_ig)
    x = tf.where(big, x_ig, x_small)
    return x, tf.where(big, x_ig < t, keep_small)


def _truncated_inverse_gaussian_loop(z, seed):
    """Truncated inverse-Gaussian draws ``[m] -> [m]``, attempting until each succeeds."""

    def cond(i, out, pending):
        return tf.logical_and(i < _MAX_ROUNDS, tf.reduce_any(pending))

    def body(i, out, pending):
        idx = tf.where(pending)
        zi = tf.gather_nd(z, idx)
        x, ok = _truncated_inverse_gaussian_attempt(
            zi, tf.shape(zi), tf.random.experimental.stateless_fold_in(seed, i))
        done = tf.boolean_mask(idx, ok)
        out = tf.tensor_scatter_nd_update(out, done, tf.boolean_mask(x, ok))
        pending = tf.tensor_scatter_nd_update(
            pending, done, tf.zeros(tf.shape(done)[:1], tf.bool))
        return i + 1, out, pending

    _, out, _ = tf.while_loop(
        cond, body, (tf.constant(0), tf.zeros_like(z), tf.ones_like(z, dtype=tf.bool)),
        parallel_iterations=1)
    return out


def _truncated_inverse_gaussian(z, seed, attempts=3):
    """Truncated inverse-Gaussian draws ``[m] -> [m]``: ``attempts`` tries for every element at
    once, the first success kept; the few elements with none go on in a loop."""
    seeds = tf.random.experimental.stateless_split(seed, 2)
    x, ok = _truncated_inverse_gaussian_attempt(
        z[None], tf.concat([[attempts], tf.shape(z)], 0), seeds[0])  # [attempts, m]
    first = tf.argmax(tf.cast(ok, tf.int32), axis=0, output_type=tf.int32)  # 0 if none
    x = tf.gather(tf.transpose(x), first, axis=1, batch_dims=1)
    failed = tf.where(tf.logical_not(tf.reduce_any(ok, axis=0)))
    again = _truncated_inverse_gaussian_loop(tf.gather_nd(z, failed), seeds[1])
    return tf.tensor_scatter_nd_update(x, failed, again)


def _log_ndtr(x):
    """``log Phi(x)`` (``-inf`` where ``Phi`` underflows, far in the lower tail)."""
    return tf.math.log(0.5 * tf.math.erfc(-x / math.sqrt(2.0)))


def _exponential_mass(z):
    """``p / (p + q)``: the probability that the proposal is the exponential tail."""
    t = _TRUNCATION
    fz = math.pi**2 / 8 + 0.5 * z * z
    b = (t * z - 1.0) / math.sqrt(t)
    a = -(t * z + 1.0) / math.sqrt(t)
    x0 = tf.math.log(fz) + fz * t
    # log(q / p) = log(4 / pi) + logaddexp(x0 - z + log Phi(b), x0 + z + log Phi(a)); the
    # second term underflows to -inf only where the first (Phi(b) > 0.1) dominates it.
    first = x0 - z + _log_ndtr(b)
    second = x0 + z + _log_ndtr(a)
    high = tf.maximum(first, second)
    log_q_over_p = math.log(4 / math.pi) + high + tf.math.log1p(tf.exp(-tf.abs(first - second)))
    return tf.math.sigmoid(-log_q_over_p)


def _propose_and_test(z, fz, p_exponential, seed):
    """One proposal per element and Devroye's test: ``(x = J* draw, accepted)``."""
    t = _TRUNCATION
    shape = tf.shape(z)
    seeds = tf.random.experimental.stateless_split(seed, 4)
    use_exponential = _uniform(shape, seeds[0]) < p_exponential
    x = t - tf.math.log1p(-_uniform(shape, seeds[1])) / fz  # t + Exp(1) / fz
    ig = tf.where(tf.logical_not(use_exponential))
    x = tf.tensor_scatter_nd_update(
        x, ig, _truncated_inverse_gaussian(tf.gather_nd(z, ig), seeds[2]))
    return x, _series_accepts(x, _uniform(shape, seeds[3]))


def _sample_pg1(c, seed):
    """``PG(1, c)`` draws, float64 ``[m] -> [m]``: ``J*(1, |c|/2) / 4`` by Devroye's method.

    The first round proposes for every element at once; the rejected ones (fewer than 1 in
    1000) go on in a loop of rounds on the shrinking subset."""
    z = tf.abs(c) / 2
    fz = math.pi**2 / 8 + 0.5 * z * z
    p_exponential = _exponential_mass(z)
    seeds = tf.random.experimental.stateless_split(seed, 2)
    x, accepted = _propose_and_test(z, fz, p_exponential, seeds[0])
    out = tf.where(accepted, 0.25 * x, tf.zeros_like(x))

    def cond(i, out, pending):
        return tf.logical_and(i < _MAX_ROUNDS, tf.reduce_any(pending))

    def body(i, out, pending):
        idx = tf.where(pending)  # [m', 1]
        x, keep = _propose_and_test(
            *(tf.gather_nd(v, idx) for v in (z, fz, p_exponential)),
            tf.random.experimental.stateless_fold_in(seeds[1], i))
        done = tf.boolean_mask(idx, keep)
        out = tf.tensor_scatter_nd_update(out, done, 0.25 * tf.boolean_mask(x, keep))
        pending = tf.tensor_scatter_nd_update(
            pending, done, tf.zeros(tf.shape(done)[:1], tf.bool))
        return i + 1, out, pending

    _, out, _ = tf.while_loop(
        cond, body, (tf.constant(0), out, tf.logical_not(accepted)), parallel_iterations=1)
    return out


@tf.function(autograph=False, reduce_retracing=True)
def _sample_pg1_graph(c, seed):
    return _sample_pg1(c, seed)


def sample_polya_gamma(c, b=1, seed=None, dtype=None):
    """Exact draws ``omega ~ PG(b, c)``, one per element of ``broadcast(b, c)``.

    Args:
      c: tilting parameters, a real array or tensor of any shape (e.g. ``[batch]`` or
        ``[chains, batch]``); the distribution depends on ``|c|`` only.
      b: non-negative integer(s) broadcasting with ``c`` (``PG(0, c)`` is the point mass
        at 0). ``PG(b, c)`` is drawn as a sum of ``b`` independent ``PG(1, c)``.
      seed: ``None`` (fresh draws), an int or an integer tensor ``[2]`` (a stateless seed,
        :func:`kerasprob.math.random.stateless_seed`).
      dtype: output float dtype; default ``c``'s float dtype (float32 for ints). The
        draws are computed in float64.

    Returns:
      A tensor of shape ``broadcast(shape(b), shape(c))``, positive where ``b > 0``.

    Raises:
      TypeError: ``b`` is not an integer (a fractional ``b`` needs another sampler).
      ValueError: ``b < 0``.
    """
    c = tf.convert_to_tensor(c)
    if dtype is None:
        dtype = c.dtype if c.dtype.is_floating else tf.float32
    dtype = tf.as_dtype(dtype)
    if not dtype.is_floating:
        raise TypeError(f"dtype must be a float dtype. Received: dtype={dtype.name}")
    c = tf.cast(c, tf.float64)
    seed = _seed_tensor(seed)
    single = isinstance(b, numbers.Integral) and not isinstance(b, bool) and b == 1
    if single:
        flat = tf.reshape(c, [-1])
        draws = _sample_pg1_graph(flat, seed)
        return tf.cast(tf.reshape(draws, tf.shape(c)), dtype)
    b = _check_b(b)
    shape = tf.broadcast_dynamic_shape(tf.shape(b), tf.shape(c))
    b_flat = tf.reshape(tf.broadcast_to(b, shape), [-1])
    c_flat = tf.reshape(tf.broadcast_to(c, shape), [-1])
    n = tf.size(c_flat)
    draws = _sample_pg1_graph(tf.repeat(c_flat, b_flat), seed)  # [sum(b)]
    segments = tf.repeat(tf.range(n), b_flat)
    total = tf.math.unsorted_segment_sum(draws, segments, num_segments=n)
    return tf.cast(tf.reshape(total, shape), dtype)

