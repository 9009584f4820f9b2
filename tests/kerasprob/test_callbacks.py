"""kerasprob.callbacks.ConvergenceStopping: the windowed rule by hand, and inside fit."""

import math

import numpy as np
import pytest
import tf_keras

from kerasprob.callbacks import ConvergenceStopping


class _Model:
    stop_training = False


def _run(losses, steps, **kwargs):
    """Feed ``losses`` (one per epoch) to the callback; the epoch it stopped at, or None."""
    callback = ConvergenceStopping(**kwargs)
    callback.set_model(_Model())
    callback.set_params({"steps": steps, "epochs": len(losses)})
    callback.on_train_begin()
    for epoch, loss in enumerate(losses):
        callback.on_epoch_end(epoch, {"loss": loss})
        if callback.model.stop_training:
            return epoch, callback
    return None, callback


def reference_stop(losses, window, min_delta):
    for e in range(2 * window - 1, len(losses)):
        prev = np.mean(losses[e - 2 * window + 1:e - window + 1])
        last = np.mean(losses[e - window + 1:e + 1])
        if prev - last < min_delta:
            return e
    return None


@pytest.mark.parametrize("steps", [1, 2, 7, 500])
def test_the_window_holds_window_steps_and_the_rule_is_the_formula(steps):
    rng = np.random.default_rng(steps)
    # a noisy exponential descent: 1 + 5 exp(-t / 300) per step, t = steps * epoch
    epochs = np.arange(3000 // steps + 40)
    losses = 1 + 5 * np.exp(-epochs * steps / 300) + 0.01 * rng.normal(size=len(epochs))
    stopped, callback = _run(losses, steps, min_delta=1e-3, window_steps=200)
    window = math.ceil(200 / steps)
    assert callback.window == window
    assert stopped == reference_stop(losses, window, 1e-3) is not None
    assert callback.stopped_epoch == stopped
    # a smooth descent keeps going while the windowed mean still drops by min_delta
    assert 5 * np.exp(-stopped * steps / 300) < 0.05


def test_a_rising_loss_stops_and_a_short_run_never_stops():
    assert _run([1.0, 1.1, 1.2, 1.3], steps=1, window_steps=2)[0] == 3
    assert _run([3.0, 2.0, 1.0], steps=1, window_steps=2)[0] is None  # fewer than 2 windows
    assert _run([3.0, 2.0, np.nan, 1.0], steps=1, window_steps=1)[0] is None  # NaN skipped


def test_inside_fit_it_stops_a_converged_regression_early():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5], "float32")
    model = tf_keras.Sequential([tf_keras.layers.Dense(1, input_shape=(3,))])
    model.compile(tf_keras.optimizers.Adam(0.1), "mse")
    callback = ConvergenceStopping(min_delta=1e-4, window_steps=20)
    history = model.fit(x, y, batch_size=64, epochs=500, verbose=0, callbacks=[callback])
    assert callback.window == 5  # 4 steps per epoch
    assert len(history.history["loss"]) == callback.stopped_epoch + 1 < 500
    assert history.history["loss"][-1] < 1e-3


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="min_delta"):
        ConvergenceStopping(min_delta=0.0)
    with pytest.raises(ValueError, match="window_steps"):
        ConvergenceStopping(window_steps=0)
