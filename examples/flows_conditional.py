"""A conditional flow p(x | c) on a 2-D toy, recovered from samples.

``c ~ U(-2, 2)`` and ``x | c ~ N((c, c^2 / 2), diag(0.3^2, (0.2 + 0.2 |c|)^2))``: the mean
bends with ``c`` and the spread grows with ``|c|``. A ``zoo.MAF(input_shape=2,
context_dim=1)`` learns it with ``fit(x, c)``; every MADE conditioner receives ``c``.
Printed: the held-out conditional NLL of the fit and of the true conditional density, and
the fitted conditional means at a few contexts. Writes samples ``sample(n, c)`` for 5 contexts
over the data to ``--out`` (default ``runs/flows_conditional.png``).

    python examples/flows_conditional.py
"""

import argparse
import os

import numpy as np
import tf_keras

import zoo


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    c = rng.uniform(-2, 2, size=(n, 1))
    loc = np.concatenate([c, 0.5 * c**2], axis=1)
    scale = np.concatenate([np.full_like(c, 0.3), 0.2 + 0.2 * np.abs(c)], axis=1)
    x = loc + scale * rng.normal(size=(n, 2))
    log_p = (-0.5 * ((x - loc) / scale) ** 2 - np.log(scale) - 0.5 * np.log(2 * np.pi)).sum(1)
    return x.astype("float32"), c.astype("float32"), log_p


FAST = os.environ.get("KERASPROB_FAST") == "1"  # examples/README.md: the fast mode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/flows_conditional.png")
    parser.add_argument("--epochs", type=int, default=1 if FAST else 30)
    args = parser.parse_args(argv)
    tf_keras.utils.set_random_seed(0)
    x, c, _ = make_data(5000, 0)
    x_test, c_test, log_p_test = make_data(3000, 1)
    flow = zoo.MAF(input_shape=2, context_dim=1, num_layers=3, hidden_units=[64, 64],
                   learning_rate=3e-3)
    flow.fit(x, c, epochs=args.epochs, batch_size=200, verbose=0,
             validation_data=(x_test[:500], c_test[:500]))
    ours = float(-flow.log_prob(x_test, c_test).mean())
    truth = float(-log_p_test.mean())
    print(f"held-out conditional NLL: MAF {ours:.4f}, true {truth:.4f} (diff {ours - truth:+.4f})")
    contexts = [-1.8, -1.0, 0.0, 1.0, 1.8]
    draws = {value: flow.sample(2000, c=[value], seed=1) for value in contexts}
    for value, d in draws.items():
        print(f"c = {value:+.1f}: sample mean {np.round(d.mean(0), 2)}, "
              f"true mean [{value:+.2f} {0.5 * value**2:.2f}]")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    ax.scatter(x[:, 0], x[:, 1], s=1, c="0.7", label="data (all c)")
    for value, d in draws.items():
        ax.scatter(d[:400, 0], d[:400, 1], s=3, alpha=0.6, label=f"sample(n, c={value:+.1f})")
    ax.legend(markerscale=4, fontsize=8)
    ax.set_title(f"conditional MAF: held-out NLL {ours:.3f} (true {truth:.3f})")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=80, bbox_inches="tight")
    print(f"wrote {args.out}")
    return ours - truth


if __name__ == "__main__":
    main()
