"""zoo: ready probabilistic models built from kerasprob layers.

The models, ``ZooModel``, ``datasets`` and the registry functions are imported on first
use (``zoo.VAE``, ``zoo.list()``, ``zoo.load(...)``): ``import zoo`` itself is light, so the
command line (``python -m zoo --help``) starts without TensorFlow.

>>> import zoo
>>> "VAE" in zoo.list()
True
"""

import importlib

from zoo.registry import get, list_models, load, register

list = list_models


def __getattr__(name):
    """The lazy attributes: ``datasets``, and the names of ``__all__`` that ``zoo.models``
    holds (imported on first use)."""
    if name == "datasets":
        return importlib.import_module("zoo.datasets")
    if name in __all__ and name not in globals():
        value = getattr(importlib.import_module("zoo.models"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})


__all__ = [  # the models (and datasets) are lazy attributes: __getattr__
    "IAF",
    "MAF",
    "SGPR",
    "VAE",
    "ConditionalVAE",
    "DeepGP",
    "DensityRatioEstimator",
    "GaussianNaiveBayes",
    "GenerativeLogisticRegression",
    "ImplicitGenerator",
    "NeuralSplineFlow",
    "PolyaGammaLogisticRegression",
    "RealNVP",
    "SVGPClassifier",
    "SVGPRegressor",
    "ZooModel",
    "datasets",
    "get",
    "list",
    "list_models",
    "load",
    "register",
]
