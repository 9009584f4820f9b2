"""kerasprob: probabilistic deep learning layers for tf-keras.

Tier 1 (math on tensors): :mod:`kerasprob.divergences`, :mod:`kerasprob.losses`.
Tier 2 (layers): :mod:`kerasprob.distributions`, :mod:`kerasprob.layers`.
Recipes built from them live in the ``zoo`` package.
"""

from kerasprob import (
    callbacks,
    distributions,
    divergences,
    layers,
    losses,
    optimizers,
    precision,
    validation,
)

__version__ = "0.1.0"

__all__ = ["callbacks", "distributions", "divergences", "layers", "losses", "optimizers",
           "precision", "validation"]
