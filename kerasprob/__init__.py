"""kerasprob: probabilistic deep learning layers for tf-keras.

Tier 1 (math on tensors, no layers): :mod:`kerasprob.math`.
Tier 2 (layers and Keras pieces): :mod:`kerasprob.layers` (the distribution-output layers in
:mod:`kerasprob.layers.distributions`, also importable as ``kerasprob.distributions``),
:mod:`kerasprob.losses`, :mod:`kerasprob.callbacks`, :mod:`kerasprob.optimizers`.
Recipes built from them live in the ``zoo`` package.
"""

import sys

from kerasprob import (
    callbacks,
    dtypes,
    layers,
    losses,
    math,
    optimizers,
    validation,
)
from kerasprob.layers import distributions

# One module under both names: ``from kerasprob.distributions import IndependentNormal`` (the
# public path since 0.1) and ``kerasprob.layers.distributions`` (where every layer lives).
sys.modules[f"{__name__}.distributions"] = distributions

__version__ = "0.1.0"

#: Subpackages imported on first use (``kerasprob.tuning`` brings keras-tuner).
_LAZY = ("testing", "tuning")


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"kerasprob.{name}")
    raise AttributeError(f"module 'kerasprob' has no attribute {name!r}")

__all__ = ["callbacks", "distributions", "dtypes", "layers", "losses", "math", "optimizers",
           "validation"]
