"""keras-tuner bridge: search spaces as data, hypermodels, and tuners for tf-keras models.

Tuners: keras-tuner's ``RandomSearch``, ``Hyperband``, ``BayesianOptimization`` and
``GridSearch``, made to accept tf-keras models, and :class:`KnowledgeGradientSearch`
(Bayesian optimization by the knowledge gradient of a GP surrogate,
:class:`KnowledgeGradientOracle`). Every zoo model is tuner-ready::

    tuner = kp.tuning.KnowledgeGradientSearch(zoo.VAE.hypermodel(input_shape=(8, 8)),
                                              max_trials=30, directory="runs/tune")
    tuner.search(x_train, epochs=10, validation_data=(x_val,))
    best = tuner.get_best_models(1)[0]

``Model.hypermodel(**fixed)`` tunes the model's ``search_space`` (names are constructor
arguments; a name given in ``fixed`` is held there) and carries the model's default
objective (its ``objective`` class attribute), used when a tuner is given none:

==============================  ==============  =========  ==================================
model                           objective       direction  what it is
==============================  ==============  =========  ==================================
``VAE``, ``ConditionalVAE``     ``val_loss``    min        validation negative ELBO (IWAE
                                                           bound with ``num_samples > 1``)
``RealNVP``, ``MAF``, ``IAF``,  ``val_loss``    min        validation negative log-likelihood
``NeuralSplineFlow``                                       (nats per example)
``SVGPRegressor``, ``SGPR``,    ``val_loss``    min        the models' validation loss (their
``DeepGP``, ``SVGPClassifier``                             negative ELBO per example)
``GaussianNaiveBayes``,         ``val_loss``    min        validation negative log-likelihood
``GenerativeLogisticRegression``,                          of the labels
``PolyaGammaLogisticRegression``
``DensityRatioEstimator``,      ``val_loss``    min        the models' validation loss
``ImplicitGenerator``
any other ``ZooModel``          ``val_loss``    min        ``ZooModel.tuning_objective``
==============================  ==============  =========  ==================================

(``val_*`` objectives need ``validation_data`` in ``search``; a model that should be tuned
on another metric, e.g. accuracy, sets ``tuning_objective = Objective("val_accuracy", "max")``.)

Before any trial the tuners refuse a search space with no tunable value, ``max_trials < 1``,
an objective the model never logs, and a directory holding a different search; an
interrupted search resumes from its directory (``overwrite=True`` starts over).

Distributed tuning uses keras-tuner's gRPC oracle: the same script on every machine, with
``KERASTUNER_ORACLE_IP`` / ``KERASTUNER_ORACLE_PORT`` (the chief's address) and
``KERASTUNER_TUNER_ID`` (``"chief"`` on the chief, which runs the oracle, ``"tuner0"``,
``"tuner1"``, ... on the workers, which train). Workers need the training data and the
hypermodel; only the chief needs the ``directory``, but a shared one lets
``get_best_models`` run anywhere.
"""

from keras_tuner import Objective

from kerasprob.tuning.hypermodel import ModelHyperModel
from kerasprob.tuning.oracles import KnowledgeGradientOracle
from kerasprob.tuning.space import Choice, Float, Int, Units
from kerasprob.tuning.tuners import (
    BayesianOptimization,
    GridSearch,
    Hyperband,
    KnowledgeGradientSearch,
    RandomSearch,
)

__all__ = [
    "BayesianOptimization",
    "Choice",
    "Float",
    "GridSearch",
    "Hyperband",
    "Int",
    "KnowledgeGradientOracle",
    "KnowledgeGradientSearch",
    "ModelHyperModel",
    "Objective",
    "RandomSearch",
    "Units",
]
