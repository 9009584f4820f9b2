"""The Pólya-gamma post's Bayesian logistic regression with
``zoo.PolyaGammaLogisticRegression``: exact Gibbs sampling, posterior predictive band, traces.

The post's example: 128 points, half from p = N(1, 1) (label 1) and half from q = N(0, 2^2)
(label 0), drawn with ``RandomState(8888)``; the basis ``[1, x, x^2]`` (the post's
``degree=3``, ``degree=2`` here), prior ``N(0, I / 2)``, 1000 Gibbs iterations. Here with 4
chains and 200 burn-in sweeps. Prints the posterior of beta (mean, sd, the beta_1-beta_2
correlation the post points out), R-hat and effective sample sizes, and how far the
posterior predictive is from the true class probability ``p(y = 1 | x) =
N(x; 1, 1) / (N(x; 1, 1) + N(x; 0, 4))``. Writes the predictive band, the traces and the
pairs of beta to ``--out`` (a PNG).

    python examples/polya_gamma_logistic.py [--fast] [--out runs/polya_gamma_logistic.png]
"""

import argparse
import math
import os

import numpy as np

import zoo

POST = {"num_train": 128, "num_iterations": 1000, "degree (post)": 3, "alpha": 2.0,
        "seed": 8888}


def post_data(num_train=128, seed=8888):
    """The post's ``draw_samples`` / ``make_dataset``: ``x [n, 1]``, ``y [n]``."""
    rng = np.random.RandomState(seed)
    x_p = rng.normal(1.0, 1.0, size=num_train // 2)
    x_q = rng.normal(0.0, 2.0, size=num_train - num_train // 2)
    x = np.concatenate([x_p, x_q])[:, None]
    y = np.concatenate([np.ones_like(x_p), np.zeros_like(x_q)]).astype(np.int64)
    return x, y


def true_probability(x):
    def normal(v, mu, sd):
        return np.exp(-0.5 * ((v - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))

    p, q = normal(x, 1.0, 1.0), normal(x, 0.0, 2.0)
    return p / (p + q)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/polya_gamma_logistic.png")
    parser.add_argument("--fast", action="store_true", help="50 burn-in + 100 sweeps",
                        default=os.environ.get("KERASPROB_FAST") == "1")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    x, y = post_data()
    burn_in, samples = (50, 100) if args.fast else (200, 1000)
    model = zoo.PolyaGammaLogisticRegression(
        input_shape=1, degree=2, prior_precision=POST["alpha"], num_chains=4,
        burn_in=burn_in, num_samples=samples, seed=args.seed)
    model.fit(x, y, verbose=0)
    beta = model.posterior_samples()  # [S, 4, 3]
    flat = beta.reshape(-1, 3)
    diagnostics = model.diagnostics()
    correlation = np.corrcoef(flat.T)
    print(f"post: {POST}; ours: degree=2 (the same basis [1, x, x^2]), 4 chains, "
          f"{burn_in} burn-in + {samples} kept sweeps each")
    print("posterior mean of beta:", np.round(flat.mean(0), 3), " sd:", np.round(flat.std(0), 3))
    print(f"corr(beta_1, beta_2) = {correlation[1, 2]:.2f} (the post: strongly correlated; "
          f"beta_1 large)")
    print("R-hat:", np.round(diagnostics["r_hat"], 3), " ESS:", np.round(diagnostics["ess"]))
    grid = np.linspace(-6, 6, 241)[:, None]
    mean = model.predict_proba(grid)
    lower, upper = model.predict_interval(grid, level=0.9)
    truth = true_probability(grid[:, 0])
    inside = np.mean((truth >= lower) & (truth <= upper))
    print(f"posterior predictive vs true p(y = 1 | x) on [-6, 6]: mean |error| "
          f"{np.mean(np.abs(mean - truth)):.3f}; the 90% band holds the truth at "
          f"{100 * inside:.0f}% of the grid")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(18, 4.8))
    axes[0].fill_between(grid[:, 0], lower, upper, alpha=0.3, label="90% credible band")
    axes[0].plot(grid[:, 0], mean, label="posterior predictive")
    axes[0].plot(grid[:, 0], truth, "k--", label="true p(y = 1 | x)")
    axes[0].scatter(x[:, 0], y, s=8, c=y, cmap="coolwarm", alpha=0.6)
    axes[0].set(xlabel="x", ylabel="p(y = 1 | x)", title="Pólya-gamma Gibbs posterior")
    axes[0].legend()
    for k in range(3):
        axes[1].plot(beta[:, 0, k], lw=0.7, label=f"beta_{k} (chain 0)")
    axes[1].set(xlabel="kept sweep", title="traces")
    axes[1].legend()
    axes[2].scatter(flat[:, 1], flat[:, 2], s=2, alpha=0.3)
    axes[2].set(xlabel="beta_1", ylabel="beta_2",
                title=f"beta_1 vs beta_2 (corr {correlation[1, 2]:.2f})")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=90, bbox_inches="tight")
    print(f"wrote {args.out}")
    return {"mean_abs_error": float(np.mean(np.abs(mean - truth))),
            "r_hat": diagnostics["r_hat"], "coverage": float(inside)}


if __name__ == "__main__":
    main()
