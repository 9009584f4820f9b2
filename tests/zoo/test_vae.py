"""zoo.VAE: the concise Keras VAE on the embedded digits."""

import numpy as np
import pytest
import tf_keras

import zoo
from zoo.datasets import load_digits


@pytest.fixture(scope="module")
def digits():
    x, _ = load_digits()
    x = x / 16.0
    return x[:1500], x[1500:]


@pytest.fixture(scope="module")
def trained(digits):
    x_train, x_val = digits
    vae = zoo.VAE(input_shape=(8, 8), latent_dim=4, hidden_units=[128], learning_rate=3e-3)
    history = vae.fit(x_train, epochs=30, batch_size=100, validation_data=x_val, verbose=0)
    return vae, history.history


def test_negative_elbo_falls_and_kl_is_logged(trained):
    _, history = trained
    loss = np.array(history["loss"])
    assert loss[-1] < 0.8 * loss[0]
    assert np.all(np.isfinite(history["val_loss"]))
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert all(k > 0 for k in history["kl"])


def test_loss_is_reconstruction_nll_plus_kl(trained, digits):
    vae, _ = trained
    _, x_val = digits
    logs = vae.evaluate(x_val, batch_size=len(x_val), verbose=0, return_dict=True)
    # Negative ELBO = E_q[-log p(x|z)] + KL, each per example; KL is also logged alone.
    q = vae.encode(x_val)
    kl = float(np.mean(q.kl_divergence(
        type(q)(np.zeros((1, 4), "float32"), np.ones((1, 4), "float32"))
    )))
    assert logs["kl"] == pytest.approx(kl, rel=1e-4)
    assert logs["loss"] > logs["kl"]


def test_reconstructions_beat_the_mean_image(trained, digits):
    vae, _ = trained
    x_train, x_val = digits
    mean_image_error = np.mean((x_val - x_train.mean(0)) ** 2)
    reconstruction_error = np.mean((vae.reconstruct(x_val) - x_val) ** 2)
    assert reconstruction_error < 0.6 * mean_image_error


def test_encode_decode_sample_shapes(trained):
    vae, _ = trained
    x = np.random.default_rng(0).uniform(size=(3, 8, 8)).astype("float32")
    q = vae.encode(x)
    assert q.mean().shape == (3, 4) and q.stddev().shape == (3, 4)
    assert vae.decode(q.mean()).mean().shape == (3, 8, 8)
    images = vae.sample(5, seed=1)
    assert images.shape == (5, 8, 8) and (images >= 0).all() and (images <= 1).all()
    binary = vae.sample(5, seed=1, mean=False)
    assert set(np.unique(binary)) <= {0.0, 1.0}
    assert vae.predict(x, verbose=0).shape == (3, 8, 8)


def test_seeds_beyond_32_bits_are_refused_not_wrapped(trained):
    vae, _ = trained  # tf.int32 would turn 2**32 + 5 into 5 and repeat that seed's draws
    x = np.random.default_rng(0).uniform(size=(3, 8, 8)).astype("float32")
    with pytest.raises(ValueError, match=r"seed=4294967301"):
        vae.sample(3, seed=2**32 + 5)
    with pytest.raises(ValueError, match=r"seed=1099511627776"):
        vae.log_likelihood(x, num_samples=2, seed=2**40)
    np.testing.assert_array_equal(vae.sample(3, seed=2**31 - 1), vae.sample(3, seed=2**31 - 1))


def test_gaussian_likelihood_on_real_valued_data():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(512, 2))
    x = np.concatenate([z, z @ rng.normal(size=(2, 4))], axis=1).astype("float32")
    vae = zoo.VAE(input_shape=(6,), latent_dim=2, hidden_units=[32], likelihood="gaussian",
                  learning_rate=1e-2)
    history = vae.fit(x, epochs=15, batch_size=64, verbose=0).history
    assert history["loss"][-1] < history["loss"][0] - 2.0


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"latent_dim": 0}, ValueError, "latent_dim must be a positive integer. "
         "Received: latent_dim=0"),
        ({"hidden_units": [64, -1]}, ValueError, r"hidden_units must contain only positive"),
        ({"input_shape": (8, 0)}, ValueError, r"input_shape must contain only positive"),
        ({"likelihood": "poisson"}, ValueError, r"likelihood must be one of"),
        ({"learning_rate": -1e-3}, ValueError, r"learning_rate=-0.001"),
        ({"kl_weight": "one"}, TypeError, r"kl_weight must be a real number"),
        ({"likelihood_scale": 0.3}, ValueError, r"likelihood_scale is the fixed scale of "
         r"likelihood='gaussian'.*likelihood='bernoulli'\. Received: likelihood_scale=0\.3"),
        ({"likelihood_scale": 0.3, "likelihood": "logistic"}, ValueError,
         r"likelihood='logistic'\. Received: likelihood_scale=0\.3"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        zoo.VAE(input_shape=kwargs.pop("input_shape", (8, 8)), **kwargs)


def test_bernoulli_data_outside_unit_interval_is_refused():
    vae = zoo.VAE(input_shape=(8, 8), hidden_units=[8], input_max=1.0)
    x, _ = load_digits()
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\].*\[0, 16\]"):
        vae.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="input_max rescales the data of likelihood='bern"):
        zoo.VAE(likelihood="gaussian", input_max=16.0)


def test_raw_grey_levels_train_as_the_rescaled_data_would():
    """input_max is part of the model: a VAE fitted on the digits' raw 0..16 reads 16 and
    takes the same steps as one given x / 16 and input_max=1; its outputs are in raw units,
    its log-likelihood that of x / 16, and it saves and loads with it. A refused first fit
    forgets what it read."""
    x = load_digits()[0][:200].astype("float32")
    fits = []
    for data, input_max in ((x, None), (x / 16.0, 1.0)):
        tf_keras.utils.set_random_seed(0)
        vae = zoo.VAE(hidden_units=[16], input_max=input_max)
        history = vae.fit(data, epochs=2, batch_size=50, verbose=0, shuffle=False)
        fits.append((vae, history.history["loss"]))
    (raw, loss_raw), (unit, loss_unit) = fits
    assert raw.input_max == 16.0 and raw.get_config()["input_max"] == 16.0
    np.testing.assert_allclose(loss_raw, loss_unit, rtol=1e-5)
    np.testing.assert_allclose(raw.reconstruct(x[:5]), 16 * unit.reconstruct(x[:5] / 16),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(raw.sample(3, seed=1), 16 * unit.sample(3, seed=1), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(raw.log_likelihood(x[:5], 8, seed=0),
                               unit.log_likelihood(x[:5] / 16, 8, seed=0), rtol=1e-4)
    assert 0 <= raw.predict(x[:5], verbose=0).min() and raw.predict(x[:5], verbose=0).max() > 1
    fresh = zoo.VAE(hidden_units=[16])
    with pytest.raises(ValueError, match="validation_x must lie in"):
        fresh.fit(x, epochs=1, verbose=0, validation_data=-x)
    assert fresh.input_max is None


def test_input_shape_may_be_a_numpy_array():
    vae = zoo.VAE(input_shape=np.array([4, 4]), latent_dim=2, hidden_units=[8])
    assert vae.input_shape == (4, 4)
    assert all(type(d) is int for d in vae.input_shape)
    assert vae.get_config()["input_shape"] == [4, 4]


def test_search_space_leaves_out_kl_weight_and_conv_does_not_tune_hidden_units():
    import keras_tuner as kt

    # val_loss = -log p(x | z) + beta KL: tuning beta on it would always pick the smallest.
    assert "kl_weight" not in zoo.VAE.search_space
    tuned = {}
    for encoder in ("dense", "conv"):
        hp = kt.HyperParameters()
        zoo.VAE.hypermodel(input_shape=(8, 8), encoder=encoder).build(hp)
        tuned[encoder] = set(hp.values)
    assert {"hidden_units_width", "hidden_units_depth"} <= tuned["dense"]
    assert tuned["conv"] == tuned["dense"] - {"hidden_units_width", "hidden_units_depth"}
