"""keras-tuner tuners that accept tf-keras models.

keras-tuner 1.4 checks models and callbacks against Keras 3 classes, so it
refuses a ``tf_keras.Model`` ("Expected ... a valid Keras Model instance"),
and its own callbacks (best-epoch checkpointing, trial reporting) break a
tf-keras ``fit``. The tuners here are keras-tuner's, with three seams
bridged: the model check accepts tf-keras models, keras-tuner's callbacks run
inside tf-keras' ``fit`` through an adapter, and the tf-keras ``History`` is
handed back in the form keras-tuner reads. Search spaces, oracles and result
files are keras-tuner's own.

Every tuner here also

- uses the hypermodel's default objective when given none (``Model.hypermodel()`` carries
  the zoo model's ``objective``);
- refuses, before any trial: a search space with no tunable value, ``max_trials < 1``, an
  objective the model never logs (checked by evaluating a model built from the default
  hyperparameters on the first few training examples), and a ``directory`` /
  ``project_name`` that holds a different search (another tuner, objective or search space;
  ``overwrite=True`` starts over);
- resumes an interrupted search from its directory: finished trials are kept, the trial
  that was running is run again, and the search continues up to ``max_trials``;
- needs the ``tensorboard`` package only when a ``TensorBoard`` callback is passed to
  ``search`` (keras-tuner imports it at every trial; TensorFlow 2.21 no longer installs it):
  a search without one runs without it, and a search with one and no ``tensorboard``
  installed is refused before any trial (``pip install tensorboard``).

Example::

    tuner = kp.tuning.Hyperband(zoo.VAE.hypermodel(input_shape=(8, 8)),
                                objective="val_loss", max_epochs=20)
    tuner.search(x_train, validation_data=x_val)
    best = tuner.get_best_models(1)[0]
"""

import importlib.util
import json
import os

import keras
import keras_tuner as kt
import numpy as np
import tensorflow as tf
import tf_keras
from keras_tuner.src import utils
from keras_tuner.src.distribute import utils as dist_utils
from keras_tuner.src.engine import hyperparameters as hp_module
from keras_tuner.src.engine import objective as obj_module
from keras_tuner.src.engine import tuner_utils

from kerasprob.tuning.oracles import KnowledgeGradientOracle

__all__ = ["BayesianOptimization", "GridSearch", "Hyperband", "KnowledgeGradientSearch",
           "RandomSearch"]

_SEARCH_FILE = "search.json"

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


def _head(data, num):
    """The first ``num`` examples of arrays, tensors and lists / tuples / dicts of them."""
    if isinstance(data, (list, tuple)):
        return type(data)(_head(d, num) for d in data)
    if isinstance(data, dict):
        return {k: _head(v, num) for k, v in data.items()}
    if hasattr(data, "shape") and len(data.shape):
        return data[:num]
    return data


def _tensorboard_callbacks(callbacks):
    """The ``TensorBoard`` callbacks (tf-keras' or Keras') among ``callbacks``, by class name,
    as keras-tuner finds them."""
    return [c for c in callbacks or [] if c.__class__.__name__ == "TensorBoard"]


def _check_tensorboard(callbacks):
    if _tensorboard_callbacks(callbacks) and importlib.util.find_spec("tensorboard") is None:
        raise ImportError(
            "A TensorBoard callback was passed to search(), and the tensorboard package is "
            "not installed (TensorFlow 2.21 and later no longer install it). Expected: "
            "pip install tensorboard, or no TensorBoard callback"
        )


def _objective_names(objective):
    if isinstance(objective, obj_module.MultiObjective):
        return list(objective.name_to_direction)
    return [objective.name]


class TfKerasTuner:
    """Mixin over a keras-tuner ``Tuner`` that makes it train tf-keras models."""

    def __init__(self, hypermodel=None, objective=None, *args, **kwargs):
        if objective is None:
            objective = getattr(hypermodel, "objective", None)
        self._init_tuner(hypermodel, objective, *args, **kwargs)
        max_trials = getattr(self.oracle, "max_trials", None)
        if max_trials is not None and (not isinstance(max_trials, (int, np.integer))
                                       or isinstance(max_trials, bool) or max_trials < 1):
            raise ValueError(f"max_trials must be an int >= 1. Received: max_trials={max_trials!r}")

    def _init_tuner(self, hypermodel, objective, *args, **kwargs):
        super().__init__(hypermodel, objective, *args, **kwargs)

    # ------------------------------------------------------- checks before any trial
    def _populate_initial_space(self):
        super()._populate_initial_space()
        if self.hypermodel is None:
            return
        space = self.oracle.hyperparameters.space
        tunable = [hp for hp in space if not isinstance(hp, hp_module.Fixed)]
        if not tunable:
            raise ValueError(
                "The search space has no tunable values: the hypermodel declared "
                f"{[hp.name for hp in space] or 'no hyperparameters'}, all fixed. Expected at "
                "least one Int, Float, Choice or Boolean (for a zoo model: do not fix every "
                "name of its search_space in Model.hypermodel(**fixed))"
            )

    def _search_signature(self):
        """What makes a search this search: the tuner, the objective and the search space."""
        hp = kt.HyperParameters()
        if self.hypermodel is not None:
            self.hypermodel.declare_hyperparameters(hp)
            if not hasattr(self.hypermodel, "model_class"):  # a plain hypermodel: build it
                self.hypermodel.build(hp)
        objective = self.oracle.objective
        return json.loads(json.dumps({
            "tuner": type(self).__name__,
            "objective": {name: getattr(objective, "name_to_direction", {}).get(
                name, getattr(objective, "direction", None)) for name in
                _objective_names(objective)},
            "hypermodel": getattr(self.hypermodel, "name", None),
            "space": sorted(([type(h).__name__, h.get_config()] for h in hp.space),
                            key=lambda item: item[1]["name"]),
        }, default=str))

    def _signature_fname(self):
        return os.path.join(self.project_dir, _SEARCH_FILE)

    def save(self):
        super().save()
        fname = self._signature_fname()
        if not tf.io.gfile.exists(fname):
            utils.save_json(fname, self._search_signature())

    def reload(self):
        fname = self._signature_fname()
        if tf.io.gfile.exists(fname):
            stored, current = utils.load_json(fname), self._search_signature()
            if stored != current:
                differ = sorted(k for k in current if stored.get(k) != current.get(k))
                raise ValueError(
                    f"directory={self.directory!r}, project_name={self.project_name!r} holds a "
                    f"different search ({', '.join(differ)} differ). Received: "
                    + "; ".join(f"{k}={current[k]!r}" for k in differ)
                    + ". Stored: " + "; ".join(f"{k}={stored.get(k)!r}" for k in differ)
                    + ". Expected: the same search to resume; pass overwrite=True to start "
                    "over, or another project_name"
                )
        super().reload()

    def _check_objective_logged(self, fit_args, fit_kwargs):
        """Refuse an objective the model never logs, before any trial: evaluate a model
        built from the default hyperparameters on a few training examples and compare."""
        names = [n for n in _objective_names(self.oracle.objective) if n != "default_objective"]
        custom_fit = type(self.hypermodel).fit is not kt.HyperModel.fit
        x = fit_args[0] if fit_args else fit_kwargs.get("x")
        if not names or custom_fit or x is None:
            return
        y = fit_args[1] if len(fit_args) > 1 else fit_kwargs.get("y")
        model = self._try_build(kt.HyperParameters())
        if isinstance(x, tf.data.Dataset):
            logs = model.evaluate(x.take(1), return_dict=True, verbose=0)
        else:
            logs = model.evaluate(_head(x, 8), _head(y, 8), batch_size=8, return_dict=True,
                                  verbose=0)
        logged = set(logs)
        if fit_kwargs.get("validation_data") is not None or fit_kwargs.get("validation_split"):
            logged |= {f"val_{name}" for name in logs}
        missing = [n for n in names if n not in logged]
        if missing:
            raise ValueError(
                f"objective {missing[0]!r} is never logged by {type(model).__name__}. Received: "
                f"objective={missing if len(missing) > 1 else missing[0]!r}. Expected one of "
                f"{sorted(logged)}"
                + ("" if any(n.startswith("val_") for n in logged)
                   else " (val_* names need validation_data)")
            )
        tf_keras.backend.clear_session()

    def search(self, *fit_args, **fit_kwargs):
        x = fit_args[0] if fit_args else fit_kwargs.get("x")
        if hasattr(self.hypermodel, "fix_data_arguments") and x is not None:
            y = fit_args[1] if len(fit_args) > 1 else fit_kwargs.get("y")
            self.hypermodel.fix_data_arguments(x, y)
        if not dist_utils.is_chief_oracle():
            _check_tensorboard(fit_kwargs.get("callbacks"))
            self._check_objective_logged(fit_args, fit_kwargs)
        return super().search(*fit_args, **fit_kwargs)

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        # keras-tuner imports tensorboard at every trial; only a TensorBoard callback uses it.
        if _tensorboard_callbacks(callbacks):
            super()._configure_tensorboard_dir(callbacks, trial, execution)

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


class KnowledgeGradientSearch(TfKerasTuner, kt.Tuner):
    """Bayesian optimization by the knowledge gradient of a GP surrogate, for tf-keras models.

    The oracle is :class:`kerasprob.tuning.oracles.KnowledgeGradientOracle` (see there for
    the algorithm): random initial trials, then each trial the configuration whose one more
    observation is expected to lower the surrogate's predictive minimum most.

    Args:
      hypermodel: a ``keras_tuner.HyperModel`` (e.g. ``zoo.VAE.hypermodel(...)``) or a
        function ``hp -> tf_keras.Model``.
      objective: a metric name, a ``keras_tuner.Objective`` or a list; default: the
        hypermodel's ``objective`` (every zoo model declares one).
      max_trials: total number of trials, an int >= 1.
      num_initial_points, num_fantasies, num_candidates, num_restarts, max_iterations, seed,
      hyperparameters, tune_new_entries, allow_new_entries, max_retries_per_trial,
      max_consecutive_failed_trials: as in the oracle.
      **kwargs: ``keras_tuner.Tuner`` arguments (``directory``, ``project_name``,
        ``overwrite``, ``executions_per_trial``, ...).

    Distributed tuning (keras-tuner's own gRPC oracle): run the same script on every
    machine with ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` set to the chief's
    address, and ``KERASTUNER_TUNER_ID="chief"`` on the chief (it runs the oracle and trains
    nothing) and ``"tuner0"``, ``"tuner1"``, ... on the workers; each worker builds and
    trains its trials and reports them to the chief.
    """

    def __init__(
        self,
        hypermodel=None,
        objective=None,
        max_trials=10,
        num_initial_points=None,
        num_fantasies=8,
        num_candidates=64,
        num_restarts=8,
        max_iterations=15,
        seed=None,
        hyperparameters=None,
        tune_new_entries=True,
        allow_new_entries=True,
        max_retries_per_trial=0,
        max_consecutive_failed_trials=3,
        **kwargs,
    ):
        self._oracle_arguments = dict(
            max_trials=max_trials, num_initial_points=num_initial_points,
            num_fantasies=num_fantasies, num_candidates=num_candidates,
            num_restarts=num_restarts, max_iterations=max_iterations, seed=seed,
            hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials)
        super().__init__(hypermodel, objective, **kwargs)

    def _init_tuner(self, hypermodel, objective, **kwargs):
        oracle = KnowledgeGradientOracle(objective=objective, **self._oracle_arguments)
        kt.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)
