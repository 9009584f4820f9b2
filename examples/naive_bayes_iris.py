"""The TFP course's naive Bayes on iris, and its shared-scale binary model (= logistic
regression), with ``zoo.GaussianNaiveBayes`` and ``zoo.GenerativeLogisticRegression``.

As in the course (seed 001): sepal length and width, an 80/20 split, a Categorical prior and
class-conditional diagonal Gaussians by maximum likelihood; then setosa against the rest with
one standard deviation per feature shared by the two classes, learned by 500 full-batch
Adam steps at 0.01 from 1, whose posterior is ``sigmoid(w^T x + w0)`` with w, w0 in closed
form. The course's split is unseeded (``train_test_split(..., test_size=0.2)``); here it is
scikit-learn's permutation for ``--split-seed`` (default 4, the first seed giving the
course's 0.80), and the accuracy over 50 seeded splits is printed beside it. Prints the
course's figures beside ours and writes the class-conditional contours, the decision regions,
the binary model's scales and its linear boundary to ``--out`` (a PNG).

    python examples/naive_bayes_iris.py [--fast] [--out runs/naive_bayes_iris.png]
"""

import argparse
import os

import numpy as np
import tensorflow as tf
import tf_keras

import zoo
from zoo.datasets import IRIS_CLASSES, load_iris

COURSE = {"accuracy": 0.80, "binary_scales": (0.5590086, 0.34253535),
          "binary_means": ((4.9692307, 3.3820512), (6.2172837, 2.8814814))}


def iris_split(random_state, test_size=30):
    """scikit-learn's ``train_test_split(x, y, test_size=0.2, random_state=s)`` on sepal
    length and width: ``RandomState(s).permutation``, test first."""
    x, y = load_iris()
    x = x[:, :2].astype(np.float64)
    perm = np.random.RandomState(random_state).permutation(len(x))
    test, train = perm[:test_size], perm[test_size:]
    return x[train], x[test], y[train], y[test]


class Trace(tf_keras.callbacks.Callback):
    """The loss and the scales after every training step (the course's two plots)."""

    def __init__(self):
        super().__init__()
        self.loss, self.scales = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.loss.append(float(logs["loss"]))
        self.scales.append(self.model.scale)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/naive_bayes_iris.png")
    parser.add_argument("--split-seed", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--fast", action="store_true", help="50 Adam steps, 5 splits",
                        default=os.environ.get("KERASPROB_FAST") == "1")
    args = parser.parse_args(argv)
    epochs = 50 if args.fast else args.epochs
    x_train, x_test, y_train, y_test = iris_split(args.split_seed)

    # ---------------------------------------------------------------- naive Bayes
    nb = zoo.GaussianNaiveBayes(input_shape=2, num_classes=3, var_smoothing=0.0)
    nb.fit(x_train, y_train, verbose=0)
    accuracy = nb.score(x_test, y_test)
    accuracies = []
    for seed in range(5 if args.fast else 50):
        xs, xt, ys, yt = iris_split(seed)
        accuracies.append(zoo.GaussianNaiveBayes(input_shape=2, num_classes=3).fit(
            xs, ys, verbose=0).model.score(xt, yt))
    print(f"naive Bayes test accuracy: ours {accuracy:.4f} (split seed {args.split_seed}), "
          f"course {COURSE['accuracy']:.4f} (an unseeded split); over "
          f"{len(accuracies)} seeded splits {np.mean(accuracies):.3f} +- "
          f"{np.std(accuracies):.3f}")
    print("class prior:", np.round(nb.prior.probs_parameter().numpy(), 4))

    # ---------------------------------------------------- shared-scale binary model
    y_binary = (y_train != 0).astype(np.int64)  # setosa (0) against the rest (1)
    glr = zoo.GenerativeLogisticRegression(input_shape=2, learning_rate=0.01)
    trace = Trace()
    glr.fit(tf.data.Dataset.from_tensors((x_train, y_binary)).repeat(epochs), verbose=0,
            callbacks=[trace])
    w, w0 = glr.logistic_regression_params()
    print(f"binary model after {epochs} Adam steps: scales {np.round(glr.scale, 4)} "
          f"(closed-form pooled MLE {np.round(glr.pooled_scale(), 4)}; course, on its "
          f"split: {COURSE['binary_scales']})")
    print(f"class means {np.round(glr.class_conditionals.mean().numpy(), 4).tolist()} "
          f"(course: {COURSE['binary_means']})")
    print(f"p(y = rest | x) = sigmoid(w.x + w0): w = {np.round(w, 3)}, w0 = {w0:.3f}; "
          f"binary test accuracy {np.mean(glr.predict(x_test) == (y_test != 0)):.3f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lo, hi = x_train.min(0) - 0.3, x_train.max(0) + 0.3
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.stack([g0.ravel(), g1.ravel()], -1)
    colours = ["tab:blue", "tab:orange", "tab:green"]
    fig, axes = plt.subplots(1, 4, figsize=(22, 5))
    density = np.exp(nb.class_conditionals.log_prob(grid[:, None, :]).numpy())  # [G, 3]
    for k in range(3):
        axes[0].contour(g0, g1, density[:, k].reshape(g0.shape), colors=colours[k], alpha=0.5)
    regions = nb.predict(grid).reshape(g0.shape)
    axes[1].contourf(g0, g1, regions, levels=[-0.5, 0.5, 1.5, 2.5], colors=colours, alpha=0.2)
    for ax in axes[:2]:
        for k in range(3):
            ax.scatter(*x_train[y_train == k].T, c=colours[k], s=12, label=IRIS_CLASSES[k])
        ax.set(xlabel="sepal length (cm)", ylabel="sepal width (cm)")
    axes[0].set_title("class-conditional densities")
    axes[0].legend()
    axes[1].set_title(f"decision regions (test accuracy {accuracy:.2f}; course 0.80)")
    scales = np.array(trace.scales)
    axes[2].plot(scales[:, 0], label="sepal length scale")
    axes[2].plot(scales[:, 1], label="sepal width scale")
    axes[2].axhline(glr.pooled_scale()[0], ls=":", c="k")
    axes[2].axhline(glr.pooled_scale()[1], ls=":", c="k", label="closed-form pooled MLE")
    axes[2].set(xlabel="Adam step (full batch)", ylabel="standard deviation",
                title=f"shared scales; final NLL {trace.loss[-1]:.3f} nats/example")
    axes[2].legend()
    p_rest = glr.predict_proba(grid)[:, 1].reshape(g0.shape)
    axes[3].contourf(g0, g1, p_rest, levels=20, cmap="RdBu_r", alpha=0.6)
    axes[3].contour(g0, g1, p_rest, levels=[0.5], colors="k")
    axes[3].scatter(*x_train[y_binary == 0].T, c="tab:blue", s=12, label="setosa")
    axes[3].scatter(*x_train[y_binary == 1].T, c="tab:red", s=12, label="rest")
    axes[3].set(xlabel="sepal length (cm)", title="p(rest | x): a linear boundary")
    axes[3].legend()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=90, bbox_inches="tight")
    print(f"wrote {args.out}")
    return {"accuracy": accuracy, "scales": glr.scale, "pooled": glr.pooled_scale()}


if __name__ == "__main__":
    main()
