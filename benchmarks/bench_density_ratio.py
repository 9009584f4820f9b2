"""Density-ratio KL estimates: zoo.DensityRatioEstimator against the exact family's
maximum-likelihood fit, densratio and sklearn.

Problems with the exact KL known:

* the seed's p = N(1, 1), q = N(0, 2^2), KL 0.44315: 5000 + 5000 samples, KL as
  ``est.kl_divergence(x_p)`` on the training samples of p (the README's recipe), over 10
  seeds;
* 10-d: p = N(0.3 * 1, diag(linspace(0.6, 1.4, 10))), q = N(0, I + 0.2 * 1 1^T), KL 0.539:
  10000 + 10000 samples (densratio: 3000 + 3000, as it is slow), KL on 20000 fresh samples
  of p, over 5 seeds;
* bimodal 2-d: p an equal mixture of N((1.5, 1.5), 0.5^2 I) and N((-1.5, -1.5), 0.5^2 I),
  q = N(0, 2^2 I), 5000 + 5000, KL on 20000 fresh samples against the Monte Carlo mean of
  the exact log ratio (10^6 samples), with the correlation of log r and the exact one;
* coverage: over ``--coverage-draws`` draws of the seed pair, how often the default's
  ``value +- 1.96 standard_error`` holds the exact KL.

The exact family's maximum-likelihood fit (logistic regression on ``[1, x, x x^T]`` by
Newton's method in numpy, on the same draws) is the statistical floor a learnt ratio is
compared with: the default's median |KL error| over it is the figure to read.

densratio's uLSIF and KLIEP run on the first ``--slow-anchor-seeds`` seeds only (3 by
default: with its cross-validation uLSIF takes from 20 s to minutes per fit).

Printed per problem: median |KL error| (with the median Monte Carlo standard error beside
it, and the Monte Carlo floor: the same mean of the *exact* log ratio, below what a learnt
ratio reaches, since that carries the noise of the samples of q as well; the maximum-likelihood
fit of the exact family, scikit-learn's logistic regression on quadratic features, shows
the statistical error of a learnt ratio; ``--mle-draws`` draws of the seed pair refit it by
Newton's method in numpy, for that error's distribution beyond 10 seeds) and median seconds
per fit, ours (default MLP and ``network="quadratic"``) next to densratio uLSIF / KLIEP and
scikit-learn logistic regression on quadratic features (the exact family for Gaussians),
run in ``benchmarks/.venv-anchors-densratio`` (``python -m venv`` it, then
``pip install densratio scikit-learn``). Then the time and peak memory of one fit on
10^6 + 10^6 10-d samples streamed from a ``tf.data`` pipeline (a subprocess).

    .venv/bin/python benchmarks/bench_density_ratio.py [--quick] [--threads 2]
"""

import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

import _harness as h
import numpy as np

ANCHOR_PYTHON = h.BENCH_DIR / ".venv-anchors-densratio" / "bin" / "python"
SEED_KL = 0.5 * (math.log(4.0) - 1.0 + 2.0 / 4.0)
D = 10
MU_P, COV_P = 0.3 * np.ones(D), np.diag(np.linspace(0.6, 1.4, D))
MU_Q, COV_Q = np.zeros(D), np.eye(D) + 0.2 * np.ones((D, D))


def gaussian_kl(mu_p, cov_p, mu_q, cov_q):
    inv_q = np.linalg.inv(cov_q)
    diff = mu_q - mu_p
    return 0.5 * (np.trace(inv_q @ cov_p) + diff @ inv_q @ diff - len(mu_p)
                  + np.linalg.slogdet(cov_q)[1] - np.linalg.slogdet(cov_p)[1])


def gaussian_log_prob(x, mu, cov):
    inv = np.linalg.inv(cov)
    diff = x - mu
    return -0.5 * (np.einsum("bi,ij,bj->b", diff, inv, diff) + np.linalg.slogdet(cov)[1]
                   + len(mu) * math.log(2 * math.pi))


def anchor(method, x_p, x_q, x_eval, tag):
    if not ANCHOR_PYTHON.exists():
        return None
    path = h._save(f"density_ratio_{tag}", x_p=x_p, x_q=x_q, x_eval=x_eval)
    threads = os.environ.get("BENCH_THREADS", "2")
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
           "OPENBLAS_NUM_THREADS": threads}
    out = subprocess.run([str(ANCHOR_PYTHON), str(h.ANCHORS_DIR / "densratio_kl.py"),
                          "--data", str(path), "--method", method],
                         env=env, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ours(x_p, x_q, x_eval, exact_log_ratio=None, **kwargs):
    import tf_keras

    import zoo

    tf_keras.utils.set_random_seed(0)
    start = time.perf_counter()
    est = zoo.DensityRatioEstimator(**kwargs)
    est.fit(x_p, x_q, verbose=0)
    estimate = est.kl_divergence(x_eval)
    out = {"kl": estimate.value, "se": estimate.standard_error,
           "seconds": time.perf_counter() - start, "network": est.selected_network}
    if exact_log_ratio is not None:
        out["corr"] = float(np.corrcoef(est.log_ratio(x_eval), exact_log_ratio)[0, 1])
    return out


def quadratic_features(x):
    i, j = np.triu_indices(x.shape[1])
    return np.concatenate([np.ones((len(x), 1)), x, x[:, i] * x[:, j]], 1)


def exact_family_kl(x_p, x_q, x_eval):
    """``mean log r(x_eval)`` of the maximum-likelihood logistic regression on quadratic
    features (Newton's method): the exact family for two Gaussians."""
    features = quadratic_features(np.concatenate([x_p, x_q], 0))
    labels = np.concatenate([np.ones(len(x_p)), np.zeros(len(x_q))])
    w = np.zeros(features.shape[1])
    for _ in range(40):
        prob = 1 / (1 + np.exp(-features @ w))
        hessian = (features * (prob * (1 - prob))[:, None]).T @ features
        w += np.linalg.solve(hessian + 1e-10 * np.eye(len(w)), features.T @ (labels - prob))
    return float((quadratic_features(x_eval) @ w).mean() - math.log(len(x_p) / len(x_q)))


def problem(name, exact, draw, seeds, anchor_n, rows, slow_anchor_seeds):
    results = {}
    mc_errors, mc_se = [], []
    for seed in seeds:
        x_p, x_q, x_eval, exact_log_ratio = draw(seed)
        mc_errors.append(abs(exact_log_ratio.mean() - exact))
        mc_se.append(exact_log_ratio.std(ddof=1) / math.sqrt(len(exact_log_ratio)))
        runs = {"ours (default)": ours(x_p, x_q, x_eval),
                "ours (quadratic)": ours(x_p, x_q, x_eval, network="quadratic"),
                "exact-family MLE": {"kl": exact_family_kl(x_p, x_q, x_eval), "seconds": 0.0}}
        for method in ("ulsif", "kliep", "logistic"):
            if method != "logistic" and seed - seeds[0] >= slow_anchor_seeds:
                continue
            n = len(x_p) if method == "logistic" else anchor_n
            tag = f"{name}_{seed}".replace(" ", "_").replace("-", "")
            result = anchor(method, x_p[:n], x_q[:n], x_eval, tag)
            if result is not None:
                runs[method] = result
        for key, value in runs.items():
            results.setdefault(key, []).append(value)
        print(f"{name} seed {seed}: " + ", ".join(
            f"{k} {v['kl']:.4f} ({v['seconds']:.2f} s)" for k, v in runs.items())
            + f"; default chose {runs['ours (default)']['network']}", flush=True)
    floor = statistics.median(mc_errors)
    se = statistics.median(mc_se)
    print(f"{name}: exact KL {exact:.5f}; Monte Carlo floor (exact ratio) median |error| "
          f"{floor:.4f}, median standard error {se:.4f}")
    mle_err = statistics.median(abs(r["kl"] - exact) for r in results["exact-family MLE"])
    for key in ("ours (default)", "ours (quadratic)"):
        err = statistics.median(abs(r["kl"] - exact) for r in results[key])
        secs = statistics.median(r["seconds"] for r in results[key])
        rows.append(h.Row(name, f"{key} |KL err| (MC floor {floor:.4f}, se {se:.4f})",
                          "exact-family MLE", err, mle_err))
        rows.append(h.Row(name, f"{key} s/fit", "-", secs, None))
        for method, label in (("ulsif", "densratio uLSIF"), ("kliep", "densratio KLIEP"),
                              ("logistic", "sklearn LR quad")):
            if method not in results:
                continue
            anchor_err = statistics.median(abs(r["kl"] - exact) for r in results[method])
            anchor_secs = statistics.median(r["seconds"] for r in results[method])
            rows.append(h.Row(name, f"{key} |KL err|", label, err, anchor_err))
            rows.append(h.Row(name, f"{key} s/fit", label, secs, anchor_secs))


def draw_seed_example(n):
    def draw(seed):
        rng = np.random.default_rng(seed)
        x_p, x_q = rng.normal(1, 1, (n, 1)), rng.normal(0, 2, (n, 1))
        exact = math.log(2) - 0.5 * (x_p[:, 0] - 1) ** 2 + x_p[:, 0] ** 2 / 8
        return x_p, x_q, x_p, exact
    return draw


def draw_ten_d(n, n_eval):
    def draw(seed):
        rng = np.random.default_rng(100 + seed)
        x_p = rng.multivariate_normal(MU_P, COV_P, n)
        x_q = rng.multivariate_normal(MU_Q, COV_Q, n)
        x_eval = rng.multivariate_normal(MU_P, COV_P, n_eval)
        exact = gaussian_log_prob(x_eval, MU_P, COV_P) - gaussian_log_prob(x_eval, MU_Q, COV_Q)
        return x_p, x_q, x_eval, exact
    return draw


def draw_bimodal(n, n_eval):
    modes = np.array([[1.5, 1.5], [-1.5, -1.5]])

    def sample_p(rng, m):
        return modes[rng.integers(0, 2, m)] + 0.5 * rng.normal(size=(m, 2))

    def exact_log_ratio(x):
        log_p = np.logaddexp(*[gaussian_log_prob(x, mode, 0.25 * np.eye(2)) for mode in modes])
        return log_p - math.log(2) - gaussian_log_prob(x, np.zeros(2), 4 * np.eye(2))

    exact = float(exact_log_ratio(sample_p(np.random.default_rng(999), 10**6)).mean())

    def draw(seed):
        rng = np.random.default_rng(200 + seed)
        x_p, x_q = sample_p(rng, n), 2 * rng.normal(size=(n, 2))
        x_eval = sample_p(rng, n_eval)
        return x_p, x_q, x_eval, exact_log_ratio(x_eval)

    return draw, exact


def bimodal(seeds, rows):
    draw, exact = draw_bimodal(5000, 20000)
    errors, corrs = [], []
    for seed in seeds:
        x_p, x_q, x_eval, exact_log_ratio = draw(seed)
        run = ours(x_p, x_q, x_eval, exact_log_ratio)
        errors.append(abs(run["kl"] - exact))
        corrs.append(run["corr"])
        print(f"bimodal seed {seed}: default {run['kl']:.4f} (exact {exact:.4f}), chose "
              f"{run['network']}, corr {run['corr']:.3f} ({run['seconds']:.2f} s)", flush=True)
    rows.append(h.Row("bimodal 2-d", "ours (default) |KL err| (target < 0.1)", "-",
                      statistics.median(errors), None))
    rows.append(h.Row("bimodal 2-d", "ours (default) corr(log r, exact) (target > 0.95)", "-",
                      min(corrs), None))


def coverage(draws, rows):
    """How often the default's 95% interval on its training sample holds the exact KL."""
    draw = draw_seed_example(5000)
    hits, widths = 0, []
    for seed in range(1000, 1000 + draws):
        x_p, x_q = draw(seed)[:2]
        run = ours(x_p, x_q, x_p)
        hits += abs(run["kl"] - SEED_KL) <= 1.96 * run["se"]
        widths.append(run["se"])
    print(f"coverage: {hits} of {draws} intervals hold the exact KL; median standard error "
          f"{statistics.median(widths):.4f}", flush=True)
    rows.append(h.Row("seed 1-d", f"ours (default) 95% interval coverage, {draws} draws "
                      "(target 0.88-0.99)", "-", hits / draws, None))


def exact_family_mle_errors(seeds, n=5000):
    """KL errors of the maximum-likelihood logistic regression on ``[1, x, x^2]`` (Newton's
    method, the exact family of the seed pair), ``mean log r(x_p)``, one per seed."""
    draw = draw_seed_example(n)
    errors = []
    for seed in seeds:
        draw_p, draw_q = draw(seed)[:2]
        x = np.concatenate([draw_p[:, 0], draw_q[:, 0]])
        features = np.stack([np.ones_like(x), x, x * x], 1)
        labels = np.concatenate([np.ones(n), np.zeros(n)])
        w = np.zeros(3)
        for _ in range(30):
            prob = 1 / (1 + np.exp(-features @ w))
            hessian = (features * (prob * (1 - prob))[:, None]).T @ features
            w += np.linalg.solve(hessian, features.T @ (labels - prob))
        errors.append((features[:n] @ w).mean() - SEED_KL)
    return np.asarray(errors)


STREAM = """
import resource, sys, time, json
sys.path.insert(0, {repo!r})
import tensorflow as tf, numpy as np, tf_keras
tf.config.threading.set_intra_op_parallelism_threads({threads})
tf.config.threading.set_inter_op_parallelism_threads({threads})
import zoo
n, b, d = {n}, 1024, 10
chol_p = np.sqrt(np.linspace(0.6, 1.4, d)).astype("float32")
chol_q = np.linalg.cholesky(np.eye(d) + 0.2).astype("float32")
def stream(seed, draw):
    return (tf.data.Dataset.range(n // b)
            .map(lambda i: draw(tf.random.stateless_normal([b, d], seed=[seed, i])))
            .prefetch(4))
ds_p = stream(1, lambda e: 0.3 + e * chol_p)
ds_q = stream(2, lambda e: tf.matmul(e, chol_q, transpose_b=True))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tf_keras.utils.set_random_seed(0)
est = zoo.DensityRatioEstimator()
start = time.perf_counter()
est.fit(ds_p, ds_q, steps_per_epoch=n // b, verbose=0)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rng = np.random.default_rng(7)
x_eval = 0.3 + rng.normal(size=(20000, d)) * chol_p
print(json.dumps({{"seconds": seconds, "peak_rss_mb": peak / 1024,
                  "rss_before_fit_mb": before / 1024, "kl": est.kl_divergence(x_eval).value,
                  "network": est.selected_network}}))
"""


def streamed_fit(n, threads):
    code = STREAM.format(repo=str(h.REPO), threads=threads, n=n)
    out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                         check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--slow-anchor-seeds", type=int, default=3,
                        help="seeds for densratio uLSIF / KLIEP (minutes per fit on 2 busy cores)")
    parser.add_argument("--mle-draws", type=int, default=300,
                        help="draws of the seed pair for the exact-family MLE's error")
    parser.add_argument("--coverage-draws", type=int, default=50,
                        help="draws of the seed pair for the interval coverage")
    args = h.parse_args(parser)
    if not ANCHOR_PYTHON.exists():
        print(f"note: no {ANCHOR_PYTHON}; anchors skipped (python -m venv it, then pip install "
              "densratio scikit-learn)")
    rows = []
    seeds = range(args.seed, args.seed + (2 if args.quick else 10))
    slow = min(1, args.slow_anchor_seeds) if args.quick else args.slow_anchor_seeds
    problem("seed 1-d", SEED_KL, draw_seed_example(5000), seeds, 5000, rows, slow)
    fitted = sorted(set(range(args.mle_draws)) | set(seeds))  # each draw fitted once
    mle_error = dict(zip(fitted, exact_family_mle_errors(fitted)))
    errors = np.array([mle_error[seed] for seed in range(args.mle_draws)])
    on_seeds = np.median([abs(mle_error[seed]) for seed in seeds])
    print(f"seed 1-d: exact-family MLE (Newton, numpy) over {args.mle_draws} draws: median "
          f"|KL error| {np.median(np.abs(errors)):.4f}, sd {errors.std():.4f}; over seeds "
          f"{seeds[0]}-{seeds[-1]}: {on_seeds:.4f}")
    exact = gaussian_kl(MU_P, COV_P, MU_Q, COV_Q)
    seeds = range(args.seed, args.seed + (1 if args.quick else 5))
    problem("10-d", exact, draw_ten_d(10_000, 20_000), seeds, 3000, rows, slow)
    bimodal(range(args.seed, args.seed + (1 if args.quick else 5)), rows)
    coverage(5 if args.quick else args.coverage_draws, rows)
    n = 10**5 if args.quick else 10**6
    stream = streamed_fit(n, args.threads)
    print(f"streamed fit, {n} + {n} 10-d samples from tf.data (default network, batch 2048):"
          f" {stream['seconds']:.1f} s, peak RSS {stream['peak_rss_mb']:.0f} MB "
          f"({stream['rss_before_fit_mb']:.0f} MB before the fit), KL {stream['kl']:.4f} "
          f"(exact {exact:.4f}), chose {stream['network']}")
    h.print_table(rows)
    print(f"ru_maxrss of this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
