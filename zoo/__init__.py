"""zoo: ready probabilistic models built from kerasprob layers.

>>> import zoo
>>> "VAE" in zoo.list()
True
"""

import kerasprob  # noqa: F401 - registers kerasprob layers for loading
from zoo import datasets
from zoo.base import ZooModel
from zoo.classifiers import (
    GaussianNaiveBayes,
    GenerativeLogisticRegression,
    PolyaGammaLogisticRegression,
)
from zoo.density_ratio import DensityRatioEstimator, ImplicitGenerator
from zoo.flows import IAF, MAF, NeuralSplineFlow, RealNVP
from zoo.gp import SGPR, DeepGP, SVGPClassifier, SVGPRegressor
from zoo.registry import get, list_models, load, register
from zoo.vae import VAE, ConditionalVAE

list = list_models

__all__ = [
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
    "load",
    "register",
]
