"""SVGP regression in 1-D, the SVGP handbook's setting: SGPR, SVGP and the exact GP side by side.

    python examples/svgp_regression.py [--epochs 60] [--out runs/svgp_regression]

The data: ``y = sin(3 x) + 0.3 x^2 + eps``, ``eps ~ N(0, 0.2^2)``, 500 points in [-3, 3]
(a gap in [0.5, 1.5] where the band must widen), 15 inducing inputs. Fits

1. ``zoo.SGPR``: the collapsed (Titsias) bound, full batch, closed-form optimal q(u);
2. ``zoo.SVGPRegressor`` from scratch: minibatches of 50, q(u) learned by Adam;
3. ``zoo.SVGPRegressor.from_sgpr``: SVGP started at SGPR's optimum (its ELBO equals the bound);

and prints each one's bound next to the exact log marginal likelihood (numpy, at the same
hyperparameters), test RMSE and NLPD. The handbook (seed 003, post 4) derives these objects
but prints no figures, so there is nothing of the seed's to print beside ours. Writes
``svgp.png``: the predictive band of y, the data, and the inducing inputs before (k-means)
and after training, for SGPR and SVGP.
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import zoo
from kerasprob.math.gp import kmeans_inducing_inputs


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, size=(n, 1))
    x = x[(x[:, 0] < 0.5) | (x[:, 0] > 1.5)]
    y = np.sin(3 * x[:, 0]) + 0.3 * x[:, 0] ** 2 + 0.2 * rng.normal(size=len(x))
    return x, y


def exact_log_marginal(model, x, y):
    """log N(y; m, K + s2 I) with the model's kernel, noise and constant mean (numpy)."""
    kernel = model.gp.kernel
    k = kernel.matrix(x).numpy() + model.likelihood.variance.numpy() * np.eye(len(x))
    r = y - model.gp.mean_fn(x).numpy()[:, 0]
    chol = np.linalg.cholesky(k)
    alpha = np.linalg.solve(chol, r)
    return -0.5 * alpha @ alpha - np.sum(np.log(np.diag(chol))) - 0.5 * len(x) * np.log(
        2 * np.pi)


def scores(model, x, y):
    mean, _ = model.predict(x)
    rmse = float(np.sqrt(np.mean((mean[:, 0] - y) ** 2)))
    return rmse, float(-np.mean(model.predict_log_density(x, y)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60, help="SVGP epochs (10 steps each)")
    parser.add_argument("--sgpr-steps", type=int, default=300)
    parser.add_argument("--num-inducing", type=int, default=15)
    parser.add_argument("--out", default=os.path.join("runs", "svgp_regression"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    x, y = make_data(600, 0)
    x_test, y_test = make_data(600, 1)
    m = args.num_inducing

    sgpr = zoo.SGPR(num_inducing=m, noise_variance=0.5, learning_rate=0.05)
    svgp = zoo.SVGPRegressor(num_inducing=m, noise_variance=0.5, learning_rate=0.02)
    z_init = kmeans_inducing_inputs(x, m, seed=0)  # where both models start (seed=0)
    sgpr.fit(x, y, epochs=args.sgpr_steps, verbose=0)
    svgp.fit(x, y, epochs=args.epochs, batch_size=50, verbose=0)
    warm = zoo.SVGPRegressor.from_sgpr(sgpr)

    print(f"{len(x)} training points, {m} inducing inputs, float64")
    print(f"{'model':<26}{'bound':>10}{'exact log p(y)':>16}{'gap':>8}{'RMSE':>8}{'NLPD':>8}")
    rows = [("SGPR (collapsed bound)", sgpr, sgpr.collapsed_bound(x, y)),
            ("SVGP (minibatch Adam)", svgp, svgp.elbo(x, y)),
            ("SVGP from SGPR", warm, warm.elbo(x, y))]
    for name, model, bound in rows:
        exact = exact_log_marginal(model, x, y)
        rmse, nlpd = scores(model, x_test, y_test)
        print(f"{name:<26}{bound:>10.2f}{exact:>16.2f}{exact - bound:>8.2f}{rmse:>8.3f}"
              f"{nlpd:>8.3f}")
    print("seed figures: none (the handbook gives formulas and code, no numbers)")

    grid = np.linspace(-3.5, 3.5, 400)[:, None]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for ax, (name, model) in zip(axes, [("SGPR", sgpr), ("SVGP (minibatch)", svgp)]):
        mean, var = model.predict(grid)
        sd = np.sqrt(var[:, 0])
        ax.plot(x[:, 0], y, ".", ms=2, color="0.6", label="data")
        ax.plot(grid[:, 0], mean[:, 0], color="C0", label="predictive mean of y")
        ax.fill_between(grid[:, 0], mean[:, 0] - 2 * sd, mean[:, 0] + 2 * sd, color="C0",
                        alpha=0.2, label="±2 sd of y")
        low = ax.get_ylim()[0]
        ax.plot(z_init[:, 0], np.full(m, low + 0.1), "|", color="C3", ms=12,
                label="inducing inputs, start (k-means)")
        ax.plot(model.gp.inducing_inputs.numpy()[:, 0], np.full(m, low + 0.4), "|",
                color="C2", ms=12, label="inducing inputs, trained")
        ax.set_title(name)
        ax.set_xlabel("x")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = os.path.join(args.out, "svgp.png")
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
