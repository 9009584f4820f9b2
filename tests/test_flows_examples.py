"""The custom bijectors of examples/custom_bijectors.py (the documented way to add one), and
the flow examples end to end (slow)."""


import numpy as np
import pytest
import tf_keras

from tests.example_scripts import load_example


@pytest.fixture(scope="module")
def custom():
    return load_example("custom_bijectors")


def test_custom_bijector_log_dets_match_autodiff(custom):
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    chol = np.linalg.cholesky([[1.0, 0.95], [0.95, 1.0]]).tolist()
    layers = [custom.Degree2Polynomial(2.5), custom.Rotation(0.7), custom.Banana(),
              custom.LowerTriangular(chol)]
    errors = custom.log_det_errors(layers, x)
    assert max(errors.values()) < 1e-5, errors


def test_custom_bijectors_train_and_save(custom, tmp_path):
    """A learnable custom bijector composes with built-in layers, trains and reloads."""
    from kerasprob.layers.flows import AffineCoupling, Flow
    from kerasprob.losses import NegativeLogLikelihood

    truth = custom.random_flow(a=3.0, theta=0.5)
    x = np.asarray(truth.sample(512, seed=0))
    inputs = tf_keras.Input((2,))
    poly = custom.Degree2Polynomial(0.0, trainable=True)
    flow = Flow([custom.Rotation(0.5), poly, AffineCoupling([8])])
    model = tf_keras.Model(inputs, flow(inputs))
    model.compile(tf_keras.optimizers.Adam(1e-2), loss=NegativeLogLikelihood())
    u = np.arctanh(np.clip(x, -0.999, 0.999))
    model.fit(u, u, epochs=2, batch_size=64, verbose=0)
    assert float(poly.coefficient.numpy()) != 0.0
    path = str(tmp_path / "custom.keras")
    model.save(path)
    reloaded = tf_keras.models.load_model(path, safe_mode=True)
    probe = np.arctanh(np.clip(x[:5], -0.999, 0.999))
    np.testing.assert_allclose(reloaded.predict(probe, verbose=0),
                               model.predict(probe, verbose=0), rtol=1e-5, atol=1e-5)


def test_seed_random_flow_matches_tfp(custom):
    """Seed 001's flow on our layers equals the seed's TFP chain, and integrates to 1."""
    module = load_example("flows_random_flow")
    g = np.linspace(-0.99, 0.99, 120)
    g1, g2 = np.meshgrid(g, g)
    grid = np.stack([g1.ravel(), g2.ravel()], -1).astype("float32")
    ours = np.asarray(custom.random_flow(2.7, 1.1).log_prob(grid))
    reference = np.asarray(module.seed_reference(2.7, 1.1).log_prob(grid))
    relevant = reference > -20
    np.testing.assert_allclose(ours[relevant], reference[relevant], atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("name, bound", [
    ("custom_bijectors", 1e-4), ("flows_sinh_arcsinh", 0.05), ("flows_banana", 0.2),
    ("flows_conditional", 0.1),
])
def test_example_runs(name, bound, tmp_path):
    out = tmp_path / f"{name}.png"
    value = load_example(name).main(["--out", str(out)])
    assert abs(value) < bound
    assert out.exists()
