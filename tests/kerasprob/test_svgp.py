"""SVGP math and layer against closed forms: the seed's variational_predictive, tfd.kl_divergence,
the exact GP (inducing points at the data with the optimal q(u))."""

import json
import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from kerasprob.layers import gp
from kerasprob.math import gp as gp_math

tfd = tfp.distributions
RNG = np.random.default_rng(0)


def rbf(a, b, variance=1.0, ls=0.7):
    d2 = np.sum((a[:, None, :] - b[None, :, :]) ** 2, -1) / ls**2
    return variance * np.exp(-0.5 * d2)


def seed_variational_predictive(knn, kmm, kmn, w, b, whiten=True, jitter=1e-6):
    """The handbook's ``variational_predictive`` (seed 003 part 4), verbatim up to numpy."""
    m = kmm.shape[0]
    chol = np.linalg.cholesky(kmm + jitter * np.eye(m))
    lam = np.linalg.solve(chol, kmn)
    s = knn - lam.T @ lam
    phi = lam if whiten else np.linalg.solve(chol.T, lam)
    u = phi.T @ w
    return phi.T @ b, s + u @ u.T


def problem(n=6, m=4, d=2, latents=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(n, d))
    z = rng.uniform(-2, 2, size=(m, d))
    q_mu = rng.normal(size=(m, latents))
    q_sqrt = np.tril(rng.normal(size=(latents, m, m))) + 2 * np.eye(m)
    return x, z, q_mu, q_sqrt


@pytest.mark.parametrize("whiten", [True, False])
def test_conditional_equals_seed_variational_predictive(whiten):
    x, z, q_mu, q_sqrt = problem()
    kmm, kmn, knn = rbf(z, z), rbf(z, x), rbf(x, x)
    chol = np.linalg.cholesky(kmm + 1e-6 * np.eye(4))
    mean, cov = gp_math.conditional(kmn, chol, knn, q_mu, q_sqrt, whiten=whiten, full_cov=True)
    _, var = gp_math.conditional(kmn, chol, np.diag(knn), q_mu, q_sqrt, whiten=whiten)
    for latent in range(2):
        mu, sigma = seed_variational_predictive(knn, kmm, kmn, q_sqrt[latent],
                                                q_mu[:, latent:latent + 1], whiten=whiten)
        np.testing.assert_allclose(mean[:, latent], mu[:, 0], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(cov[latent], sigma, rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(var[:, latent], np.diag(sigma), rtol=1e-8, atol=1e-9)


def test_conditional_diagonal_q_sqrt_equals_full_diagonal():
    x, z, q_mu, _ = problem()
    diag = RNG.uniform(0.5, 1.5, size=(4, 2))
    chol = np.linalg.cholesky(rbf(z, z) + 1e-6 * np.eye(4))
    full = np.stack([np.diag(diag[:, i]) for i in range(2)])
    for whiten in (True, False):
        a = gp_math.conditional(rbf(z, x), chol, np.diag(rbf(x, x)), q_mu, diag, whiten=whiten)
        b = gp_math.conditional(rbf(z, x), chol, np.diag(rbf(x, x)), q_mu, full, whiten=whiten)
        for u, v in zip(a, b):
            np.testing.assert_allclose(u, v, rtol=1e-10)


def test_whitened_and_unwhitened_agree_after_converting_parameters():
    x, z, q_mu, q_sqrt = problem()
    chol = np.linalg.cholesky(rbf(z, z) + 1e-6 * np.eye(4))
    knn = rbf(x, x)
    white = gp_math.conditional(rbf(z, x), chol, knn, q_mu, q_sqrt, whiten=True, full_cov=True)
    # u = L v: m_u = L m_v, S_u = L S_v
    plain = gp_math.conditional(rbf(z, x), chol, knn, chol @ q_mu, chol @ q_sqrt, whiten=False,
                                full_cov=True)
    for a, b in zip(white, plain):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("whiten", [True, False])
@pytest.mark.parametrize("diag", [False, True])
def test_prior_kl_equals_tfd_kl_divergence(whiten, diag):
    _, z, q_mu, q_sqrt = problem()
    if diag:
        q_sqrt_arg = RNG.uniform(0.5, 1.5, size=(4, 2))
        scale = np.stack([np.diag(q_sqrt_arg[:, i]) for i in range(2)])
    else:
        q_sqrt_arg, scale = q_sqrt, q_sqrt
    chol = np.linalg.cholesky(rbf(z, z) + 1e-6 * np.eye(4))
    q = tfd.MultivariateNormalTriL(loc=q_mu.T, scale_tril=scale)
    p_scale = np.eye(4) if whiten else chol
    p = tfd.MultivariateNormalTriL(loc=np.zeros((2, 4)), scale_tril=np.stack([p_scale] * 2))
    expected = np.sum(tfd.kl_divergence(q, p).numpy())
    got = gp_math.prior_kl(q_mu, q_sqrt_arg, None if whiten else chol, whiten=whiten)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9)


def test_prior_kl_unwhitened_needs_the_factor():
    with pytest.raises(ValueError, match="needs chol_kuu. Received: chol_kuu=None"):
        gp_math.prior_kl(np.zeros((2, 1)), np.ones((2, 1)), whiten=False)


# ------------------------------------------------------------------ exact GP equivalence
def _exact_gp(x, y, xs, variance, ls, noise):
    k = rbf(x, x, variance, ls) + noise * np.eye(len(x))
    lml = -0.5 * (y @ np.linalg.solve(k, y) + np.linalg.slogdet(k)[1] + len(x) * np.log(2 * np.pi))
    ks = rbf(xs, x, variance, ls)
    mean = ks @ np.linalg.solve(k, y)
    cov = rbf(xs, xs, variance, ls) - ks @ np.linalg.solve(k, ks.T)
    post_cov = rbf(x, x, variance, ls) - rbf(x, x, variance, ls) @ np.linalg.solve(
        k, rbf(x, x, variance, ls))
    post_mean = rbf(x, x, variance, ls) @ np.linalg.solve(k, y)
    return lml, mean, cov, post_mean, post_cov


def _layer_at_optimum(x, y, whiten, dtype="float64", q_diag=False):
    variance, ls, noise = 1.3, 0.6, 0.05
    n = len(x)
    lml, mean, cov, post_mean, post_cov = _exact_gp(x, y, XS, variance, ls, noise)
    kernel = gp.SquaredExponential(variance=variance, lengthscales=ls, dtype=dtype)
    layer = gp.SVGP(kernel, num_inducing=n, input_dim=1, whiten=whiten, num_data=n, jitter=0.0,
                    dtype=dtype)
    layer.inducing_inputs.assign(x)
    chol_post = np.linalg.cholesky(post_cov + 1e-12 * np.eye(n))
    if whiten:
        chol_k = np.linalg.cholesky(rbf(x, x, variance, ls))
        layer.q_mu.assign(np.linalg.solve(chol_k, post_mean)[:, None])
        layer.raw_q_sqrt.assign(np.linalg.solve(chol_k, chol_post)[None])
    else:
        layer.q_mu.assign(post_mean[:, None])
        layer.raw_q_sqrt.assign(chol_post[None])
    return layer, gp.Gaussian(variance=noise, dtype=dtype), (lml, mean, cov)


X1 = np.linspace(-2.0, 2.0, 7)[:, None]
Y1 = np.sin(2.0 * X1[:, 0]) + 0.1 * np.random.default_rng(5).normal(size=7)
XS = np.linspace(-2.5, 2.5, 5)[:, None]


@pytest.mark.parametrize("whiten", [True, False])
def test_svgp_elbo_at_optimal_q_equals_exact_log_marginal_likelihood(whiten):
    layer, lik, (lml, mean, cov) = _layer_at_optimum(X1, Y1, whiten)
    q = layer(X1)
    f_mean, f_var = q.mean(), q.variance()
    ell = tf.reduce_sum(lik.expected_log_likelihood(Y1[:, None], f_mean, f_var))
    elbo = ell - layer.prior_kl()
    np.testing.assert_allclose(elbo.numpy(), lml, rtol=1e-6)
    # the KL/N it added is the layer's prior_kl / num_data
    np.testing.assert_allclose(tf.add_n(layer.losses).numpy(), layer.prior_kl().numpy() / 7)
    # and the predictive is the exact posterior, marginals and full covariance
    pm, pv = layer.predict_f(XS)
    np.testing.assert_allclose(pm[:, 0], mean, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(pv[:, 0], np.diag(cov), rtol=1e-5, atol=1e-8)
    _, full = layer.predict_f(XS, full_cov=True)
    np.testing.assert_allclose(full[0], cov, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("whiten", [True, False])
def test_negative_elbo_of_the_full_batch_is_minus_the_exact_lml_over_n(whiten):
    """The layer's training loss at the optimal q(u), Z = X: -log p(y) / N."""
    layer, lik, (lml, _, _) = _layer_at_optimum(X1, Y1, whiten)
    loss = layer.negative_elbo(X1, Y1, lik)
    np.testing.assert_allclose(loss.numpy(), -lml / 7, rtol=1e-6)
    # and on two half batches its mean is the same (the KL / N counted once per batch)
    halves = [layer.negative_elbo(X1[i::2], Y1[i::2], lik).numpy() for i in (0, 1)]
    ell = lik.expected_log_likelihood(Y1[:, None], *layer.predict_f(X1)).numpy()
    kl_n = layer.prior_kl().numpy() / 7
    np.testing.assert_allclose(halves, [-ell[0::2].mean() + kl_n, -ell[1::2].mean() + kl_n])


def test_svgp_float32_agrees_with_float64():
    layer64, _, (lml, mean, _) = _layer_at_optimum(X1, Y1, True)
    layer32 = gp.SVGP(gp.SquaredExponential(1.3, 0.6), num_inducing=7, input_dim=1,
                      num_data=7, jitter=0.0)
    layer32.set_weights([w.astype(np.float32) for w in layer64.get_weights()])
    m32, v32 = layer32.predict_f(XS.astype(np.float32))
    assert m32.dtype == tf.float32
    np.testing.assert_allclose(m32[:, 0], mean, rtol=2e-3, atol=2e-3)
    out = layer32(XS)
    assert out.mean().dtype == tf.float32


def test_svgp_under_mixed_precision_keeps_float32():
    layer = gp.SVGP("rbf", num_inducing=3, input_dim=2, dtype="mixed_float16")
    q = layer(np.zeros((4, 2), np.float16))
    assert q.mean().dtype == tf.float32 and layer.losses[0].dtype == tf.float32
    assert layer.get_config()["dtype"]["config"]["name"] == "mixed_float16"


def test_svgp_full_cov_output_is_a_joint_distribution():
    layer, _, (_, mean, cov) = _layer_at_optimum(X1, Y1, True)
    config = layer.get_config()
    config["full_cov"] = True
    joint = gp.SVGP.from_config(config)
    joint.set_weights(layer.get_weights())
    q = joint(XS)
    assert q.batch_shape == (1,) and q.event_shape == (5,)
    np.testing.assert_allclose(q.mean()[0], mean, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(q.covariance()[0], cov, rtol=1e-4, atol=1e-6)


def test_mean_functions():
    x = RNG.normal(size=(5, 3))
    for name in ("zero", "constant", "linear"):
        layer = gp.SVGP("rbf", num_inducing=2, input_dim=3, num_latent_gps=2, mean_function=name,
                        dtype="float64")
        prior = gp.SVGP("rbf", num_inducing=2, input_dim=3, num_latent_gps=2, dtype="float64")
        prior.q_mu.assign(RNG.normal(size=(2, 2)))
        layer.q_mu.assign(prior.q_mu)  # same seed, so same Z and kernel: only the mean differs
        offset = {"zero": np.zeros((5, 2)), "constant": np.zeros((5, 2)),
                  "linear": x[:, :2]}[name]  # linear starts as the identity on features 0, 1
        np.testing.assert_allclose(layer.predict_f(x)[0] - prior.predict_f(x)[0], offset,
                                   atol=1e-12)
    layer = gp.SVGP("rbf", num_inducing=2, input_dim=3, mean_function="constant",
                    dtype="float64")
    layer.mean_constant.assign([2.5])
    np.testing.assert_allclose(layer.mean_fn(x), np.full((5, 1), 2.5))


def test_initialize_inducing_inputs():
    rng = np.random.default_rng(1)
    centres = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    x = np.concatenate([c + 0.1 * rng.normal(size=(50, 2)) for c in centres])
    layer = gp.SVGP("rbf", num_inducing=3, input_dim=2, dtype="float64")
    z = layer.initialize_inducing_inputs(x, method="kmeans")
    order = np.lexsort(z.T[::-1])
    np.testing.assert_allclose(z[order], centres[np.lexsort(centres.T[::-1])], atol=0.05)
    np.testing.assert_allclose(layer.inducing_inputs.numpy(), z)
    z = layer.initialize_inducing_inputs(x, method="random", seed=3)
    assert all(any(np.array_equal(row, r) for r in x) for row in z)
    assert len({tuple(r) for r in z}) == 3
    with pytest.raises(ValueError, match=re.escape("num_inducing=3 needs at least that many "
                                                   "rows of x. Received: x with shape (2, 2)")):
        layer.initialize_inducing_inputs(x[:2])
    with pytest.raises(ValueError, match=re.escape("x must have shape [batch, 2]")):
        layer.initialize_inducing_inputs(x[:, :1])


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"num_inducing": 0}, ValueError, "num_inducing must be a positive integer. Received: "
                                          "num_inducing=0"),
        ({"mean_function": "quadratic"}, ValueError, "mean_function must be one of"),
        ({"num_data": -5}, ValueError, "num_data must be a positive integer. Received: "
                                       "num_data=-5"),
        ({"whiten": "yes"}, TypeError, "whiten must be True or False. Received: whiten='yes'"),
        ({"kernel": "gaussian"}, ValueError, "kernel must be one of"),
        ({"kernel": gp.Matern32(dtype="float64")}, ValueError,
         "kernel must compute in the layer's dtype float32"),
    ],
)
def test_svgp_bad_arguments(kwargs, error, pattern):
    args = {"kernel": "rbf", "num_inducing": 3, "input_dim": 2, **kwargs}
    with pytest.raises(error, match=re.escape(pattern)):
        gp.SVGP(**args)


def _regression_model(layer, lik):
    inputs = tf_keras.Input((1,), dtype=layer.dtype)
    q = layer(inputs)
    model = tf_keras.Model(inputs, q)
    model.likelihood = lik  # tracked, so its noise variance trains with the model

    def loss(y, q_f):
        return -lik.expected_log_likelihood(y, q_f.mean(), q_f.variance())

    model.compile(tf_keras.optimizers.Adam(0.05), loss=loss)
    return model


def test_svgp_trains_with_model_fit_and_logs_the_kl():
    x = np.linspace(-3, 3, 64)[:, None]
    y = np.sin(2 * x) + 0.1 * np.random.default_rng(2).normal(size=x.shape)
    layer = gp.SVGP("rbf", num_inducing=8, input_dim=1, num_data=64, dtype="float64")
    layer.initialize_inducing_inputs(x, method="random")
    lik = gp.Gaussian(0.5, dtype="float64")
    model = _regression_model(layer, lik)
    history = model.fit(x, y, batch_size=16, epochs=15, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0] - 0.3
    kl = history.history[f"{layer.name}_prior_kl"]
    assert kl[-1] > 0
    # the last epoch's KL metric is prior_kl / N at (about) the final weights
    np.testing.assert_allclose(kl[-1], layer.prior_kl().numpy() / 64, rtol=0.2)
    mean, _ = layer.predict_f(x)
    assert np.sqrt(np.mean((mean[:, 0] - np.sin(2 * x[:, 0])) ** 2)) < 0.3


def test_two_svgp_layers_stack_in_sequential_as_a_deep_gp(tmp_path):
    x = np.linspace(-1, 1, 40)[:, None]
    y = np.where(x > 0, 1.0, -1.0)
    hidden = gp.SVGP("rbf", num_inducing=6, input_dim=1, num_latent_gps=1, num_data=40,
                     mean_function="linear", dtype="float64", seed=1)
    hidden.initialize_inducing_inputs(x, method="random")
    out = gp.SVGP("rbf", num_inducing=6, input_dim=1, num_data=40, dtype="float64", seed=2,
                  convert_to_tensor_fn="mean")
    out.initialize_inducing_inputs(x, method="random")
    lik = gp.Gaussian(0.1, dtype="float64")
    model = tf_keras.Sequential([tf_keras.Input((1,), dtype="float64"), hidden, out])

    def loss(y_true, q_f):
        return -lik.expected_log_likelihood(y_true, q_f.mean(), q_f.variance())

    model.compile(tf_keras.optimizers.Adam(0.02), loss=loss)
    assert len(model.losses) == 2  # one KL per layer
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.fit(x, y, batch_size=20, epochs=2, verbose=0)
    moved = [not np.array_equal(w.numpy(), b) for w, b in zip(model.trainable_weights, before)]
    assert all(moved)
    # sample propagation: the output layer sees one draw of the hidden layer per example
    tf.random.set_seed(3)
    a = model(x).mean().numpy()
    tf.random.set_seed(4)
    b = model(x).mean().numpy()
    assert not np.allclose(a, b)
    path = str(tmp_path / "deep.keras")
    model.save(path)
    loaded = tf_keras.models.load_model(path, safe_mode=True, compile=False)
    tf.random.set_seed(3)
    np.testing.assert_allclose(loaded(x).mean().numpy(), a, rtol=1e-10)


def test_svgp_config_round_trip_is_json():
    layer = gp.SVGP(gp.Sum([gp.SquaredExponential(input_dim=2), gp.Linear()]), num_inducing=3,
                    input_dim=2, num_latent_gps=2, q_diag=True, whiten=False, num_data=10)
    text = json.dumps(layer.get_config())
    clone = gp.SVGP.from_config(json.loads(text))
    assert json.dumps(clone.get_config()) == text
    layer.set_num_data(20)
    assert layer.get_config()["num_data"] == 20 and layer.num_data_weight.numpy() == 20.0


def test_a_kernel_matrix_that_stays_indefinite_stops_fit_with_weights_unchanged():
    from kerasprob.math.linalg import CholeskyJitterWarning, is_cholesky_error

    x = np.linspace(-1, 1, 16)[:, None]
    layer = gp.SVGP("rbf", num_inducing=4, input_dim=1, num_data=16, dtype="float64",
                    jitter=0.0)
    model = _regression_model(layer, gp.Gaussian(0.1, dtype="float64"))
    model.fit(x, np.sin(x), batch_size=8, epochs=1, verbose=0)
    # duplicate inducing inputs make K_uu singular: the jitter repairs it, with a warning
    layer.inducing_inputs.assign(np.zeros((4, 1)))
    with pytest.warns(CholeskyJitterWarning, match="K_uu"):
        model.fit(x, np.sin(x), batch_size=8, epochs=1, verbose=0)
    # NaN hyperparameters: no jitter helps; fit stops at the first step, weights untouched
    layer.kernel.raw_variance.assign(np.nan)
    before = [w.numpy().copy() for w in model.weights]
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        model.fit(x, np.sin(x), batch_size=8, epochs=1, verbose=0)
    assert is_cholesky_error(info.value) and "K_uu is not positive definite" in str(info.value)
    for w, b in zip(model.weights, before):
        np.testing.assert_array_equal(w.numpy(), b)


MIRRORED = r"""
import numpy as np, tensorflow as tf, tf_keras
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from kerasprob.layers import gp

def run(strategy):
    with strategy.scope():
        layer = gp.SVGP("rbf", num_inducing=5, input_dim=1, num_data=32, dtype="float64")
        lik = gp.Gaussian(0.2, dtype="float64")
        inputs = tf_keras.Input((1,), dtype="float64")
        model = tf_keras.Model(inputs, layer(inputs))
        model.lik = lik
        model.compile(tf_keras.optimizers.SGD(0.01),
                      loss=lambda y, q: -lik.expected_log_likelihood(y, q.mean(), q.variance()))
    x = np.linspace(-1, 1, 32)[:, None]
    layer.inducing_inputs.assign(x[::7][:5])
    hist = model.fit(x, np.sin(3 * x), batch_size=16, epochs=2, shuffle=False, verbose=0)
    return hist.history["loss"], layer.q_mu.numpy()

one = run(tf.distribute.OneDeviceStrategy("/cpu:0"))
two = run(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
np.testing.assert_allclose(two[0], one[0], rtol=1e-6)
np.testing.assert_allclose(two[1], one[1], rtol=1e-6, atol=1e-9)
print("OK", one[0], two[0])
"""


@pytest.mark.slow
def test_mirrored_strategy_on_two_cpus_gives_the_loss_of_one_device():
    import os
    import subprocess
    import sys

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True,
                            env=env, timeout=300, cwd=os.path.dirname(os.path.dirname(
                                os.path.dirname(os.path.abspath(__file__)))))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "OK" in result.stdout


def test_svgp_elbo_at_the_titsias_optimum_equals_the_collapsed_bound():
    # M < N inducing inputs away from the data: the SVGP ELBO maximized over q(u) is Titsias'
    # collapsed bound log N(y; 0, Q + s2 I) - tr(K - Q) / (2 s2) (numpy, independently).
    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 2, size=(30, 1))
    y = np.sin(2 * x[:, 0]) + 0.2 * rng.normal(size=30)
    z = np.linspace(-1.8, 1.8, 6)[:, None]
    variance, ls, noise = 1.1, 0.8, 0.04
    kuu, kuf, kff = rbf(z, z, variance, ls), rbf(z, x, variance, ls), rbf(x, x, variance, ls)
    q = kuf.T @ np.linalg.solve(kuu, kuf)
    cov = q + noise * np.eye(30)
    bound = (-0.5 * (y @ np.linalg.solve(cov, y) + np.linalg.slogdet(cov)[1]
                     + 30 * np.log(2 * np.pi)) - np.trace(kff - q) / (2 * noise))
    sigma = np.linalg.inv(kuu + kuf @ kuf.T / noise)
    mean_u = kuu @ sigma @ kuf @ y / noise
    cov_u = kuu @ sigma @ kuu
    for whiten in (True, False):
        layer = gp.SVGP(gp.SquaredExponential(variance, ls, dtype="float64"), num_inducing=6,
                        input_dim=1, whiten=whiten, num_data=30, jitter=0.0, dtype="float64")
        layer.inducing_inputs.assign(z)
        layer.assign_variational(mean_u[:, None], np.linalg.cholesky(cov_u), whitened=False)
        lik = gp.Gaussian(noise, dtype="float64")
        f_mean, f_var = layer.predict_f(x)
        elbo = tf.reduce_sum(lik.expected_log_likelihood(y[:, None], f_mean, f_var))
        elbo -= layer.prior_kl()
        np.testing.assert_allclose(elbo.numpy(), bound, rtol=1e-7)


def test_assign_variational_checks_shapes_and_fixed_inducing_inputs():
    layer = gp.SVGP("rbf", num_inducing=3, input_dim=1, train_inducing=False, dtype="float64")
    assert not any(w is layer.inducing_inputs for w in layer.trainable_weights)
    assert any(w is layer.inducing_inputs for w in layer.non_trainable_weights)
    with pytest.raises(ValueError, match=re.escape("q_mu must have shape (3, 1) and q_sqrt "
                                                   "(1, 3, 3). Received: q_mu with shape (2, 1)")):
        layer.assign_variational(np.zeros((2, 1)), np.eye(3))
    diag = gp.SVGP("rbf", num_inducing=3, input_dim=1, q_diag=True, dtype="float64")
    diag.assign_variational(np.ones((3, 1)), np.full((3, 1), 0.5))
    np.testing.assert_allclose(diag.q_sqrt.numpy(), 0.5)
    with pytest.raises(ValueError, match="makes a diagonal q_sqrt full"):
        diag.assign_variational(np.ones((3, 1)), np.full((3, 1), 0.5), whitened=False)
