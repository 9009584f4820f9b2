"""zoo.SVGPRegressor under tf.distribute.MirroredStrategy: two logical CPUs train exactly as one,
with Adam and with natural-gradient steps for q(u).

Logical devices must be configured before TensorFlow starts, so the run is a subprocess.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent('''
    import json, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        cpu[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    import zoo
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(64, 1))
    y = np.sin(2 * x[:, 0]) + 0.1 * rng.normal(size=64)

    def run(strategy, natural_gradient):
        with strategy.scope():
            model = zoo.SVGPRegressor(input_shape=1, num_inducing=6, noise_variance=0.3,
                                      natural_gradient=natural_gradient)
        history = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
        return history.history["loss"], [w.numpy().tolist() for w in model.trainable_weights]

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    print(json.dumps({str(gamma): {"one": run(tf.distribute.get_strategy(), gamma),
                                   "two": run(mirrored, gamma)} for gamma in (None, 0.5)}))
''')


@pytest.fixture(scope="module")
def mirrored_runs():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("natural_gradient", ["None", "0.5"])
def test_mirrored_strategy_on_two_cpus_gives_the_single_device_losses_and_weights(
        mirrored_runs, natural_gradient):
    result = mirrored_runs[natural_gradient]
    (loss_one, weights_one), (loss_two, weights_two) = result["one"], result["two"]
    # The KL / num_data term counts once per global batch: the per-replica loss is halved
    # and the replicas' gradients summed; natural-gradient steps use the summed gradients.
    np.testing.assert_allclose(loss_two, loss_one, rtol=1e-10)
    for a, b in zip(weights_one, weights_two):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
