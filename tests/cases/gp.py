"""Contract cases for the GP layers (kerasprob.layers.gp); see tests/test_contract.py."""

import numpy as np
import tensorflow as tf

from kerasprob.layers import gp

rng = np.random.default_rng(0)
X3 = rng.normal(size=(5, 3)).astype("float32")
MEAN = rng.normal(size=(5, 2)).astype("float32")
VAR = rng.uniform(0.1, 1.0, size=(5, 2)).astype("float32")


def kl_and_mean(output, inputs, model):
    """The KL it adds, and the log density of q(f)'s mean (both must survive a reload)."""
    dist = output if hasattr(output, "log_prob") else None
    value = dist.log_prob(tf.stop_gradient(dist.mean())) if dist is not None else output
    return tf.reduce_sum(value) + tf.add_n(model.losses)


def _svgp(**kwargs):
    return gp.SVGP(gp.SquaredExponential(input_dim=3), num_inducing=4, input_dim=3,
                   num_data=50, **kwargs)


CASES = [
    (lambda: gp.SquaredExponential(lengthscales=[0.5, 1.0, 2.0]), X3, None, (5, 5)),
    (lambda: gp.Matern12(variance=2.0, input_dim=3), X3, None, (5, 5)),
    (lambda: gp.Matern32(lengthscales=0.7), X3, None, (5, 5)),
    (lambda: gp.Matern52(input_dim=3), X3, None, (5, 5)),
    (lambda: gp.RationalQuadratic(alpha=0.5, input_dim=3), X3, None, (5, 5)),
    (lambda: gp.Periodic(period=2.0), X3, None, (5, 5)),
    (lambda: gp.Linear(variance=[1.0, 0.5, 2.0]), X3, None, (5, 5)),
    (lambda: gp.Sum([gp.SquaredExponential(input_dim=3), gp.Linear()]), X3, None, (5, 5)),
    (lambda: gp.Product([gp.Matern32(), gp.Periodic()]), X3, None, (5, 5)),
    (lambda: gp.Gaussian(variance=0.3), [MEAN, VAR], None, (5, 2, 2)),
    (lambda: gp.Bernoulli(), [MEAN, VAR], None, (5, 2, 2)),
    (lambda: gp.Bernoulli(link="probit"), [MEAN, VAR], None, (5, 2, 2)),
    (lambda: gp.Poisson(), [MEAN, VAR], None, (5, 2, 2)),
    (lambda: gp.StudentT(df=4.0, scale=0.5), [MEAN, VAR], None, (5, 2, 2)),
    (lambda: gp.Softmax(num_classes=2, seed=1), [MEAN, VAR], None, (5, 2, 2)),
    (lambda: gp.LikelihoodLayer(gp.Gaussian(variance=0.3)), [MEAN, VAR], None, (5, 2)),
    (lambda: gp.LikelihoodLayer(gp.StudentT(df=4.0, scale=0.5)), [MEAN, VAR], None, (5, 2)),
    (lambda: _svgp(num_latent_gps=2, mean_function="linear", convert_to_tensor_fn="mean"), X3,
     kl_and_mean, (5, 2)),
    (lambda: _svgp(whiten=False, q_diag=True, mean_function="constant"), X3, kl_and_mean,
     None),
    (lambda: _svgp(full_cov=True, convert_to_tensor_fn="mean"), X3, kl_and_mean, (1, 5)),
]
