"""Gaussian and Gumbel-softmax reparameterization layers."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

import kerasprob as kp

MU = np.array([[1.0, -2.0]], "float32")
LOG_VAR = np.log(np.array([[0.25, 4.0]], "float32"))


def test_gaussian_moments_with_many_samples():
    layer = kp.layers.GaussianReparameterization(num_samples=40000)
    z = layer([MU, LOG_VAR]).numpy()
    assert z.shape == (1, 40000, 2)
    np.testing.assert_allclose(z[0].mean(0), MU[0], atol=0.03)
    np.testing.assert_allclose(z[0].var(0), np.exp(LOG_VAR[0]), rtol=0.03)


def test_scale_parameterization_and_explicit_noise_are_exact():
    eps = np.array([[0.5, -1.0]], "float32")
    z = kp.layers.GaussianReparameterization(parameterization="scale", explicit_noise=True)(
        [MU, np.array([[2.0, 3.0]], "float32"), eps]
    )
    np.testing.assert_allclose(z.numpy(), [[1.0 + 2.0 * 0.5, -2.0 - 3.0]])
    z = kp.layers.GaussianReparameterization(explicit_noise=True)([MU, LOG_VAR, eps])
    np.testing.assert_allclose(z.numpy(), MU + np.exp(0.5 * LOG_VAR) * eps, rtol=1e-6)


def test_gradients_flow_to_mu_and_log_var():
    mu, log_var = tf.Variable(MU), tf.Variable(LOG_VAR)
    eps = np.array([[0.5, -1.0]], "float32")
    with tf.GradientTape() as tape:
        z = kp.layers.GaussianReparameterization(explicit_noise=True)([mu, log_var, eps])
        total = tf.reduce_sum(z)
    d_mu, d_log_var = tape.gradient(total, [mu, log_var])
    np.testing.assert_allclose(d_mu.numpy(), np.ones_like(MU))
    # dz/dlog_var = 0.5 * sigma * eps
    np.testing.assert_allclose(d_log_var.numpy(), 0.5 * np.exp(0.5 * LOG_VAR) * eps, rtol=1e-6)


def test_wrong_number_of_inputs_is_reported():
    with pytest.raises(ValueError, match="expects 3 inputs"):
        kp.layers.GaussianReparameterization(explicit_noise=True)([MU, LOG_VAR])


def test_gumbel_softmax_on_simplex_and_sharpens_as_temperature_falls():
    logits = np.log(np.array([[0.2, 0.3, 0.5]] * 2000, "float32"))
    layer = kp.layers.GumbelSoftmax(temperature=1.0)
    max_mass = []
    for tau in [2.0, 0.5, 0.1, 0.01]:
        layer.temperature = tau
        y = layer(logits).numpy()
        np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-5)
        assert (y >= 0).all()
        max_mass.append(y.max(-1).mean())
    assert all(a < b for a, b in itertools.pairwise(max_mass))
    assert max_mass[-1] > 0.99
    # At low temperature the argmax frequencies are the category probabilities.
    counts = np.bincount(y.argmax(-1), minlength=3) / len(y)
    np.testing.assert_allclose(counts, [0.2, 0.3, 0.5], atol=0.04)


def test_straight_through_is_one_hot_with_relaxed_gradients():
    logits = tf.Variable(np.array([[0.1, 0.2, 0.3]], "float32"))
    u = np.array([[0.3, 0.6, 0.2]], "float32")
    layer = kp.layers.GumbelSoftmax(temperature=0.7, straight_through=True, explicit_noise=True)
    with tf.GradientTape() as tape:
        y = layer([logits, u])
        total = tf.reduce_sum(y * tf.constant([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(np.sort(y.numpy()[0]), [0.0, 0.0, 1.0])
    grad = tape.gradient(total, logits).numpy()
    assert np.abs(grad).sum() > 0


def test_temperature_must_be_positive():
    with pytest.raises(ValueError, match="temperature=0.0"):
        kp.layers.GumbelSoftmax(temperature=0.0)
