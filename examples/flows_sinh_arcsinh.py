"""Sinh-arcsinh flows: learn skewness and tail weight of skewed, heavy-tailed data.

Data: ``x = loc + scale * sinh((arcsinh(z) + skewness) * tailweight)``, ``z ~ N(0, 1)``, per
feature (TFP's ``SinhArcsinh`` transform, two features with different shapes). The flow is
``Flow([Shift(), Scale(), SinhArcsinh()])`` (data side first), which contains the truth, so
maximum likelihood should recover the four parameters of each feature and the held-out NLL
of the true density. Prints both; writes histograms with the fitted densities to ``--out``
(default ``runs/flows_sinh_arcsinh.png``).

    python examples/flows_sinh_arcsinh.py
"""

import argparse
import os

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.layers.flows import Flow, Scale, Shift, SinhArcsinh
from kerasprob.losses import NegativeLogLikelihood

TRUE = {"loc": [1.0, -2.0], "scale": [0.5, 2.0], "skewness": [1.0, -0.5],
        "tailweight": [0.7, 1.4]}


def true_flow():
    return Flow([Shift(TRUE["loc"]), Scale(TRUE["scale"]),
                 SinhArcsinh(TRUE["skewness"], TRUE["tailweight"])], event_dim=2)


FAST = os.environ.get("KERASPROB_FAST") == "1"  # examples/README.md: the fast mode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/flows_sinh_arcsinh.png")
    parser.add_argument("--epochs", type=int, default=1 if FAST else 60)
    args = parser.parse_args(argv)
    tf_keras.utils.set_random_seed(0)
    truth = true_flow()
    x = np.asarray(truth.sample(6000, seed=1))
    x_test = np.asarray(truth.sample(4000, seed=2))

    inputs = tf_keras.Input((2,))
    flow = Flow([Shift(), Scale(), SinhArcsinh()])
    model = tf_keras.Model(inputs, flow(inputs))
    model.compile(tf_keras.optimizers.Adam(2e-2), loss=NegativeLogLikelihood())
    model.fit(x, x, epochs=args.epochs, batch_size=500, verbose=0)

    shift, scale, sas = flow.bijector_layers
    fitted = {"loc": shift.b.numpy(), "scale": np.exp(scale.log_scale.numpy()),
              "skewness": sas.skew.numpy(), "tailweight": np.exp(sas.log_tailweight.numpy())}
    for key, value in fitted.items():
        print(f"{key:10s} true {TRUE[key]}  fitted {[round(float(v), 2) for v in value]}")
    ours = float(-np.mean(flow.log_prob(x_test)))
    exact = float(-np.mean(truth.log_prob(x_test)))
    print(f"held-out NLL: fitted {ours:.4f}, true density {exact:.4f} (diff {ours - exact:+.4f})")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, ax in enumerate(axes):
        lo, hi = np.quantile(x_test[:, i], [0.005, 0.995])
        grid = np.linspace(lo, hi, 400)
        points = np.zeros((400, 2), np.float32)
        points[:, i] = grid
        points[:, 1 - i] = np.median(x_test[:, 1 - i])
        # Independent features: the marginal is the joint over the other feature's density.
        other = np.exp(flow.log_prob(points) - flow.log_prob(points[:1]))
        marginal = np.exp(flow.log_prob(points[:1]))[0] * other
        norm = np.trapezoid(marginal, grid)
        ax.hist(x_test[:, i], bins=120, range=(lo, hi), density=True, alpha=0.4)
        ax.plot(grid, marginal / norm, "C3")
        ax.set_title(f"feature {i}: skewness {TRUE['skewness'][i]}, "
                     f"tailweight {TRUE['tailweight'][i]}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=80, bbox_inches="tight")
    print(f"wrote {args.out}")
    return ours - exact


if __name__ == "__main__":
    tf.get_logger().setLevel("ERROR")
    main()
