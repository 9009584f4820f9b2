"""examples/naive_bayes_iris.py and examples/polya_gamma_logistic.py end to end, fast mode
(slow: a few Gibbs sweeps and Adam steps each)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_naive_bayes_iris_example(tmp_path):
    out = tmp_path / "nb.png"
    result = _load("naive_bayes_iris").main(["--fast", "--out", str(out)])
    assert out.stat().st_size > 10_000
    assert result["accuracy"] == pytest.approx(0.80)  # the course's figure, split seed 4
    assert np.all(result["pooled"] > 0.3) and np.all(result["pooled"] < 0.7)


@pytest.mark.slow
def test_polya_gamma_logistic_example(tmp_path):
    out = tmp_path / "pg.png"
    result = _load("polya_gamma_logistic").main(["--fast", "--out", str(out)])
    assert out.stat().st_size > 10_000
    assert np.all(result["r_hat"] < 1.1)
    assert result["mean_abs_error"] < 0.1 and result["coverage"] > 0.8
