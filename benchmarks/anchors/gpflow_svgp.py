"""GPflow anchor: SVGP (minibatch Adam) or SGPR (full-batch Adam) on the harness' regression data.

Runs in its own venv, ``benchmarks/.venv-anchors-gpflow`` (GPflow pulls numpy 1.x):

    python3 -m venv benchmarks/.venv-anchors-gpflow
    benchmarks/.venv-anchors-gpflow/bin/pip install gpflow tensorflow==2.18.1 \
        tensorflow-probability==0.25.0 tf-keras==2.18.0

Reads ``--data`` (an .npz with ``x_train``, ``y_train``, ``x_test``, ``y_test``, ``z``: the
inducing inputs both sides start from), trains ``--steps`` steps with Adam(``--lr``) in a
``tf.function`` step, squared-exponential ARD kernel (lengthscales 1, variance 1), Gaussian
likelihood (variance 1), whitened q(u) = N(0, I) at the start (GPflow's defaults), float64.
Prints one JSON line last: ms/step (median after the warm-up), total s, the final ELBO per
example on the whole training set, test RMSE and NLPD.
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # GPflow 2.11 wants tf-keras' optimizers
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gpflow
import numpy as np
import tensorflow as tf

WARMUP = 20


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", choices=("svgp", "sgpr"), default="svgp")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    threads = int(os.environ.get("BENCH_THREADS", "2"))
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.random.set_seed(args.seed)
    gpflow.config.set_default_float(np.float64)

    data = np.load(args.data)
    x, y = data["x_train"].astype(np.float64), data["y_train"].astype(np.float64)[:, None]
    x_test, y_test = data["x_test"].astype(np.float64), data["y_test"].astype(np.float64)
    z = data["z"].astype(np.float64)
    n, d = x.shape

    kernel = gpflow.kernels.SquaredExponential(variance=1.0, lengthscales=np.ones(d))
    if args.model == "svgp":
        model = gpflow.models.SVGP(kernel, gpflow.likelihoods.Gaussian(variance=1.0), z.copy(),
                                   num_data=n, whiten=True)
        ds = (tf.data.Dataset.from_tensor_slices((x, y)).repeat()
              .shuffle(n, seed=args.seed).batch(args.batch, drop_remainder=True))
        batches = iter(ds)
        loss_fn = model.training_loss_closure(batches, compile=False)
    else:
        model = gpflow.models.SGPR((x, y), kernel, z.copy(), noise_variance=1.0)
        loss_fn = model.training_loss
    optimizer = tf.keras.optimizers.Adam(args.lr)
    variables = model.trainable_variables

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn()
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    times = []
    start = time.perf_counter()
    for _ in range(args.steps):
        t = time.perf_counter()
        step().numpy()
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    warmup = min(WARMUP, len(times) // 2)

    elbo = (model.elbo((x, y)) if args.model == "svgp" else model.elbo()).numpy() / n
    mean, var = model.predict_y(x_test)
    mean, var = mean.numpy()[:, 0], var.numpy()[:, 0]
    rmse = float(np.sqrt(np.mean((mean - y_test) ** 2)))
    nlpd = float(np.mean(0.5 * np.log(2 * np.pi * var) + 0.5 * (y_test - mean) ** 2 / var))
    print(json.dumps({
        "ms_per_step": 1e3 * statistics.median(times[warmup:]), "total_s": total,
        "steps": len(times), "warmup": warmup, "elbo_per_example": float(elbo),
        "rmse": rmse, "nlpd": nlpd,
        "noise_variance": float(model.likelihood.variance.numpy()),
        "gpflow": gpflow.__version__, "tensorflow": tf.__version__, "threads": threads,
    }), flush=True)


if __name__ == "__main__":
    main()
