"""Shipped presets (zoo/<family>/presets/): each loads by name through ``zoo.load`` and
reproduces the metrics recorded beside it in presets.json; the files are small and in the
built wheel."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import cli, presets

ROOT = Path(__file__).resolve().parents[2]


def validation_split(name):
    """The scaled validation inputs (and second arrays) the preset was scored on."""
    info = presets.run_info(name)
    cls = zoo.get(info["model"])
    kind = info["data_kind"]
    data = cli.load_data(info["data"], kind, info.get("target"), info.get("reference"))
    _, x, x_q, _ = cli.prepare(cls, data, info["scaling"])
    second = cli.second_array(kind, data, x_q)
    _, val = cli.split(len(x), info["validation_split"], info["seed"])
    if kind == "two_sample":  # the command line splits the second sample with seed + 1
        _, val_q = cli.split(len(second), info["validation_split"], info["seed"] + 1)
        return kind, x[val], np.asarray(second)[val_q]
    return kind, x[val], None if second is None else np.asarray(second)[val]


def test_presets_are_listed_and_small():
    # one per family at least, each in its family's folder
    assert {"vae-digits", "realnvp-banana", "svgp-co2", "density-ratio-gaussians",
            "naive-bayes-iris"} <= set(presets.names())
    families = {presets.PRESETS[name]["family"] for name in presets.names()}
    assert families == set(presets.FAMILIES)
    for name in presets.names():
        size = os.path.getsize(presets.path(name))
        assert 0 < size < 1_000_000, (name, size)
        assert presets.run_info(name)["model"] in zoo.list()


@pytest.mark.parametrize("name", presets.names())
def test_preset_reproduces_its_recorded_metrics(name):
    model = zoo.load(name)  # by name, not by path
    info = presets.run_info(name)
    assert type(model).__name__ == info["model"]
    recorded = presets.metrics(name)
    kind, x, second = validation_split(name)
    if "mean_log_prob" in recorded:  # deterministic: the flow's exact log-density
        np.testing.assert_allclose(np.mean(model.log_prob(x)), recorded["mean_log_prob"],
                                   rtol=1e-5)
    if "mean_log_likelihood" in recorded:  # importance sampled with a fixed seed
        args = (x,) if kind == "unsupervised" else (x, second)
        np.testing.assert_allclose(
            np.mean(model.log_likelihood(*args, num_samples=100, seed=0)),
            recorded["mean_log_likelihood"], rtol=1e-4)
    # Keras' loss (a one-sample ELBO for a VAE: stochastic) within a few percent.
    loss = model.evaluate(x, second, verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(loss, recorded["loss"], rtol=0.03)


def test_preset_beats_a_trivial_baseline():
    """vae-digits takes the raw digits (0..16; its input_max is 16): -log p(x / 16) below
    independent Bernoulli pixels at the mean image."""
    kind, x, _ = validation_split("vae-digits")
    assert presets.run_info("vae-digits")["scaling"]["kind"] == "none"
    assert x.max() == 16 and zoo.load("vae-digits").input_max == 16
    train_x = cli.load_data("digits", "unsupervised").x / 16.0
    p = np.clip(train_x.mean(0), 1e-3, 1 - 1e-3)
    unit = x / 16.0
    baseline = -np.mean(np.sum(unit * np.log(p) + (1 - unit) * np.log(1 - p), axis=(1, 2)))
    assert -presets.metrics("vae-digits")["mean_log_likelihood"] < baseline - 1.0  # 24.9 vs 27.0


def test_flow_preset_is_close_to_the_exact_density():
    """realnvp-banana takes raw data (its standardization is a saved layer whose
    log-determinant is in log_prob): against the banana's closed-form log-density."""
    from zoo.datasets import banana_log_prob, make_banana

    info = presets.run_info("realnvp-banana")
    assert info["scaling"]["kind"] == "none"
    _, val = cli.split(2000, info["validation_split"], info["seed"])
    x = make_banana()[val]
    exact = np.mean(banana_log_prob(x))
    got = np.mean(zoo.load("realnvp-banana").log_prob(x))
    assert abs(got - exact) < 0.1, (got, exact)
    np.testing.assert_allclose(got, presets.metrics("realnvp-banana")["mean_log_prob"],
                               rtol=1e-5)


def test_gp_preset_forecasts_raw_co2():
    """svgp-co2 takes decimal years and gives ppm (no scaling on the side): on the months it
    was not trained on, RMSE about 2 ppm (the series' standard deviation is 14)."""
    from zoo.datasets import load_co2

    info = presets.run_info("svgp-co2")
    assert info["scaling"]["kind"] == "none"
    t, co2 = load_co2()
    _, val = cli.split(len(t), info["validation_split"], info["seed"])
    mean, var = zoo.load("svgp-co2").predict(t[val])
    rmse = float(np.sqrt(np.mean((np.ravel(mean) - co2[val]) ** 2)))
    assert rmse < 3.0 and rmse < 0.2 * np.std(co2), rmse
    np.testing.assert_allclose(rmse, presets.metrics("svgp-co2")["rmse"], rtol=1e-5)
    z = (co2[val] - np.ravel(mean)) / np.sqrt(np.ravel(var))
    assert 0.5 < np.std(z) < 1.5  # calibrated predictive variance


def test_density_ratio_preset_against_the_exact_ratio():
    """density-ratio-gaussians: log r on fresh draws of p near the exact log ratio, and its
    KL estimate on them within 3 standard errors of the exact 0.4431 nats."""
    from zoo.datasets import GAUSSIAN_PAIR_KL, gaussian_pair_log_ratio, make_gaussian_pair

    est = zoo.load("density-ratio-gaussians")
    x = make_gaussian_pair(n=20000, seed=123)["x_p"]
    error = np.ravel(est.log_ratio(x[:4000])) - gaussian_pair_log_ratio(x[:4000])
    assert np.sqrt(np.mean(error**2)) < 0.1, np.sqrt(np.mean(error**2))
    kl = est.kl_divergence(x)
    assert abs(kl.value - GAUSSIAN_PAIR_KL) < 3 * kl.standard_error, (kl, GAUSSIAN_PAIR_KL)


def test_unknown_preset_and_cli(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="no-such-preset"):
        zoo.load("no-such-preset")
    with pytest.raises(ValueError, match="Unknown preset"):
        presets.path("no-such-preset")
    assert cli.main(["presets"]) == 0
    assert "vae-digits" in capsys.readouterr().out
    out = tmp_path / "x.npy"
    assert cli.main(["sample", "realnvp-banana", "-n", "5", "--out", str(out)]) == 0
    draws = np.load(out)
    info = presets.run_info("realnvp-banana")
    expected = cli.undo_scaling(info["scaling"], np.asarray(zoo.load("realnvp-banana").sample(
        5, seed=0)))
    np.testing.assert_allclose(draws, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_built_wheel_contains_the_presets(tmp_path):
    source = tmp_path / "src"  # a copy, so that the build leaves no build/ in the checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "benchmarks", "runs", "build", "dist", "*.egg-info", "__pycache__",
        ".ruff_cache", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path), "-q"], check=True,
                   timeout=600)
    (wheel,) = tmp_path.glob("kerasprob-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in presets.names():
        family = presets.PRESETS[name]["family"]
        assert f"zoo/{family}/presets/{name}.keras" in names
        assert f"zoo/{family}/presets/presets.json" in names
    assert "zoo/__main__.py" in names
