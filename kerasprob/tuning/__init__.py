"""keras-tuner bridge: search spaces as data, hypermodels, and tuners for tf-keras models."""

from kerasprob.tuning.hypermodel import ModelHyperModel
from kerasprob.tuning.space import Choice, Float, Int, Units
from kerasprob.tuning.tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch

__all__ = [
    "BayesianOptimization",
    "Choice",
    "Float",
    "GridSearch",
    "Hyperband",
    "Int",
    "ModelHyperModel",
    "RandomSearch",
    "Units",
]
