"""KLDivergenceLayer against tfd.kl_divergence, the closed form and Monte Carlo."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

import kerasprob as kp
from kerasprob.math.divergences import gaussian_kl_to_standard_normal, kl_divergence, monte_carlo_kl

tfd = tfp.distributions
rng = np.random.default_rng(0)
MU = rng.normal(size=(6, 3)).astype("float32")
LOG_VAR = rng.normal(scale=0.5, size=(6, 3)).astype("float32")


def closed_form(mu, log_var):
    # Hand-written: KL(N(mu, s^2) || N(0, 1)) = (s^2 + mu^2 - 1 - log s^2) / 2, summed.
    return 0.5 * np.sum(np.exp(log_var) + mu**2 - 1.0 - log_var, axis=-1)


def test_gaussian_kl_matches_closed_form_and_tfp():
    ours = gaussian_kl_to_standard_normal(MU, LOG_VAR).numpy()
    q = tfd.MultivariateNormalDiag(MU, np.exp(0.5 * LOG_VAR))
    tfp_kl = tfd.kl_divergence(q, tfd.MultivariateNormalDiag(tf.zeros(3))).numpy()
    np.testing.assert_allclose(ours, closed_form(MU, LOG_VAR), rtol=1e-5)
    np.testing.assert_allclose(ours, tfp_kl, rtol=1e-5)


def test_layer_adds_weighted_mean_kl_and_is_identity():
    layer = kp.layers.KLDivergenceLayer(weight=0.25)
    out = layer([MU, LOG_VAR])
    np.testing.assert_array_equal(out[0], MU)
    np.testing.assert_array_equal(out[1], LOG_VAR)
    np.testing.assert_allclose(
        layer.losses[0].numpy(), 0.25 * closed_form(MU, LOG_VAR).mean(), rtol=1e-5
    )


def test_layer_on_distribution_uses_registered_kl():
    inputs = tf_keras.Input((kp.distributions.MultivariateNormalTriL.params_size(3),))
    q = kp.distributions.MultivariateNormalTriL(3)(inputs)
    layer = kp.layers.KLDivergenceLayer()
    model = tf_keras.Model(inputs, layer(q))
    params = rng.normal(size=(4, 9)).astype("float32")
    model(params)
    qd = kp.distributions.MultivariateNormalTriL(3).make_distribution(params)
    expected = tfd.kl_divergence(qd, tfd.MultivariateNormalDiag(tf.zeros(3))).numpy().mean()
    np.testing.assert_allclose(model.losses[0].numpy(), expected, rtol=1e-5)


def test_independent_normal_posterior_gets_exact_kl():
    params = rng.normal(size=(4, 4)).astype("float32")
    q = kp.distributions.IndependentNormal(2)(params)
    layer = kp.layers.KLDivergenceLayer(method="analytic")
    layer(q)
    qd = q.tensor_distribution
    expected = tfd.kl_divergence(
        qd, tfd.Independent(tfd.Normal(tf.zeros(2), 1.0), 1)
    ).numpy().mean()
    np.testing.assert_allclose(layer.losses[0].numpy(), expected, rtol=1e-5)


def test_monte_carlo_kl_within_three_standard_errors():
    q = tfd.MultivariateNormalDiag(MU[:1], np.exp(0.5 * LOG_VAR[:1]))
    p = tfd.MultivariateNormalDiag(tf.zeros(3))
    k = 20000
    tf.random.set_seed(7)
    estimate = monte_carlo_kl(q, p, k).numpy()[0]
    tf.random.set_seed(7)
    z = q.sample(k)
    terms = (q.log_prob(z) - p.log_prob(z)).numpy()[:, 0]
    exact = closed_form(MU[:1], LOG_VAR[:1])[0]
    np.testing.assert_allclose(estimate, terms.mean(), rtol=1e-5)
    assert abs(estimate - exact) < 3 * terms.std() / np.sqrt(k)


def test_monte_carlo_method_on_layer_is_close_to_analytic():
    layer = kp.layers.KLDivergenceLayer(method="monte_carlo", num_samples=4000)
    layer([MU, LOG_VAR])
    exact = closed_form(MU, LOG_VAR).mean()
    assert abs(layer.losses[0].numpy() - exact) < 0.05 * exact


def test_mixture_prior_falls_back_to_monte_carlo():
    prior = kp.layers.MixtureNormalPrior(3, num_components=4)
    q = tfd.MultivariateNormalDiag(MU, np.exp(0.5 * LOG_VAR))
    with pytest.raises(NotImplementedError):
        kl_divergence(q, prior.distribution(), method="analytic")
    layer = kp.layers.KLDivergenceLayer(prior=prior, num_samples=20000)
    tf.random.set_seed(3)
    layer([MU, LOG_VAR])
    z = q.sample(20000, seed=5)
    reference = tf.reduce_mean(q.log_prob(z) - prior.distribution().log_prob(z)).numpy()
    np.testing.assert_allclose(layer.losses[0].numpy(), reference, rtol=0.02)


def test_learnable_prior_receives_gradients():
    prior = kp.layers.MixtureNormalPrior(3, num_components=4)
    layer = kp.layers.KLDivergenceLayer(prior=prior, num_samples=8)
    with tf.GradientTape() as tape:
        layer([MU, LOG_VAR])
        loss = layer.losses[0]
    grads = tape.gradient(loss, prior.trainable_weights)
    assert len(grads) == 3 and all(g is not None for g in grads)


def test_weight_can_change_during_training():
    x = rng.normal(size=(64, 3)).astype("float32")
    inputs = tf_keras.Input((3,))
    h = tf_keras.layers.Dense(6)(inputs)
    mu, log_var = tf_keras.layers.Lambda(lambda t: tf.split(t, 2, axis=-1))(h)
    mu, log_var = kp.layers.KLDivergenceLayer(weight=1.0)([mu, log_var])
    model = tf_keras.Model(inputs, mu)
    model.compile("sgd")
    callback = kp.callbacks.KLAnnealing(warmup_epochs=4, start=0.0, end=1.0)
    history = model.fit(x, epochs=3, batch_size=64, callbacks=[callback], verbose=0)
    # One step per epoch: weight = epoch / 4 at the batch, so loss = (epoch / 4) * kl.
    loss, kl = np.array(history.history["loss"]), np.array(history.history["kl"])
    np.testing.assert_allclose(loss, kl * np.array([0.0, 0.25, 0.5]), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(history.history["kl_weight"], [0.0, 0.25, 0.5])


def test_annealing_schedules():
    linear = kp.callbacks.KLAnnealing(warmup_epochs=10)
    sigmoid = kp.callbacks.KLAnnealing(warmup_epochs=10, schedule="sigmoid", end=2.0)
    assert linear.weight_at(5) == 0.5 and linear.weight_at(20) == 1.0
    assert sigmoid.weight_at(5) == pytest.approx(1.0) and sigmoid.weight_at(10) == 2.0
    assert sigmoid.weight_at(1) < 0.1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"weight": -1.0}, "weight must be a finite non-negative number. Received: weight=-1.0"),
        ({"num_samples": 0}, "num_samples must be a positive integer. Received: num_samples=0"),
        ({"method": "exact"}, "method must be one of"),
        ({"prior": "mixture"}, "prior must be None or a kerasprob.layers.Prior"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        kp.layers.KLDivergenceLayer(**kwargs)
