"""The VAE family: conv networks, full-covariance / flow posteriors, image likelihoods,
mixture prior, IWAE, ConditionalVAE (issue 4).

Reference values come from closed forms or independent computations (TFP distributions,
numpy); training tests check that each variant's negative ELBO falls and that every
variant saves and loads to the same numbers.
"""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

import kerasprob as kp
import zoo
from kerasprob.callbacks import KLAnnealing
from kerasprob.layers.networks import (
    CONV_VAE_36X36,
    ConvDecoder,
    ConvEncoder,
    FewChannelConv2D,
    UpsampleConv2D,
    conv_architecture,
    few_channel_conv2d,
    upsample_conv2d,
)
from kerasprob.layers.variational import EvidenceBound, GaussianPosterior
from kerasprob.math.divergences import tril_gaussian_kl_to_standard_normal

tfd = tfp.distributions


@pytest.fixture(scope="module")
def digits():
    x, y = zoo.datasets.load_digits()
    return x.astype("float32"), y  # [1797, 8, 8] in 0..16, labels 0..9


# ----------------------------------------------------------------------------- networks
def test_seed_001_network_has_the_seed_parameter_counts():
    # The seed's model summaries: encoder 99,909 params, decoder 103,523 (latent 2, TriL).
    assert conv_architecture((36, 36, 3)) == CONV_VAE_36X36
    enc = ConvEncoder(GaussianPosterior.params_size(2, "full"), **CONV_VAE_36X36["encoder"])
    enc(np.zeros((1, 36, 36, 3), "float32"))
    dec = ConvDecoder((36, 36, 3), 36 * 36 * 3, **CONV_VAE_36X36["decoder"])
    dec(np.zeros((1, 2), "float32"))
    assert enc.count_params() == 99_909
    assert dec.count_params() == 103_523


@pytest.mark.parametrize("shape, strides", [((28, 28, 1), [2, 2, 1]), ((8, 8), [2, 2, 1]),
                                            ((6, 10, 2), [2, 1, 1]), ((5, 5), [1, 1, 1])])
def test_conv_architecture_fits_other_image_sizes(shape, strides):
    arch = conv_architecture(shape)
    assert arch["encoder"]["strides"] == strides
    dec = ConvDecoder(shape, int(np.prod(shape)), **arch["decoder"])
    assert dec(np.zeros((2, 3), "float32")).shape == (2, int(np.prod(shape)))
    enc = ConvEncoder(4, **arch["encoder"])
    assert enc(np.zeros((2, *shape), "float32")).shape == (2, 4)


def test_conv_decoder_lays_out_parameter_blocks_like_the_likelihood_layers():
    shape = (4, 4, 3)
    dec = ConvDecoder(shape, kp.distributions.IndependentNormal.params_size(shape),
                      initial_shape=[2, 2, 4], upsampling=[2], filters=[4], kernel_size=[2])
    z = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
    params = dec(z)
    # The last conv has 2 C channels: [H, W, (loc | raw), C].
    h = tf.reshape(dec.dense(z), [-1, 2, 2, 4])
    h = dec.out(dec.convs[0](h))  # [2, 4, 4, 6] (the upsampling is fused into convs[0])
    h = tf.reshape(h, [2, 4, 4, 2, 3])
    normal = kp.distributions.IndependentNormal(shape).make_distribution(params)
    np.testing.assert_allclose(normal.mean(), h[..., 0, :], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        normal.stddev(), tf.nn.softplus(h[..., 1, :]) + 1e-5, rtol=1e-5, atol=1e-6
    )


def test_conv_decoder_rejects_inconsistent_shapes():
    with pytest.raises(ValueError, match="output_units must be a multiple"):
        ConvDecoder((4, 4, 3), 50, initial_shape=[2, 2, 4], upsampling=[2], filters=[4],
                    kernel_size=[2])
    with pytest.raises(ValueError, match="initial_shape"):
        ConvDecoder((4, 4, 3), 48, initial_shape=[3, 3, 4], upsampling=[2], filters=[4],
                    kernel_size=[2])


def _values_and_gradients(layer, x):
    """``layer(x)`` and the gradients of a random projection of it w.r.t. ``x`` and weights."""
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(y * tf.random.stateless_normal(tf.shape(y), seed=(5, 6)))
    return y, tape.gradient(loss, [x, *layer.trainable_weights])


@pytest.mark.parametrize("factor, kernel", [(2, 2), (3, 3), (2, 3), (3, 2), (2, 4), (1, 3)])
def test_upsample_conv2d_equals_upsampling_then_conv(factor, kernel):
    """Same outputs and same gradients (input, kernel, bias) as the two-layer stack."""
    x = tf.random.stateless_normal((2, 5, 4, 3), seed=(1, 2))
    fused = UpsampleConv2D(6, kernel, factor=factor, activation="relu")
    fused.build(x.shape)
    conv = tf_keras.layers.Conv2D(6, kernel, padding="same", activation="relu")
    conv.build((None, 5 * factor, 4 * factor, 3))
    fused.set_weights([w + 0.1 for w in fused.get_weights()])  # a nonzero bias too
    conv.set_weights(fused.get_weights())
    stack = tf_keras.Sequential([tf_keras.layers.UpSampling2D(factor), conv])
    y, grads = _values_and_gradients(fused, x)
    expected, expected_grads = _values_and_gradients(stack, x)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    for g, e in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kernel, filters", [(2, 3), (3, 2), (4, 1)])
def test_few_channel_conv2d_equals_conv2d(kernel, filters):
    x = tf.random.stateless_normal((3, 6, 5, 4), seed=(3, 4))
    layer = FewChannelConv2D(filters, kernel)
    layer.build(x.shape)
    layer.set_weights([w + 0.1 for w in layer.get_weights()])
    conv = tf_keras.layers.Conv2D(filters, kernel, padding="same")
    conv.build(x.shape)
    conv.set_weights(layer.get_weights())
    y, grads = _values_and_gradients(layer, x)
    expected, expected_grads = _values_and_gradients(conv, x)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    for g, e in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="stride 1.*strides=\\(2, 2\\)"):
        FewChannelConv2D(2, 2, strides=2)


def _function_gradients(fn, x, kernel, dtype):
    x, kernel = tf.cast(x, dtype), tf.cast(kernel, dtype)
    with tf.GradientTape() as tape:
        tape.watch([x, kernel])
        y = tf.cast(fn(x, kernel), tf.float32)
        loss = tf.reduce_sum(y * tf.random.stateless_normal(tf.shape(y), seed=(7, 8)))
    return [tf.cast(g, tf.float32) for g in tape.gradient(loss, [x, kernel])]


@pytest.mark.parametrize("which", ["upsample", "few_channel"])
def test_custom_gradients_in_bfloat16_are_as_accurate_as_autodiff(which):
    """In bfloat16 (the default on CPUs with AMX) the custom gradients err from the
    float32 gradients no more than TensorFlow's own bfloat16 gradients of the same layer."""
    if which == "upsample":
        x = tf.random.stateless_normal((4, 6, 6, 16), seed=(1, 1))
        kernel = 0.2 * tf.random.stateless_normal((2, 2, 16, 32), seed=(2, 2))
        ours = lambda x, k: upsample_conv2d(x, k, 2)  # noqa: E731
        plain = lambda x, k: tf.nn.conv2d(  # noqa: E731
            tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2), k, 1, "SAME")
    else:
        x = tf.random.stateless_normal((4, 12, 12, 32), seed=(3, 3))
        kernel = 0.2 * tf.random.stateless_normal((2, 2, 32, 3), seed=(4, 4))
        ours, plain = few_channel_conv2d, lambda x, k: tf.nn.conv2d(x, k, 1, "SAME")
    reference = _function_gradients(plain, x, kernel, tf.float32)
    ours_bf16 = _function_gradients(ours, x, kernel, tf.bfloat16)
    plain_bf16 = _function_gradients(plain, x, kernel, tf.bfloat16)
    for r, a, b in zip(reference, ours_bf16, plain_bf16, strict=True):
        error, autodiff_error = float(tf.norm(a - r)), float(tf.norm(b - r))
        assert error <= 2.0 * autodiff_error + 1e-3 * float(tf.norm(r)), (error, autodiff_error)
        assert error <= 0.02 * float(tf.norm(r))


# --------------------------------------------------------------------------- posteriors
@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_gaussian_posterior_log_density_and_kl_match_tfp(covariance):
    d = 3
    post = GaussianPosterior(d, covariance, num_samples=4)
    params = tf.random.stateless_normal((5, post.params_size(d, covariance)), seed=(3, 4))
    z, log_q = post.sample(params)
    assert z.shape == (5, 4, d) and log_q.shape == (5, 4)
    q = post.distribution(params)
    np.testing.assert_allclose(log_q, q.log_prob(tf.transpose(z, [1, 0, 2])).numpy().T,
                               rtol=1e-5, atol=1e-5)
    prior = tfd.MultivariateNormalDiag(tf.zeros(d))
    np.testing.assert_allclose(post.kl_to_standard_normal(params),
                               tfd.kl_divergence(q, prior), rtol=1e-5, atol=1e-5)


def test_full_posterior_uses_the_layout_of_the_tril_distribution_layer():
    params = tf.random.stateless_normal((4, 5), seed=(5, 6))
    q = GaussianPosterior(2, "full").distribution(params)
    layer = kp.distributions.MultivariateNormalTriL(2).make_distribution(params)
    np.testing.assert_allclose(q.covariance(), layer.covariance(), rtol=1e-6)
    loc, scale = params[:, :2], tfp.math.fill_triangular(params[:, 2:])
    scale = tf.linalg.set_diag(scale, tf.nn.softplus(tf.linalg.diag_part(scale)) + 1e-5)
    np.testing.assert_allclose(tril_gaussian_kl_to_standard_normal(loc, scale),
                               tfd.kl_divergence(tfd.MultivariateNormalTriL(loc, scale),
                                                 tfd.MultivariateNormalDiag(tf.zeros(2))),
                               rtol=1e-5)


# ----------------------------------------------------------------------------- bounds
def test_iwae_bound_is_at_least_the_elbo_and_matches_numpy():
    rng = np.random.default_rng(0)
    log_px, z, log_q = (rng.normal(size=s).astype("float32") for s in [(6, 5), (6, 5, 2),
                                                                        (6, 5)])
    bound = EvidenceBound(weight=1.0)
    iwae = bound.bound([log_px, z, log_q]).numpy()
    log_pz = -0.5 * (z**2).sum(-1) - np.log(2 * np.pi)
    log_w = log_px + log_pz - log_q
    expected = np.log(np.mean(np.exp(log_w.astype("float64")), axis=1))
    np.testing.assert_allclose(iwae, expected, rtol=1e-5)
    assert np.all(iwae >= log_w.mean(axis=1) - 1e-6)  # Jensen: IWAE >= ELBO of the same draws
    # k = 1 with an analytic KL: log p(x | z) - beta KL.
    beta = EvidenceBound(weight=0.25)
    kl = np.abs(rng.normal(size=6)).astype("float32")
    np.testing.assert_allclose(beta.bound([log_px[:, :1], z[:, :1], log_q[:, :1], kl]),
                               log_px[:, 0] - 0.25 * kl, rtol=1e-6)


def test_mixture_prior_kl_estimate_agrees_with_large_sample_monte_carlo():
    tf.random.set_seed(3)
    prior = kp.layers.MixtureNormalPrior(2, num_components=16, init_spread=1.5)
    bound = EvidenceBound(prior=prior, num_samples=20_000)
    post = GaussianPosterior(2, "full", num_samples=20_000)
    params = tf.constant([[0.5, -1.0, 0.3, 0.2, -0.4], [-2.0, 0.0, -1.0, 0.8, 0.0]])
    z, log_q = post.sample(params)
    estimate = bound.kl_divergence([tf.zeros_like(log_q), z, log_q]).numpy()
    # Independent estimate: TFP distribution objects, 200k fresh draws.
    q, p = post.distribution(params), prior.distribution()
    draws = q.sample(200_000, seed=7)  # [n, 2, d]
    diff = (q.log_prob(draws) - p.log_prob(draws)).numpy()
    reference, stderr = diff.mean(0), diff.std(0) / np.sqrt(20_000)
    assert np.all(np.abs(estimate - reference) < 4 * stderr + 1e-3), (estimate, reference)


# ------------------------------------------------------------------- image likelihoods
def test_discretized_logistic_is_a_distribution_over_the_bins():
    k = 17
    layer = kp.distributions.DiscretizedLogistic((3,), num_bins=k)
    params = tf.constant([[0.1, -0.3, 0.6, 0.0, -2.0, 1.0]])
    dist = layer.make_distribution(params)
    inner = dist.distribution  # scalar events, batch [1, 3]
    bins = np.arange(k, dtype="float32")[:, None, None] * np.ones((1, 1, 3), "float32")
    probs = np.exp(inner.log_prob(bins).numpy())  # [k, 1, 3]
    np.testing.assert_allclose(probs.sum(0), 1.0, rtol=1e-5)
    # Independent computation in float64 from the logistic CDF.
    loc = 0.5 + np.array([0.1, -0.3, 0.6])
    scale = (np.log1p(np.exp([0.0, -2.0, 1.0])) + 1e-5) / 4
    edges = (np.arange(1, k) - 0.5) / (k - 1)
    cdf = 1 / (1 + np.exp(-(edges[:, None] - loc) / scale))
    cdf = np.concatenate([np.zeros((1, 3)), cdf, np.ones((1, 3))])
    np.testing.assert_allclose(probs[:, 0], np.diff(cdf, axis=0), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(dist.mean()[0], (np.diff(cdf, axis=0) * np.arange(k)[:, None])
                               .sum(0), rtol=1e-5)
    draws = dist.sample(2000, seed=1).numpy()
    assert set(np.unique(draws)) <= set(range(k))
    np.testing.assert_allclose(draws.mean(0)[0], dist.mean()[0], atol=0.4)


def test_pixel_categorical_matches_a_softmax_over_bins():
    layer = kp.distributions.PixelCategorical((2, 3), num_bins=4)
    params = np.random.default_rng(0).normal(size=(2, 24)).astype("float32")
    x = np.array([[[0, 1, 2], [3, 0, 1]], [[2, 2, 3], [1, 0, 0]]], "float32")
    logits = params.reshape(2, 4, 2, 3).transpose(0, 2, 3, 1)  # bin blocks -> last axis
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = np.take_along_axis(log_p, x[..., None].astype(int), -1).sum(axis=(1, 2, 3))
    dist = layer.make_distribution(params)
    np.testing.assert_allclose(dist.log_prob(x), expected, rtol=1e-5)
    np.testing.assert_allclose(dist.mean(), (np.exp(log_p) * np.arange(4)).sum(-1), rtol=1e-5)


def test_fixed_scale_normal_log_prob():
    layer = kp.distributions.IndependentNormalFixedScale((2,), scale=0.5)
    loc = np.array([[0.2, -1.0]], "float32")
    x = np.array([[0.0, 0.0]], "float32")
    expected = (-0.5 * ((x - loc) / 0.5) ** 2 - np.log(0.5 * np.sqrt(2 * np.pi))).sum()
    np.testing.assert_allclose(layer.make_distribution(loc).log_prob(x), [expected], rtol=1e-6)


# --------------------------------------------------------------------------- precision
@pytest.mark.parametrize("flags, expected", [
    ("fpu avx2 avx512f avx512_bf16 fma", False),  # slower than float32 without AMX
    ("fpu avx2 amx_tile amx_bf16", True),
    ("fpu avx2 avx512f avx512_vnni", False),
])
def test_cpu_bfloat16_detection_reads_the_cpu_flags(tmp_path, flags, expected):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    assert kp.dtypes.cpu_has_bfloat16(str(cpuinfo)) is expected
    assert kp.dtypes.cpu_has_bfloat16(str(tmp_path / "missing")) is False


def test_precision_names_are_checked():
    assert kp.dtypes.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    expected = "mixed_bfloat16" if kp.dtypes.cpu_has_bfloat16() else "float32"
    assert kp.dtypes.resolve_precision("auto") == expected
    with pytest.raises(ValueError, match="precision.*Received: precision='float16'"):
        zoo.VAE(input_shape=(8, 8), encoder="conv", precision="float16")
    # one meaning across the zoo: the dtype policy a model is built in, each model its subset
    for model in (zoo.SVGPRegressor, zoo.GaussianNaiveBayes, zoo.PolyaGammaLogisticRegression):
        with pytest.raises(ValueError,
                           match=r"precision must be one of .*float64.*Received: precision='auto'"):
            model(precision="auto")
        assert model(precision="float32").precision == "float32"


def test_mixed_bfloat16_reaches_every_convolution():
    vae = zoo.VAE(input_shape=(8, 8), encoder="conv", precision="mixed_bfloat16")
    convs = [layer for net in (vae.encoder_network, vae.decoder_network)
             for layer in net._flatten_layers() if isinstance(layer, tf_keras.layers.Conv2D)]
    assert len(convs) == 7
    assert {layer.compute_dtype for layer in convs} == {"bfloat16"}
    assert {layer.variable_dtype for layer in convs} == {"float32"}
    assert vae.decoder_network(np.zeros((2, 2), "float32")).dtype == tf.float32
    assert vae.get_config()["precision"] == "mixed_bfloat16"


# ------------------------------------------------------------------------------ models
VARIANTS = {
    "dense-diag": {},
    "dense-tril": {"posterior": "tril"},
    "conv-tril": {"encoder": "conv", "posterior": "tril"},
    "conv-bf16": {"encoder": "conv", "precision": "mixed_bfloat16"},
    "conv-float32": {"encoder": "conv", "precision": "float32"},
    "gaussian": {"likelihood": "gaussian"},
    "gaussian-fixed": {"likelihood": "gaussian", "likelihood_scale": 0.3},
    "logistic": {"likelihood": "logistic", "num_bins": 17},
    "categorical": {"likelihood": "categorical", "num_bins": 17},
    "mixture-prior": {"prior": "mixture", "num_components": 4},
    "iwae": {"num_samples": 5},
    "iaf": {"posterior_flow": "iaf"},
    "beta": {"kl_weight": 0.5},
}


def _data(digits, kwargs, n=384):
    x = digits[0][:n]
    return x if kwargs.get("likelihood") in ("logistic", "categorical") else x / 16.0


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_trains_and_round_trips(name, digits, tmp_path):
    kwargs = VARIANTS[name]
    x = _data(digits, kwargs)
    tf_keras.utils.set_random_seed(0)
    vae = zoo.VAE(input_shape=(8, 8), latent_dim=2, hidden_units=[64], learning_rate=3e-3,
                  **kwargs)
    history = vae.fit(x, epochs=4, batch_size=64, verbose=0).history["loss"]
    assert history[-1] < history[0] - 1.0, history  # the negative bound falls
    path = str(tmp_path / f"{name}.keras")
    vae.save(path)
    loaded = zoo.load(path)
    assert type(loaded) is zoo.VAE and loaded.get_config() == vae.get_config()
    xb = x[:16]
    np.testing.assert_allclose(loaded.encode(xb).mean(), vae.encode(xb).mean(), rtol=1e-6)
    z = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    np.testing.assert_allclose(loaded.decode(z).mean(), vae.decode(z).mean(), rtol=1e-5,
                               atol=1e-6)
    results = []
    for model in (vae, loaded):
        tf.random.set_seed(5)
        results.append(model.evaluate(xb, verbose=0, return_dict=True))
    for key, value in results[0].items():
        np.testing.assert_allclose(results[1][key], value, rtol=1e-5)
    np.testing.assert_allclose(loaded.prior_distribution().log_prob(z),
                               vae.prior_distribution().log_prob(z), rtol=1e-6)


def test_iwae_log_likelihood_rises_with_k(digits, tmp_path):
    x = digits[0][:600] / 16.0
    tf_keras.utils.set_random_seed(1)
    vae = zoo.VAE(input_shape=(8, 8), latent_dim=2, hidden_units=[64], learning_rate=3e-3)
    vae.fit(x, epochs=5, batch_size=64, verbose=0)
    ll = {k: vae.log_likelihood(x[:200], num_samples=k, seed=2).mean() for k in (1, 10, 100)}
    assert ll[1] < ll[10] < ll[100], ll
    # k = 1 is the ELBO: its mean is close to the model's (unweighted) negative loss.
    elbo = -vae.evaluate(x[:200], verbose=0, return_dict=True)["loss"]
    assert abs(ll[1] - elbo) < 1.0, (ll[1], elbo)
    # The estimate is the same after a save / load (under the same seed).
    vae.save(str(tmp_path / "v.keras"))
    loaded = zoo.load(str(tmp_path / "v.keras"))
    np.testing.assert_allclose(loaded.log_likelihood(x[:50], num_samples=20, seed=4),
                               vae.log_likelihood(x[:50], num_samples=20, seed=4), rtol=1e-5)


def test_iwae_training_bound_is_at_least_the_elbo(digits):
    x = digits[0][:256] / 16.0
    tf_keras.utils.set_random_seed(2)
    vae = zoo.VAE(input_shape=(8, 8), latent_dim=2, hidden_units=[64], num_samples=20)
    tf.random.set_seed(0)
    neg_iwae = vae.evaluate(x, verbose=0, return_dict=True)["loss"]
    neg_elbo = -vae.log_likelihood(x, num_samples=1).mean()  # ELBO of the same weights
    assert neg_iwae <= neg_elbo + 0.05, (neg_iwae, neg_elbo)


def test_kl_annealing_drives_the_bound_weight(digits):
    x = digits[0][:128] / 16.0
    vae = zoo.VAE(input_shape=(8, 8), latent_dim=2, hidden_units=[16], posterior="tril")
    history = vae.fit(x, epochs=3, batch_size=64, verbose=0,
                      callbacks=[KLAnnealing(warmup_epochs=2)]).history
    assert history["kl_weight"][-1] == pytest.approx(1.0)
    assert vae.kl.weight == pytest.approx(1.0)


def test_conditional_vae_samples_carry_their_label(digits):
    x, y = digits[0] / 16.0, digits[1]
    tf_keras.utils.set_random_seed(0)
    cvae = zoo.ConditionalVAE(input_shape=(8, 8), num_classes=10, latent_dim=2,
                              hidden_units=[128], learning_rate=3e-3)
    cvae.fit(x, y, epochs=15, batch_size=64, verbose=0)
    # A classifier trained on the data: nearest class mean (about 90% on the digits).
    means = np.stack([x[y == c].reshape(-1, 64).mean(0) for c in range(10)])

    def classify(images):
        flat = images.reshape(len(images), 64)
        return np.argmin(((flat[:, None] - means[None]) ** 2).sum(-1), axis=1)

    assert (classify(x) == y).mean() > 0.85
    labels = np.repeat(np.arange(10), 20)
    samples = cvae.sample(len(labels), labels, seed=1)
    agreement = (classify(samples) == labels).mean()
    assert agreement > 0.6, agreement  # chance is 0.1
    assert cvae.predict((x[:5], y[:5]), verbose=0).shape == (5, 8, 8)
    pairs = tf.data.Dataset.from_tensor_slices((x[:5], y[:5])).batch(2)  # z is drawn
    assert cvae.predict(pairs, verbose=0).shape == (5, 8, 8)
    assert cvae.log_likelihood(x[:5], y[:5], num_samples=5).shape == (5,)


def test_conditional_vae_round_trips(digits, tmp_path):
    x, y = digits[0][:64] / 16.0, digits[1][:64]
    cvae = zoo.ConditionalVAE(input_shape=(8, 8), num_classes=10, encoder="conv",
                              posterior="tril", prior="mixture", num_components=3)
    cvae.fit(x, y, epochs=1, batch_size=32, verbose=0)
    cvae.save(str(tmp_path / "c.keras"))
    loaded = zoo.load(str(tmp_path / "c.keras"))
    assert type(loaded) is zoo.ConditionalVAE
    np.testing.assert_allclose(loaded.encode(x[:8], y[:8]).mean(),
                               cvae.encode(x[:8], y[:8]).mean(), rtol=1e-6)
    z = np.zeros((3, 2), "float32")
    np.testing.assert_allclose(loaded.decode(z, 4).mean(), cvae.decode(z, 4).mean(),
                               rtol=1e-5, atol=1e-6)
    samples = cvae.sample(4, 2, seed=3)
    np.testing.assert_array_equal(cvae.sample(4, 2, seed=3), samples)
    np.testing.assert_allclose(loaded.sample(4, 2, seed=3), samples, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(loaded.sample(4, 2, seed=3, mean=False),
                                  cvae.sample(4, 2, seed=3, mean=False))
    assert not np.allclose(cvae.sample(4, 2, seed=4), samples)


@pytest.mark.parametrize("likelihood, num_bins, encoder", [
    ("bernoulli", 256, "dense"), ("gaussian", 256, "conv"), ("logistic", 256, "dense"),
    ("categorical", 17, "conv"),
])
def test_encoder_sees_integer_data_on_the_unit_interval(likelihood, num_bins, encoder):
    # Integer decoders score x in 0..K-1; their encoder gets x / (K - 1). Others get x.
    vae = zoo.VAE(input_shape=(8, 8), likelihood=likelihood, num_bins=num_bins,
                  encoder=encoder, hidden_units=[8])
    x = np.random.default_rng(0).integers(0, num_bins, size=(3, 8, 8)).astype("float32")
    scale = num_bins - 1 if likelihood in ("logistic", "categorical") else 1
    if likelihood == "bernoulli":
        x = (x > num_bins // 2).astype("float32")
    net = vae.encoder_network
    expected = net(x / scale) if encoder == "conv" else net(x.reshape(3, 64) / scale)
    np.testing.assert_allclose(vae.encode(x).mean(), expected[:, :2], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"likelihood": "categorical"},
                                    {"likelihood": "logistic", "prior": "mixture"}])
def test_dense_vae_trains_on_8_bit_images(digits, kwargs):
    x = np.round(digits[0][:600] / 16 * 255).astype("uint8")
    tf_keras.utils.set_random_seed(0)
    vae = zoo.VAE(input_shape=(8, 8), hidden_units=[64], **kwargs)
    loss = vae.fit(x, epochs=5, batch_size=50, verbose=0).history["loss"]
    assert len(loss) == 5 and np.all(np.isfinite(loss)), loss
    assert loss[-1] < loss[0] - 10.0, loss
    # Below the uniform distribution over 256 values per pixel: 64 log 256 = 354.9 nats.
    assert loss[-1] < 64 * np.log(256) - 50.0, loss


@pytest.mark.parametrize("kwargs", [
    {}, {"prior": "mixture", "num_components": 3, "likelihood": "categorical", "num_bins": 17},
])
def test_sample_with_a_seed_is_reproducible(kwargs, tmp_path):
    vae = zoo.VAE(input_shape=(4, 4), latent_dim=2, hidden_units=[8], **kwargs)
    vae.save(str(tmp_path / "v.keras"))
    loaded = zoo.load(str(tmp_path / "v.keras"))
    for mean in (True, False):
        first = vae.sample(5, seed=1, mean=mean)
        np.testing.assert_array_equal(vae.sample(5, seed=1, mean=mean), first)
        np.testing.assert_allclose(loaded.sample(5, seed=1, mean=mean), first, rtol=1e-6)
    assert not np.allclose(vae.sample(5, seed=2), vae.sample(5, seed=1))


# ---------------------------------------------------------------------------- bad input
def test_bad_input_is_refused_before_training(digits):
    x = digits[0][:32] / 16.0
    vae = zoo.VAE(input_shape=(8, 8), hidden_units=[8], input_max=1.0)
    with pytest.raises(ValueError, match=r"x must have shape \[batch, 8, 8\].*\(32, 8, 7\)"):
        vae.fit(x[:, :, :7], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\].*\[0, 16\]"):
        vae.fit(x * 16, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"validation_x must lie in \[0, 1\]"):
        vae.fit(x, epochs=1, verbose=0, validation_data=x * 2)
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
        vae.log_likelihood(x - 1)
    logistic = zoo.VAE(input_shape=(8, 8), hidden_units=[8], likelihood="logistic",
                       num_bins=17)
    with pytest.raises(ValueError, match=r"integers in \[0, 16\].*not all integers"):
        logistic.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="encoder='conv' needs images.*input_shape=\\(64,\\)"):
        zoo.VAE(input_shape=(64,), encoder="conv")
    with pytest.raises(ValueError, match="posterior must be one of.*posterior='full'"):
        zoo.VAE(posterior="full")
    with pytest.raises(ValueError, match="prior must be one of.*prior='vamp'"):
        zoo.VAE(prior="vamp")
    cvae = zoo.ConditionalVAE(input_shape=(8, 8), num_classes=10, hidden_units=[8])
    labels = digits[1][:32].copy()
    labels[3] = 10
    with pytest.raises(ValueError, match=r"y must hold class labels in \[0, 9\].*\[10\]"):
        cvae.fit(x, labels, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"labels in \[0, 9\].*\[-1\]"):
        cvae.sample(3, y=-1)
    with pytest.raises(ValueError, match="needs labels.*y=None"):
        cvae.fit(x, epochs=1, verbose=0)


@pytest.mark.slow
def test_seed_001_conv_vae_fits_the_flow_images():
    x_train, x_val = zoo.datasets.load_flow_images()
    tf_keras.utils.set_random_seed(0)
    vae = zoo.VAE(input_shape=(36, 36, 3), encoder="conv", posterior="tril",
                  learning_rate=5e-4)
    history = vae.fit(x_train, epochs=3, batch_size=20, validation_data=x_val,
                      verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    assert vae.reconstruct(x_val[:4]).shape == (4, 36, 36, 3)
    assert vae.sample(3).shape == (3, 36, 36, 3)
