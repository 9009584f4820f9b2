"""The knowledge-gradient post's 1-D example: f(x) = sin(3x) + x^2 - 0.7x on [-1, 2].

Ten noisy observations at uniform random locations; a Matern 5/2 GP fitted by type-II
maximum likelihood (:func:`kerasprob.tuning.surrogate.fit_gaussian_process`); the
knowledge gradient over x (:func:`kerasprob.math.knowledge_gradient.knowledge_gradient`:
Monte Carlo over simulated outcomes, each simulation-augmented predictive minimum by
multi-start L-BFGS on the appended Cholesky factor); then a few steps of Bayesian
optimization, each evaluating f where the knowledge gradient is largest. Prints, per step,
the next point, its KG and the predictive minimum; writes one figure per step (the
predictive mean and two standard deviations, the observations, the predictive minimum, the
KG below) to ``--out`` (default ``runs/knowledge_gradient/step_<k>.png``).

    python examples/knowledge_gradient.py          # KERASPROB_FAST=1: 2 steps, coarse grid
"""

import argparse
import os

import numpy as np

from kerasprob.math.knowledge_gradient import knowledge_gradient, predictive_minimum
from kerasprob.tuning.surrogate import fit_gaussian_process

FAST = os.environ.get("KERASPROB_FAST") == "1"  # examples/README.md: the fast mode
LOW, HIGH, NOISE = -1.0, 2.0, 0.1


def f(x):
    return np.sin(3 * x) + x**2 - 0.7 * x


def to_unit(x):
    return (x - LOW) / (HIGH - LOW)


def plot(path, grid, fit, x, y, kg, next_x, tau):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    post = fit.posterior
    u = to_unit(grid)[:, None]
    mean = post.mean(u).numpy() * fit.y_std + fit.y_mean
    std = np.sqrt(post.variance(u).numpy()) * fit.y_std
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True,
                                      gridspec_kw={"height_ratios": [2, 1]})
    top.plot(grid, f(grid), "k--", lw=1, label="f(x)")
    top.plot(grid, mean, "C1", label="predictive mean")
    top.fill_between(grid, mean - 2 * std, mean + 2 * std, color="C1", alpha=0.2)
    top.scatter(x, y, c="k", s=15, zorder=3, label="observations")
    top.axhline(tau, color="C1", ls=":", label="predictive minimum")
    top.axvline(next_x, color="gray")
    top.legend(loc="upper left", fontsize=8)
    bottom.plot(grid, kg, "C0")
    bottom.axvline(next_x, color="gray")
    bottom.set_ylabel("knowledge gradient")
    bottom.set_xlabel("x")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/knowledge_gradient")
    parser.add_argument("--steps", type=int, default=2 if FAST else 5)
    parser.add_argument("--grid", type=int, default=41 if FAST else 201)
    parser.add_argument("--num-fantasies", type=int, default=8 if FAST else 32)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.uniform(LOW, HIGH, size=10)
    y = f(x) + NOISE * rng.standard_normal(10)
    grid = np.linspace(LOW, HIGH, args.grid)
    fit = None
    for step in range(args.steps):
        fit = fit_gaussian_process(to_unit(x)[:, None], y, seed=step, previous=fit)
        post = fit.posterior
        starts = to_unit(x)[:, None]
        tau, _ = predictive_minimum(post, starts)
        kg = knowledge_gradient(post, to_unit(grid)[:, None], num_fantasies=args.num_fantasies,
                                starts=starts).numpy() * fit.y_std
        best = int(np.argmax(kg))
        tau = float(tau) * fit.y_std + fit.y_mean
        path = os.path.join(args.out, f"step_{step}.png")
        plot(path, grid, fit, x, y, kg, grid[best], tau)
        print(f"step {step}: n={len(x)}, predictive minimum {tau:.4f}, next x = "
              f"{grid[best]:.3f} (KG {kg[best]:.4f}); lengthscale "
              f"{fit.lengthscales[0] * (HIGH - LOW):.3f}, noise std "
              f"{np.sqrt(fit.noise_variance) * fit.y_std:.3f}; wrote {path}")
        x = np.append(x, grid[best])
        y = np.append(y, f(grid[best]) + NOISE * rng.standard_normal())
    print(f"true minimum {f(np.linspace(LOW, HIGH, 100001)).min():.4f}")


if __name__ == "__main__":
    main()
