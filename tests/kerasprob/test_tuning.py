"""keras-tuner runs on tf-keras zoo models through kerasprob.tuning."""

import importlib.util
import os

import numpy as np
import pytest
import tf_keras

import kerasprob as kp
import zoo
from zoo.datasets import load_digits


@pytest.fixture(scope="module")
def digits():
    x, _ = load_digits()
    x = x / 16.0
    return x[:600], x[600:800]


def test_plain_keras_tuner_refuses_tf_keras_models_and_ours_does_not(tmp_path, digits):
    import keras_tuner as kt

    x_train, x_val = digits
    hypermodel = zoo.VAE.hypermodel(input_shape=(8, 8))
    plain = kt.RandomSearch(hypermodel, objective="val_loss", max_trials=1,
                            directory=str(tmp_path / "plain"), max_consecutive_failed_trials=1)
    # Without tensorboard (TensorFlow >= 2.21 no longer installs it) plain keras-tuner fails
    # one step earlier: it imports tensorboard at every trial.
    refusal = ("valid Keras Model" if importlib.util.find_spec("tensorboard")
               else "No module named 'tensorboard'")
    with pytest.raises(Exception, match=refusal):
        plain.search(x_train, epochs=1, validation_data=(x_val,), verbose=0)

    tuner = kp.tuning.RandomSearch(hypermodel, objective="val_loss", max_trials=3, seed=0,
                                   directory=str(tmp_path / "ours"))
    tuner.search(x_train, epochs=3, batch_size=100, validation_data=(x_val,), verbose=0)
    trials = tuner.oracle.get_best_trials(3)
    assert len(trials) == 3 and all(t.status == "COMPLETED" for t in trials)
    scores = [t.score for t in trials]
    assert scores == sorted(scores) and np.all(np.isfinite(scores))
    # The best model is restored from its best epoch and scores what the oracle recorded.
    best = tuner.get_best_models(1)[0]
    assert isinstance(best, zoo.VAE)
    tf_keras.utils.set_random_seed(0)
    val = best.evaluate(x_val, batch_size=100, verbose=0, return_dict=True)["loss"]
    assert val == pytest.approx(trials[0].score, rel=0.05)
    hp = tuner.get_best_hyperparameters(1)[0]
    assert best.learning_rate == pytest.approx(hp.get("learning_rate"))


def test_hyperband_trains_to_max_epochs(tmp_path, digits):
    x_train, x_val = digits
    tuner = kp.tuning.Hyperband(
        zoo.VAE.hypermodel(input_shape=(8, 8), hidden_units=[32]), objective="val_loss",
        max_epochs=3, factor=3, hyperband_iterations=1, seed=0, directory=str(tmp_path),
    )
    tuner.search(x_train, batch_size=100, validation_data=(x_val,), verbose=0)
    trials = tuner.oracle.get_best_trials(100)
    assert trials and all(t.status == "COMPLETED" for t in trials)
    assert max(t.hyperparameters.get("tuner/epochs") for t in trials) == 3
    assert "hidden_units_width" not in tuner.get_best_hyperparameters(1)[0].values


def test_tuner_refuses_non_models(tmp_path):
    import keras_tuner as kt

    tuner = kp.tuning.RandomSearch(lambda hp: (hp.Int("units", 1, 2), "not a model")[1],
                                   objective="val_loss",
                                   max_trials=1, directory=str(tmp_path))
    with pytest.raises(kt.errors.FatalTypeError, match="must build a tf_keras.Model"):
        tuner.search(np.zeros((4, 2)), epochs=1, verbose=0)


def _hide_tensorboard(monkeypatch):
    """Imports of tensorboard fail, as where it is not installed (TensorFlow >= 2.21)."""
    import sys

    for name in [n for n in sys.modules if n == "tensorboard" or n.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)


def test_a_search_needs_tensorboard_only_with_a_tensorboard_callback(tmp_path, digits,
                                                                     monkeypatch):
    _hide_tensorboard(monkeypatch)
    x_train, x_val = digits
    hypermodel = zoo.VAE.hypermodel(input_shape=(8, 8), hidden_units=[16])
    tuner = kp.tuning.RandomSearch(hypermodel, max_trials=1, seed=0,
                                   directory=str(tmp_path), project_name="a")
    tuner.search(x_train, epochs=1, batch_size=100, validation_data=(x_val,), verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"]
    tuner = kp.tuning.RandomSearch(hypermodel, max_trials=1, seed=0,
                                   directory=str(tmp_path), project_name="b")
    board = tf_keras.callbacks.TensorBoard(log_dir=str(tmp_path / "logs"))
    with pytest.raises(ImportError, match="pip install tensorboard"):
        tuner.search(x_train, epochs=1, validation_data=(x_val,), callbacks=[board], verbose=0)
    assert not tuner.oracle.trials  # refused before any trial


def test_a_tensorboard_callback_logs_every_trial(tmp_path, digits):
    pytest.importorskip("tensorboard")
    x_train, x_val = digits
    tuner = kp.tuning.RandomSearch(zoo.VAE.hypermodel(input_shape=(8, 8), hidden_units=[16]),
                                   max_trials=2, seed=0, directory=str(tmp_path / "d"))
    board = tf_keras.callbacks.TensorBoard(log_dir=str(tmp_path / "logs"))
    tuner.search(x_train, epochs=1, batch_size=100, validation_data=(x_val,),
                 callbacks=[board], verbose=0)
    trials = tuner.oracle.trials
    assert [t.status for t in trials.values()] == ["COMPLETED"] * 2
    for trial_id in trials:  # keras-tuner's per-trial log directories, hparams included
        assert os.listdir(tmp_path / "logs" / trial_id / "execution0")
