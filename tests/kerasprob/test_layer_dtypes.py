"""Every layer honours its dtype and the global policy (issue 10, "Contract gaps: dtypes").

float64 layers compute in float64 (checked against float64 numpy to ~1e-12, far below
float32's rounding), the networks a layer builds get its dtype, and under the mixed
policies losses, log-densities and noise stay in float32.
"""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

import kerasprob as kp
import zoo
from kerasprob.layers import flows as F
from kerasprob.layers.networks import FewChannelConv2D, UpsampleConv2D
from kerasprob.math.conv import upsample_conv2d
from kerasprob.testing import global_policy

tfd = tfp.distributions
L = kp.layers




def _randomize(layer, rng, scale=0.3):
    """Random weights (a layer whose networks start at zero starts as the identity)."""
    for w in layer.weights:
        if w.trainable:
            w.assign(scale * rng.normal(size=w.shape))


# ----------------------------------------------------------------------------- networks
def test_mlp_float64_computes_in_float64():
    rng = np.random.default_rng(0)
    mlp = L.MLP([16, 8], 3, activation="tanh", dtype="float64")
    x = rng.normal(size=(7, 5))
    y = mlp(x)
    assert y.dtype == tf.float64
    assert {w.dtype for w in mlp.weights} == {tf.float64}
    _randomize(mlp, rng, 1.0)
    h = x
    for layer in mlp.hidden:
        h = np.tanh(h @ layer.kernel.numpy() + layer.bias.numpy())
    expected = h @ mlp.out.kernel.numpy() + mlp.out.bias.numpy()
    np.testing.assert_allclose(mlp(x).numpy(), expected, rtol=1e-13, atol=1e-13)


def test_mlp_mixed_policy_reaches_its_dense_layers():
    mlp = L.MLP([8], 2, dtype="mixed_bfloat16")
    y = mlp(np.ones((3, 4), "float32"))
    assert y.dtype == tf.bfloat16
    assert [d.compute_dtype for d in (*mlp.hidden, mlp.out)] == ["bfloat16", "bfloat16"]
    assert {w.dtype for w in mlp.weights} == {tf.float32}


def test_conv_networks_float64():
    rng = np.random.default_rng(1)
    enc = L.ConvEncoder(3, filters=[2, 4], kernel_size=3, strides=[2, 1], dtype="float64")
    dec = L.ConvDecoder((4, 4), 16, initial_shape=[2, 2, 3], upsampling=[2], filters=[2],
                        kernel_size=[2], dtype="float64")
    assert enc(rng.random((2, 4, 4, 1))).dtype == tf.float64
    assert dec(rng.normal(size=(2, 3))).dtype == tf.float64
    assert {w.dtype for w in enc.weights + dec.weights} == {tf.float64}


def test_conv_networks_mixed_output_float32():
    enc = L.ConvEncoder(3, filters=[2], kernel_size=3, strides=[1], dtype="mixed_bfloat16")
    assert enc(np.ones((2, 4, 4, 1), "float32")).dtype == tf.float32
    assert enc.convs[0].compute_dtype == "bfloat16"


@pytest.mark.parametrize("factor, kernel", [(2, 2), (3, 3)])
def test_upsample_conv2d_float64_gradients_equal_the_plain_ops(factor, kernel):
    rng = np.random.default_rng(2)
    x = tf.constant(rng.normal(size=(2, 3, 3, 2)))
    k = tf.constant(rng.normal(size=(kernel, kernel, 2, 3)))
    b = tf.constant(rng.normal(size=(3,)))

    def plain(x, k, b):
        up = tf.repeat(tf.repeat(x, factor, axis=1), factor, axis=2)
        return tf.nn.bias_add(tf.nn.conv2d(up, k, 1, "SAME"), b)

    results = []
    for fn in (lambda x, k, b: upsample_conv2d(x, k, factor, b), plain):
        with tf.GradientTape() as tape:
            tape.watch([x, k, b])
            y = fn(x, k, b)
            loss = tf.reduce_sum(tf.sin(y))
        results.append([y, *tape.gradient(loss, [x, k, b])])
    for ours, theirs in zip(*results):
        assert ours.dtype == tf.float64
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_conv_layers_float64():
    up = UpsampleConv2D(3, 2, factor=2, dtype="float64")
    few = FewChannelConv2D(2, 2, dtype="float64")
    x = np.random.default_rng(3).normal(size=(2, 3, 3, 4))
    assert few(up(x)).dtype == tf.float64


# ----------------------------------------------------------------------------- bijectors
BIJECTORS = {
    "AffineCoupling": lambda **kw: F.AffineCoupling([8], **kw),
    "SplineCoupling": lambda **kw: F.SplineCoupling([8], bins=4, bound=3.0, **kw),
    "MaskedAutoregressive": lambda **kw: F.MaskedAutoregressive([8], **kw),
    "MaskedAutoregressive-spline": lambda **kw: F.MaskedAutoregressive(
        [8], transformer="spline", bins=4, bound=3.0, **kw),
    "InverseAutoregressive": lambda **kw: F.InverseAutoregressive([8], **kw),
    "LULinear": lambda **kw: F.LULinear(**kw),
    "Householder": lambda **kw: F.Householder(num_reflections=2, **kw),
    "ActNorm": lambda **kw: F.ActNorm(**kw),
    "BatchNormBijector": lambda **kw: F.BatchNormBijector(**kw),
    "SinhArcsinh": lambda **kw: F.SinhArcsinh(**kw),
    "Scale": lambda **kw: F.Scale(**kw),
    "Permute": lambda **kw: F.Permute("random", seed=1, **kw),
}


@pytest.mark.parametrize("name", sorted(BIJECTORS))
def test_bijector_layer_float64(name):
    """inverse(forward(x)) == x and log|det J| == the autodiff Jacobian's, to float64
    precision: the layer (and its conditioner network) computes in float64."""
    rng = np.random.default_rng(4)
    layer = BIJECTORS[name](dtype="float64")
    x = tf.constant(0.5 * rng.normal(size=(3, 4)))
    layer.forward(x)
    _randomize(layer, rng)
    assert {w.dtype for w in layer.weights} <= {tf.float64}
    y, log_det = layer.forward_and_log_det(x)
    assert y.dtype == log_det.dtype == tf.float64
    x_back, inverse_log_det = layer.inverse_and_log_det(y)
    np.testing.assert_allclose(x_back.numpy(), x.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(inverse_log_det.numpy(), -log_det.numpy(), rtol=1e-9, atol=1e-9)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer.forward(x)
    jacobian = tape.batch_jacobian(y, x).numpy()  # [batch, d, d]
    np.testing.assert_allclose(log_det.numpy(), np.linalg.slogdet(jacobian)[1],
                               rtol=1e-9, atol=1e-9)
    bijector = layer.bijector()
    assert bijector.dtype == tf.float64
    np.testing.assert_allclose(bijector.forward(x).numpy(), y.numpy(), rtol=1e-12)


def test_lu_linear_float64_log_det_is_slogdet():
    rng = np.random.default_rng(5)
    layer = F.LULinear(dtype="float64")
    layer.forward(np.zeros((1, 5)))
    _randomize(layer, rng)
    w = layer.weight_matrix().numpy()
    assert w.dtype == np.float64
    log_det = layer.forward_and_log_det(np.zeros((1, 5)))[1].numpy()
    np.testing.assert_allclose(log_det, [np.linalg.slogdet(w)[1]], rtol=1e-12)


def test_bijector_dtype_is_the_layer_dtype():
    layer = F.AffineCoupling([4])
    layer.forward(np.zeros((1, 2), "float32"))
    assert layer.bijector().dtype == tf.float32


def _flow(**kw):
    return F.Flow([F.ActNorm(**kw), F.AffineCoupling([8], **kw), F.Permute(**kw),
                   F.SplineCoupling([8], bins=4, **kw), F.MaskedAutoregressive([8], **kw)], **kw)


def test_flow_float64_log_prob_equals_transformed_distribution():
    rng = np.random.default_rng(6)
    flow = _flow(dtype="float64")
    x = rng.normal(size=(6, 4))
    flow.log_prob(x)
    _randomize(flow, rng, 0.2)
    log_prob = flow.log_prob(x)
    assert log_prob.dtype == tf.float64
    reference = flow.distribution().transformed_distribution().log_prob(x)
    np.testing.assert_allclose(log_prob.numpy(), reference.numpy(), rtol=1e-10)
    assert flow.sample(3, seed=1).dtype == tf.float64


def test_flow_refuses_bijectors_of_another_dtype():
    with pytest.raises(ValueError, match=r"float64.*bijectors\[0\].*float32"):
        F.Flow([F.AffineCoupling([8])], dtype="float64")


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_flow_under_a_mixed_policy(policy):
    """Networks in 16 bits, log-densities in float32, close to the float32 flow's."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 4)).astype("float32")
    reference = _flow()
    reference.log_prob(x)
    _randomize(reference, rng, 0.2)
    with global_policy(policy):
        flow = _flow()
        log_prob = flow.log_prob(x)
        flow.set_weights(reference.get_weights())
        log_prob = flow.log_prob(x)
        sample = flow.sample(5, seed=2)
    assert flow.bijector_layers[1].conditioner.compute_dtype == policy.split("_")[1]
    assert log_prob.dtype == sample.dtype == tf.float32
    assert flow.get_config()["dtype"]["config"]["name"] == policy
    np.testing.assert_allclose(log_prob.numpy(), reference.log_prob(x).numpy(),
                               rtol=0.05, atol=0.05)


@pytest.mark.parametrize("name", ["RealNVP", "MAF", "IAF", "NeuralSplineFlow"])
def test_zoo_flow_builds_and_fits_under_mixed_bfloat16(name):
    cls = zoo.get(name)
    kwargs, x, _ = cls.example()
    with global_policy("mixed_bfloat16"):
        model = cls(**kwargs)
        model.fit(x, epochs=1, batch_size=16, verbose=0)
        log_prob = np.asarray(model.log_prob(x))
    assert log_prob.dtype == np.float32
    assert np.all(np.isfinite(log_prob))


# ----------------------------------------------------------------------------- KL, priors
def _gaussian_kl(mu, log_var, scale=1.0):
    """``KL(N(mu, exp(log_var)) || N(0, scale^2))``, summed over the last axis."""
    ratio = np.exp(log_var) / scale**2
    return 0.5 * np.sum(ratio + mu**2 / scale**2 - 1.0 - np.log(ratio), axis=-1)


@pytest.mark.parametrize("learnable", [False, True])
def test_kl_layer_with_normal_prior_float64(learnable):
    rng = np.random.default_rng(8)
    mu, log_var = rng.normal(size=(5, 3)), 0.3 * rng.normal(size=(5, 3))
    layer = L.KLDivergenceLayer(prior=L.NormalPrior(3, learnable=learnable, dtype="float64"),
                                dtype="float64")
    out = layer([mu, log_var])
    assert out[0].dtype == tf.float64
    kl = layer.kl_divergence([mu, log_var])
    assert kl.dtype == tf.float64 and layer.losses[0].dtype == tf.float64
    prior = layer.prior.distribution()
    assert prior.dtype == tf.float64
    scale = prior.stddev().numpy()  # 1 + 1e-5 when learnable (the softplus floor)
    np.testing.assert_allclose(kl.numpy(), _gaussian_kl(mu, log_var, scale), rtol=1e-12)


def test_kl_layer_refuses_a_prior_of_another_dtype():
    with pytest.raises(ValueError, match=r"prior computes in float32.*float64"):
        L.KLDivergenceLayer(prior=L.NormalPrior(3), dtype="float64")


@pytest.mark.parametrize("prior", [None, "normal"])
def test_kl_layer_mixed_float16_no_overflow(prior):
    """float16 overflows exp(12) = 162755 > 65504: the KL must be float32 and exact."""
    mu = np.full((4, 3), 0.5, "float16")
    log_var = np.full((4, 3), 12.0, "float16")
    with global_policy("mixed_float16"):
        layer = L.KLDivergenceLayer(prior=None if prior is None else L.NormalPrior(3))
        inputs = [tf_keras.Input((3,), dtype="float16"), tf_keras.Input((3,), dtype="float16")]
        model = tf_keras.Model(inputs, layer(inputs))
        model([mu, log_var])
    loss = model.losses[0]
    assert loss.dtype == tf.float32
    expected = _gaussian_kl(mu.astype("float64"), log_var.astype("float64"))[0]
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-6)


def test_evidence_bound_float64_and_mixed():
    rng = np.random.default_rng(9)
    log_px, z, log_q = rng.normal(size=(4, 3)), rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3))
    log_pz = -0.5 * np.sum(z**2, -1) - math.log(2 * math.pi)
    w = log_px + log_pz - log_q
    expected = np.log(np.mean(np.exp(w), axis=-1))
    layer = L.EvidenceBound(dtype="float64")
    bound = layer([log_px, z, log_q])
    assert bound.dtype == tf.float64
    np.testing.assert_allclose(bound.numpy(), expected, rtol=1e-12)
    with global_policy("mixed_float16"):
        mixed = L.EvidenceBound()
        bound = mixed([tf.constant(v, tf.float16) for v in (log_px, z, log_q)])
    assert bound.dtype == mixed.losses[0].dtype == tf.float32


# ----------------------------------------------------------------------------- noise
def test_gumbel_softmax_mixed_bfloat16_noise_is_float32_and_unbiased():
    """argmax of a Gumbel-softmax draw is Categorical(softmax(logits)) (Gumbel-max trick):
    counts over 200k draws within 5 standard errors. bfloat16 noise gave z of 6 and -17."""
    n = 200_000
    logits = np.array([1.5, 0.0, -1.0, 0.7], "float32")
    p = np.exp(logits) / np.exp(logits).sum()
    with global_policy("mixed_bfloat16"):
        layer = L.GumbelSoftmax(temperature=0.5)
        tf.random.set_seed(0)
        y = layer(tf.constant(np.tile(logits, (n, 1)), tf.bfloat16))
    assert layer.compute_dtype == "float32" and y.dtype == tf.float32
    counts = np.bincount(np.argmax(y.numpy(), -1), minlength=4)
    z = (counts - n * p) / np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(z) < 5), z


def test_gaussian_reparameterization_mixed_bfloat16_noise():
    n = 100_000
    with global_policy("mixed_bfloat16"):
        layer = L.GaussianReparameterization(num_samples=n)
        tf.random.set_seed(1)
        z = layer([tf.constant([[1.0, -2.0]], tf.bfloat16), tf.constant([[0.0, 1.0]], tf.bfloat16)])
    assert z.dtype == tf.float32
    z = z.numpy()[0]  # [n, 2]
    sigma = np.array([1.0, np.exp(0.5)])
    mean_z = (z.mean(0) - [1.0, -2.0]) / (sigma / np.sqrt(n))
    assert np.all(np.abs(mean_z) < 5), mean_z
    np.testing.assert_allclose(z.std(0), sigma, rtol=0.02)


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_gaussian_posterior_log_q_in_float32_under_mixed(covariance):
    rng = np.random.default_rng(10)
    size = L.GaussianPosterior.params_size(2, covariance)
    params = rng.normal(size=(3, size)).astype("float32")
    with global_policy("mixed_bfloat16"):
        layer = L.GaussianPosterior(2, covariance, num_samples=4)
        z, log_q = layer.sample(tf.constant(params, tf.bfloat16), seed=3)
        q = layer.distribution(tf.constant(params, tf.bfloat16))
    assert z.dtype == log_q.dtype == tf.float32
    expected = q.log_prob(tf.transpose(z, [1, 0, 2])).numpy().T  # [batch, k]
    np.testing.assert_allclose(log_q.numpy(), expected, rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------- config
def test_mixed_policy_round_trips_through_a_saved_model(tmp_path):
    x = np.random.default_rng(11).normal(size=(8, 4)).astype("float32")
    with global_policy("mixed_bfloat16"):
        flow = _flow()
        inputs = tf_keras.Input((4,))
        model = tf_keras.Model(inputs, flow(inputs))
    before = tf.convert_to_tensor(model(x)).numpy()
    path = str(tmp_path / "flow.keras")
    model.save(path)
    loaded = tf_keras.models.load_model(path, safe_mode=True)
    layer = loaded.layers[-1]
    assert layer.bijector_layers[1].conditioner.compute_dtype == "bfloat16"
    assert layer.compute_dtype == "float32"
    np.testing.assert_allclose(tf.convert_to_tensor(loaded(x)).numpy(), before, rtol=1e-6)


def test_bad_dtype_is_refused():
    with pytest.raises((ValueError, TypeError), match="int8"):
        L.GumbelSoftmax(dtype="int8")
