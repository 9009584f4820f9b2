"""Seed 002's RealNVP with reverse permutations, fitted to iris (first two features).

As in the lecture's Pyro loop: sepal length and width standardized, 5 affine couplings with
hidden layers [20, 20] and reverse permutations between them, full batch, Adam 1e-2, 2501
steps; here with ``zoo.RealNVP`` and ``model.fit``. Prints the final training NLL (nats per
flower) and the NLL of a N(0, I) fit to the standardized data for scale, maps the data to
the base (``normalize``) and checks that it looks standard normal. Writes data, samples,
density and the normalized data to ``--out`` (default ``runs/flows_iris_realnvp.png``).

    python examples/flows_iris_realnvp.py [--steps 2501]
"""

import argparse
import os

import numpy as np

import zoo
from zoo import datasets


def iris_sepals():
    data = datasets.load_iris()
    x = np.asarray(data[0] if isinstance(data, tuple) else data)[:, :2].astype(np.float64)
    return ((x - x.mean(0)) / x.std(0)).astype(np.float32)  # [150, 2]


FAST = os.environ.get("KERASPROB_FAST") == "1"  # examples/README.md: the fast mode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/flows_iris_realnvp.png")
    parser.add_argument("--steps", type=int, default=20 if FAST else 2501)
    args = parser.parse_args(argv)
    x = iris_sepals()
    flow = zoo.RealNVP(input_shape=2, num_layers=5, hidden_units=[20, 20], actnorm=False,
                       learning_rate=1e-2)
    flow.fit(x, epochs=args.steps, batch_size=len(x), verbose=0)
    nll = float(-flow.log_prob(x).mean())
    gaussian = float(np.mean(0.5 * (x**2).sum(1) + np.log(2 * np.pi)))
    z = flow.normalize(x)
    print(f"final training NLL: {nll:.3f} nats (N(0, I) on the standardized data: {gaussian:.3f})")
    print(f"normalized data: mean {np.round(z.mean(0), 2)}, std {np.round(z.std(0), 2)}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = flow.sample(2000, seed=0)
    g1, g2 = np.meshgrid(np.linspace(-3, 3, 150), np.linspace(-3, 3, 150))
    grid = np.stack([g1.ravel(), g2.ravel()], -1).astype("float32")
    density = np.exp(flow.log_prob(grid)).reshape(g1.shape)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    axes[0].contourf(g1, g2, density, levels=30, cmap="viridis")
    axes[0].scatter(x[:, 0], x[:, 1], s=8, c="w")
    axes[0].set_title(f"RealNVP density and iris (NLL {nll:.2f})")
    axes[1].scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4)
    axes[1].set(xlim=(-3, 3), ylim=(-3, 3), title="2000 samples")
    axes[2].scatter(z[:, 0], z[:, 1], s=8)
    axes[2].set(xlim=(-3, 3), ylim=(-3, 3), title="normalize(x): the data in the base")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=80, bbox_inches="tight")
    print(f"wrote {args.out}")
    return nll


if __name__ == "__main__":
    main()
