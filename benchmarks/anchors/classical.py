"""Anchors of bench_classical.py, run in benchmarks/.venv-anchors-classical (numpy, scipy,
scikit-learn, polyagamma, pypolyagamma): scikit-learn's GaussianNB, the polyagamma and
pypolyagamma samplers, the seed post's NumPy + pypolyagamma Gibbs loop and a random-walk
Metropolis baseline. Prints one JSON line last; arrays go to ``--out`` (an .npz)."""

import argparse
import json
import os
import time

import numpy as np


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def naive_bayes(data, repeats):
    from sklearn.naive_bayes import GaussianNB

    x, y, x_test = data["nb_x"], data["nb_y"], data["nb_x_test"]
    model = GaussianNB()
    fit_s, _ = best_of(lambda: model.fit(x, y), repeats)
    proba_s, proba = best_of(lambda: model.predict_proba(x_test), repeats)
    return {"nb_fit_s": fit_s, "nb_predict_proba_s": proba_s}, {"nb_proba": proba}


def samplers(data, repeats, seed):
    from polyagamma import random_polyagamma

    c = data["pg_c"]
    rng = np.random.default_rng(seed)
    out = {}
    for method in (None, "devroye"):
        name = f"polyagamma_{method or 'hybrid'}"
        s, draws = best_of(lambda m=method: random_polyagamma(1, c, method=m, random_state=rng),
                           repeats)
        out[f"{name}_draws_per_s"] = len(c) / s
    try:
        from pypolyagamma import PyPolyaGamma
    except ImportError:  # its setup.py downloads GSL: no build without a network
        out["pypolyagamma_draws_per_s"] = None
    else:
        pg = PyPolyaGamma(seed=seed)
        omega = np.empty_like(c)
        s, _ = best_of(lambda: pg.pgdrawv(np.ones_like(c), c, omega), repeats)
        out["pypolyagamma_draws_per_s"] = len(c) / s
    ks_c = float(data["ks_c"])
    reference = random_polyagamma(1, np.full(int(data["ks_n"]), ks_c), random_state=rng)
    return out, {"ks_reference": reference}


def seed_gibbs(data, seed):
    """The post's loop, verbatim in substance (pgdrawv, solve, multivariate_normal); with
    polyagamma's C sampler in place of pypolyagamma's where that is not installed."""
    try:
        from pypolyagamma import PyPolyaGamma

        pg = PyPolyaGamma(seed=seed)
        sampler = "pypolyagamma"

        def draw(b, c):
            omega = np.empty_like(b)
            pg.pgdrawv(b, c, omega)
            return omega
    except ImportError:
        from polyagamma import random_polyagamma

        rng = np.random.default_rng(seed)
        sampler = "polyagamma"

        def draw(b, c):
            return random_polyagamma(b, c, random_state=rng)

    x, y = data["gibbs_x"], data["gibbs_y"]
    degree, alpha, iterations = 3, float(data["gibbs_alpha"]), int(data["gibbs_iterations"])
    random_state = np.random.RandomState(seed)  # the post's generator
    kappa = y - 0.5
    phi = np.power(x, np.arange(degree))
    k = phi.shape[-1]
    beta = random_state.normal(size=k, scale=1 / np.sqrt(alpha))
    betas = []
    start = time.perf_counter()
    for _ in range(iterations):
        c = phi @ beta
        b = np.ones_like(c)
        omega = draw(b, c)
        sigma_inv = (omega * phi.T) @ phi + alpha * np.eye(k)
        mu = np.linalg.solve(sigma_inv, phi.T @ kappa)
        sigma = np.linalg.solve(sigma_inv, np.eye(k))
        beta = random_state.multivariate_normal(mean=mu, cov=sigma)
        betas.append(beta)
    seconds = time.perf_counter() - start
    result = {"gibbs_seed_s": seconds, "gibbs_seed_sampler": sampler}
    return result, {"gibbs_seed_samples": np.array(betas)}


def metropolis(data, seed):
    """Random-walk Metropolis on the same posterior, one chain, step tuned to ~25-40%."""
    x, y = data["gibbs_x"], data["gibbs_y"]
    alpha, iterations = float(data["gibbs_alpha"]), int(data["gibbs_iterations"])
    phi = np.power(x, np.arange(3))
    rng = np.random.default_rng(seed)

    def log_post(beta):
        f = phi @ beta
        return np.sum(y * f - np.logaddexp(0, f)) - 0.5 * alpha * beta @ beta

    beta = np.zeros(3)
    lp = log_post(beta)
    step = float(data["rwm_step"])
    samples, accepted = [], 0
    start = time.perf_counter()
    for _ in range(iterations):
        proposal = beta + step * rng.normal(size=3)
        lq = log_post(proposal)
        if np.log(rng.uniform()) < lq - lp:
            beta, lp = proposal, lq
            accepted += 1
        samples.append(beta)
    seconds = time.perf_counter() - start
    return ({"rwm_s": seconds, "rwm_acceptance": accepted / iterations},
            {"rwm_samples": np.array(samples)})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = dict(np.load(args.data))
    result, arrays = {"threads": os.environ.get("OMP_NUM_THREADS")}, {}
    for part in (naive_bayes(data, args.repeats), samplers(data, args.repeats, args.seed),
                 seed_gibbs(data, args.seed), metropolis(data, args.seed)):
        result.update(part[0])
        arrays.update(part[1])
    import polyagamma
    import sklearn

    result["versions"] = {"scikit-learn": sklearn.__version__,
                          "polyagamma": getattr(polyagamma, "__version__", "?"),
                          "numpy": np.__version__}
    np.savez(args.out, **arrays)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
