"""Cholesky factors that do not fail silently: a jittered, escalating Cholesky and the
low-rank update / append of an existing factor.

* :func:`safe_cholesky` factorizes ``A`` (``[..., n, n]``); where ``A`` is not numerically
  positive definite it retries with ``A + c_k * mean(diag(A)) * I``, ``c_k = jitter * 10**k``,
  warns (:class:`CholeskyJitterWarning`) naming the jitter used, and after ``max_tries`` raises
  :class:`CholeskyError` naming the matrix, its shape, its smallest eigenvalue and the jitters
  tried.
* :func:`cholesky_update` gives ``chol(L L^T +- V V^T)`` from ``L`` in ``O(n^2 k)`` (Seeger 2004),
  the rank-k update as k rank-1 updates, swept over the columns once.
* :func:`cholesky_append` gives ``chol([[A, B], [B^T, C]])`` from ``chol(A)`` in
  ``O(n^2 m + n m^2 + m^3)``: what a GP needs to add m observations to n without refactorizing.

>>> import numpy as np
>>> a = np.array([[4.0, 2.0], [2.0, 3.0]])
>>> np.round(safe_cholesky(a).numpy(), 4)
array([[2.    , 0.    ],
       [1.    , 1.4142]])
>>> v = np.array([[1.0], [0.0]])
>>> np.allclose(cholesky_update(safe_cholesky(a), v), np.linalg.cholesky(a + v @ v.T))
True

References:
  Seeger, M. (2004). Low rank updates for the Cholesky decomposition. Technical report, EPFL.
  Murray, I. (2016). Differentiation of the Cholesky decomposition. arXiv:1602.07527.
  Golub, G. H. & Van Loan, C. F. (2013). Matrix Computations, 4th ed., section 6.5.4.
"""

import warnings

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from kerasprob.validation import check_int_at_least, check_positive_float

__all__ = [
    "CholeskyError",
    "CholeskyJitterWarning",
    "cholesky_append",
    "cholesky_of_inverse",
    "cholesky_update",
    "is_cholesky_error",
    "safe_cholesky",
]

_MARKER = "CholeskyError"


class CholeskyError(ValueError):
    """A matrix stayed non-positive-definite after every jitter :func:`safe_cholesky` tried.

    Inside a graph (``tf.function``, ``model.fit``) the same message reaches the caller as a
    ``tf.errors.InvalidArgumentError`` whose text contains ``"CholeskyError"``; test with
    :func:`is_cholesky_error`.
    """


class CholeskyJitterWarning(UserWarning):
    """:func:`safe_cholesky` needed diagonal jitter to factorize a matrix."""


def is_cholesky_error(error):
    """True for a :class:`CholeskyError`, or a TF error raised from one inside a graph."""
    if isinstance(error, CholeskyError):
        return True
    return isinstance(error, tf.errors.OpError) and _MARKER in str(getattr(error, "message", ""))


def _check_name(name):
    if not isinstance(name, str):
        raise TypeError(f"name must be a string. Received: name={name!r}")
    return name


def _as_float_matrix(matrix, argname="matrix"):
    """``matrix`` as a float32/float64 tensor of shape ``[..., n, n]`` (half types -> float32)."""
    matrix = tf.convert_to_tensor(matrix)
    if not matrix.dtype.is_floating:
        raise TypeError(
            f"{argname} must be a floating-point tensor. Received: {argname} with dtype "
            f"{matrix.dtype.name}"
        )
    if matrix.dtype in (tf.float16, tf.bfloat16):
        matrix = tf.cast(matrix, tf.float32)
    shape = matrix.shape
    if shape.rank is not None and (
        shape.rank < 2 or (shape[-1] is not None and shape[-2] is not None
                           and shape[-1] != shape[-2])
    ):
        raise ValueError(
            f"{argname} must be a square matrix or a batch of them, shape [..., n, n]. "
            f"Received: {argname} with shape {tuple(shape)}"
        )
    return matrix


def _jitter_levels(jitter, max_tries):
    """Relative jitters tried after the plain factorization: ``jitter * 10**k``."""
    return [jitter * 10.0**k for k in range(max_tries)]


def _shifted(matrix, shift):
    """``matrix + shift[..., None] * I`` for a batch of shifts ``[...]``."""
    diag = tf.linalg.diag_part(matrix)
    return tf.linalg.set_diag(matrix, diag + shift[..., tf.newaxis])


def _mean_diag(matrix):
    """Mean of each matrix's diagonal, ``[...]``; 1 where it is not positive (so jitter is
    still added to a zero or negative diagonal)."""
    mean = tf.reduce_mean(tf.linalg.diag_part(matrix), axis=-1)
    return tf.where(mean > 0, mean, tf.ones_like(mean))


def _failure_message(matrix_np, name, levels):
    finite = np.all(np.isfinite(matrix_np))
    if finite and matrix_np.size:
        sym = 0.5 * (matrix_np + np.swapaxes(matrix_np, -1, -2))
        smallest = f"{float(np.min(np.linalg.eigvalsh(sym))):.6g}"
    else:
        smallest = "undefined (the matrix has NaN or inf entries)"
    tried = ", ".join(f"{c:.0e}" for c in levels) if levels else "none"
    return (
        f"{_MARKER}: {name} is not positive definite; its Cholesky factorization failed "
        f"with every jitter tried. {name} has shape {tuple(matrix_np.shape)}, smallest "
        f"eigenvalue {smallest}; relative jitters tried (times the mean diagonal): {tried}. "
        "A kernel matrix this ill-conditioned usually means duplicate inducing inputs, a "
        "lengthscale far larger than the data's spread, or NaN parameters."
    )


def _warn(name, level, shift):
    # The message names the relative jitter only (not the absolute shift, which moves with
    # the weights), so Python's default filter shows it once per jitter level, not every step.
    del shift
    warnings.warn(
        f"{name} was not numerically positive definite; factorized it with jitter "
        f"{level:.0e} times its mean diagonal added to the diagonal.",
        CholeskyJitterWarning,
        stacklevel=2,
    )


def _failed(chol):
    """``[...]``: True where a factor is not finite (TF's Cholesky, CPU kernel included, fills a
    failed factorization with NaN; the strict upper triangle is then left unset)."""
    return tf.logical_not(tf.reduce_all(tf.math.is_finite(chol), axis=[-2, -1]))


def _cholesky(matrix):
    """``tf.linalg.cholesky``, with an error from a kernel that raises read as NaN."""
    try:
        return tf.linalg.cholesky(matrix)
    except tf.errors.InvalidArgumentError:
        return tf.fill(tf.shape(matrix), tf.constant(np.nan, matrix.dtype))


def _eager_factor(matrix, jitter, max_tries, name):
    """The escalation with Python control flow (eager): warns, raises :class:`CholeskyError`."""
    chol = _cholesky(matrix)
    bad = _failed(chol).numpy()
    if not bad.any():
        return chol
    if not np.all(np.isfinite(matrix.numpy())):  # no jitter can help
        raise CholeskyError(_failure_message(matrix.numpy(), name, []))
    scale = _mean_diag(matrix)
    shift = tf.zeros_like(scale)
    levels = _jitter_levels(jitter, max_tries)
    for level in levels:
        shift = tf.where(bad, tf.cast(level, matrix.dtype) * scale, shift)
        new = _cholesky(_shifted(matrix, shift))
        chol = tf.where(bad[..., None, None], new, chol)
        bad = _failed(chol).numpy()
        if not bad.any():
            _warn(name, level, shift.numpy())
            return chol
    raise CholeskyError(_failure_message(matrix.numpy(), name, levels))


def _in_xla_context():
    try:
        from tensorflow.python.ops import control_flow_util

        graph = tf.compat.v1.get_default_graph()
        return bool(control_flow_util.GraphOrParentsInXlaContext(graph))
    except Exception:  # a private API: without it, assume no XLA
        return False


def _graph_factor(matrix, jitter, max_tries, name):
    """The same escalation as a ``tf.while_loop`` (graphs); the warning and the error are
    raised by a ``tf.py_function`` that runs only when a jitter was needed."""
    levels = _jitter_levels(jitter, max_tries)
    level_table = tf.constant(levels or [0.0], matrix.dtype)
    scale = _mean_diag(matrix)
    chol = tf.linalg.cholesky(matrix)

    def cond(tries, shift, chol):
        return tf.logical_and(tries < max_tries, tf.reduce_any(_failed(chol)))

    def body(tries, shift, chol):
        bad = _failed(chol)
        shift = tf.where(bad, level_table[tries] * scale, shift)
        new = tf.linalg.cholesky(_shifted(matrix, shift))
        return tries + 1, shift, tf.where(bad[..., tf.newaxis, tf.newaxis], new, chol)

    tries, shift, chol = tf.while_loop(
        cond, body, [tf.constant(0), tf.zeros_like(scale), chol], maximum_iterations=max_tries)
    bad = _failed(chol)
    chol = tf.where(bad[..., tf.newaxis, tf.newaxis], tf.constant(np.nan, matrix.dtype), chol)
    if _in_xla_context():  # no Python under XLA: a factor that stayed NaN is the signal
        return chol

    @tf.autograph.experimental.do_not_convert
    def report(a, tries, shift, failed):
        if bool(failed.numpy()):
            raise CholeskyError(_failure_message(a.numpy(), name, levels))
        _warn(name, levels[int(tries.numpy()) - 1], shift.numpy())
        return np.int32(0)

    any_bad = tf.reduce_any(bad)
    done = tf.cond(
        tf.logical_or(tries > 0, any_bad),
        lambda: tf.py_function(report, [matrix, tries, shift, any_bad], tf.int32),
        lambda: tf.constant(0, tf.int32),
    )
    with tf.control_dependencies([done]):
        return tf.identity(chol)


def _cholesky_grad(chol, grad):
    """Gradient of ``L = chol(A)`` w.r.t. a symmetric ``A`` (Murray 2016, eq. 10):
    ``sym(L^{-T} Phi(L^T dL) L^{-1})`` with ``Phi`` the lower triangle, diagonal halved."""
    middle = tf.linalg.matmul(chol, grad, adjoint_a=True)
    middle = tf.linalg.band_part(middle, -1, 0)
    middle = tf.linalg.set_diag(middle, 0.5 * tf.linalg.diag_part(middle))
    left = tf.linalg.triangular_solve(chol, middle, lower=True, adjoint=True)  # L^{-T} M
    both = tf.linalg.triangular_solve(chol, tf.linalg.adjoint(left), lower=True, adjoint=True)
    both = tf.linalg.adjoint(both)  # L^{-T} M L^{-1}
    return 0.5 * (both + tf.linalg.adjoint(both))


def cholesky_of_inverse(matrix):
    """Lower-triangular ``T`` with ``T T^T = A^{-1}``: ``[..., n, n] -> [..., n, n]``, for a
    positive-definite ``A``, without forming the inverse.

    With ``J`` the exchange matrix and ``R = chol(J A J)``, ``A^{-1} = T T^T`` for
    ``T = J R^{-T} J`` (lower triangular, positive diagonal): one Cholesky and one triangular
    solve.

    >>> a = np.array([[4.0, 2.0], [2.0, 3.0]])
    >>> t = cholesky_of_inverse(a).numpy()
    >>> bool(np.allclose(t @ t.T, np.linalg.inv(a)) and t[0, 1] == 0.0)
    True
    """
    matrix = tf.convert_to_tensor(matrix)
    flipped = tf.reverse(matrix, axis=[-2, -1])
    chol = tf.linalg.cholesky(flipped)
    eye = tf.eye(tf.shape(matrix)[-1], batch_shape=tf.shape(matrix)[:-2], dtype=matrix.dtype)
    inv_t = tf.linalg.triangular_solve(chol, eye, lower=True, adjoint=True)  # R^{-T}, upper
    return tf.reverse(inv_t, axis=[-2, -1])


def safe_cholesky(matrix, jitter=1e-6, max_tries=5, name="matrix"):
    """Lower Cholesky factor ``L`` with ``L L^T = A + s I``: ``s = 0`` when ``A`` factorizes,
    else the first ``s = jitter * 10**k * mean(diag(A))``, ``k = 0 .. max_tries - 1``, that does.

    Each matrix of a batch escalates on its own (one that factorizes keeps ``s = 0``). The
    shift is a constant for autodiff: the gradient is that of ``chol(A + s I)`` at fixed ``s``
    (Murray 2016), computed from ``L`` (first derivatives).

    Args:
      matrix: symmetric ``[..., n, n]`` float32 or float64 tensor (only its lower triangle
        is read). float16 / bfloat16 are factorized in float32 and returned as float32.
      jitter: positive float, the first relative jitter tried.
      max_tries: int >= 0, how many jitters to try (each 10 times the last).
      name: what to call the matrix in the warning and the error (e.g. ``"Kuu"``).

    Returns:
      ``L``, ``[..., n, n]``, lower triangular.

    Raises:
      CholeskyError: when no jitter made ``A`` factorize; the message names ``name``, the
        shape, the smallest eigenvalue and the jitters tried.

    Warns:
      CholeskyJitterWarning: naming the jitter used, when one was needed.

    Graph mode (``tf.function``, ``model.fit``): TF 2.18's Cholesky kernels (CPU and GPU) fill
    a failed factor with NaN rather than raise, so the escalation is a ``tf.while_loop`` that
    retries only while a factor is not finite: a positive-definite matrix costs one Cholesky
    and a finiteness check. When a jitter was needed, a ``tf.py_function`` (run only then)
    issues the same warning, or raises the :class:`CholeskyError`, which reaches the caller as
    a ``tf.errors.InvalidArgumentError`` holding the same message (test it with
    :func:`is_cholesky_error`); that step then updates no weight. Under XLA
    (``jit_compile=True``) there is no Python: no warning, and a factor that stays
    non-positive-definite is returned as NaN. (The ``py_function`` ties a traced graph to this
    Python process; exporting it as a SavedModel is untested.)
    """
    jitter = check_positive_float("jitter", jitter)
    max_tries = check_int_at_least("max_tries", max_tries, 0)
    name = _check_name(name)
    matrix = _as_float_matrix(matrix)

    @tf.custom_gradient
    def factor(a):
        if tf.executing_eagerly():
            chol = _eager_factor(a, jitter, max_tries, name)
        else:
            chol = _graph_factor(a, jitter, max_tries, name)

        def grad(dchol):
            return _cholesky_grad(chol, dchol)

        return chol, grad

    return factor(matrix)


def _check_factor_and_vectors(chol, vectors, vectors_name):
    chol = _as_float_matrix(chol, "chol")
    vectors = tf.convert_to_tensor(vectors)
    if not vectors.dtype.is_floating:
        raise TypeError(
            f"{vectors_name} must be a floating-point tensor. Received: {vectors_name} with "
            f"dtype {vectors.dtype.name}"
        )
    vectors = tf.cast(vectors, chol.dtype)
    if vectors.shape.rank is not None and (
        vectors.shape.rank < 2
        or (chol.shape[-1] is not None and vectors.shape[-2] is not None
            and vectors.shape[-2] != chol.shape[-1])
    ):
        raise ValueError(
            f"{vectors_name} must have shape [..., n, k] with n = chol.shape[-1] = "
            f"{chol.shape[-1]}. Received: {vectors_name} with shape {tuple(vectors.shape)}"
        )
    return chol, vectors


def cholesky_update(chol, vectors, downdate=False):
    """Cholesky factor of ``L L^T + V V^T`` (or ``L L^T - V V^T`` with ``downdate=True``).

    ``L L^T + V V^T = M M^T`` with ``M = [L, V]``; one sweep over the n columns makes ``M``
    lower triangular again by orthogonal transformations, which leave ``M M^T`` unchanged, in
    ``O(n^2 k)`` operations and n sequential steps (the seed post's ``cholesky_update_iterated``
    makes n k of them, k rank-1 updates one after the other; Seeger 2004):

    * update: at column j one Householder reflection of ``[L_{:,j}, V]`` (``[n, k + 1]``)
      maps its row j, ``x = [L_jj, v_j1 .. v_jk]``, to ``[|x|, 0 .. 0]``, all k vectors at once;
    * k = 1: ``tfp.math.cholesky_update`` (its ``tf.scan`` has the fewest ops per step);
    * downdate: k hyperbolic rotations in turn, ``r = sqrt(L_jj^2 - v_ji^2)``, ``c = r / L_jj``,
      ``s = v_ji / L_jj``, ``L_{>j,j} <- (L_{>j,j} - s v_{>j,i}) / c``,
      ``v_{>j,i} <- c v_{>j,i} - s L_{>j,j}``.

    Cost: the n steps are a ``tf.while_loop``, so TF's per-step overhead dominates below n of
    several thousand. Measured (``benchmarks/bench_linalg.py``, float64, k = 10, 2 threads on a
    busy CPU): 2.6 to 18 times faster than the seed's fold of ``tfp.math.cholesky_update``, but
    refactorizing ``A + V V^T`` with TF's Cholesky (from a stored ``A``) was faster at every
    n <= 1000 measured (n = 200: 0.7 ms against 24). The update pays where the ``O(n^3)``
    refactorization is what costs (n of thousands) or ``A`` is not stored. Inside
    ``tf.function(jit_compile=True)`` the sweep runs several times faster (one compilation per
    shape).

    Args:
      chol: ``[..., n, n]`` lower-triangular factor with a positive diagonal.
      vectors: ``V``, ``[..., n, k]`` (batch dimensions broadcast with ``chol``'s).
      downdate: subtract ``V V^T`` instead of adding it.

    Returns:
      ``[..., n, n]`` lower-triangular factor with a positive diagonal.

    Raises:
      CholeskyError: eagerly, when a downdate leaves a matrix that is not positive definite
        (in a graph the factor holds NaN instead).
    """
    downdate = bool(downdate) if isinstance(downdate, (bool, np.bool_)) else downdate
    if not isinstance(downdate, bool):
        raise TypeError(f"downdate must be True or False. Received: downdate={downdate!r}")
    chol, vectors = _check_factor_and_vectors(chol, vectors, "vectors")
    batch = tf.broadcast_dynamic_shape(tf.shape(chol)[:-2], tf.shape(vectors)[:-2])
    n = tf.shape(chol)[-1]
    k = vectors.shape[-1]
    if k is None:
        raise ValueError("vectors must have a static last dimension k. Received: vectors with "
                         f"shape {tuple(vectors.shape)}")
    chol_b = tf.broadcast_to(chol, tf.concat([batch, tf.shape(chol)[-2:]], 0))
    vecs = tf.broadcast_to(vectors, tf.concat([batch, tf.shape(vectors)[-2:]], 0))
    if k == 1:  # TFP's rank-1 scan has fewer ops per step than either sweep below
        result = tfp.math.cholesky_update(chol_b, vecs[..., 0],
                                          multiplier=-1.0 if downdate else 1.0)
        return _checked_update(result, chol, vectors)
    sign = -1.0 if downdate else 1.0
    rows = tf.range(n)
    columns = tf.linalg.matrix_transpose(chol_b)  # [..., n(col), n(row)]
    vecs = tf.linalg.matrix_transpose(vecs)  # [..., k, n]

    e1 = tf.one_hot(0, k + 1, dtype=chol.dtype)  # [k + 1]

    def householder(j, vecs, out):
        col = tf.gather(columns, j, axis=-2)  # [..., n]  column j of L
        below = rows > j  # [n]
        m = tf.concat([col[..., tf.newaxis, :], vecs], axis=-2)  # [..., k + 1, n]
        x = tf.gather(m, j, axis=-1)  # [..., k + 1]  row j
        norm = tf.norm(x, axis=-1, keepdims=True)  # [..., 1]
        u = x + norm * e1  # x_0 = L_jj > 0: no cancellation
        uu = tf.reduce_sum(u * u, axis=-1, keepdims=True)  # [..., 1]
        proj = tf.reduce_sum(u[..., :, tf.newaxis] * m, axis=-2)  # u^T M  [..., n]
        m = m - (2.0 / uu)[..., tf.newaxis] * u[..., :, tf.newaxis] * proj[..., tf.newaxis, :]
        col = -m[..., 0, :]  # the reflection gives -|x| at row j: flip the column's sign
        col = tf.where(rows >= j, col, tf.zeros_like(col))
        vecs = tf.where(below, m[..., 1:, :], tf.zeros_like(m[..., 1:, :]))
        return j + 1, vecs, out.write(j, col)

    def rotations(j, vecs, out):
        col = tf.gather(columns, j, axis=-2)  # [..., n]  column j of L
        below = rows > j  # [n]
        new_vecs = []
        for i in range(k):
            v = vecs[..., i, :]  # [..., n]
            ljj = col[..., j]
            vj = v[..., j]
            r = tf.sqrt(ljj * ljj + sign * vj * vj)
            c = (r / ljj)[..., tf.newaxis]
            s = (vj / ljj)[..., tf.newaxis]
            lower = (col + sign * s * v) / c
            col = tf.where(below, lower, tf.where(rows == j, r[..., tf.newaxis], col))
            new_vecs.append(tf.where(below, c * v - s * col, tf.zeros_like(v)))
        vecs = tf.stack(new_vecs, axis=-2) if new_vecs else vecs
        return j + 1, vecs, out.write(j, col)

    out = tf.TensorArray(chol.dtype, size=n, element_shape=None)
    body = rotations if downdate else householder
    _, _, out = tf.while_loop(lambda j, *_: j < n, body, [tf.constant(0), vecs, out])
    cols = out.stack()  # [n(col), ..., n(row)]
    rank = tf.rank(cols)
    perm = tf.concat([tf.range(1, rank - 1), [rank - 1, 0]], 0)
    result = tf.transpose(cols, perm)  # [..., n(row), n(col)]
    result = tf.linalg.band_part(result, -1, 0)
    return _checked_update(tf.ensure_shape(result, chol_b.shape), chol, vectors)


def _checked_update(result, chol, vectors):
    if tf.executing_eagerly() and not bool(tf.reduce_all(tf.math.is_finite(result))):
        raise CholeskyError(
            f"{_MARKER}: the downdated matrix L L^T - V V^T is not positive definite "
            f"(chol shape {tuple(chol.shape)}, vectors shape {tuple(vectors.shape)})"
        )
    return result


def cholesky_append(chol, cross, corner, jitter=1e-6, max_tries=5, name="corner"):
    """Cholesky factor of ``[[A, B], [B^T, C]]`` from ``L = chol(A)``, without refactorizing A:
    ``[[L, 0], [X^T, chol(C - X^T X)]]`` with ``X = L^{-1} B`` (``O(n^2 m)``), the new block
    factorized by :func:`safe_cholesky` (jitter, warning and error as there).

    Args:
      chol: ``L``, ``[..., n, n]`` lower triangular.
      cross: ``B``, ``[..., n, m]``, the covariances between the old and the new points.
      corner: ``C``, ``[..., m, m]``, the new points' covariance.
      jitter, max_tries, name: as in :func:`safe_cholesky`, for the Schur complement
        ``C - X^T X``.

    Returns:
      ``[..., n + m, n + m]`` lower triangular.
    """
    chol, cross = _check_factor_and_vectors(chol, cross, "cross")
    corner = tf.cast(_as_float_matrix(corner, "corner"), chol.dtype)
    m = cross.shape[-1]
    if m is not None and corner.shape[-1] is not None and corner.shape[-1] != m:
        raise ValueError(
            f"corner must have shape [..., m, m] with m = cross.shape[-1] = {m}. "
            f"Received: corner with shape {tuple(corner.shape)}"
        )
    x = tf.linalg.triangular_solve(chol, cross, lower=True)  # [..., n, m]
    schur = corner - tf.linalg.matmul(x, x, transpose_a=True)  # [..., m, m]
    schur = 0.5 * (schur + tf.linalg.matrix_transpose(schur))
    new = safe_cholesky(schur, jitter=jitter, max_tries=max_tries, name=name)
    batch = tf.broadcast_dynamic_shape(
        tf.broadcast_dynamic_shape(tf.shape(chol)[:-2], tf.shape(cross)[:-2]),
        tf.shape(corner)[:-2])

    def full(t):
        return tf.broadcast_to(t, tf.concat([batch, tf.shape(t)[-2:]], 0))

    top = tf.concat([full(chol), tf.zeros_like(full(cross))], axis=-1)  # [..., n, n + m]
    bottom = tf.concat([full(tf.linalg.matrix_transpose(x)), full(new)], axis=-1)
    return tf.concat([top, bottom], axis=-2)
