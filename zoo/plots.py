"""PNG figures for the command line (``python -m zoo fit``): arrays in, a file out.

Every function takes NumPy arrays (never a model), draws one figure with matplotlib's
``Agg`` backend and writes it to ``path``. matplotlib is imported when a figure is drawn,
not when this module is imported; it ships with the ``[examples]`` and ``[test]`` extras
(``pip install "kerasprob[examples]"``), and :func:`require_matplotlib` says so when it is
missing.

``PLOTS`` names the figures a zoo model can ask for in its ``plots`` class attribute:

>>> sorted(PLOTS)  # doctest: +NORMALIZE_WHITESPACE
['confusion', 'density', 'history', 'latent', 'log_ratio', 'predictions',
 'reconstructions', 'samples']
"""

import numpy as np

PLOTS = {
    "history": "loss (and every logged metric) per epoch, training and validation",
    "samples": "model samples beside data: a scatter for 2-D data, an image grid for images",
    "density": "log p(x) contours over the data's range with the data on top (2-D data only)",
    "reconstructions": "data above its reconstructions (image data)",
    "latent": "the 2-D latent means of the data, coloured by label when there is one",
    "confusion": "the confusion matrix of the predicted classes",
    "predictions": "predicted mean (and 2 standard deviations) against the true target",
    "log_ratio": "histograms of the estimated log ratio log p(x)/q(x) on the p and q samples",
}


def require_matplotlib():
    """Import matplotlib with the ``Agg`` backend, or raise ``ImportError`` saying how to get it."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(
            "the plots need matplotlib, which is not installed: pip install matplotlib "
            "(or pip install 'kerasprob[examples]'); or pass --no-plots"
        ) from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    require_matplotlib().close(fig)
    return path


def plot_history(history, path):
    """Curves of ``history`` (``{metric: [value per epoch]}``); ``val_<m>`` beside ``<m>``."""
    plt = require_matplotlib()
    names = [k for k in history if not k.startswith("val_")] or list(history)
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = np.arange(1, len(history[name]) + 1)
        ax.plot(epochs, history[name], label="train")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.legend()
    return _save(fig, path)


def _image(x):
    """One example as something ``imshow`` draws: ``[h, w]`` grey or ``[h, w, 3]`` colour."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        side = int(round(np.sqrt(x.size)))
        x = x.reshape(side, side) if side * side == x.size else x[None]
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    return np.clip(x, 0.0, 1.0) if x.ndim == 3 else x


def _image_rows(rows, titles, path, cols=10):
    plt = require_matplotlib()
    fig, axes = plt.subplots(len(rows), cols, figsize=(cols, 1.1 * len(rows)), squeeze=False)
    for r, (images, title) in enumerate(zip(rows, titles)):
        for c in range(cols):
            ax = axes[r][c]
            ax.axis("off")
            if c < len(images):
                ax.imshow(_image(images[c]), cmap="gray_r" if np.ndim(images[c]) < 3 else None)
        axes[r][0].set_title(title, fontsize=8, loc="left")
    return _save(fig, path)


def plot_samples(x, samples, path):
    """Samples beside data: scatter of the first two features, or image rows for images.

    Args:
      x: data ``[n, *event]``; samples: model draws ``[m, *event]``.
    """
    x, samples = np.asarray(x), np.asarray(samples)
    if x.ndim == 2:  # [n, d] vectors: the first two features
        plt = require_matplotlib()
        fig, axes = plt.subplots(1, 2, figsize=(8, 4), sharex=True, sharey=True)
        second = 1 if x.shape[1] > 1 else 0
        for ax, values, title in ((axes[0], x, "data"), (axes[1], samples, "samples")):
            ax.scatter(values[:, 0], values[:, second], s=3, alpha=0.5)
            ax.set_title(title)
        return _save(fig, path)
    return _image_rows([x[:10], samples[:10]], ["data", "samples"], path)


def plot_density(grid_x, grid_y, log_prob, x, path):
    """Filled contours of ``log_prob`` ``[len(grid_y), len(grid_x)]`` with the data ``[n, 2]``."""
    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(5, 4))
    levels = np.linspace(max(np.min(log_prob), np.max(log_prob) - 12.0), np.max(log_prob), 13)
    mesh = ax.contourf(grid_x, grid_y, np.maximum(log_prob, levels[0]), levels=levels)
    fig.colorbar(mesh, ax=ax, label="log p(x)")
    ax.scatter(x[:, 0], x[:, 1], s=2, c="white", alpha=0.4)
    ax.set_title("model log-density and data")
    return _save(fig, path)


def plot_reconstructions(x, reconstructions, path):
    """Ten examples ``[n, *image]`` above their reconstructions."""
    return _image_rows([x[:10], reconstructions[:10]], ["data", "reconstruction"], path)


def plot_latent(z, labels, path):
    """Latent means ``[n, >=2]`` (first two dimensions), coloured by ``labels`` ``[n]`` if any."""
    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(5, 4))
    points = ax.scatter(z[:, 0], z[:, 1 if z.shape[1] > 1 else 0], s=4,
                        c=labels if labels is not None else None, cmap="tab10")
    if labels is not None:
        fig.colorbar(points, ax=ax, label="label")
    ax.set_title("latent means E[z | x]")
    return _save(fig, path)


def confusion_matrix(y, y_pred, num_classes=None):
    """Counts ``[true class, predicted class]`` of two int arrays ``[n]``.

    >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1])).tolist()
    [[1, 0], [1, 1]]
    """
    y, y_pred = np.asarray(y, int), np.asarray(y_pred, int)
    k = num_classes or int(max(y.max(), y_pred.max())) + 1
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (y, y_pred), 1)
    return counts


def plot_confusion(y, y_pred, path):
    """The confusion matrix of int labels ``y`` ``[n]`` and predictions ``y_pred`` ``[n]``."""
    plt = require_matplotlib()
    counts = confusion_matrix(y, y_pred)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(counts, cmap="Blues")
    for (i, j), value in np.ndenumerate(counts):
        ax.text(j, i, str(value), ha="center", va="center")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"accuracy {np.trace(counts) / counts.sum():.3f}")
    return _save(fig, path)


def plot_predictions(y, mean, variance, path):
    """Predicted ``mean`` ``[n]`` (bars: 2 standard deviations if ``variance``) against ``y``."""
    plt = require_matplotlib()
    y, mean = np.ravel(y), np.ravel(mean)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    errors = None if variance is None else 2.0 * np.sqrt(np.maximum(np.ravel(variance), 0.0))
    ax.errorbar(y, mean, yerr=errors, fmt=".", alpha=0.6)
    low, high = min(y.min(), mean.min()), max(y.max(), mean.max())
    ax.plot([low, high], [low, high], "k--", lw=1)
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    return _save(fig, path)


def plot_log_ratio(log_ratio_p, log_ratio_q, path):
    """Histograms of log-ratio estimates on samples of p ``[n]`` and of q ``[m]``."""
    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(np.ravel(log_ratio_p), bins=40, alpha=0.6, label="x ~ p")
    ax.hist(np.ravel(log_ratio_q), bins=40, alpha=0.6, label="x ~ q")
    ax.set_xlabel("log p(x) / q(x)")
    ax.legend()
    return _save(fig, path)
