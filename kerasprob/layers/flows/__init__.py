"""Normalizing flows as Keras layers: bijector layers and the ``Flow`` distribution layer.

Bijector layers own their networks and weights, map tensors in both
directions with their log-determinants, and expose a ``tfb.Bijector``
(``layer.bijector(context)``). :class:`Flow` stacks them on a standard
normal base into a distribution with ``log_prob`` and ``sample``, optionally
conditioned on a context that every conditioner network receives.

Families (one module each): coupling (RealNVP affine, spline), autoregressive
(MADE, MAF, IAF, affine or spline), linear (permutations, LU, Householder),
normalization (actnorm, batch norm), elementwise (shift, scale, tanh,
sinh-arcsinh); the spline and affine transformers' math lives in
:mod:`kerasprob.math.spline`.
"""

from kerasprob.layers.flows.autoregressive import (
    MADE,
    InverseAutoregressive,
    MaskedAutoregressive,
    made_masks,
)
from kerasprob.layers.flows.base import BijectorLayer, LayerBijector  # noqa: F401
from kerasprob.layers.flows.coupling import AffineCoupling, Coupling, SplineCoupling, coupling_mask
from kerasprob.layers.flows.elementwise import Scale, Shift, SinhArcsinh, Tanh
from kerasprob.layers.flows.flow import (  # noqa: F401
    Flow,
    FlowDistribution,
    standard_normal_log_prob,
)
from kerasprob.layers.flows.linear import Householder, LULinear, Permute
from kerasprob.layers.flows.normalization import ActNorm, BatchNormBijector, Standardization
from kerasprob.layers.flows.stack import permuted_stack

# The spline and affine transformers are tier-1 math (kerasprob.math.spline); these names
# stay importable from here (``flows.spline`` is that module).
from kerasprob.math import spline  # noqa: F401
from kerasprob.math.spline import rational_quadratic_spline, spline_params_size, transform

# FlowDistribution (a tfd.Distribution) and LayerBijector (a tfb.Bijector) are public
# attributes but not layers, so they stay out of __all__ (the layer contract test walks it).

__all__ = [
    "MADE",
    "ActNorm",
    "AffineCoupling",
    "BatchNormBijector",
    "BijectorLayer",
    "Coupling",
    "Flow",
    "Householder",
    "InverseAutoregressive",
    "LULinear",
    "MaskedAutoregressive",
    "Permute",
    "Scale",
    "Shift",
    "SinhArcsinh",
    "SplineCoupling",
    "Standardization",
    "Tanh",
    "coupling_mask",
    "made_masks",
    "permuted_stack",
    "rational_quadratic_spline",
    "spline_params_size",
    "standard_normal_log_prob",
    "transform",
]
