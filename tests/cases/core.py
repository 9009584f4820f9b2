"""Contract cases for the foundation's public layers (see tests/test_contract.py).

Each case: ``(factory, inputs, readout_or_None, expected_output_shape_or_None)``.
"""

import numpy as np
import tensorflow as tf

import kerasprob as kp

rng = np.random.default_rng(0)
X4 = rng.normal(size=(5, 4)).astype("float32")


def params(n):
    return rng.normal(size=(5, n)).astype("float32")


def kl_value(output, inputs, model):
    return tf.add_n(model.losses)


D = kp.distributions
L = kp.layers

CASES = [
    (lambda: D.IndependentNormal((2, 3)), params(D.IndependentNormal.params_size((2, 3))),
     None, (5, 2, 3)),
    (lambda: D.MultivariateNormalTriL(3, "mean"), params(D.MultivariateNormalTriL.params_size(3)),
     None, (5, 3)),
    (lambda: D.IndependentBernoulli((2, 2), "mean"), params(4), None, (5, 2, 2)),
    (lambda: D.OneHotCategorical(4, "mode"), params(4), None, (5, 4)),
    (lambda: D.Categorical(4), params(4), None, (5,)),
    (lambda: D.MixtureNormal(3, 2, "mean"), params(D.MixtureNormal.params_size(3, 2)),
     None, (5, 2)),
    (lambda: L.MLP([8, 8], 3, activation="tanh"), X4, None, (5, 3)),
    (lambda: L.KLDivergenceLayer(weight=0.5), [X4, 0.1 * X4], kl_value, None),
    (lambda: L.KLDivergenceLayer(prior=L.NormalPrior(4, learnable=True)), [X4, 0.1 * X4],
     kl_value, None),
    (lambda: L.KLDivergenceLayer(prior=L.MixtureNormalPrior(4, num_components=3),
                                 num_samples=4), [X4, 0.1 * X4], kl_value, None),
    (lambda: L.GaussianReparameterization(), [X4, 0.1 * X4], None, (5, 4)),
    (lambda: L.GaussianReparameterization(num_samples=3, parameterization="scale"),
     [X4, np.abs(X4) + 0.1], None, (5, 3, 4)),
    (lambda: L.GaussianReparameterization(explicit_noise=True), [X4, 0.1 * X4, X4], None,
     (5, 4)),
    (lambda: L.GumbelSoftmax(temperature=0.5), X4, None, (5, 4)),
    (lambda: L.GumbelSoftmax(straight_through=True, explicit_noise=True),
     [X4, rng.uniform(size=(5, 4)).astype("float32")], None, (5, 4)),
]
