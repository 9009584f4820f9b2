"""What ``fit`` and ``evaluate`` report (metrics as JSON) and the plots ``fit`` draws."""

import inspect
import os

import numpy as np


def evaluate_model(model, kind, x, second, seed=0):
    """Keras' ``evaluate`` metrics plus, where the model has them, deterministic ones:
    ``mean_log_prob`` (``log_prob``), ``mean_log_likelihood`` (``log_likelihood``, k=100,
    seeded), ``accuracy`` (``predict_proba``), ``rmse`` (regression ``predict``),
    ``kl_divergence`` (a two-sample model's ``kl_divergence(x_p)``)."""
    metrics = {}
    values = model.evaluate(x, second, verbose=0, return_dict=True)
    metrics.update({k: float(v) for k, v in values.items()})
    if hasattr(model, "log_prob") and kind == "unsupervised":
        metrics["mean_log_prob"] = float(np.mean(np.asarray(model.log_prob(x))))
    if hasattr(model, "log_likelihood") and kind in ("unsupervised", "conditional"):
        args = (x,) if kind == "unsupervised" else (x, second)
        metrics["mean_log_likelihood"] = float(np.mean(model.log_likelihood(
            *args, num_samples=100, seed=seed)))
    if kind == "supervised" and hasattr(model, "predict_proba"):
        probabilities = np.asarray(model.predict_proba(x))
        if probabilities.ndim == 1:
            probabilities = np.stack([1 - probabilities, probabilities], -1)
        metrics["accuracy"] = float(np.mean(np.argmax(probabilities, -1) == np.ravel(second)))
    elif kind == "two_sample" and hasattr(model, "kl_divergence"):
        metrics["kl_divergence"] = float(model.kl_divergence(x))  # KL[p || q], from x ~ p
    elif kind == "supervised":
        mean, _ = _regression(model, x)
        if mean is not None and np.size(mean) == np.size(second):
            metrics["rmse"] = float(np.sqrt(np.mean((np.ravel(mean) - np.ravel(second)) ** 2)))
    return metrics


def _regression(model, x):
    output = model.predict(x, verbose=0) if "verbose" in inspect.signature(
        model.predict).parameters or _takes_kwargs(model.predict) else model.predict(x)
    if isinstance(output, (tuple, list)) and len(output) == 2:
        return np.asarray(output[0]), np.asarray(output[1])
    return np.asarray(output), None


def _takes_kwargs(function):
    return any(p.kind == p.VAR_KEYWORD for p in inspect.signature(function).parameters.values())


# -------------------------------------------------------------------------------- plots
def draw_plots(model, kind, history, x, second, labels, directory, seed=0):
    """The figures ``model.plots`` asks for that suit the data; returns the files written."""
    from zoo import plots as P

    names = [name for name in getattr(model, "plots", ("history",)) if name in P.PLOTS]
    P.require_matplotlib()
    written = []
    x_show = x[:500]
    for name in names:
        path = os.path.join(directory, f"{name}.png")
        if name == "history" and history:
            written.append(P.plot_history(history, path))
        elif name == "samples" and hasattr(model, "sample"):
            if kind == "conditional":
                draws = model.sample(len(x_show), np.asarray(second[:500]), seed=seed)
            elif kind == "unsupervised":
                draws = model.sample(len(x_show), seed=seed)
            else:
                continue
            written.append(P.plot_samples(x_show, np.asarray(draws), path))
        elif name == "density" and x.ndim == 2 and x.shape[1] == 2 and hasattr(model, "log_prob"):
            low, high = np.quantile(x, 0.005, 0), np.quantile(x, 0.995, 0)
            pad = 0.15 * (high - low)
            gx = np.linspace(low[0] - pad[0], high[0] + pad[0], 80, dtype=np.float32)
            gy = np.linspace(low[1] - pad[1], high[1] + pad[1], 80, dtype=np.float32)
            grid = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
            log_p = np.asarray(model.log_prob(grid)).reshape(len(gy), len(gx))
            written.append(P.plot_density(gx, gy, log_p, x_show, path))
        elif name == "reconstructions" and hasattr(model, "reconstruct") and x.ndim >= 3:
            recon = (model.reconstruct(x[:10]) if kind == "unsupervised"
                     else model.reconstruct(x[:10], np.asarray(second[:10])))
            written.append(P.plot_reconstructions(x[:10], np.asarray(recon), path))
        elif name == "latent" and hasattr(model, "encode") and kind == "unsupervised":
            z = np.asarray(model.encode(x_show).mean())
            written.append(P.plot_latent(z, None if labels is None else labels[:500], path))
        elif name == "confusion" and kind == "supervised" and hasattr(model, "predict_proba"):
            probabilities = np.asarray(model.predict_proba(x))
            if probabilities.ndim == 1:
                probabilities = np.stack([1 - probabilities, probabilities], -1)
            written.append(P.plot_confusion(second, np.argmax(probabilities, -1), path))
        elif name == "predictions" and kind == "supervised":
            mean, variance = _regression(model, x_show)
            written.append(P.plot_predictions(second[:500], mean, variance, path))
        elif name == "log_ratio" and kind == "two_sample" and hasattr(model, "log_ratio"):
            written.append(P.plot_log_ratio(np.asarray(model.log_ratio(x_show)),
                                            np.asarray(model.log_ratio(second[:500])), path))
    return written
