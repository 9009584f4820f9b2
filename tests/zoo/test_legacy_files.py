"""Files saved by kerasprob 0.1.0 still load, with the same numbers (``tests/data/legacy``)."""

import pathlib

import numpy as np
import pytest
import tensorflow as tf

import zoo

LEGACY = pathlib.Path(__file__).parents[1] / "data" / "legacy"
NAMES = sorted(p.stem for p in LEGACY.glob("*.keras"))


def test_every_family_has_a_legacy_file():
    assert len(NAMES) == 15


@pytest.mark.parametrize("name", NAMES)
def test_legacy_file_loads_with_the_same_numbers(name):
    model = zoo.load(LEGACY / f"{name}.keras")
    assert type(model) is zoo.get(name)
    ref = np.load(LEGACY / f"{name}.npz")
    x, y = ref["x"], ref["y"] if "y" in ref else None
    tf.random.set_seed(1)
    got = model.evaluate(x, y, verbose=0, return_dict=True)
    for key in ref:
        if key.startswith("evaluate_"):
            np.testing.assert_allclose(got[key[len("evaluate_"):]], ref[key], rtol=1e-4,
                                       atol=1e-5, err_msg=key)
    if "predict" in ref or "predict_0" in ref:
        out = model.predict(x, verbose=0)
        out = out if isinstance(out, (tuple, list)) else (out,)
        want = [ref["predict"]] if "predict" in ref else [
            ref[f"predict_{i}"] for i in range(len(out))]
        for a, b in zip(out, want):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    if "log_prob" in ref:
        np.testing.assert_allclose(model.log_prob(x), ref["log_prob"], rtol=1e-4, atol=1e-5)
