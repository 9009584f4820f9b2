"""Tier-2 layers: they own variables, add losses, and expose their math as methods."""

from kerasprob.layers.kl import KLDivergenceLayer
from kerasprob.layers.mlp import MLP
from kerasprob.layers.priors import MixtureNormalPrior, NormalPrior, Prior
from kerasprob.layers.reparameterization import GaussianReparameterization, GumbelSoftmax

__all__ = [
    "MLP",
    "GaussianReparameterization",
    "GumbelSoftmax",
    "KLDivergenceLayer",
    "MixtureNormalPrior",
    "NormalPrior",
    "Prior",
]
