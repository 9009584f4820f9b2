"""The zoo command line (zoo/cli/): every subcommand through ``zoo.cli.main(argv)``, in-process,
on embedded data and on a user's CSV / npz; the bad-input errors (exit status 2, one line, nothing
written to ``--out``); one subprocess run of ``python -m zoo`` (slow)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import cli
from zoo.plots import confusion_matrix

ROOT = Path(__file__).resolve().parents[2]
TINY_FLOW = ["--set", "num_layers=2", "--set", "hidden_units=[8]", "--set", "jit_compile=false"]


def run(argv, capsys):
    """``(status, stdout, stderr)`` of ``zoo.cli.main(argv)``."""
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def expect_error(argv, capsys, *fragments):
    status, out, err = run(argv, capsys)
    assert status == 2, (out, err)
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("zoo: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def no_partial_left(directory):
    return not [p for p in os.listdir(directory) if ".partial-" in p]


@pytest.fixture
def labelled_csv(tmp_path):
    """Two well-separated 2-D classes named by strings, with a header row."""
    rng = np.random.default_rng(0)
    path = tmp_path / "flowers.csv"
    rows = ["length,width,species"]
    for i in range(60):
        label = "big" if i % 2 else "small"
        centre = 4.0 if i % 2 else 0.0
        a, b = rng.normal(centre, 0.5, size=2)
        rows.append(f"{a:.4f},{b:.4f},{label}")
    path.write_text("\n".join(rows) + "\n")
    return path


# ----------------------------------------------------------------- list / info / datasets
def test_list_prints_every_registered_model_with_its_data_kind(capsys):
    status, out, _ = run(["list"], capsys)
    assert status == 0
    lines = out.strip().splitlines()
    assert len(lines) == len(zoo.list())
    for name, line in zip(zoo.list(), lines):
        assert line.split()[:2] == [name, cli.data_kind(zoo.get(name))]


def test_info_shows_arguments_defaults_search_space(capsys):
    status, out, _ = run(["info", "vae"], capsys)  # case-insensitive
    assert status == 0
    assert out.startswith("VAE: ")
    assert "    latent_dim = 2\n" in out and "    input_shape = None\n" in out
    for name in zoo.VAE.search_space:
        assert f"    {name}: " in out
    assert "tuning objective: val_loss" in out and "data: unsupervised" in out


def test_datasets_lists_every_embedded_set(capsys):
    from zoo.datasets import DATASETS

    status, out, _ = run(["datasets"], capsys)
    assert status == 0
    assert [line.split()[0] for line in out.strip().splitlines()] == list(DATASETS)


def test_help_exits_zero(capsys):
    status, out, _ = run(["--help"], capsys)
    assert status == 0 and "fit" in out and "tune" in out


def test_unknown_model_suggests_the_closest(capsys):
    expect_error(["info", "VEA"], capsys, "unknown model 'VEA'", "Did you mean VAE")
    expect_error(["fit", "naivebayes", "--data", "iris", "--out", "x"], capsys,
                 "GaussianNaiveBayes")


def test_default_objective_reads_the_class_attribute():
    class WithObjective(zoo.VAE):
        tuning_objective = "val_kl"

    assert cli.default_objective(WithObjective) == "val_kl"
    # DensityRatioEstimator's *constructor argument* named objective is not a tuning objective
    assert cli.default_objective(zoo.get("DensityRatioEstimator")) != "bce"
    assert cli.default_objective(zoo.VAE) == "val_loss"


# ------------------------------------------------------------------------- data helpers
def test_read_csv_header_labels_and_target_by_index(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("1.5,2,cat\n3,4.25,dog\n5,6,cat\n")
    x, y, classes, names = cli.read_csv(path, target="2")
    np.testing.assert_array_equal(x, [[1.5, 2.0], [3.0, 4.25], [5.0, 6.0]])
    assert y.tolist() == [0, 1, 0] and classes == ["cat", "dog"] and names == ["0", "1"]
    path.write_text("a,b,t\n1,2,0.5\n3,4,1.5\n")
    x, y, classes, names = cli.read_csv(path, target="t")
    assert y.dtype == np.float32 and y.tolist() == [0.5, 1.5] and names == ["a", "b"]


def test_scaling_round_trip_and_closed_forms():
    x = np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 20.0]], np.float32)
    standard = cli.fit_scaling("standardize", x)
    np.testing.assert_allclose(standard["shift"], [2.0, 20.0])
    np.testing.assert_allclose(standard["scale"], [np.std([0, 2, 4]), np.std([10, 30, 20])])
    z = cli.apply_scaling(standard, x)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-6)
    np.testing.assert_allclose(cli.undo_scaling(standard, z), x, atol=1e-5)
    unit = cli.fit_scaling("unit", np.array([[0.0, 16.0]]))
    assert unit == {"kind": "unit", "shift": 0.0, "scale": 16.0}
    assert cli.fit_scaling("unit", np.array([[0.0, 0.5]]))["scale"] == 1.0  # already in [0, 1]


def test_confusion_matrix_counts():
    counts = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2])
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


# ------------------------------------------------------------- fit / evaluate / sample
def test_fit_evaluate_sample_a_flow_on_embedded_data(tmp_path, capsys):
    out = tmp_path / "run"
    status, stdout, err = run(["fit", "RealNVP", "--data", "banana", "--epochs", 2,
                               "--batch-size", 256, "--out", out, "--verbose", 0, *TINY_FLOW],
                              capsys)
    assert status == 0, err
    files = set(os.listdir(out))
    assert {"model.keras", "run.json", "history.json"} <= files
    assert {f"{p}.png" for p in zoo.RealNVP.plots} <= files
    for png in (out / f"{p}.png" for p in zoo.RealNVP.plots):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 2 and len(history["val_loss"]) == 2
    info = json.loads((out / "run.json").read_text())
    assert info["model"] == "RealNVP" and info["config"]["input_shape"] == [2]

    # The recorded metric, recomputed independently from the reloaded model on the same split.
    from zoo.datasets import make_banana

    # The flow keeps its scaling itself (a Standardization fitted to the training rows), so
    # the command line scales nothing and the saved model takes raw data.
    assert info["scaling"]["kind"] == "none"
    x = make_banana().astype("float32")
    train, val = cli.split(len(x), info["validation_split"], info["seed"])
    model = zoo.load(str(out / "model.keras"))
    np.testing.assert_allclose(model.flow.bijector_layers[0].loc.numpy(),
                               x[train].mean(0), atol=0.05)
    expected = float(np.mean(model.log_prob(x[val])))
    np.testing.assert_allclose(info["metrics"]["mean_log_prob"], expected, rtol=1e-5)
    np.testing.assert_allclose(info["metrics"]["loss"], -expected, rtol=1e-4)
    assert history["val_loss"][-1] == pytest.approx(-expected, rel=1e-4)

    status, stdout, _ = run(["evaluate", out, "--data", "banana"], capsys)
    assert status == 0
    metrics = json.loads(stdout)
    np.testing.assert_allclose(metrics["mean_log_prob"], float(np.mean(model.log_prob(x))),
                               rtol=1e-5)

    samples = tmp_path / "draws.npy"
    status, stdout, _ = run(["sample", out, "-n", 7, "--out", samples, "--seed", 3], capsys)
    assert status == 0
    draws = np.load(samples)
    expected = cli.undo_scaling(info["scaling"], np.asarray(model.sample(7, seed=3)))
    np.testing.assert_allclose(draws, expected, rtol=1e-5, atol=1e-5)  # in the data's units
    csv_path = tmp_path / "draws.csv"
    assert run(["sample", out, "-n", 4, "--out", csv_path], capsys)[0] == 0
    assert np.loadtxt(csv_path, delimiter=",").shape == (4, 2)


def test_fit_a_classifier_on_a_user_csv(tmp_path, labelled_csv, capsys):
    out = tmp_path / "nb"
    status, _, err = run(["fit", "GaussianNaiveBayes", "--data", labelled_csv, "--target",
                          "species", "--out", out, "--verbose", 0], capsys)
    assert status == 0, err
    info = json.loads((out / "run.json").read_text())
    assert info["classes"] == ["big", "small"] and info["config"]["input_shape"] == [2]
    x, y, _, _ = cli.read_csv(labelled_csv, "species")
    _, val = cli.split(len(x), 0.2, 0)
    model = zoo.load(str(out / "model.keras"))
    accuracy = np.mean(np.argmax(model.predict_proba(x[val]), -1) == y[val])
    assert info["metrics"]["accuracy"] == pytest.approx(accuracy)
    assert accuracy == 1.0  # the classes are 8 standard deviations apart
    status, stdout, _ = run(["evaluate", out, "--data", labelled_csv], capsys)
    assert status == 0 and json.loads(stdout)["accuracy"] == 1.0


def test_conditional_model_from_npz_samples_a_given_label(tmp_path, capsys):
    from zoo.datasets import load_digits

    x, y = load_digits()
    data = tmp_path / "digits.npz"
    np.savez(data, x=x[:300], y=y[:300])
    out = tmp_path / "cvae"
    status, _, err = run(["fit", "ConditionalVAE", "--data", data, "--epochs", 1, "--out", out,
                          "--verbose", 0, "--no-plots"], capsys)
    assert status == 0, err
    info = json.loads((out / "run.json").read_text())
    assert info["scaling"]["kind"] == "none"  # the model reads input_max = 16 itself
    assert info["config"]["input_max"] == 16.0
    draws = tmp_path / "threes.npy"
    assert run(["sample", out, "-n", 3, "--out", draws, "--condition", 3], capsys)[0] == 0
    values = np.load(draws)
    assert values.shape == (3, 8, 8) and values.min() >= 0 and values.max() <= 16.0
    expect_error(["sample", out, "-n", 3, "--out", draws.with_name("x.npy")], capsys,
                 "--condition")


def test_two_sample_model_with_a_reference(tmp_path, capsys, monkeypatch):
    """KL[N(1, 1) || N(0, 2^2)] = log 2 + (1 + 1) / 8 - 1/2 = 0.44315 from two .npy files."""
    estimator = zoo.get("DensityRatioEstimator")
    monkeypatch.setattr(estimator, "data_kind", "two_sample", raising=False)
    monkeypatch.setattr(estimator, "plots", ("log_ratio",), raising=False)
    rng = np.random.default_rng(0)
    np.save(tmp_path / "p.npy", rng.normal(1.0, 1.0, (4000, 1)).astype("float32"))
    np.save(tmp_path / "q.npy", rng.normal(0.0, 2.0, (4000, 1)).astype("float32"))
    out = tmp_path / "dr"
    status, _, err = run(["fit", "DensityRatioEstimator", "--data", tmp_path / "p.npy",
                          "--reference", tmp_path / "q.npy", "--set", "num_steps=400",
                          "--out", out, "--verbose", 0], capsys)
    assert status == 0, err
    info = json.loads((out / "run.json").read_text())
    exact = np.log(2.0) + 2.0 / 8.0 - 0.5
    assert abs(info["metrics"]["kl_divergence"] - exact) < 0.08, info["metrics"]
    assert (out / "log_ratio.png").exists()


def test_gp_regression_on_a_csv(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(zoo.get("SGPR"), "plots", ("predictions",), raising=False)
    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 3, 120)
    y = np.sin(x) + 0.1 * rng.normal(size=120)
    path = tmp_path / "sine.csv"
    np.savetxt(path, np.c_[x, y], delimiter=",", header="x,y", comments="")
    out = tmp_path / "gp"
    status, _, err = run(["fit", "SGPR", "--data", path, "--target", "y", "--epochs", 5,
                          "--set", "num_inducing=15", "--out", out, "--verbose", 0], capsys)
    assert status == 0, err
    info = json.loads((out / "run.json").read_text())
    _, val = cli.split(120, 0.2, 0)
    z = cli.apply_scaling(info["scaling"], x[:, None].astype("float32"))
    mean, _ = zoo.load(str(out / "model.keras")).predict(z[val])
    rmse = float(np.sqrt(np.mean((np.ravel(mean) - y[val]) ** 2)))
    assert info["metrics"]["rmse"] == pytest.approx(rmse, rel=1e-5)
    assert rmse < 0.3  # the noise is 0.1; sin itself has sd 0.7
    assert (out / "predictions.png").exists()


# -------------------------------------------------------------------------------- tune
def test_tune_writes_the_best_model_and_trials(tmp_path, capsys):
    out = tmp_path / "tune"
    status, stdout, err = run(["tune", "VAE", "--data", "digits", "--tuner", "random",
                               "--trials", 2, "--epochs", 1, "--out", out, "--verbose", 0],
                              capsys)
    assert status == 0, err
    trials = json.loads((out / "trials.json").read_text())
    assert len(trials) == 2
    scores = [t["score"] for t in trials]
    assert scores == sorted(scores)  # best first (val_loss is minimized)
    info = json.loads((out / "run.json").read_text())
    assert info["objective"] == "val_loss"
    best = info["best_hyperparameters"]
    for name in best:  # Units(...) expands to hidden_units_depth / hidden_units_width_<i>
        assert any(name == k or name.startswith(k + "_") for k in zoo.VAE.search_space), name
    for name in ("latent_dim", "learning_rate"):
        space = zoo.VAE.search_space[name]
        assert space.min_value <= best[name] <= space.max_value
        assert info["config"][name] == pytest.approx(best[name])  # the saved model is the best
    reloaded = zoo.load(str(out / "model.keras"))
    assert reloaded.latent_dim == best["latent_dim"]
    assert not (out / "trials").exists()


def test_tune_kg_only_when_the_tuner_exists(tmp_path, capsys):
    import kerasprob.tuning

    if hasattr(kerasprob.tuning, "KnowledgeGradientSearch"):
        assert cli.tuner_class("kg") is kerasprob.tuning.KnowledgeGradientSearch
        out = tmp_path / "kg"
        status, _, err = run(["tune", "GaussianNaiveBayes", "--data", "iris", "--tuner", "kg",
                              "--trials", 2, "--out", out, "--verbose", 0], capsys)
        assert status == 0, err
        trials = json.loads((out / "trials.json").read_text())
        assert len(trials) == 2 and trials[0]["score"] <= trials[1]["score"]
        best = zoo.load(str(out / "model.keras"))
        assert best.var_smoothing == pytest.approx(trials[0]["hyperparameters"]["var_smoothing"])
        return
    expect_error(["tune", "VAE", "--data", "digits", "--tuner", "kg", "--out", tmp_path / "t"],
                 capsys, "KnowledgeGradientSearch")
    assert not (tmp_path / "t").exists()


# --------------------------------------------------------------------------- bad input
def test_bad_data_errors(tmp_path, labelled_csv, capsys):
    out = tmp_path / "out"
    expect_error(["fit", "VAE", "--data", tmp_path / "missing.csv", "--out", out], capsys,
                 "no such file")
    expect_error(["fit", "VAE", "--data", "digts", "--out", out], capsys, "Did you mean 'digits'")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,0\n3,oops,1\n")
    expect_error(["fit", "GaussianNaiveBayes", "--data", bad, "--target", "c", "--out", out],
                 capsys, "column 'b' is not numeric", "'oops'")
    expect_error(["fit", "GaussianNaiveBayes", "--data", labelled_csv, "--target", "specie",
                  "--out", out], capsys, "--target 'specie' is not a column",
                 "Did you mean 'species'")
    expect_error(["fit", "GaussianNaiveBayes", "--data", labelled_csv, "--out", out], capsys,
                 "--target")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("1,2\n3\n")
    expect_error(["fit", "RealNVP", "--data", ragged, "--out", out], capsys, "row 2 has 1 field")
    text = tmp_path / "data.txt"
    text.write_text("1 2\n")
    expect_error(["fit", "RealNVP", "--data", text, "--out", out], capsys, ".npy, .npz or .csv")
    expect_error(["fit", "DensityRatioEstimator", "--data", "banana", "--out", out], capsys,
                 "fits (x")
    assert not out.exists() and no_partial_left(tmp_path)


def test_bad_arguments_leave_nothing_at_out(tmp_path, capsys):
    out = tmp_path / "out"
    expect_error(["fit", "VAE", "--data", "digits", "--set", "latent_dim=-1", "--out", out],
                 capsys, "latent_dim", "-1")
    expect_error(["fit", "VAE", "--data", "digits", "--set", "nope=1", "--out", out], capsys,
                 "'nope' is not an argument of VAE")
    expect_error(["fit", "VAE", "--data", "digits", "--epochs", 0, "--out", out], capsys,
                 "epochs", "0")
    # An error raised once the run directory is open (inside fit) removes the partial one.
    expect_error(["fit", "VAE", "--data", "digits", "--batch-size", 0, "--epochs", 1, "--out",
                  out, "--no-plots"], capsys, "batch_size")
    assert not out.exists() and no_partial_left(tmp_path)
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    expect_error(["fit", "VAE", "--data", "digits", "--out", out], capsys, "not empty",
                 "--overwrite")
    assert os.listdir(out) == ["keep.txt"]


def test_not_a_run_directory(tmp_path, capsys):
    expect_error(["evaluate", tmp_path, "--data", "iris"], capsys,
                 "not a saved zoo model directory")
    expect_error(["sample", tmp_path / "nothing", "--out", tmp_path / "s.npy"], capsys,
                 "no such run directory")
    (tmp_path / "run.json").write_text("{not json")
    (tmp_path / "model.keras").write_text("")
    expect_error(["evaluate", tmp_path, "--data", "iris"], capsys, "not a zoo run description")


def test_usage_errors_exit_2(capsys):
    status, _, err = run(["fit", "VAE"], capsys)  # --data and --out missing: argparse
    assert status == 2 and "--data" in err


# ---------------------------------------------------------------------------- subprocess
@pytest.mark.slow
def test_python_dash_m_zoo_in_a_subprocess(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-m", "zoo", "list"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "VAE" in done.stdout
    done = subprocess.run([sys.executable, "-m", "zoo", "fit", "nosuch", "--data", "iris",
                           "--out", str(tmp_path / "o")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "zoo: error: unknown model 'nosuch'" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "o").exists()


def test_help_answers_without_tensorflow():
    """``python -m zoo --help`` (and ``import zoo``) import no TensorFlow; the models load on
    first use."""
    probe = ("import runpy, sys\n"
             "sys.argv = ['zoo', '--help']\n"
             "try:\n"
             "    runpy.run_module('zoo', run_name='__main__')\n"
             "except SystemExit:\n"
             "    pass\n"
             "print('tensorflow' in sys.modules, 'tf_keras' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage: python -m zoo" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "False False"
