"""keras-tuner runs on tf-keras zoo models through kerasprob.tuning."""

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
    with pytest.raises(Exception, match="valid Keras Model"):
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
