"""The flow contract, parametrized over every bijector layer and every zoo flow.

For each case: ``inverse(forward(x)) == x``; the forward log-determinant equals
``log|det|`` of the autodiff Jacobian; ``fldj == -ildj``; gradients of the
negative log-likelihood reach every weight; samples agree with ``log_prob``
(on a 2-D grid the density integrates to 1 and its mean equals the sample
mean); save/load (``.keras``) gives equal ``log_prob``.
"""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import zoo
from kerasprob.layers import flows as F
from tests.cases.flows import LAYER_CASES, LAYER_CLASSES, ZOO_FLOWS

CASE_IDS = list(LAYER_CASES) + [f"zoo.{name}" for name in ZOO_FLOWS]


def _perturb(weights, seed, scale=0.15):
    rng = np.random.default_rng(seed)
    for w in weights:
        w.assign(w.numpy() + scale * rng.normal(size=w.shape).astype("float32"))


class Case:
    """A flow under test: a ``Flow`` layer (one bijector, or a zoo model's stack) and a context."""

    def __init__(self, case_id, event_dim, seed=0):
        self.model = None
        if case_id.startswith("zoo."):
            cls = zoo.get(case_id[4:])
            kwargs, _, _ = cls.example()
            kwargs = {**kwargs, "input_shape": (event_dim,), "context_dim": 2}
            if kwargs.get("mask") == "half" and event_dim % 2:
                kwargs["mask"] = "alternating"
            self.model = cls(**kwargs)
            self.flow = self.model.flow
            self.context_dim = 2
        else:
            factory, self.context_dim = LAYER_CASES[case_id]
            self.flow = F.Flow([factory()])
        self.event_dim = event_dim
        shape = tf.TensorShape([None, event_dim])
        self.flow.build([shape, tf.TensorShape([None, self.context_dim])] if self.context_dim
                        else shape)
        _perturb(self.flow.trainable_weights, seed)
        self.tanh = case_id == "Tanh"

    def context(self, n, seed=1):
        if not self.context_dim:
            return None
        rng = np.random.default_rng(seed)
        return rng.normal(size=(n, self.context_dim)).astype("float32")

    def data(self, n, seed=2):
        x = np.random.default_rng(seed).normal(size=(n, self.event_dim)).astype("float32")
        return np.tanh(x) if self.tanh else x

    def forward(self, z, c):
        total = 0.0
        for layer in reversed(self.flow.bijector_layers):
            z, log_det = layer.forward_and_log_det(z, c)
            total = total + log_det
        return z, total

    def inverse(self, x, c):
        total = 0.0
        for layer in self.flow.bijector_layers:
            x, log_det = layer.inverse_and_log_det(x, c)
            total = total + log_det
        return x, total


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_bijection_and_log_det(case_id):
    case = Case(case_id, event_dim=4)
    c = case.context(16)
    z = tf.constant(case.data(16))
    # Tanh's forward input is unconstrained; its data are the inverse's inputs.
    if case.tanh:
        z = tf.constant(np.arctanh(case.data(16)))
    with tf.GradientTape() as tape:
        tape.watch(z)
        x, fldj = case.forward(z, c)
    jacobian = tape.batch_jacobian(x, z)  # [n, d, d]
    autodiff = tf.linalg.slogdet(jacobian)[1]
    np.testing.assert_allclose(fldj, autodiff, atol=2e-4, rtol=1e-4)
    z_back, ildj = case.inverse(x, c)
    np.testing.assert_allclose(z_back, z, atol=2e-4, rtol=1e-4)
    np.testing.assert_allclose(ildj, -fldj, atol=2e-4, rtol=1e-4)
    # The TFP view agrees: Chain of the layers' bijectors.
    bijector = case.flow.bijector(c)
    np.testing.assert_allclose(bijector.forward(z), x, atol=1e-5)
    np.testing.assert_allclose(bijector.inverse_log_det_jacobian(x, event_ndims=1), ildj,
                               atol=1e-4)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_gradients_reach_every_weight(case_id):
    case = Case(case_id, event_dim=4)
    x, c = case.data(32), case.context(32)
    weights = case.flow.trainable_weights
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(case.flow.log_prob(x, c, training=True))
    grads = tape.gradient(loss, weights)
    dead = [w.name for w, g in zip(weights, grads)
            if g is None or not np.any(np.asarray(g)) or not np.all(np.isfinite(g))]
    assert not dead, f"no (finite, nonzero) gradient reaches {dead}"


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_samples_agree_with_log_prob(case_id):
    """On a 2-D grid the density integrates to 1 and has the samples' mean."""
    case = Case(case_id, event_dim=2, seed=3)
    c0 = case.context(1)
    n = 20000
    samples = np.asarray(case.flow.sample(n, c0, seed=7)).reshape(n, 2)
    assert np.all(np.isfinite(samples))
    low = np.quantile(samples, 0.0005, axis=0) - 1.0
    high = np.quantile(samples, 0.9995, axis=0) + 1.0
    if case.tanh:
        low, high = np.full(2, -1.0), np.full(2, 1.0)
    m = 300
    axes = [np.linspace(low[i], high[i], m + 1) for i in range(2)]
    mids = [(a[1:] + a[:-1]) / 2 for a in axes]
    g1, g2 = np.meshgrid(*mids, indexing="ij")
    grid = np.stack([g1.ravel(), g2.ravel()], -1).astype("float32")
    c = None if c0 is None else np.repeat(c0, len(grid), axis=0)
    density = np.exp(np.asarray(case.flow.log_prob(grid, c), np.float64))
    cell = (axes[0][1] - axes[0][0]) * (axes[1][1] - axes[1][0])
    mass = density.sum() * cell
    assert abs(mass - 1.0) < 0.02, f"density integrates to {mass}"
    grid_mean = (density[:, None] * grid).sum(0) * cell / mass
    tolerance = 5 * samples.std(0) / np.sqrt(n) + 0.01
    np.testing.assert_array_less(np.abs(grid_mean - samples.mean(0)), tolerance)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_save_load_equal_log_prob(case_id, tmp_path):
    case = Case(case_id, event_dim=2)
    x, c = case.data(8), case.context(8)
    path = str(tmp_path / "flow.keras")
    if case.model is not None:
        before = case.model.log_prob(x, c)
        c0 = None if c is None else c[0]
        draws = case.model.sample(4, c0, seed=5)
        np.testing.assert_array_equal(case.model.sample(4, c0, seed=5), draws)
        case.model.save(path)
        loaded = zoo.load(path)
        after = loaded.log_prob(x, c)
        np.testing.assert_allclose(loaded.sample(4, c0, seed=5), draws, rtol=1e-5, atol=1e-5)
    else:
        x_in = tf_keras.Input((2,))
        inputs = [x_in, tf_keras.Input((case.context_dim,))] if case.context_dim else x_in
        model = tf_keras.Model(inputs, case.flow(inputs))
        values = [x, c] if case.context_dim else x
        before = model.predict(values, verbose=0)
        model.save(path)
        after = tf_keras.models.load_model(path, safe_mode=True).predict(values, verbose=0)
    assert np.all(np.isfinite(before))
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-5)


def test_every_bijector_layer_has_a_case():
    exported = {
        getattr(F, name) for name in F.__all__
        if isinstance(getattr(F, name), type) and issubclass(getattr(F, name), F.BijectorLayer)
    } - {F.BijectorLayer, F.Coupling}
    covered = {type(factory()) for factory, _ in LAYER_CASES.values()}
    assert exported <= covered, f"no contract case for {exported - covered}"
    assert set(LAYER_CLASSES) <= covered
    assert set(ZOO_FLOWS) <= set(zoo.list())


def test_conditional_flow_reads_a_dataset_of_x_c_pairs():
    """A ``tf.data.Dataset`` of ``(x, c)`` pairs feeds the context (Keras would read the pair
    as ``(x, y)``): it evaluates to the loss of the arrays, and trains."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype("float32")
    c = rng.normal(size=(64, 1)).astype("float32")
    flow = zoo.MAF(input_shape=2, context_dim=1, num_layers=1, hidden_units=[8])
    for w in flow.trainable_weights:
        w.assign(w + 0.2)
    pairs = tf.data.Dataset.from_tensor_slices((x, c)).batch(16)
    expected = -np.mean(flow.log_prob(x, c))
    np.testing.assert_allclose(flow.evaluate(pairs, verbose=0), expected, rtol=1e-5)
    history = flow.fit(pairs, epochs=2, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
