"""The bijector post's banana: sample it with a custom bijector, fit a neural spline flow.

The exact banana is ``Flow([Banana(), LowerTriangular(L)])`` from
``examples/custom_bijectors.py`` (``y = G(x)``, ``x ~ N(0, [[1, .95], [.95, 1]])``). A
``zoo.NeuralSplineFlow`` is fitted to 5000 of its samples; printed: the held-out NLL of the
fit and of the exact density (about 0.1 nat apart with these settings). Writes
the exact and fitted densities and samples to ``--out`` (default ``runs/flows_banana.png``).

    python examples/flows_banana.py
"""

import argparse
import os

import numpy as np
import tf_keras
from custom_bijectors import banana_flow

import zoo

FAST = os.environ.get("KERASPROB_FAST") == "1"  # examples/README.md: the fast mode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/flows_banana.png")
    parser.add_argument("--epochs", type=int, default=1 if FAST else 40)
    args = parser.parse_args(argv)
    tf_keras.utils.set_random_seed(0)
    exact = banana_flow()
    x = np.asarray(exact.sample(5000, seed=1))
    x_test = np.asarray(exact.sample(5000, seed=2))
    flow = zoo.NeuralSplineFlow(input_shape=2, num_layers=4, hidden_units=[64, 64],
                                learning_rate=3e-3)
    flow.fit(x, epochs=args.epochs, batch_size=250, verbose=0,
             validation_data=x_test[:1000])
    ours = float(-flow.log_prob(x_test).mean())
    truth = float(-np.mean(exact.log_prob(x_test)))
    print(f"held-out NLL: NeuralSplineFlow {ours:.4f}, exact banana {truth:.4f} "
          f"(diff {ours - truth:+.4f} nats)")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g1, g2 = np.meshgrid(np.linspace(-3.5, 3.5, 200), np.linspace(-10, 2, 200))
    grid = np.stack([g1.ravel(), g2.ravel()], -1).astype("float32")
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    axes[0].contourf(g1, g2, np.exp(np.asarray(exact.log_prob(grid))).reshape(g1.shape), 30)
    axes[0].set_title("exact banana density")
    axes[1].contourf(g1, g2, np.exp(flow.log_prob(grid)).reshape(g1.shape), 30)
    axes[1].set_title(f"NeuralSplineFlow fit (held-out NLL {ours:.3f} vs {truth:.3f})")
    samples = flow.sample(3000, seed=3)
    axes[2].scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4)
    axes[2].set(xlim=(-3.5, 3.5), ylim=(-10, 2), title="samples of the fit")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=80, bbox_inches="tight")
    print(f"wrote {args.out}")
    return ours - truth


if __name__ == "__main__":
    main()
