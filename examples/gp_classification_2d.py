"""GP classification in 2-D: ``zoo.SVGPClassifier`` on two interleaved moons, its decision map.

    python examples/gp_classification_2d.py [--n 400] [--out runs/gp_classification_2d]

Two interleaved half-moons with label noise (400 points; 2000 held out), the classifier fitted
as a new user would: ``SVGPClassifier(natural_gradient=0.1).fit(x, y)`` with no ``epochs``
(it trains until its loss stops improving; q(u) takes natural-gradient steps, the kernel and
the inducing inputs Adam's). Prints the epochs it took, held-out accuracy and mean log
predictive density against the Bayes classifier's (the moons' exact class probabilities are
known: the noise flips each label with probability 0.1), and writes ``decision_map.png``:
``p(y = 1 | x)`` over the plane, the 0.5 contour, the data and the inducing inputs.
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import zoo

FAST = os.environ.get("KERASPROB_FAST") == "1"
FLIP = 0.1  # the probability a label is flipped


def moons(n, seed, noise=0.15):
    """Two interleaved half-moons, ``n`` points ``[n, 2]``, labels flipped with prob. FLIP;
    returns ``(x, y, clean)`` (``clean``: the labels before flipping)."""
    rng = np.random.default_rng(seed)
    clean = rng.integers(0, 2, n)
    angle = rng.uniform(0.0, np.pi, n)
    x = np.where(clean[:, None] == 0,
                 np.stack([np.cos(angle), np.sin(angle)], 1),
                 np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], 1))
    x = x + noise * rng.normal(size=(n, 2))
    flip = rng.uniform(size=n) < FLIP
    return x, np.where(flip, 1 - clean, clean), clean


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=150 if FAST else 400)
    parser.add_argument("--out", default=os.path.join("runs", "gp_classification_2d"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    x, y, _ = moons(args.n, 0)
    x_test, y_test, clean_test = moons(500 if FAST else 2000, 1)
    model = zoo.SVGPClassifier(num_inducing=20, natural_gradient=0.1)
    history = model.fit(x, y, epochs=60 if FAST else None, verbose=0)
    proba = model.predict_proba(x_test)  # [N, 2]
    accuracy = float(np.mean(proba.argmax(-1) == y_test))
    lpd = float(np.mean(np.log(proba[np.arange(len(y_test)), y_test])))
    # The Bayes classifier knows the clean class only up to the moons' overlap; with the
    # clean label taken as known it scores 1 - FLIP, an upper bound on any accuracy.
    best_lpd = (1 - FLIP) * np.log(1 - FLIP) + FLIP * np.log(FLIP)
    print(f"{len(history.history['loss'])} epochs, -ELBO/N {history.history['loss'][-1]:.3f}")
    print(f"held-out accuracy {accuracy:.3f} (at most {1 - FLIP:.2f}: labels flipped with "
          f"probability {FLIP}); mean log predictive density {lpd:.3f} (at best "
          f"{best_lpd:.3f}); agreement with the clean labels "
          f"{np.mean(proba.argmax(-1) == clean_test):.3f}")

    grid = np.linspace(-1.6, 2.6, 120)
    gx, gy = np.meshgrid(grid, np.linspace(-1.2, 1.7, 90))
    plane = np.stack([gx.ravel(), gy.ravel()], 1)
    p1 = model.predict_proba(plane)[:, 1].reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    image = ax.contourf(gx, gy, p1, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.8)
    ax.contour(gx, gy, p1, levels=[0.5], colors="k", linewidths=1.2)
    ax.scatter(*x[y == 0].T, s=8, c="C0", edgecolors="w", linewidths=0.3, label="y = 0")
    ax.scatter(*x[y == 1].T, s=8, c="C3", edgecolors="w", linewidths=0.3, label="y = 1")
    z = model.gp.inducing_inputs.numpy()
    ax.plot(*z.T, "k^", ms=5, label="inducing inputs")
    fig.colorbar(image, ax=ax, label="p(y = 1 | x)")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("SVGPClassifier: decision map")
    fig.tight_layout()
    path = os.path.join(args.out, "decision_map.png")
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
