"""Classical models side by side: our naive Bayes vs scikit-learn's GaussianNB, our
Pólya-gamma sampler vs polyagamma (C) and pypolyagamma (the seed post's), our Gibbs sampler
vs the post's NumPy + pypolyagamma loop and a random-walk Metropolis baseline.

The anchors run in ``benchmarks/.venv-anchors-classical`` (create it with
``python3 -m venv benchmarks/.venv-anchors-classical && benchmarks/.venv-anchors-classical/
bin/pip install numpy scipy scikit-learn polyagamma "setuptools<70" cython`` then
``pip install --no-build-isolation pypolyagamma``), via ``anchors/classical.py``.

Times are the best of ``--repeats`` runs (our models: a refit of an already traced model,
plus the first fit separately); effective samples use one estimator (TFP's) for every side.
"""

import json
import os
import subprocess
import sys
import time

import _harness as h
import numpy as np

ANCHOR_PYTHON = h.BENCH_DIR / ".venv-anchors-classical" / "bin" / "python"


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def make_data(args):
    rng = np.random.default_rng(args.seed)
    n = 100_000 if args.quick else 1_000_000
    k, d = 10, 20
    centres = rng.normal(scale=2.0, size=(k, d))
    scales = rng.uniform(0.5, 2.0, size=(k, d))
    y = rng.integers(0, k, size=n)
    x = centres[y] + scales[y] * rng.normal(size=(n, d))
    x_test = centres[rng.integers(0, k, size=n)] + rng.normal(scale=1.5, size=(n, d))
    # The post's example: p = N(1, 1) (label 1), q = N(0, 2^2) (label 0), 128 points.
    post = np.random.RandomState(8888)  # the post's generator
    x_p = post.normal(1.0, 1.0, size=64)
    x_q = post.normal(0.0, 2.0, size=64)
    gibbs_x = np.concatenate([x_p, x_q])[:, None]
    gibbs_y = np.concatenate([np.ones(64), np.zeros(64)])
    iterations = 200 if args.quick else 1000
    return h._save(
        "classical.npz", nb_x=x, nb_y=y, nb_x_test=x_test,
        pg_c=rng.uniform(0, 10, size=n), ks_c=np.float64(2.0), ks_n=np.int64(100_000),
        gibbs_x=gibbs_x, gibbs_y=gibbs_y, gibbs_alpha=np.float64(2.0),
        gibbs_iterations=np.int64(iterations), rwm_step=np.float64(0.15),
    )


def run_anchor(path, args):
    if not ANCHOR_PYTHON.exists():
        raise h.AnchorVenvMissing(f"anchor venv not found at {ANCHOR_PYTHON}; see this "
                                  "script's docstring to create it")
    out = h.DATA_DIR / "classical_anchor_out.npz"
    threads = str(args.threads)
    env = {**os.environ, "BENCH_THREADS": threads, "OMP_NUM_THREADS": threads,
           "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
    cmd = [str(ANCHOR_PYTHON), str(h.ANCHORS_DIR / "classical.py"), "--data", str(path),
           "--out", str(out), "--repeats", str(args.repeats), "--seed", str(args.seed)]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1]), dict(np.load(out))


def ess(samples):
    """Smallest effective sample size over the weights; ``samples`` ``[S, K]`` or
    ``[S, C, K]`` (chains pooled by TFP's cross-chain estimator)."""
    import tensorflow as tf
    import tensorflow_probability as tfp

    s = tf.constant(samples, tf.float64)
    if s.shape.rank == 2:
        return float(tf.reduce_min(tfp.mcmc.effective_sample_size(s)))
    return float(tf.reduce_min(tfp.mcmc.effective_sample_size(s, cross_chain_dims=1)))


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = h.parse_args(parser)
    path = make_data(args)
    anchor, anchor_arrays = run_anchor(path, args)
    data = dict(np.load(path))

    import zoo
    from kerasprob.math.polya_gamma import sample_polya_gamma

    rows = []
    # ------------------------------------------------------------------- naive Bayes
    x, y, x_test = data["nb_x"], data["nb_y"], data["nb_x_test"]
    for precision in ("float64", "float32"):
        nb = zoo.GaussianNaiveBayes(input_shape=20, num_classes=10, precision=precision)
        start = time.perf_counter()
        nb.fit(x, y, verbose=0, batch_size=65536)
        first = time.perf_counter() - start
        fit_s, _ = best_of(lambda nb=nb: nb.fit(x, y, verbose=0, batch_size=65536),
                           args.repeats)
        proba_s, proba = best_of(lambda nb=nb: nb.predict_proba(x_test), args.repeats)
        name = f"NB 1e6x20 K=10 {precision}" if not args.quick else f"NB quick {precision}"
        rows += [
            h.Row(name, "fit s (first)", "sklearn", first, anchor["nb_fit_s"]),
            h.Row(name, "fit s", "sklearn", fit_s, anchor["nb_fit_s"]),
            h.Row(name, "predict_proba s", "sklearn", proba_s, anchor["nb_predict_proba_s"]),
            h.Row(name, "max |p - p_sk|", "sklearn",
                  float(np.abs(proba - anchor_arrays["nb_proba"]).max()), 0.0, compare="diff"),
        ]
    # ---------------------------------------------------------------- PG sampler
    c = data["pg_c"]
    sample_polya_gamma(c[:1000], seed=0)  # trace
    pg_s, _ = best_of(lambda: sample_polya_gamma(c, seed=1).numpy(), args.repeats)
    ours_rate = len(c) / pg_s
    for name in ("polyagamma_hybrid", "polyagamma_devroye", "pypolyagamma"):
        # draws per second as a time ratio: anchor rate / our rate (< 1: we are faster)
        rate = anchor[f"{name}_draws_per_s"]
        rows.append(h.Row("PG(1, U[0,10]) draws", "s per 1e6 draws", name,
                          1e6 / ours_rate, None if rate is None else 1e6 / rate))
    reference = anchor_arrays["ks_reference"]
    ours = np.sort(sample_polya_gamma(np.full(len(reference), float(data["ks_c"])),
                                      seed=2).numpy())
    both = np.sort(np.concatenate([ours, reference]))
    ks = np.max(np.abs(np.searchsorted(ours, both, side="right")
                       - np.searchsorted(np.sort(reference), both, side="right"))) / len(ours)
    rows.append(h.Row("PG(1, 2) vs polyagamma", "two-sample KS", "polyagamma", ks,
                      1.95 * np.sqrt(2 / len(ours)), compare="diff"))
    # ---------------------------------------------------------------------- Gibbs
    gx, gy = data["gibbs_x"], data["gibbs_y"]
    iterations = int(data["gibbs_iterations"])
    seed_ess = ess(anchor_arrays["gibbs_seed_samples"])
    seed_rate = seed_ess / anchor["gibbs_seed_s"]
    rwm_rate = ess(anchor_arrays["rwm_samples"]) / anchor["rwm_s"]
    for chains in (1, 16):
        model = zoo.PolyaGammaLogisticRegression(
            input_shape=1, degree=2, prior_precision=2.0, num_chains=chains, burn_in=0,
            num_samples=iterations, seed=args.seed)
        start = time.perf_counter()
        model.fit(gx, gy, verbose=0)
        first = time.perf_counter() - start
        fit_s, _ = best_of(lambda m=model: m.fit(gx, gy, verbose=0), args.repeats)
        ours_ess = ess(model.posterior_samples() if chains > 1
                       else model.posterior_samples()[:, 0])
        rate = ours_ess / fit_s
        bench = f"Gibbs post example, {chains} chain(s)"
        rows += [
            h.Row(bench, f"s / {iterations} sweeps", "seed loop", fit_s, anchor["gibbs_seed_s"]),
            h.Row(bench, "s (first fit)", "seed loop", first, anchor["gibbs_seed_s"]),
            # ESS per second shown as time per effective sample: < 1 means faster.
            h.Row(bench, "s per eff. sample", "seed loop", 1 / rate, 1 / seed_rate),
            h.Row(bench, "s per eff. sample", "RW Metropolis", 1 / rate, 1 / rwm_rate),
        ]
    h.print_table(rows)
    print(f"anchor versions: {anchor['versions']}; seed loop's sampler: "
          f"{anchor['gibbs_seed_sampler']}; RWM acceptance "
          f"{anchor['rwm_acceptance']:.2f}; ours {ours_rate / 1e6:.2f}M PG draws/s; seed loop "
          f"ESS {seed_ess:.0f} in {anchor['gibbs_seed_s']:.2f}s", file=sys.stdout)


if __name__ == "__main__":
    main()
