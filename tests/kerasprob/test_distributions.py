"""Distribution-output layers against hand-written densities, and save/load."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

import kerasprob as kp

D = kp.distributions
rng = np.random.default_rng(0)


def softplus(x):
    return np.log1p(np.exp(x))


def normal_logpdf(x, loc, scale):
    return -0.5 * ((x - loc) / scale) ** 2 - np.log(scale) - 0.5 * np.log(2 * np.pi)


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def test_independent_normal_log_prob():
    params = rng.normal(size=(4, 12)).astype("float32")
    x = rng.normal(size=(4, 2, 3)).astype("float32")
    got = D.IndependentNormal((2, 3))(params).log_prob(x).numpy()
    loc, raw = params[:, :6].reshape(4, 2, 3), params[:, 6:].reshape(4, 2, 3)
    expected = normal_logpdf(x, loc, softplus(raw) + 1e-5).sum((1, 2))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_multivariate_normal_tril_log_prob_and_covariance():
    n = 3
    params = rng.normal(size=(2, D.MultivariateNormalTriL.params_size(n))).astype("float32")
    dist = D.MultivariateNormalTriL(n)(params)
    x = rng.normal(size=(2, n)).astype("float32")
    scale = dist.scale.to_dense().numpy()
    assert np.allclose(scale, np.tril(scale)) and (np.diagonal(scale, axis1=1, axis2=2) > 0).all()
    for i in range(2):
        cov = scale[i] @ scale[i].T
        diff = x[i] - params[i, :n]
        expected = -0.5 * (
            diff @ np.linalg.solve(cov, diff) + np.linalg.slogdet(cov)[1] + n * np.log(2 * np.pi)
        )
        np.testing.assert_allclose(dist.log_prob(x).numpy()[i], expected, rtol=1e-4)
    assert D.MultivariateNormalTriL.params_size(n) == 9


def test_independent_bernoulli_is_binary_cross_entropy():
    logits = rng.normal(size=(3, 4)).astype("float32")
    x = rng.uniform(size=(3, 2, 2)).astype("float32")  # fractional data: continuous BCE
    p = 1 / (1 + np.exp(-logits.reshape(3, 2, 2)))
    expected = (x * np.log(p) + (1 - x) * np.log(1 - p)).sum((1, 2))
    got = D.IndependentBernoulli((2, 2))(logits).log_prob(x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_logit_bernoulli_matches_tfp_bernoulli_in_value_and_gradient():
    logits = tf.constant(4.0 * rng.normal(size=(200,)).astype("float32"))
    x = np.concatenate([rng.uniform(size=100), rng.integers(0, 2, size=100)]).astype("float32")
    values = []
    for cls in (kp.math.distributions.LogitBernoulli, tfp.distributions.Bernoulli):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            log_p = cls(logits=logits, dtype=tf.float32).log_prob(x)
        values.append((log_p, tape.gradient(log_p, logits)))
    (ours, ours_grad), (tfp_value, tfp_grad) = values
    np.testing.assert_allclose(ours, tfp_value, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours_grad, tfp_grad, rtol=1e-5, atol=1e-5)


def test_categoricals():
    logits = rng.normal(size=(5, 4)).astype("float32")
    labels = np.array([0, 3, 1, 2, 3])
    np.testing.assert_allclose(
        D.Categorical(4)(logits).log_prob(labels).numpy(),
        log_softmax(logits)[np.arange(5), labels], rtol=1e-5,
    )
    one_hot = np.eye(4, dtype="float32")[labels]
    np.testing.assert_allclose(
        D.OneHotCategorical(4)(logits).log_prob(one_hot).numpy(),
        log_softmax(logits)[np.arange(5), labels], rtol=1e-5,
    )
    mode = D.OneHotCategorical(4, "mode")(logits)
    np.testing.assert_array_equal(tf.convert_to_tensor(mode).numpy().argmax(-1), logits.argmax(-1))


def test_mixture_normal_log_prob_and_mean():
    k, d = 3, 2
    params = rng.normal(size=(4, D.MixtureNormal.params_size(k, d))).astype("float32")
    dist = D.MixtureNormal(k, d, "mean")(params)
    x = rng.normal(size=(4, d)).astype("float32")
    logits = params[:, :k]
    loc = params[:, k : k + k * d].reshape(4, k, d)
    scale = softplus(params[:, k + k * d :].reshape(4, k, d)) + 1e-5
    comp = normal_logpdf(x[:, None], loc, scale).sum(-1) + log_softmax(logits)
    expected = np.log(np.exp(comp).sum(-1))
    np.testing.assert_allclose(dist.log_prob(x).numpy(), expected, rtol=1e-5)
    weights = np.exp(log_softmax(logits))
    mean = tf.convert_to_tensor(dist).numpy()
    np.testing.assert_allclose(mean, (weights[..., None] * loc).sum(1), rtol=1e-5)


def test_conversion_by_name():
    params = np.zeros((2, 4), "float32")
    assert np.allclose(tf.convert_to_tensor(D.IndependentNormal(2, "mean")(params)), 0.0)
    with pytest.raises(ValueError, match="convert_to_tensor_fn must be one of"):
        D.MixtureNormal(2, 2, "mode")
    with pytest.raises(ValueError, match="convert_to_tensor_fn=.*'median'"):
        D.IndependentNormal(2, "median")


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: D.IndependentNormal(0), "event_shape must contain only positive integers"),
        (lambda: D.MultivariateNormalTriL(-2), "event_size must be a positive integer. "
         "Received: event_size=-2"),
        (lambda: D.MixtureNormal(0, 2), "num_components=0"),
        (lambda: D.OneHotCategorical(2.5), "event_size=2.5"),
        (lambda: D.IndependentBernoulli(()), "event_shape must be a positive int"),
    ],
)
def test_bad_sizes_fail_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


LAYERS = {
    "IndependentNormal": ("D.IndependentNormal(3)", 6, "rng.normal(size=(4, 3))"),
    "MultivariateNormalTriL": ("D.MultivariateNormalTriL(3)", 9, "rng.normal(size=(4, 3))"),
    "IndependentBernoulli": ("D.IndependentBernoulli(3)", 3, "rng.uniform(size=(4, 3))"),
    "OneHotCategorical": ("D.OneHotCategorical(3)", 3, "np.eye(3)[[0, 1, 2, 0]]"),
    "Categorical": ("D.Categorical(3)", 3, "np.array([0, 1, 2, 1])"),
    "MixtureNormal": ("D.MixtureNormal(2, 3)", 14, "rng.normal(size=(4, 3))"),
}


def test_each_layer_reloads_in_a_new_process_without_custom_objects(tmp_path):
    """A model using each layer saves as .keras; a fresh interpreter reloads it by name."""
    script = textwrap.dedent(
        """
        import sys, numpy as np, tf_keras, kerasprob
        for name in sys.argv[1:]:
            model = tf_keras.models.load_model(name + ".keras")
            data = np.load(name + ".npz")
            np.save(name + ".npy", model(data["x"]).log_prob(data["y"]).numpy())
        """
    )
    (tmp_path / "load.py").write_text(script)
    expected = {}
    for name, (make, size, target) in LAYERS.items():
        inputs = tf_keras.Input((2,))
        params = tf_keras.layers.Dense(size)(inputs)
        model = tf_keras.Model(inputs, eval(make)(params))
        model.compile("adam", loss=kp.losses.NegativeLogLikelihood())
        x = rng.normal(size=(4, 2)).astype("float32")
        y = np.asarray(eval(target)).astype("float32")
        model.fit(x, y, epochs=1, verbose=0)
        model.save(str(tmp_path / f"{name}.keras"))
        np.savez(tmp_path / f"{name}.npz", x=x, y=y)
        expected[name] = model(x).log_prob(y).numpy()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, "load.py", *LAYERS], check=True, env=env, cwd=str(tmp_path))
    for name, value in expected.items():
        np.testing.assert_allclose(np.load(tmp_path / f"{name}.npy"), value, rtol=1e-6,
                                   err_msg=name)


def test_params_size_takes_the_constructor_arguments():
    import inspect

    for name in D.__all__:
        cls = getattr(D, name)
        if cls is D.DistributionLayer:
            continue
        init = [p for p in inspect.signature(cls.__init__).parameters
                if p not in ("self", "convert_to_tensor_fn", "kwargs")]
        assert list(inspect.signature(cls.params_size).parameters) == init, name
