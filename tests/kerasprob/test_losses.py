"""Negative log-likelihood loss, ELBO and the IWAE bound."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

import kerasprob as kp
from kerasprob.math.bounds import elbo, iwae_bound, log_mean_exp

tfd = tfp.distributions
rng = np.random.default_rng(0)


def test_nll_loss_is_mean_negative_log_prob():
    params = rng.normal(size=(6, 4)).astype("float32")
    y = rng.normal(size=(6, 2)).astype("float32")
    dist = kp.distributions.IndependentNormal(2)(params)
    loss = kp.losses.NegativeLogLikelihood()(y, dist).numpy()
    np.testing.assert_allclose(loss, -dist.log_prob(y).numpy().mean(), rtol=1e-6)


def test_nll_loss_rejects_plain_tensors():
    with pytest.raises(TypeError, match="needs a model whose output is a distribution"):
        kp.losses.NegativeLogLikelihood()(np.zeros((2, 2)), tf.zeros((2, 2)))


def test_nll_regression_recovers_noise_scale():
    x = rng.uniform(-2, 2, size=(2000, 1)).astype("float32")
    y = (2.0 * x + 0.5 * rng.normal(size=x.shape)).astype("float32")
    inputs = tf_keras.Input((1,))
    dist = kp.distributions.IndependentNormal(1)(tf_keras.layers.Dense(2)(inputs))
    model = tf_keras.Model(inputs, dist)
    model.compile(tf_keras.optimizers.Adam(0.05), loss=kp.losses.NegativeLogLikelihood())
    model.fit(x, y, epochs=100, batch_size=100, verbose=0)
    out = model(x[:1]).tensor_distribution.distribution
    assert abs(float(out.scale.numpy().ravel()[0]) - 0.5) < 0.05
    np.testing.assert_allclose(model.layers[1].kernel.numpy()[0, 0], 2.0, atol=0.05)


def test_log_mean_exp_is_stable():
    big = np.array([1000.0, 1000.0 + np.log(3.0)], "float64")
    np.testing.assert_allclose(log_mean_exp(big).numpy(), 1000.0 + np.log(2.0), rtol=1e-12)


def test_iwae_bound_against_exact_marginal():
    # Model z ~ N(0, 1), x | z ~ N(z, 1)  =>  p(x) = N(0, 2); proposal q(z|x) = N(0.3 x, 1).
    x = np.array([0.7, -1.2], "float32")
    prior, q = tfd.Normal(0.0, 1.0), tfd.Normal(0.3 * x, 1.0)
    exact = tfd.Normal(0.0, np.sqrt(2.0)).log_prob(x).numpy()
    bounds = {}
    for k in [1, 10, 1000]:
        z = q.sample([k, 4000], seed=k)  # [k, repeats, batch]
        ll, lp, lq = tfd.Normal(z, 1.0).log_prob(x), prior.log_prob(z), q.log_prob(z)
        ll, lp, lq = (tf.transpose(v, [1, 2, 0]) for v in (ll, lp, lq))  # [repeats, batch, k]
        bounds[k] = iwae_bound(ll, lp, lq).numpy().mean(0)  # average over repeats
        if k == 1:
            np.testing.assert_allclose(bounds[k], elbo(ll, lp, lq).numpy().mean(0), rtol=1e-6)
        assert (iwae_bound(ll, lp, lq).numpy() >= elbo(ll, lp, lq).numpy() - 1e-5).all()
    assert (bounds[1] < bounds[10]).all() and (bounds[10] < bounds[1000]).all()
    assert (bounds[1000] <= exact + 1e-3).all()
    np.testing.assert_allclose(bounds[1000], exact, atol=0.01)
