"""examples/naive_bayes_iris.py and examples/polya_gamma_logistic.py end to end, fast mode
(slow: a few Gibbs sweeps and Adam steps each)."""


import numpy as np
import pytest

from tests.example_scripts import load_example


@pytest.mark.slow
def test_naive_bayes_iris_example(tmp_path):
    out = tmp_path / "nb.png"
    result = load_example("naive_bayes_iris").main(["--fast", "--out", str(out)])
    assert out.stat().st_size > 10_000
    assert result["accuracy"] == pytest.approx(0.80)  # the course's figure, split seed 4
    assert np.all(result["pooled"] > 0.3) and np.all(result["pooled"] < 0.7)


@pytest.mark.slow
def test_polya_gamma_logistic_example(tmp_path):
    out = tmp_path / "pg.png"
    result = load_example("polya_gamma_logistic").main(["--fast", "--out", str(out)])
    assert out.stat().st_size > 10_000
    assert np.all(result["r_hat"] < 1.1)
    assert result["mean_abs_error"] < 0.1 and result["coverage"] > 0.8
