"""kerasprob.optimizers.Adam: the fused update against tf-keras's Adam, step by step."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from kerasprob.optimizers import Adam


def _run(optimizer, steps=6, sparse=False, dtype="float32"):
    """Weights and Adam moments after ``steps`` updates with fixed pseudo-random gradients."""
    rng = np.random.default_rng(0)
    variables = [tf.Variable(rng.normal(size=(3, 4)).astype(dtype)),
                 tf.Variable(rng.normal(size=(5,)).astype(dtype))]
    for _ in range(steps):
        grads = [tf.constant(rng.normal(size=v.shape).astype(dtype)) for v in variables]
        if sparse:  # the gradient of a gather of rows 0 and 2
            grads[0] = tf.IndexedSlices(grads[0][:2], tf.constant([0, 2]), tf.constant([3, 4]))
        optimizer.apply_gradients(zip(grads, variables))
    return [v.numpy() for v in variables], [v.numpy() for v in optimizer.variables]


@pytest.mark.parametrize("kwargs", [
    {"learning_rate": 0.01},
    {"learning_rate": 0.3, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3},
    {"learning_rate": 0.01, "amsgrad": True},  # tf-keras's own update
    {"learning_rate": 0.01, "clipnorm": 0.1},
    {"learning_rate": 0.01, "weight_decay": 0.1},
    {"schedule": (0.1, 2, 0.5)},  # ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
])
def test_matches_tf_keras_adam(kwargs):
    if "schedule" in kwargs:
        kwargs = {"learning_rate": tf_keras.optimizers.schedules.ExponentialDecay(
            *kwargs["schedule"])}
    ours, ours_state = _run(Adam(**kwargs))
    ref, ref_state = _run(tf_keras.optimizers.Adam(**kwargs))
    for a, b in zip(ours + ours_state, ref + ref_state, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)  # float32 rounding of the two forms


def test_sparse_gradients_match_tf_keras_adam():
    ours, _ = _run(Adam(0.05), sparse=True)
    ref, _ = _run(tf_keras.optimizers.Adam(0.05), sparse=True)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)  # float32 rounding of the two forms


def test_float64_matches_tf_keras_adam_to_float64_rounding():
    ours, ours_state = _run(Adam(0.05), dtype="float64")
    ref, ref_state = _run(tf_keras.optimizers.Adam(0.05), dtype="float64")
    for a, b in zip(ours + ours_state, ref + ref_state, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_first_step_closed_form():
    # After one step m = (1 - b1) g, v = (1 - b2) g^2, so the step is lr * g / (|g| + eps').
    w = tf.Variable([1.0, -2.0, 3.0])
    g = tf.constant([0.5, -4.0, 1e-3])
    Adam(0.1, epsilon=1e-7).apply_gradients([(g, w)])
    eps = 1e-7 / np.sqrt(1 - 0.999)  # epsilon enters after the bias correction of v
    expected = np.array([1.0, -2.0, 3.0]) - 0.1 * g.numpy() / (np.abs(g.numpy()) + eps)
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-5)


def test_fused_step_under_xla():
    w = tf.Variable([1.0, 2.0])
    optimizer = Adam(0.1)
    optimizer.build([w])

    @tf.function(jit_compile=True)
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(w * w)
        optimizer.apply_gradients([(tape.gradient(loss, w), w)])

    step()
    np.testing.assert_allclose(w.numpy(), [0.9, 1.9], rtol=1e-5)


def test_config_round_trip_keeps_the_class():
    optimizer = Adam(0.02, beta_1=0.8)
    restored = tf_keras.saving.deserialize_keras_object(
        tf_keras.saving.serialize_keras_object(optimizer))
    assert type(restored) is Adam
    assert restored.get_config() == optimizer.get_config()
