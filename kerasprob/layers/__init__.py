"""Tier-2 layers: they own variables, add losses, and expose their math as methods."""

from kerasprob.layers import distributions, flows, gp
from kerasprob.layers.cross_fitting import CrossFittedLogRatio
from kerasprob.layers.density_ratio import (
    AdversarialKLDivergenceLayer,
    DensityRatioClassifier,
    QuadraticLogRatio,
)
from kerasprob.layers.gp import SVGP
from kerasprob.layers.kl import KLDivergenceLayer
from kerasprob.layers.mlp import MLP
from kerasprob.layers.networks import ConvDecoder, ConvEncoder
from kerasprob.layers.priors import MixtureNormalPrior, NormalPrior, Prior
from kerasprob.layers.reparameterization import GaussianReparameterization, GumbelSoftmax
from kerasprob.layers.stacked import StackedMLP, StackedQuadratic
from kerasprob.layers.variational import EvidenceBound, GaussianPosterior

__all__ = [
    "MLP",
    "SVGP",
    "AdversarialKLDivergenceLayer",
    "ConvDecoder",
    "ConvEncoder",
    "CrossFittedLogRatio",
    "DensityRatioClassifier",
    "EvidenceBound",
    "GaussianPosterior",
    "GaussianReparameterization",
    "GumbelSoftmax",
    "KLDivergenceLayer",
    "MixtureNormalPrior",
    "NormalPrior",
    "Prior",
    "QuadraticLogRatio",
    "StackedMLP",
    "StackedQuadratic",
    "distributions",
    "flows",
    "gp",
]
