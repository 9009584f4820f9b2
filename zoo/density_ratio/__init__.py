"""Density ratios and divergences from samples (``zoo.DensityRatioEstimator``), and a sampler
fitted to data by adversarial KL minimization (``zoo.ImplicitGenerator``)."""

from zoo.density_ratio.estimator import DensityRatioEstimator
from zoo.density_ratio.implicit_generator import ImplicitGenerator

__all__ = ["DensityRatioEstimator", "ImplicitGenerator"]
