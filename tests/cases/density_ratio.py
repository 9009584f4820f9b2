"""Contract cases for the density-ratio layers (see tests/test_contract.py).

Each case: ``(factory, inputs, readout_or_None, expected_output_shape_or_None)``.
"""

import numpy as np
import tensorflow as tf

import kerasprob as kp

rng = np.random.default_rng(0)
X3 = rng.normal(size=(6, 3)).astype("float32")
CONTEXT = rng.normal(size=(6, 2)).astype("float32")
LABELS = np.array([1, 0, 1, 0, 1, 0], "float32")
FOLDS = np.array([0, 0, 1, 1, 2, -1], "int32")


def added_loss(output, inputs, model):
    return tf.add_n(model.losses)


L = kp.layers

CASES = [
    (lambda: L.QuadraticLogRatio(), X3, None, (6, 1)),
    (lambda: L.DensityRatioClassifier(hidden_units=[8]), X3, None, (6,)),
    (lambda: L.DensityRatioClassifier(hidden_units=[8], standardize=True), [X3, LABELS],
     added_loss, (6,)),
    (lambda: L.DensityRatioClassifier(network="quadratic", objective="kl", log_prior_odds=0.5),
     [X3, LABELS], added_loss, (6,)),
    (lambda: L.DensityRatioClassifier(network=L.MLP([4], 1, activation="tanh"),
                                      objective="jensen_shannon"), [X3, LABELS], added_loss, None),
    (lambda: L.AdversarialKLDivergenceLayer(weight=0.5, hidden_units=[8]), X3, added_loss, None),
    (lambda: L.AdversarialKLDivergenceLayer(hidden_units=[8]), [X3, CONTEXT], added_loss, None),
    (lambda: L.AdversarialKLDivergenceLayer(reference="samples", hidden_units=[8]),
     [X3, X3 + 1.0], added_loss, None),
    (lambda: L.StackedMLP(members=3, hidden_units=[8]), X3, None, (6, 3)),
    (lambda: L.StackedMLP(members=2, hidden_units=[], zero_output=True), X3, None, (6, 2)),
    (lambda: L.StackedQuadratic(members=4), X3, None, (6, 4)),
    (lambda: L.CrossFittedLogRatio(folds=3, hidden_units=[8]), X3, None, (6,)),
    (lambda: L.CrossFittedLogRatio(folds=3, hidden_units=[8]), [X3, LABELS, FOLDS], added_loss,
     (6,)),
    (lambda: L.CrossFittedLogRatio(candidates=["quadratic+mlp"], folds=0, hidden_units=[4],
                                   objective="kl", standardize=False), [X3, LABELS],
     added_loss, (6,)),
]
