"""Every built-in zoo model: importing this module registers them (``zoo>Name``), so that
``tf_keras.models.load_model`` reads their files. ``zoo.load``, ``zoo.get``, ``zoo.list``
and any model attribute of ``zoo`` import it; ``import zoo`` alone does not, so that
``python -m zoo --help`` answers without TensorFlow.
"""

import kerasprob  # noqa: F401 - registers kerasprob layers for loading
from zoo.base import ZooModel
from zoo.classifiers import (
    GaussianNaiveBayes,
    GenerativeLogisticRegression,
    PolyaGammaLogisticRegression,
)
from zoo.density_ratio import DensityRatioEstimator, ImplicitGenerator
from zoo.flows import IAF, MAF, NeuralSplineFlow, RealNVP
from zoo.gp import SGPR, DeepGP, SVGPClassifier, SVGPRegressor
from zoo.vae import VAE, ConditionalVAE

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
]
