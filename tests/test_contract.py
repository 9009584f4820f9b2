"""One contract test over every public layer and every zoo model.

Layer cases come from ``tests/cases/*.py`` (``CASES`` lists); models from
``zoo.list()`` via ``Model.example()``, so new ones are covered automatically.
"""

import importlib
import inspect
import json
import pkgutil

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import kerasprob as kp
import zoo
from kerasprob.testing import assert_config_round_trip, default_readout, run_layer_test
from tests import cases

CASES = [
    case
    for info in pkgutil.iter_modules(cases.__path__)
    for case in importlib.import_module(f"tests.cases.{info.name}").CASES
]


def _public_layer_classes():
    modules = [kp.distributions, kp.layers]
    if hasattr(kp.layers, "flows"):
        modules.append(kp.layers.flows)
    found = set()
    for module in modules:
        for name in module.__all__:
            obj = getattr(module, name)
            if (inspect.isclass(obj) and issubclass(obj, tf_keras.layers.Layer)
                    and not inspect.isabstract(obj) and name not in ABSTRACT):
                found.add(obj)
    return found


ABSTRACT = {"DistributionLayer", "Prior", "Bijector", "BijectorLayer"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: type(c[0]()).__name__)
def test_layer_contract(case):
    factory, inputs, readout, shape = case
    run_layer_test(factory(), inputs, readout=readout or default_readout,
                   expected_output_shape=shape)


def test_every_public_layer_has_a_case():
    covered = set()
    for factory, *_ in CASES:
        layer = factory()
        covered.add(type(layer))
        if getattr(layer, "prior", None) is not None:
            covered.add(type(layer.prior))
    missing = sorted(c.__name__ for c in _public_layer_classes() - covered)
    assert not missing, f"public layers without a contract case: {missing}"


@pytest.mark.parametrize("name", zoo.list())
def test_zoo_model_contract(name, tmp_path):
    cls = zoo.get(name)
    kwargs, x, y = cls.example()
    model = cls(**kwargs)
    # The constructor is the config: JSON, identical after a round trip.
    config = model.get_config()
    assert json.loads(json.dumps(config)) == config
    assert_config_round_trip(model)
    assert set(config) - {"name"} == set(cls.constructor_arguments())
    # Search-space names are constructor arguments.
    assert set(cls.search_space) <= set(cls.constructor_arguments())
    # Fitting changes the model's state: for gradient-trained models a few Adam steps move
    # every trainable weight (several steps, since zero-initialized output layers block the
    # first one); models fitted otherwise declare the variables fit writes.
    state = model.fit_variables()
    assert state, f"{name}.fit_variables() is empty"
    before_fit = [w.numpy().copy() for w in state]
    model.fit(x, y, epochs=1, batch_size=max(1, len(x) // 4), verbose=0)
    stuck = [
        w.name for w, w0 in zip(state, before_fit)
        if np.array_equal(w.numpy(), w0)
    ]
    assert not stuck, f"training did not move {stuck}"
    # Save and load (atomic save, safe-mode load) give the same numbers.
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    loaded = zoo.load(path)
    assert type(loaded) is cls
    assert loaded.get_config() == model.get_config()
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    tf.random.set_seed(1)
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    tf.random.set_seed(1)
    after = loaded.evaluate(x, y, verbose=0, return_dict=True)
    for key in before:
        np.testing.assert_allclose(after[key], before[key], rtol=1e-5, atol=1e-5)
    # keras-tuner builds it from its search space.
    import keras_tuner as kt

    hp = kt.HyperParameters()
    built = cls.hypermodel(**{k: v for k, v in kwargs.items() if k not in cls.search_space}).build(
        hp
    )
    assert isinstance(built, cls)
