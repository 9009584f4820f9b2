"""Feature scaling the command line applies when asked (``--scale``): ``(x - shift) / scale``,
recorded in ``run.json``. Models take raw data; this is for data a user wants rescaled."""

import numpy as np


def fit_scaling(kind, x):
    """``{"kind", "shift", "scale"}`` so that ``(x - shift) / scale`` is the model's input."""
    if kind == "none":
        return {"kind": "none", "shift": 0.0, "scale": 1.0}
    if kind == "unit":
        low, high = float(np.min(x)), float(np.max(x))
        low = min(low, 0.0)
        return {"kind": "unit", "shift": low, "scale": (high - low) if high > low + 1e-12
                and (low < 0 or high > 1) else 1.0}
    axes = tuple(range(x.ndim - 1)) if x.ndim == 2 else 0
    mean, std = np.mean(x, axis=axes), np.std(x, axis=axes)
    std = np.where(std > 1e-12, std, 1.0)
    return {"kind": "standardize", "shift": mean.tolist(), "scale": std.tolist()}


def apply_scaling(scaling, x):
    return ((x - np.asarray(scaling["shift"], np.float32))
            / np.asarray(scaling["scale"], np.float32)).astype(np.float32)


def undo_scaling(scaling, x):
    return (np.asarray(x, np.float32) * np.asarray(scaling["scale"], np.float32)
            + np.asarray(scaling["shift"], np.float32))
