"""Tier 1: functions on tensors and TFP distribution subclasses; no Keras layers.

Every module here imports only TensorFlow, TFP, numpy and other ``kerasprob.math``
modules (and :mod:`kerasprob.validation` for argument checks), never a layer or a model.
"""

from kerasprob.math import bounds, distributions, divergences, naive_bayes, polya_gamma, random

__all__ = ["bounds", "distributions", "divergences", "naive_bayes", "polya_gamma", "random"]
