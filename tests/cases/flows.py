"""Cases for the flow contract tests: every bijector layer (plain and conditional) and zoo flow.

``LAYER_CASES`` maps an id to ``(factory, context_dim)``; the factory makes a
fresh layer. Layers with networks appear twice, once with a context.
"""

from kerasprob.layers import flows as F

LAYER_CASES = {
    "Shift": (lambda: F.Shift(0.5), 0),
    "Scale": (lambda: F.Scale(1.5), 0),
    "Tanh": (lambda: F.Tanh(), 0),
    "SinhArcsinh": (lambda: F.SinhArcsinh(skewness=0.3, tailweight=0.8), 0),
    "Permute-reverse": (lambda: F.Permute("reverse"), 0),
    "Permute-random": (lambda: F.Permute("random", seed=3), 0),
    "LULinear": (lambda: F.LULinear(), 0),
    "Householder": (lambda: F.Householder(num_reflections=3), 0),
    "ActNorm": (lambda: F.ActNorm(), 0),
    "ActNorm shrink-only": (lambda: F.ActNorm(shrink_only=True), 0),
    "ActNorm bound": (lambda: F.ActNorm(shrink_only=True, bound=3.0), 0),
    "Standardization": (lambda: F.Standardization(), 0),
    "BatchNormBijector": (lambda: F.BatchNormBijector(), 0),
    "AffineCoupling": (lambda: F.AffineCoupling([8]), 0),
    "AffineCoupling-context": (lambda: F.AffineCoupling([8], mask="alternating", flip=True), 2),
    "SplineCoupling": (lambda: F.SplineCoupling([8], bins=4, bound=3.0), 0),
    "SplineCoupling-context": (lambda: F.SplineCoupling([8], bins=4, bound=3.0), 2),
    "MaskedAutoregressive": (lambda: F.MaskedAutoregressive([8, 8]), 0),
    "MaskedAutoregressive-context": (lambda: F.MaskedAutoregressive([8]), 2),
    "MaskedAutoregressive-spline": (
        lambda: F.MaskedAutoregressive([8], transformer="spline", bins=4, bound=3.0), 0
    ),
    "MaskedAutoregressive-spline-context": (
        lambda: F.MaskedAutoregressive([8], transformer="spline", bins=4, bound=3.0), 2
    ),
    "InverseAutoregressive": (lambda: F.InverseAutoregressive([8]), 0),
    "InverseAutoregressive-context": (lambda: F.InverseAutoregressive([8]), 2),
}

#: Every bijector layer class the package exports must appear in LAYER_CASES.
LAYER_CLASSES = (
    F.Shift, F.Scale, F.Tanh, F.SinhArcsinh, F.Permute, F.LULinear, F.Householder, F.ActNorm,
    F.Standardization, F.BatchNormBijector, F.AffineCoupling, F.SplineCoupling,
    F.MaskedAutoregressive,
    F.InverseAutoregressive,
)

ZOO_FLOWS = ("RealNVP", "MAF", "IAF", "NeuralSplineFlow")


# --- cases for tests/test_contract.py: (factory, inputs, readout, expected_output_shape) -------

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

_rng = np.random.default_rng(0)
_X = (0.5 * _rng.normal(size=(6, 4))).astype("float32")
_C = _rng.normal(size=(6, 2)).astype("float32")


def _log_prob_readout(output, inputs, model):
    """A flow layer's output as a tensor: ``log p(x | c)``, ``[batch]``."""
    return tf.convert_to_tensor(output)


def _inputs(context_dim):
    return [_X, _C] if context_dim else _X


CASES = [
    (factory, np.tanh(_X) if name == "Tanh" else _inputs(context_dim), None, (6, 4))
    for name, (factory, context_dim) in LAYER_CASES.items()
] + [
    (lambda: F.Coupling([8], transformer="spline", bins=3), _X, None, (6, 4)),
    (lambda: F.MADE(3, [8], context_dim=2), np.concatenate([_X, _C], -1), None, (6, 3, 4)),
    (lambda: F.Flow([F.ActNorm(), F.AffineCoupling([8]), F.Permute(), F.SplineCoupling([8])]),
     _X, _log_prob_readout, (6,)),
    (lambda: F.Flow([F.MaskedAutoregressive([8]), F.Permute("random", seed=1),
                     F.MaskedAutoregressive([8], transformer="spline")]),
     [_X, _C], _log_prob_readout, (6,)),
]
