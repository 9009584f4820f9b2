"""Seed 002's RealNVP loop on iris: our zoo.RealNVP vs the slides' Pyro loop, one run.

Protocol (the anchor's, ``anchors/pyro_iris_realnvp.py``): iris sepal length and width,
standardized; 5 affine couplings with hidden [20, 20] and reverse permutations between them;
standard normal base; full batch (150); Adam 1e-2; 2501 steps. Pyro minimizes the summed
-log_prob; we minimize the mean (Adam is invariant to the loss scale up to its epsilon).
Our model: ``zoo.RealNVP(input_shape=2, num_layers=5, hidden_units=[20, 20], actnorm=False)``
(no actnorm: the seed's model has none; log-scales softly clamped to (-3, 3) where Pyro
clamps to [-5, 3]).

Our side, timed three ways (wall time of the whole training loop, tracing and compiling
included, as the anchor's ``total_s``):

- ``loop``: a Python loop over a ``tf.function`` step (XLA), as the Pyro loop steps in Python;
- ``loop, no XLA``: the same without XLA;
- ``in-graph``: all steps in one ``tf.function`` (a ``tf.while_loop``), a single call;
- ``model.fit``: ``fit(x, batch_size=150, epochs=2501)``, Keras' per-epoch work included.

Each side runs ``--repeats`` seeds (5 by default): one run's final NLL moves by about 0.1 nat
from seed to seed on either side, so medians are compared.

Usage: ``python benchmarks/bench_flows_iris.py [--quick] [--no-anchors] [--repeats 5]``
"""

import json
import time

import _harness as h
import numpy as np


def make_model(seed):
    import tf_keras

    import zoo

    tf_keras.utils.set_random_seed(seed)
    return zoo.RealNVP(input_shape=2, num_layers=5, hidden_units=[20, 20], mask="half",
                       actnorm=False, learning_rate=1e-2)


def ours_loop(x, steps, seed, jit_compile=True):
    import tensorflow as tf
    import tf_keras

    start = time.perf_counter()
    model = make_model(seed)
    x = tf.constant(x)
    variables = model.trainable_weights
    optimizer = tf_keras.optimizers.Adam(1e-2)
    optimizer.build(variables)  # slots made in the first step would make it trace twice

    @tf.function(jit_compile=jit_compile, autograph=False)  # no Python control flow to convert
    def train_step():
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(model.flow.log_prob(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    result = h.time_steps(train_step, steps)
    result["total_s"] = time.perf_counter() - start  # model building included
    result["final_nll"] = float(-np.mean(model.log_prob(x.numpy())))
    return result


def ours_in_graph(x, steps, seed):
    import tensorflow as tf
    import tf_keras

    start = time.perf_counter()
    model = make_model(seed)
    x = tf.constant(x)
    variables = model.trainable_weights
    optimizer = tf_keras.optimizers.Adam(1e-2)
    optimizer.build(variables)

    def one_step():
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(model.flow.log_prob(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    @tf.function(jit_compile=True, autograph=False)  # the whole loop: one XLA computation
    def train(n):
        return tf.while_loop(lambda i, loss: i < n, lambda i, loss: (i + 1, one_step()),
                             (tf.constant(0), tf.constant(0.0)))[1]

    train(tf.constant(steps)).numpy()
    total = time.perf_counter() - start
    return {"total_s": total, "ms_per_step": 1e3 * total / steps, "steps": steps,
            "final_nll": float(-np.mean(model.log_prob(x.numpy())))}


def ours_fit(x, steps, seed):
    """``model.fit(x, batch_size=150, epochs=steps)``: the Keras way, one full batch an epoch."""
    start = time.perf_counter()
    model = make_model(seed)
    model.fit(x, batch_size=len(x), epochs=steps, verbose=0)
    return {"total_s": time.perf_counter() - start, "steps": steps,
            "ms_per_step": 1e3 * (time.perf_counter() - start) / steps,
            "final_nll": float(-np.mean(model.log_prob(x)))}


def _median(results, key):
    return float(np.median([r[key] for r in results])) if results else None


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--no-anchors", action="store_true", help="our side only")
    parser.add_argument("--repeats", type=int, default=5,
                        help="seeds seed..seed+repeats-1 on both sides: the final NLL of one "
                             "run moves by about 0.1 nat from seed to seed")
    args = h.parse_args(parser)
    import tensorflow as tf  # noqa: F401 - after the threads are set

    path, data = h.iris_data()
    x = data["x"]
    steps = h.steps(args, 2501)
    seeds = range(args.seed, args.seed + (1 if args.quick else args.repeats))
    runs = {"loop, XLA": [], "loop, no XLA": [], "in-graph, XLA": [], "model.fit": [],
            "Pyro": []}
    for seed in seeds:
        runs["loop, XLA"].append(ours_loop(x, steps, seed))
        runs["loop, no XLA"].append(ours_loop(x, steps, seed, jit_compile=False))
        runs["in-graph, XLA"].append(ours_in_graph(x, steps, seed))
        runs["model.fit"].append(ours_fit(x, steps, seed))
        if not args.no_anchors:
            runs["Pyro"].append(h.run_anchor("pyro_iris_realnvp.py", "--data", path,
                                             "--steps", steps, "--seed", seed))
    pyro = runs["Pyro"]
    rows = []
    for label in ("loop, XLA", "loop, no XLA", "in-graph, XLA", "model.fit"):
        ours = runs[label]
        rows.append(h.Row("iris RealNVP", f"total s ({label}), median", "Pyro",
                          _median(ours, "total_s"), _median(pyro, "total_s")))
        rows.append(h.Row("iris RealNVP", f"ms/step ({label}), median", "Pyro",
                          _median(ours, "ms_per_step"), _median(pyro, "ms_per_step")))
        rows.append(h.Row("iris RealNVP", f"train NLL ({label}), median", "Pyro",
                          _median(ours, "final_nll"), _median(pyro, "final_nll"),
                          compare="diff"))
    h.print_table(rows)
    for label, results in runs.items():
        nll = [r["final_nll"] for r in results]
        if nll:
            print(f"{label:14s} final NLL per seed: {np.round(nll, 3).tolist()}  "
                  f"mean {np.mean(nll):.3f} +- {np.std(nll):.3f}")
    print(json.dumps(runs, default=float))


if __name__ == "__main__":
    main()
