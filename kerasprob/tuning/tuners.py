"""keras-tuner tuners that accept tf-keras models.

keras-tuner 1.4 checks models and callbacks against Keras 3 classes, so it
refuses a ``tf_keras.Model`` ("Expected ... a valid Keras Model instance"),
and its own callbacks (best-epoch checkpointing, trial reporting) break a
tf-keras ``fit``. The tuners here are keras-tuner's, with three seams
bridged: the model check accepts tf-keras models, keras-tuner's callbacks run
inside tf-keras' ``fit`` through an adapter, and the tf-keras ``History`` is
handed back in the form keras-tuner reads. Search spaces, oracles and result
files are keras-tuner's own.

Example::

    tuner = kp.tuning.Hyperband(zoo.VAE.hypermodel(input_shape=(8, 8)),
                                objective="val_loss", max_epochs=20)
    tuner.search(x_train, validation_data=x_val)
    best = tuner.get_best_models(1)[0]
"""

import keras
import keras_tuner as kt
import tf_keras
from keras_tuner.src import utils
from keras_tuner.src.engine import tuner_utils

__all__ = ["BayesianOptimization", "GridSearch", "Hyperband", "RandomSearch"]

_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)


class ForeignCallback(tf_keras.callbacks.Callback):
    """Runs a callback written for another Keras (e.g. keras-tuner's) in a tf-keras ``fit``."""

    def __init__(self, callback):
        super().__init__()
        self.callback = callback

    def set_model(self, model):
        super().set_model(model)
        self.callback.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        self.callback.set_params(params)


def _delegate(hook):
    def method(self, *args, **kwargs):
        return getattr(self.callback, hook)(*args, **kwargs)

    method.__name__ = hook
    return method


for _hook in _HOOKS:
    setattr(ForeignCallback, _hook, _delegate(_hook))


def as_tf_keras_callbacks(callbacks):
    """Wrap every callback that is not a tf-keras one in :class:`ForeignCallback`."""
    return [
        c if isinstance(c, tf_keras.callbacks.Callback) else ForeignCallback(c)
        for c in callbacks or []
    ]


def as_keras_histories(results):
    """tf-keras ``History`` objects (alone or in a list) as the Keras ones keras-tuner reads."""
    if isinstance(results, list):
        return [as_keras_histories(r) for r in results]
    if isinstance(results, tf_keras.callbacks.History):
        history = keras.callbacks.History()
        history.history = results.history
        return history
    return results


class TfKerasTuner:
    """Mixin over a keras-tuner ``Tuner`` that makes it train tf-keras models."""

    def _try_build(self, hp):
        tf_keras.backend.clear_session()
        model = self._build_hypermodel(hp)
        if not isinstance(model, tf_keras.Model):
            raise kt.errors.FatalTypeError(
                "The hypermodel must build a tf_keras.Model. "
                f"Received: {model!r} of type {type(model).__name__}"
            )
        if self.max_model_size and model.count_params() > self.max_model_size:
            raise kt.errors.FailedTrialError(
                f"Oversized model: {model.count_params()} parameters. Skip model."
            )
        return model

    def _build_and_fit_model(self, trial, *args, **kwargs):
        # keras-tuner's own version, with its callbacks adapted and the History translated.
        kwargs["callbacks"] = as_tf_keras_callbacks(kwargs.get("callbacks"))
        model = self._try_build(trial.hyperparameters)
        results = as_keras_histories(self.hypermodel.fit(trial.hyperparameters, model, *args,
                                                         **kwargs))
        # Hyperband rebuilds a trial's model from this file before loading its weights; a
        # built model (every zoo model is built in its constructor) needs no shape.
        build_config = None if model.built else model.get_build_config()
        utils.save_json(self._get_build_config_fname(trial.trial_id),
                        build_config or {"input_shape": None})
        tuner_utils.validate_trial_results(results, self.oracle.objective, "HyperModel.fit()")
        return results


class RandomSearch(TfKerasTuner, kt.RandomSearch):
    """``keras_tuner.RandomSearch`` for tf-keras models."""


class Hyperband(TfKerasTuner, kt.Hyperband):
    """``keras_tuner.Hyperband`` for tf-keras models."""


class BayesianOptimization(TfKerasTuner, kt.BayesianOptimization):
    """``keras_tuner.BayesianOptimization`` for tf-keras models."""


class GridSearch(TfKerasTuner, kt.GridSearch):
    """``keras_tuner.GridSearch`` for tf-keras models."""
