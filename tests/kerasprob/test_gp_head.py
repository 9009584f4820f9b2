"""A GP head in a user's Keras model (Dense features -> SVGP -> LikelihoodLayer): trains
through fit (Adam or natural gradients), and its ModelCheckpoint file reloads compiled in a
fresh process with equal predictions and noise variance."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from kerasprob.layers import gp
from kerasprob.losses import NegativeExpectedLogLikelihood
from kerasprob.optimizers import NaturalGradient

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
X = np.linspace(-2, 2, 60)[:, None]
Y = np.sin(2 * X) + 0.1 * np.random.default_rng(0).normal(size=X.shape)


def _model(likelihood, num_latent_gps=1):
    inputs = tf_keras.Input((1,), dtype="float64")
    features = tf_keras.layers.Dense(2, activation="tanh", dtype="float64")(inputs)
    layer = gp.SVGP("rbf", num_inducing=8, input_dim=2, num_data=len(X), dtype="float64",
                    num_latent_gps=num_latent_gps)
    return tf_keras.Model(inputs, gp.LikelihoodLayer(likelihood)(layer(features))), layer


def test_the_loss_is_the_negative_elbo_per_example():
    model, layer = _model(gp.Gaussian(0.3, dtype="float64"))
    model.compile(tf_keras.optimizers.Adam(0.01), loss=NegativeExpectedLogLikelihood())
    layer.assign_variational(np.full((8, 1), 0.2), 0.5 * np.eye(8))
    features = model.layers[1](X)
    mean, var = layer.predict_f(features)
    lik = model.layers[-1].likelihood
    expected = (-np.mean(lik.expected_log_likelihood(Y, mean, var))
                + layer.prior_kl().numpy() / len(X))
    loss = model.evaluate(X, Y, batch_size=len(X), verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(expected, rel=1e-6)  # Keras logs the loss in float32
    predictive = model(X)  # the predictive of y*: Gaussian, var_f + sigma^2
    np.testing.assert_allclose(predictive.variance(), var + 0.3, rtol=1e-10)
    np.testing.assert_allclose(predictive.log_prob(Y), -0.5 * np.log(
        2 * np.pi * (var[:, 0] + 0.3)) - 0.5 * (Y[:, 0] - mean[:, 0]) ** 2 / (var[:, 0] + 0.3),
        rtol=1e-10)


def test_a_bernoulli_head_trains_a_classifier():
    labels = (X[:, 0] > 0).astype("float64")[:, None]
    model, _ = _model(gp.Bernoulli(dtype="float64"))
    model.compile(NaturalGradient(0.1, learning_rate=0.01),
                  loss=NegativeExpectedLogLikelihood())
    history = model.fit(X, labels, batch_size=30, epochs=15, verbose=0).history["loss"]
    assert history[-1] < history[0] - 0.2
    assert np.mean((model.predict(X, verbose=0)[:, 0] > 0.5) == labels[:, 0]) > 0.9


def test_a_model_without_a_likelihood_head_is_refused_by_the_loss():
    inputs = tf_keras.Input((1,), dtype="float64")
    model = tf_keras.Model(inputs, tf_keras.layers.Dense(1, dtype="float64")(inputs))
    model.compile("adam", loss=NegativeExpectedLogLikelihood())
    with pytest.raises(TypeError, match="LikelihoodLayer"):
        model.fit(X, Y, epochs=1, verbose=0)


def test_the_likelihood_layer_refuses_a_non_likelihood():
    with pytest.raises(TypeError, match="likelihood must be"):
        gp.LikelihoodLayer(tf_keras.layers.Dense(1))


RELOAD = textwrap.dedent('''
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np, tf_keras
    import kerasprob  # registers the package's classes; nothing else is passed to load
    model = tf_keras.models.load_model(sys.argv[1])
    x = np.linspace(-2, 2, 60)[:, None]
    lik = model.layers[-1].likelihood
    out = {"mean": model.predict(x, verbose=0).tolist(), "noise": float(lik.variance),
           "optimizer": type(model.optimizer).__name__,
           "loss": model.evaluate(x, np.sin(2 * x), batch_size=60, verbose=0,
                                  return_dict=True)["loss"]}
    print(json.dumps(out))
''')


@pytest.mark.slow
def test_a_checkpointed_functional_gp_reloads_compiled_in_a_fresh_process(tmp_path):
    model, _ = _model(gp.Gaussian(0.5, dtype="float64"))
    model.compile(NaturalGradient(0.5, learning_rate=0.02), loss=NegativeExpectedLogLikelihood())
    path = str(tmp_path / "gp.keras")
    model.fit(X, Y, batch_size=20, epochs=5, verbose=0,
              callbacks=[tf_keras.callbacks.ModelCheckpoint(path)])
    result = subprocess.run([sys.executable, "-c", RELOAD, path], capture_output=True,
                            text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(loaded["mean"], model.predict(X, verbose=0), rtol=1e-10)
    assert loaded["noise"] == pytest.approx(float(model.layers[-1].likelihood.variance),
                                            rel=1e-12)
    assert loaded["noise"] != 0.5  # trained, and saved
    assert loaded["optimizer"] == "NaturalGradient"
    assert loaded["loss"] == pytest.approx(model.evaluate(
        X, np.sin(2 * X), batch_size=60, verbose=0, return_dict=True)["loss"], rel=1e-10)


def test_a_reloaded_model_resumes_training_on_the_same_trajectory(tmp_path):
    def make():
        tf_keras.utils.set_random_seed(1)
        m, _ = _model(gp.Gaussian(0.5, dtype="float64"))
        m.compile(NaturalGradient(0.5, learning_rate=0.02),
                  loss=NegativeExpectedLogLikelihood())
        return m

    straight = make()
    straight.fit(X, Y, batch_size=20, epochs=4, shuffle=False, verbose=0)
    first = make()
    first.fit(X, Y, batch_size=20, epochs=2, shuffle=False, verbose=0)
    first.save(tmp_path / "m.keras")
    resumed = tf_keras.models.load_model(tmp_path / "m.keras")
    resumed.fit(X, Y, batch_size=20, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-8, atol=1e-12)
    assert isinstance(tf.convert_to_tensor(resumed(X)), tf.Tensor)
