"""Contract checks every layer and model of the package passes (usable by plug-ins too).

``run_layer_test`` builds a layer inside a functional model and checks the
contracts of the package: ``get_config`` is JSON and identical after a
round trip through ``from_config``; the model saves in ``.keras`` format and
reloads (safe mode, no ``custom_objects``) to equal outputs; gradients reach
every trainable weight.
"""

import json
import os
import tempfile

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.math.distributions import as_distribution


def default_readout(output, inputs, model):
    """A deterministic tensor from a layer output: ``log_prob`` of the mean/mode for
    distributions (``mean`` for mixtures), the output itself otherwise."""
    dist = as_distribution(output)
    if dist is None:
        return tf.convert_to_tensor(output)
    try:
        value = dist.mean()
    except NotImplementedError:
        value = dist.mode()
    return dist.log_prob(tf.stop_gradient(value))


def assert_config_round_trip(layer):
    """``get_config`` is JSON-serializable and identical after ``from_config``."""
    config = layer.get_config()
    text = json.dumps(config, sort_keys=True)
    clone = type(layer).from_config(json.loads(text))
    again = json.dumps(clone.get_config(), sort_keys=True)
    if text != again:
        raise AssertionError(f"config changed in a round trip:\n{text}\n!=\n{again}")
    return clone


def _as_inputs(inputs):
    if isinstance(inputs, (list, tuple)):
        return [tf_keras.Input(np.shape(v)[1:]) for v in inputs], list(inputs)
    return tf_keras.Input(np.shape(inputs)[1:]), inputs


def run_layer_test(layer, inputs, readout=default_readout, expected_output_shape=None,
                   check_gradients=True, seed=0):
    """Check one layer's contracts; return the reloaded model.

    Args:
      layer: a fresh layer instance.
      inputs: numpy array or list of arrays (with the batch axis).
      readout: ``f(output, inputs, model) -> tensor`` that must match after
        reloading and whose sum is differentiated (random layers are compared
        under the same global seed); e.g. ``tf.add_n(model.losses)`` for a
        layer whose value is the loss it adds.
      expected_output_shape: if given, the shape of the output tensor.
      check_gradients: require a gradient for every trainable weight.
    """
    assert_config_round_trip(layer)
    symbolic, values = _as_inputs(inputs)
    model = tf_keras.Model(symbolic, layer(symbolic))

    def evaluate(m):
        tf.random.set_seed(seed)
        out = m(values)
        return np.asarray(readout(out, values, m))

    if expected_output_shape is not None:
        tf.random.set_seed(seed)
        got = tuple(tf.convert_to_tensor(model(values)).shape)
        if got != tuple(expected_output_shape):
            raise AssertionError(f"output shape {got} != expected {expected_output_shape}")
    if check_gradients and layer.trainable_weights:
        with tf.GradientTape() as tape:
            tf.random.set_seed(seed)
            total = tf.reduce_sum(readout(model(values), values, model))
        grads = tape.gradient(total, layer.trainable_weights)
        missing = [w.name for w, g in zip(layer.trainable_weights, grads) if g is None]
        if missing:
            raise AssertionError(f"no gradient reaches {missing}")
    before = evaluate(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        reloaded = tf_keras.models.load_model(path, safe_mode=True)
    after = evaluate(reloaded)
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-5)
    return reloaded
