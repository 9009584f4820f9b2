"""Sparse Gaussian process models, one per module: ``SGPR`` (collapsed bound, closed-form
q(u)), ``SVGPRegressor`` and ``SVGPClassifier`` (minibatched ELBO), ``DeepGP`` (doubly
stochastic variational inference). All compute in float64 by default."""

from zoo.gp._base import GaussianProcessModel
from zoo.gp.classifier import SVGPClassifier
from zoo.gp.deep_gp import DeepGP
from zoo.gp.sgpr import SGPR
from zoo.gp.svgp import SVGPRegressor

__all__ = ["SGPR", "DeepGP", "GaussianProcessModel", "SVGPClassifier", "SVGPRegressor"]
