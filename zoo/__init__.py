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

#: Attributes imported on first use, and the module each comes from.
_LAZY = {name: "zoo.models" for name in (
    "IAF", "MAF", "SGPR", "VAE", "ConditionalVAE", "DeepGP", "DensityRatioEstimator",
    "GaussianNaiveBayes", "GenerativeLogisticRegression", "ImplicitGenerator",
    "NeuralSplineFlow", "PolyaGammaLogisticRegression", "RealNVP", "SVGPClassifier",
    "SVGPRegressor", "ZooModel",
)}

list = list_models


def __getattr__(name):
    if name == "datasets":
        return importlib.import_module("zoo.datasets")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY, "datasets"])


__all__ = [  # the models are lazy attributes (__getattr__)
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
