"""Contract checks every layer and model of the package passes (usable by plug-ins too).

``run_layer_test`` builds a layer inside a functional model and checks the
contracts of the package: ``get_config`` is JSON and identical after a
round trip through ``from_config``; ``compute_output_shape`` gives a
``tf.TensorShape`` equal to the output's; the dtypes follow the layer's policy
(:func:`assert_dtypes`); the model saves in ``.keras`` format and reloads (safe
mode, no ``custom_objects``) to equal outputs; gradients reach every trainable
weight. ``run_keras_layer_test`` runs tf-keras's own ``layer_test`` on a
single-input layer with a tensor output.
"""

import contextlib
import json
import os
import tempfile

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
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


def _input(value):
    """A symbolic input of ``value``'s feature shape and dtype."""
    return tf_keras.Input(np.shape(value)[1:], dtype=np.asarray(value).dtype.name)


def _as_inputs(inputs):
    if isinstance(inputs, (list, tuple)):
        return [_input(v) for v in inputs], list(inputs)
    return _input(inputs), inputs


def full_precision(policy):
    """The dtype losses, log-densities and noise must have under ``policy``: float64 under
    a float64 policy, float32 under float32 and the mixed ones."""
    return tf.as_dtype(policy.variable_dtype)


def assert_dtypes(layer, output, readout_value, model):
    """The dtypes follow the layer's policy.

    Every float weight of the layer (its sublayers' included) has the policy's variable
    dtype; the added losses and a distribution output's readout (its log-density) have
    :func:`full_precision`; a float tensor output has the policy's compute dtype or,
    for full-precision layers, its variable dtype (never 16 bits under a float32 or
    float64 policy).
    """
    policy = getattr(layer, "network_policy", layer.dtype_policy)
    variable_dtype = tf.as_dtype(policy.variable_dtype)
    wrong = [f"{w.name}: {w.dtype.name}" for w in layer.weights
             if w.dtype.is_floating and w.dtype != variable_dtype]
    if wrong:
        raise AssertionError(f"weights not in {variable_dtype.name} under the policy "
                             f"{policy.name!r}: {wrong}")
    precise = full_precision(policy)
    losses = [loss.dtype.name for loss in model.losses if loss.dtype != precise]
    if losses:
        raise AssertionError(f"losses in {losses}, expected {precise.name}")
    if as_distribution(output) is not None:
        if readout_value.dtype != precise:
            raise AssertionError(f"a distribution's readout (its log-density) is "
                                 f"{readout_value.dtype.name}, expected {precise.name}")
        return
    allowed = {tf.as_dtype(policy.compute_dtype), precise}
    for tensor in tf.nest.flatten(output):
        if tensor.dtype.is_floating and tensor.dtype not in allowed:
            raise AssertionError(f"output in {tensor.dtype.name} under the policy "
                                 f"{policy.name!r}; expected one of "
                                 f"{sorted(d.name for d in allowed)}")


def assert_output_shape_inference(layer, inputs, output):
    """``compute_output_shape`` returns ``tf.TensorShape`` (nested like the output) equal
    to the output's shape, for tensor outputs."""
    if as_distribution(output) is not None:
        return
    shapes = ([tf.TensorShape(np.shape(v)) for v in inputs] if isinstance(inputs, (list, tuple))
              else tf.TensorShape(np.shape(inputs)))
    computed = layer.compute_output_shape(shapes)
    for got, tensor in zip(tf.nest.flatten(computed, expand_composites=False),
                           tf.nest.flatten(output)):
        if not isinstance(got, tf.TensorShape):
            raise AssertionError(f"compute_output_shape returned {type(got).__name__} "
                                 f"{got!r}, expected a tf.TensorShape")
        if not got.is_compatible_with(tensor.shape):
            raise AssertionError(f"compute_output_shape gives {got}, the output has "
                                 f"{tensor.shape}")


def is_tensor_layer_case(layer, inputs):
    """Whether tf-keras's ``layer_test`` applies: one input array and a tensor output."""
    return not isinstance(inputs, (list, tuple)) and not isinstance(
        layer, tfp.layers.DistributionLambda)


def run_keras_layer_test(layer, inputs, seed=0):
    """tf-keras's own ``layer_test`` on a fresh copy of ``layer`` (from its config), fed
    ``inputs`` (one array with the batch axis); random layers draw under the same global
    seed in each of its model copies. Returns its output."""
    from tf_keras.src.testing_infra import test_utils

    config = layer.get_config()
    probe = type(layer).from_config(config)
    expected_dtype = probe(inputs).dtype.name  # its policy decides (e.g. float16 when mixed)
    # tf-keras's LossScaleOptimizer (compiled under mixed_float16) cannot take a training
    # step without trainable variables: skip that step for weightless layers there.
    policy = getattr(probe, "network_policy", probe.dtype_policy)
    train = bool(probe.trainable_weights) or policy.name != "mixed_float16"
    tf.random.set_seed(seed)
    return test_utils.layer_test(type(layer), kwargs=config, input_data=np.asarray(inputs),
                                 expected_output_dtype=expected_dtype, validate_training=train)


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
    tf.random.set_seed(seed)
    output = model(values)
    assert_dtypes(layer, output, tf.convert_to_tensor(readout(output, values, model)), model)
    assert_output_shape_inference(layer, values, output)
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


@contextlib.contextmanager
def global_policy(name):
    """Layers made inside use the dtype policy ``name``; the previous one comes back after."""
    previous = tf_keras.mixed_precision.global_policy()
    tf_keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        tf_keras.mixed_precision.set_global_policy(previous)
