"""kerasprob.math.linalg against TFP, side by side in one run: the low-rank Cholesky update and the
safe Cholesky's overhead.

* ``cholesky_update(L, V)`` (one Householder sweep over the columns) against the seed post's
  ``reduce(tfp.math.cholesky_update, tf.unstack(V, axis=-1), L)`` (k rank-1 updates in turn)
  and against refactorizing ``tf.linalg.cholesky(A + V V^T)`` from the stored ``A``; float64,
  each a ``tf.function``; ms per call (median), and the largest error against numpy's
  Cholesky of the updated matrix.
* ``safe_cholesky(A)`` against ``tf.linalg.cholesky(A)`` on a positive-definite ``A`` inside a
  ``tf.function``, with the gradient (what an SVGP step pays for the escalation machinery).

    .venv/bin/python benchmarks/bench_linalg.py [--quick] [--threads N] [--seed S]
"""

from functools import reduce

import _harness as h
import numpy as np

args = h.parse_args(h.arg_parser(__doc__))  # sets the threads before TF runs anything

import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

from kerasprob.math.linalg import cholesky_update, safe_cholesky  # noqa: E402


def median_ms(fn, *inputs, calls):
    return h.time_steps(lambda: fn(*inputs), calls, warmup=min(3, calls // 2))["ms_per_step"]


def main():
    rng = np.random.default_rng(args.seed)
    calls = 6 if args.quick else 30
    rows = []
    sizes = [(200, 1), (200, 10), (1000, 10)] if not args.quick else [(200, 10)]
    for n, k in sizes:
        x = rng.normal(size=(n, n + 5))
        a = x @ x.T / n + np.eye(n)
        v = rng.normal(size=(n, k))
        chol, vt, at = tf.constant(np.linalg.cholesky(a)), tf.constant(v), tf.constant(a)
        ours = tf.function(cholesky_update)
        seed = tf.function(
            lambda c, u: reduce(tfp.math.cholesky_update, tf.unstack(u, axis=-1), c))
        refactor = tf.function(
            lambda m, u: tf.linalg.cholesky(m + tf.linalg.matmul(u, u, transpose_b=True)))
        expected = np.linalg.cholesky(a + v @ v.T)
        t_ours = median_ms(ours, chol, vt, calls=calls)
        t_seed = median_ms(seed, chol, vt, calls=calls)
        t_refactor = median_ms(refactor, at, vt, calls=calls)
        err_ours = np.abs(ours(chol, vt).numpy() - expected).max()
        err_seed = np.abs(seed(chol, vt).numpy() - expected).max()
        name = f"update n={n} k={k}"
        rows += [
            h.Row(name, "ms/call", "tfp fold", t_ours, t_seed),
            h.Row(name, "ms/call", "refactor", t_ours, t_refactor),
            h.Row(name, "max error", "tfp fold", err_ours, err_seed, compare="diff"),
        ]
    for n in (200,) if args.quick else (200, 1000):
        x = rng.normal(size=(n, n + 5))
        a = tf.Variable(x @ x.T / n + np.eye(n))

        def step(factor, a=a):
            @tf.function
            def run():
                with tf.GradientTape() as tape:
                    value = tf.reduce_sum(factor(a))
                return tape.gradient(value, a)

            return run

        t_safe = median_ms(step(safe_cholesky), calls=calls)
        t_plain = median_ms(step(tf.linalg.cholesky), calls=calls)
        rows.append(h.Row(f"cholesky+grad n={n}", "ms/call", "tf.linalg", t_safe, t_plain))
    h.print_table(rows)


if __name__ == "__main__":
    main()
