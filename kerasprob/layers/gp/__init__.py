"""Gaussian-process layers: kernels, likelihoods, the SVGP layer and the likelihood layer.

Their math is tier 1: :mod:`kerasprob.math.kernels`, :mod:`kerasprob.math.gp`,
:mod:`kerasprob.math.quadrature`, :mod:`kerasprob.math.linalg`.
"""

from kerasprob.layers.gp.head import LikelihoodLayer, VariationalPredictive
from kerasprob.layers.gp.kernels import (
    Kernel,
    Linear,
    Matern12,
    Matern32,
    Matern52,
    Periodic,
    Product,
    RationalQuadratic,
    SquaredExponential,
    Stationary,
    Sum,
)
from kerasprob.layers.gp.likelihoods import (
    Bernoulli,
    Gaussian,
    Likelihood,
    Poisson,
    Softmax,
    StudentT,
)
from kerasprob.layers.gp.svgp import SVGP

__all__ = [
    "SVGP",
    "Bernoulli",
    "Gaussian",
    "Kernel",
    "Likelihood",
    "LikelihoodLayer",
    "Linear",
    "Matern12",
    "Matern32",
    "Matern52",
    "Periodic",
    "Poisson",
    "Product",
    "RationalQuadratic",
    "Softmax",
    "SquaredExponential",
    "Stationary",
    "StudentT",
    "Sum",
    "VariationalPredictive",
]
