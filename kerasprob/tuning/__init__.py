"""keras-tuner bridge: search spaces as data, and hypermodels of zoo models."""

from kerasprob.tuning.hypermodel import ModelHyperModel
from kerasprob.tuning.space import Choice, Float, Int, Units

__all__ = ["Choice", "Float", "Int", "ModelHyperModel", "Units"]
