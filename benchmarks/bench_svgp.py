"""zoo.SVGPRegressor and zoo.SGPR against GPflow 2.11's SVGP and SGPR, side by side in one run.

Issue 11's synthetic 4-d regression: f(x) = sin(3 x0) + x1^2 - 0.7 x2 + 0.5 cos(2 x3), noise sd
0.1, x ~ U[-1.5, 1.5]^4, 20000 train / 5000 test; M = 200 inducing inputs from a random subset
(the same Z on both sides), RBF-ARD kernel (lengthscales 1, variance 1), Gaussian noise
variance 1, whitened q(u) = N(0, I), float64; Adam 0.01. SVGP: batch 256, 2000 steps. SGPR:
full batch (the collapsed bound couples every example), 100 steps. GPflow runs in its own venv
(``benchmarks/.venv-anchors-gpflow``, see ``anchors/gpflow_svgp.py``).

Figures: ms/step (median after 20 warm-up steps), total s, the ELBO per training example at
the end (higher is better; ours - GPflow), test RMSE and NLPD (nats per test point).

    .venv/bin/python benchmarks/bench_svgp.py [--quick] [--only svgp|sgpr] [--threads N]
    .venv/bin/python benchmarks/bench_svgp.py --scale     # N = 10^6, M = 1000: time, memory
    .venv/bin/python benchmarks/bench_svgp.py --natural-gradient 0.1  # steps to Adam's ELBO
"""

import json
import os
import subprocess
import time

import _harness as h
import numpy as np

GPFLOW_PYTHON = h.BENCH_DIR / ".venv-anchors-gpflow" / "bin" / "python"
N_TRAIN, N_TEST, M, BATCH, LR = 20000, 5000, 200, 256, 0.01


def target(x):
    return np.sin(3 * x[:, 0]) + x[:, 1] ** 2 - 0.7 * x[:, 2] + 0.5 * np.cos(2 * x[:, 3])


def regression_data(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, size=(N_TRAIN + N_TEST, 4))
    y = target(x) + 0.1 * rng.normal(size=len(x))
    z = x[:N_TRAIN][rng.choice(N_TRAIN, M, replace=False)]
    arrays = {"x_train": x[:N_TRAIN], "y_train": y[:N_TRAIN], "x_test": x[N_TRAIN:],
              "y_test": y[N_TRAIN:], "z": z}
    return h._save(f"svgp_regression_seed{seed}.npz", **arrays), arrays


def run_gpflow(*args):
    """Runs ``anchors/gpflow_svgp.py`` in the GPflow venv; returns its JSON line."""
    if not GPFLOW_PYTHON.exists():
        raise h.AnchorVenvMissing(
            f"GPflow venv not found at {GPFLOW_PYTHON}; create it with `python3 -m venv "
            "benchmarks/.venv-anchors-gpflow && benchmarks/.venv-anchors-gpflow/bin/pip install "
            "gpflow tensorflow==2.18.1 tensorflow-probability==0.25.0 tf-keras==2.18.0`")
    threads = os.environ.get("BENCH_THREADS", str(h.DEFAULT_THREADS))
    env = {**os.environ, "BENCH_THREADS": threads, "OMP_NUM_THREADS": threads,
           "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [str(GPFLOW_PYTHON), str(h.ANCHORS_DIR / "gpflow_svgp.py"), *map(str, args)]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def scores(model, data):
    mean, var = model.predict(data["x_test"], batch_size=5000)
    mean, var = mean[:, 0], var[:, 0]
    y = data["y_test"]
    rmse = float(np.sqrt(np.mean((mean - y) ** 2)))
    nlpd = float(-np.mean(model.predict_log_density(data["x_test"], y)))
    return rmse, nlpd


def flop_floor_ms(m, b, gflops):
    """A step's arithmetic (forward and backward, ~3x the forward) at ``gflops``: the
    Cholesky of K_uu (m^3 / 3), the solve L^{-1} K_uf (m^2 b) and q_sqrt^T Lambda (m^2 b)."""
    forward = m**3 / 3 + 2 * m * m * b
    return 3 * forward / (gflops * 1e9) * 1e3


def ours_svgp(data, steps, seed):
    import tensorflow as tf

    import zoo

    model = zoo.SVGPRegressor(input_shape=4, num_inducing=M, kernel="rbf", noise_variance=1.0,
                              mean_function="zero", learning_rate=LR)
    model.set_num_data(N_TRAIN)
    model.set_inducing_inputs(data["z"])
    ds = (tf.data.Dataset.from_tensor_slices((data["x_train"], data["y_train"][:, None]))
          .repeat().shuffle(N_TRAIN, seed=seed).batch(BATCH, drop_remainder=True))
    timer = h.keras_step_timer()
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[timer])
    elbo = model.elbo(data["x_train"], data["y_train"]) / N_TRAIN
    return timer.result(), elbo, *scores(model, data)


def ours_sgpr(data, steps):
    import zoo

    model = zoo.SGPR(input_shape=4, num_inducing=M, kernel="rbf", noise_variance=1.0,
                     mean_function="zero", learning_rate=LR, solver="adam")
    model.set_inducing_inputs(data["z"])
    timer = h.keras_step_timer()
    model.fit(data["x_train"], data["y_train"], epochs=steps, verbose=0, callbacks=[timer])
    elbo = model.collapsed_bound(data["x_train"], data["y_train"]) / N_TRAIN
    return timer.result(), elbo, *scores(model, data)


def natural_gradient_race(data, steps, seed, gamma, learning_rate=LR):
    """Steps and training seconds our SVGP with natural gradients for q(u) (``gamma``, Adam
    at ``learning_rate`` for the rest) needs to reach the ELBO our Adam-only SVGP has after
    ``steps`` steps, on minibatches of the same stream; the ELBO is checked every 25 steps,
    outside the timed fits."""
    import tensorflow as tf
    import tf_keras

    import zoo

    def model_and_data(natural_gradient, learning_rate=LR):
        model = zoo.SVGPRegressor(input_shape=4, num_inducing=M, kernel="rbf",
                                  noise_variance=1.0, mean_function="zero",
                                  learning_rate=learning_rate,
                                  natural_gradient=natural_gradient)
        model.set_num_data(N_TRAIN)
        model.set_inducing_inputs(data["z"])
        ds = (tf.data.Dataset.from_tensor_slices((data["x_train"], data["y_train"][:, None]))
              .repeat().shuffle(N_TRAIN, seed=seed).batch(BATCH, drop_remainder=True))
        return model, ds

    adam, ds = model_and_data(None)
    t = time.perf_counter()
    adam.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    adam_s = time.perf_counter() - t
    target_elbo = adam.elbo(data["x_train"], data["y_train"]) / N_TRAIN
    natural, ds = model_and_data(gamma, learning_rate)
    checks = {"s": 0.0, "elbo": -np.inf, "steps": 0}

    class Race(tf_keras.callbacks.Callback):
        """The full-data ELBO every 25 steps (its time left out); stops at Adam's."""

        def on_epoch_end(self, epoch, logs=None):
            t = time.perf_counter()
            checks["elbo"] = natural.elbo(data["x_train"], data["y_train"]) / N_TRAIN
            checks["steps"] = 25 * (epoch + 1)
            self.model.stop_training = checks["elbo"] >= target_elbo
            checks["s"] += time.perf_counter() - t

    t = time.perf_counter()
    natural.fit(ds, steps_per_epoch=25, epochs=steps // 25, verbose=0, callbacks=[Race()])
    natural_s = time.perf_counter() - t - checks["s"]
    elbo, taken = checks["elbo"], checks["steps"]
    print(f"natural gradients (gamma {gamma}, Adam {learning_rate} for the rest): ELBO/N "
          f"{elbo:.4f} after {taken} steps, "
          f"{natural_s:.1f} s of training; Adam's after {steps} steps {target_elbo:.4f} in "
          f"{adam_s:.1f} s: {taken / steps:.3f}x the steps, {natural_s / adam_s:.3f}x the "
          f"time (tracing included on both sides)", flush=True)
    return natural_s, adam_s


def scale(args):
    """Issue 11's scale check: N = 10^6, M = 1000, one epoch (batch 1024), then predict on
    10^6 points in batches; wall times and the process' peak resident memory."""
    import resource

    import tensorflow as tf

    import zoo

    n, m = (100_000, 200) if args.quick else (1_000_000, 1000)
    rng = np.random.default_rng(args.seed)
    x = rng.uniform(-1.5, 1.5, size=(n, 4))
    y = target(x) + 0.1 * rng.normal(size=n)
    model = zoo.SVGPRegressor(input_shape=4, num_inducing=m, noise_variance=1.0,
                              mean_function="zero", inducing_init="random", learning_rate=LR)
    steps = -(-n // 1024)
    if args.scale_steps:  # time part of the epoch (same N, M, batch) and extrapolate
        model.set_num_data(n)
        model.set_inducing_inputs(x[rng.choice(n, m, replace=False)])
        ds = (tf.data.Dataset.from_tensor_slices((x, y[:, None])).shuffle(n, seed=args.seed)
              .batch(1024).repeat())
        timer = h.keras_step_timer()
        model.fit(ds, steps_per_epoch=args.scale_steps, epochs=1, verbose=0, callbacks=[timer])
        fit_s = timer.result()["ms_per_step"] * steps / 1e3
        print(f"scale: {args.scale_steps} of the epoch's {steps} steps timed, median "
              f"{timer.result()['ms_per_step']:.0f} ms/step; the epoch extrapolated")
    else:
        t = time.perf_counter()
        model.fit(x, y, epochs=1, batch_size=1024, verbose=0)
        fit_s = time.perf_counter() - t
    x_new = rng.uniform(-1.5, 1.5, size=(n, 4))
    t = time.perf_counter()
    mean, _ = model.predict(x_new, batch_size=16384)
    predict_s = time.perf_counter() - t
    rmse = float(np.sqrt(np.mean((mean[:, 0] - target(x_new)) ** 2)))
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"scale: N={n}, M={m}, one epoch of {steps} steps (batch 1024): "
          f"{fit_s:.1f} s; predict on {n} points (batches of 16384): {predict_s:.1f} s; "
          f"RMSE of f after one epoch {rmse:.3f}; peak RSS {peak_gb:.2f} GB "
          f"(TF {tf.__version__}, {args.threads} threads)")


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--only", choices=("svgp", "sgpr"), default=None)
    parser.add_argument("--scale", action="store_true",
                        help="only the N = 10^6, M = 1000 epoch (time and peak memory)")
    parser.add_argument("--natural-gradient", type=float, default=None, metavar="GAMMA",
                        help="only the race to Adam's final ELBO with natural gradients")
    parser.add_argument("--ng-learning-rate", type=float, default=LR,
                        help="with --natural-gradient: Adam's rate for the other weights")
    parser.add_argument("--scale-steps", type=int, default=0,
                        help="with --scale: time this many steps, extrapolate the epoch")
    args = h.parse_args(parser)
    if args.scale:
        return scale(args)
    path, data = regression_data(args.seed)
    if args.natural_gradient is not None:
        return natural_gradient_race(data, h.steps(args, 2000), args.seed,
                                     args.natural_gradient, args.ng_learning_rate)
    rows = []
    which = [args.only] if args.only else ["svgp", "sgpr"]
    for name in which:
        steps = h.steps(args, 2000 if name == "svgp" else 100)
        t = time.perf_counter()
        anchor = run_gpflow("--data", path, "--model", name, "--steps", steps,
                            "--batch", BATCH, "--lr", LR, "--seed", args.seed)
        anchor_wall = time.perf_counter() - t
        if name == "svgp":
            timing, elbo, rmse, nlpd = ours_svgp(data, steps, args.seed)
        else:
            timing, elbo, rmse, nlpd = ours_sgpr(data, steps)
        bench = f"4-d {name.upper()} M={M}"
        rows += [
            h.Row(bench, "ms/step", "GPflow", timing["ms_per_step"], anchor["ms_per_step"]),
            h.Row(bench, "total s", "GPflow", timing["total_s"], anchor["total_s"]),
            h.Row(bench, "ELBO/N", "GPflow", elbo, anchor["elbo_per_example"], compare="diff"),
            h.Row(bench, "test RMSE", "GPflow", rmse, anchor["rmse"]),
            h.Row(bench, "test NLPD", "GPflow", nlpd, anchor["nlpd"], compare="diff"),
        ]
        print(f"{name}: GPflow {anchor['gpflow']} ran {anchor_wall:.1f} s (process start "
              f"included); noise variance ours vs GPflow: see NLPD", flush=True)
    h.print_table(rows)
    b = BATCH
    print(f"FLOP floor of one SVGP step (M={M}, batch {b}, forward + backward ~3x forward): "
          f"{flop_floor_ms(M, b, 50):.2f} ms at 50 GFLOP/s float64")


if __name__ == "__main__":
    main()
