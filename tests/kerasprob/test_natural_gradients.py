"""Natural-gradient steps (kerasprob.math.natural_gradients, kerasprob.optimizers.NaturalGradient)
against closed forms: finite differences of the loss in expectation parameters, and the exact
Gaussian posterior a conjugate step of size 1 must land on."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from kerasprob.layers import gp
from kerasprob.math.natural_gradients import expectation_gradients, natural_gradient_step
from kerasprob.optimizers import NaturalGradient

RNG = np.random.default_rng(7)
M, LATENTS, N = 4, 2, 9
A = RNG.normal(size=(N, M))  # y_l = A u_l + noise
NOISE = 0.3
K = np.cov(RNG.normal(size=(M, 3 * M))) + 0.5 * np.eye(M)  # prior N(0, K)
Y = RNG.normal(size=(N, LATENTS))


def _loss(q_mu, q_sqrt):
    """``-sum_l (E_q[log N(y_l; A u_l, NOISE I)] - KL[q_l || N(0, K)])`` (a full ``q_sqrt``)."""
    lower = tf.linalg.band_part(q_sqrt, -1, 0)  # [L, M, M]
    cov = tf.matmul(lower, lower, transpose_b=True)
    mean = tf.transpose(q_mu)  # [L, M]
    resid = Y.T - tf.matmul(mean, A.T)  # [L, N]
    ell = -0.5 * (tf.reduce_sum(resid ** 2) + tf.reduce_sum(
        tf.linalg.trace(A @ cov @ A.T))) / NOISE
    prior = tf.linalg.LinearOperatorFullMatrix(np.broadcast_to(K, (LATENTS, M, M)))
    kl = tf.reduce_sum(0.5 * (tf.linalg.trace(prior.solve(cov)) + tf.reduce_sum(
        mean * tf.transpose(tf.linalg.solve(K, tf.transpose(mean))), -1) - M
        + prior.log_abs_determinant() - tf.linalg.logdet(cov)))
    return -ell + kl


def _start():
    q_mu = RNG.normal(size=(M, LATENTS))
    q_sqrt = np.tril(RNG.normal(size=(LATENTS, M, M)))  # some negative diagonal entries
    q_sqrt[..., np.arange(M), np.arange(M)] = [[1.0, -0.5, 2.0, 0.7], [-1.2, 0.9, 0.4, -2.0]]
    return q_mu, q_sqrt


def _grads(q_mu, q_sqrt):
    q_mu, q_sqrt = tf.constant(q_mu), tf.constant(q_sqrt)
    with tf.GradientTape() as tape:
        tape.watch([q_mu, q_sqrt])
        loss = _loss(q_mu, q_sqrt)
    return tape.gradient(loss, [q_mu, q_sqrt])


def test_expectation_gradients_equal_finite_differences_in_eta():
    q_mu, q_sqrt = _start()
    g1, g2 = expectation_gradients(q_mu, q_sqrt, *_grads(q_mu, q_sqrt))
    cov = q_sqrt @ np.swapaxes(q_sqrt, -1, -2)
    eta1, eta2 = q_mu.T, cov + q_mu.T[:, :, None] * q_mu.T[:, None, :]

    def loss_at(e1, e2):
        sigma = e2 - e1[:, :, None] * e1[:, None, :]
        return float(_loss(tf.constant(e1.T), tf.constant(np.linalg.cholesky(sigma))))

    h = 1e-6
    for latent, i in [(0, 1), (1, 3)]:
        d = np.zeros_like(eta1)
        d[latent, i] = h
        fd = (loss_at(eta1 + d, eta2) - loss_at(eta1 - d, eta2)) / (2 * h)
        np.testing.assert_allclose(g1.numpy()[i, latent], fd, rtol=1e-5)
    for latent, i, j in [(0, 0, 0), (1, 2, 1), (0, 3, 1)]:
        d = np.zeros_like(eta2)
        d[latent, i, j] = d[latent, j, i] = h  # a symmetric perturbation
        fd = (loss_at(eta1, eta2 + d) - loss_at(eta1, eta2 - d)) / (2 * h)
        expected = fd if i == j else fd / 2  # d/d eta2_ij counts each of the two entries
        np.testing.assert_allclose(g2.numpy()[latent, i, j], expected, rtol=1e-5)


def test_a_unit_step_lands_on_the_exact_posterior_from_any_start():
    # Conjugate: Sigma_post = (K^-1 + A^T A / noise)^-1, m_post = Sigma_post A^T y / noise.
    cov_post = np.linalg.inv(np.linalg.inv(K) + A.T @ A / NOISE)
    mean_post = cov_post @ A.T @ Y / NOISE  # [M, L]
    q_mu, q_sqrt = _start()
    new_mu, new_sqrt = natural_gradient_step(q_mu, q_sqrt, *_grads(q_mu, q_sqrt), gamma=1.0)
    np.testing.assert_allclose(new_mu, mean_post, rtol=1e-9, atol=1e-12)
    for latent in range(LATENTS):
        np.testing.assert_allclose(new_sqrt[latent], np.linalg.cholesky(cov_post), rtol=1e-9,
                                   atol=1e-12)
    # a smaller step moves the natural parameters the fraction gamma of the way
    half_mu, half_sqrt = natural_gradient_step(q_mu, q_sqrt, *_grads(q_mu, q_sqrt), gamma=0.5)
    prec0 = np.linalg.inv(q_sqrt[0] @ q_sqrt[0].T)
    prec_half = np.linalg.inv(half_sqrt[0].numpy() @ half_sqrt[0].numpy().T)
    np.testing.assert_allclose(prec_half, 0.5 * prec0 + 0.5 * np.linalg.inv(cov_post),
                               rtol=1e-8)
    np.testing.assert_allclose(prec_half @ half_mu.numpy()[:, 0],
                               0.5 * prec0 @ q_mu[:, 0] + 0.5 * np.linalg.solve(
                                   cov_post, mean_post[:, 0]), rtol=1e-8)


def test_a_diagonal_q_takes_the_scalar_gaussian_step():
    # Independent scalar problems: y = a u + noise, u ~ N(0, k), q(u) = N(m, s^2).
    a, k, y = np.array([[1.5, -0.3]]), np.array([[2.0, 0.5]]), np.array([[0.8, 1.1]])
    m, s = tf.constant([[0.3, -2.0]], tf.float64), tf.constant([[1.7, 0.2]], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([m, s])
        loss = tf.reduce_sum(0.5 * ((y - a * m) ** 2 + a ** 2 * s ** 2) / NOISE
                             + 0.5 * ((s ** 2 + m ** 2) / k - 1 + np.log(k) - tf.math.log(s ** 2)))
    new_m, new_s = natural_gradient_step(m, s, *tape.gradient(loss, [m, s]), gamma=1.0)
    var_post = 1.0 / (1.0 / k + a ** 2 / NOISE)
    np.testing.assert_allclose(new_s ** 2, var_post, rtol=1e-12)
    np.testing.assert_allclose(new_m, var_post * a * y / NOISE, rtol=1e-12)


def _functional_model(x, gamma, whiten=True):
    """A user's model: Dense features -> SVGP -> Gaussian likelihood as the loss."""
    layer = gp.SVGP("rbf", num_inducing=8, input_dim=2, num_data=len(x), whiten=whiten,
                    dtype="float64", seed=3)
    lik = gp.Gaussian(0.1, dtype="float64")
    inputs = tf_keras.Input((1,), dtype="float64")
    features = tf_keras.layers.Dense(2, dtype="float64", kernel_initializer=tf_keras
                                     .initializers.Constant([[1.0, 0.5]]))(inputs)
    model = tf_keras.Model(inputs, layer(features))
    model.likelihood = lik
    layer.initialize_inducing_inputs(np.hstack([x, 0.5 * x]), method="random")
    optimizer = NaturalGradient(gamma, learning_rate=1e-2)
    model.compile(optimizer, loss=lambda y, q: -lik.expected_log_likelihood(
        y, q.mean(), q.variance()))
    return model, layer


def test_a_user_functional_model_takes_natural_gradient_steps_through_fit():
    x = np.linspace(-2, 2, 50)[:, None]
    y = np.sin(2 * x) + 0.1 * np.random.default_rng(1).normal(size=x.shape)
    model, layer = _functional_model(x, 1.0)
    dense = model.layers[1]
    before = dense.kernel.numpy().copy()
    # (at q(v) = p(v) the marginals are the prior's: the first step moves no feature)
    history = model.fit(x, y, batch_size=50, epochs=2, verbose=0)
    assert not np.array_equal(dense.kernel.numpy(), before)  # the features take Adam's step
    adam, _ = _functional_model(x, 1.0)
    adam.compile(tf_keras.optimizers.Adam(1e-2), loss=model.loss)
    history_ng = model.fit(x, y, batch_size=50, epochs=20, verbose=0).history["loss"]
    history_adam = adam.fit(x, y, batch_size=50, epochs=22, verbose=0).history["loss"]
    assert history.history["loss"][0] > history_ng[-1]
    assert history_ng[-1] < history_adam[-1] - 0.3  # nats per example
    assert layer.prior_kl().numpy() > 0


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, "one"])
def test_natural_gradient_refuses_a_bad_gamma(bad):
    with pytest.raises((ValueError, TypeError), match="gamma"):
        NaturalGradient(bad)


def test_natural_gradient_config_round_trips():
    opt = NaturalGradient(0.3, learning_rate=0.02)
    again = tf_keras.optimizers.deserialize(tf_keras.optimizers.serialize(opt))
    assert isinstance(again, NaturalGradient)
    assert again.gamma == 0.3 and float(again.learning_rate) == pytest.approx(0.02)
