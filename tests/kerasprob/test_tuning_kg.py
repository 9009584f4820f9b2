"""KnowledgeGradientSearch and the tuner checks: encoding, surrogate, bad input, end to end,
resume, distributed (one chief, two workers), every zoo model's default objective."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import keras_tuner as kt
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import kerasprob as kp
import zoo
from kerasprob.math import kernels
from kerasprob.tuning.encoding import UnitCubeEncoding
from kerasprob.tuning.surrogate import _negative_log_marginal_likelihood, fit_gaussian_process

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXED = {"input_shape": (8, 8), "hidden_units": [16]}


@pytest.fixture(scope="module")
def digits():
    x, _ = zoo.datasets.load_digits()
    x = (x / 16.0).astype("float32")
    return x[:96], x[96:160]


def test_encoding_round_trips_every_kind_of_hyperparameter():
    hp = kt.HyperParameters()
    hp.Float("lr", 1e-4, 1e-2, sampling="log")
    hp.Int("units", 2, 32, sampling="log")
    hp.Choice("width", [64, 128, 256])
    hp.Choice("act", ["relu", "tanh", "gelu"])
    hp.Boolean("bias")
    hp.Fixed("const", 3)
    enc = UnitCubeEncoding(hp)
    assert enc.dimension == 1 + 1 + 1 + 3 + 1
    assert enc.continuous.tolist() == [True] + [False] * 6
    values = {"lr": 1e-3, "units": 7, "width": 256, "act": "gelu", "bias": True, "const": 3}
    point = enc.encode(values)
    np.testing.assert_allclose(point[0], 0.5)  # log scale: 1e-3 is halfway
    np.testing.assert_array_equal(point[3:6], [0, 0, 1])  # one-hot, no false order
    decoded = enc.decode(point)
    assert decoded == pytest.approx(values)
    rng = np.random.default_rng(0)
    for p in np.concatenate([enc.sample(rng, 20), enc.perturb(rng, enc.sample(rng, 5))]):
        v = enc.decode(p)
        assert 2 <= v["units"] <= 32 and v["width"] in (64, 128, 256) and 1e-4 <= v["lr"] <= 1e-2
        np.testing.assert_allclose(enc.encode(v), p)  # samples are valid points


def test_surrogate_maximizes_the_marginal_likelihood():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(12, 2))
    y = np.sin(6 * x[:, 0]) + 0.1 * x[:, 1]
    fit = fit_gaussian_process(x, y, seed=0)
    z = (y - y.mean()) / y.std()

    def nll_np(ls, var, noise):  # an independent computation of -log p(y | X, theta)
        r2 = (((x[:, None] - x[None]) / ls) ** 2).sum(-1)
        r = np.sqrt(5 * r2)
        gram = var * (1 + r + 5 * r2 / 3) * np.exp(-r) + (noise + 1e-8) * np.eye(len(x))
        sign, logdet = np.linalg.slogdet(gram)
        return 0.5 * z @ np.linalg.solve(gram, z) + 0.5 * logdet + 6 * np.log(2 * np.pi)

    best = nll_np(fit.lengthscales, fit.variance, fit.noise_variance)
    ours = _negative_log_marginal_likelihood(tf.constant(fit.raw[None]), tf.constant(x),
                                             tf.constant(z)).numpy()[0]
    assert ours == pytest.approx(best, rel=1e-9)
    for raw in rng.normal(0, 1.5, size=(20, 4)):
        other = _negative_log_marginal_likelihood(tf.constant(raw[None]), tf.constant(x),
                                                  tf.constant(z)).numpy()[0]
        assert best <= other + 1e-6
    # x_2 barely matters: its lengthscale is the longer one (ARD).
    assert fit.lengthscales[1] > fit.lengthscales[0]
    k = kernels.matern52(x[:2], x[:2], fit.variance, fit.lengthscales).numpy()
    np.testing.assert_allclose(np.diag(k), fit.variance)


def test_oracle_refuses_bad_settings():
    with pytest.raises(ValueError, match="max_trials"):
        kp.tuning.KnowledgeGradientOracle(objective="val_loss", max_trials=0)
    with pytest.raises(ValueError, match="num_fantasies"):
        kp.tuning.KnowledgeGradientOracle(objective="val_loss", num_fantasies=0)
    with pytest.raises(ValueError, match="seed"):
        kp.tuning.KnowledgeGradientOracle(objective="val_loss", seed=-1)


def _space_file_count(path):
    return len([d for d in os.listdir(path) if d.startswith("trial_")]) if os.path.isdir(
        path) else 0


def test_bad_input_is_refused_before_any_trial(tmp_path, digits):
    x_train, x_val = digits
    with pytest.raises(ValueError, match="max_trials must be an int >= 1"):
        kp.tuning.RandomSearch(zoo.VAE.hypermodel(**FIXED), max_trials=0,
                               directory=str(tmp_path / "a"))
    with pytest.raises(ValueError, match="max_trials"):
        kp.tuning.KnowledgeGradientSearch(zoo.VAE.hypermodel(**FIXED), max_trials=0,
                                          directory=str(tmp_path / "a"))
    everything_fixed = zoo.VAE.hypermodel(**FIXED, latent_dim=2, learning_rate=1e-3)
    with pytest.raises(ValueError, match="no tunable values"):
        kp.tuning.KnowledgeGradientSearch(everything_fixed, max_trials=2,
                                          directory=str(tmp_path / "b"))
    tuner = kp.tuning.KnowledgeGradientSearch(zoo.VAE.hypermodel(**FIXED),
                                              objective="val_accuracy", max_trials=2,
                                              directory=str(tmp_path / "c"), project_name="p")
    with pytest.raises(ValueError, match=r"'val_accuracy' is never logged by VAE.*val_loss"):
        tuner.search(x_train, epochs=1, validation_data=(x_val,), verbose=0)
    assert _space_file_count(str(tmp_path / "c" / "p")) == 0
    tuner = kp.tuning.KnowledgeGradientSearch(zoo.VAE.hypermodel(**FIXED), max_trials=2,
                                              directory=str(tmp_path / "d"), project_name="p")
    with pytest.raises(ValueError, match="'val_loss' is never logged.*need validation_data"):
        tuner.search(x_train, epochs=1, verbose=0)  # no validation data: no val_loss


def test_a_directory_from_a_different_search_is_refused(tmp_path, digits):
    x_train, x_val = digits
    first = kp.tuning.RandomSearch(zoo.VAE.hypermodel(**FIXED), max_trials=1, seed=0,
                                   directory=str(tmp_path), project_name="p")
    first.search(x_train, epochs=1, batch_size=32, validation_data=(x_val,), verbose=0)
    assert first.oracle.objective.name == "val_loss"  # the model's default objective
    with pytest.raises(ValueError, match="holds a different search.*tuner"):
        kp.tuning.KnowledgeGradientSearch(zoo.VAE.hypermodel(**FIXED), max_trials=2,
                                          directory=str(tmp_path), project_name="p")
    with pytest.raises(ValueError, match="holds a different search.*space"):
        kp.tuning.RandomSearch(zoo.VAE.hypermodel(input_shape=(8, 8)), max_trials=2,
                               directory=str(tmp_path), project_name="p")
    with pytest.raises(ValueError, match="holds a different search.*objective"):
        kp.tuning.RandomSearch(zoo.VAE.hypermodel(**FIXED), objective="loss", max_trials=2,
                               directory=str(tmp_path), project_name="p")
    again = kp.tuning.RandomSearch(zoo.VAE.hypermodel(**FIXED), max_trials=2, overwrite=True,
                                   directory=str(tmp_path), project_name="p")
    assert len(again.oracle.trials) == 0


class CountingHyperModel(kp.tuning.ModelHyperModel):
    """Records each trial it trains (hyperparameter values) in a JSON-lines file."""

    def __init__(self, log, **fixed):
        super().__init__(zoo.VAE, **fixed)
        self.log = log

    def fit(self, hp, model, *args, **kwargs):
        with open(self.log, "a") as f:
            f.write(json.dumps(hp.values, sort_keys=True) + "\n")
        return super().fit(hp, model, *args, **kwargs)


@pytest.mark.slow
def test_knowledge_gradient_search_tunes_a_vae_and_resumes(tmp_path, digits):
    x_train, x_val = digits
    log = str(tmp_path / "log.jsonl")
    # Tuned: latent_dim (integer) and learning_rate (continuous).
    hypermodel = CountingHyperModel(log, **FIXED)

    def tuner(max_trials):
        return kp.tuning.KnowledgeGradientSearch(
            hypermodel, max_trials=max_trials, num_initial_points=2, num_candidates=16,
            num_fantasies=4, num_restarts=2, max_iterations=10, seed=1,
            directory=str(tmp_path), project_name="vae")

    first = tuner(3)
    first.search(x_train, epochs=1, batch_size=32, validation_data=(x_val,), verbose=0)
    trials = first.oracle.get_best_trials(3)
    assert len(trials) == 3 and all(t.status == "COMPLETED" for t in trials)
    assert len(first.oracle.acquisition_seconds) == 1  # the third trial came from the KG
    best = first.get_best_models(1)[0]
    assert isinstance(best, zoo.VAE)
    tf_keras.utils.set_random_seed(0)
    val = best.evaluate(x_val, batch_size=32, verbose=0, return_dict=True)["loss"]
    assert val == pytest.approx(trials[0].score, rel=0.05)
    hp = first.get_best_hyperparameters(1)[0]
    assert best.latent_dim == hp.get("latent_dim")
    # Resume with a larger budget: the three finished trials are not run again.
    second = tuner(4)
    second.search(x_train, epochs=1, batch_size=32, validation_data=(x_val,), verbose=0)
    lines = open(log).read().splitlines()
    assert len(lines) == 4 and len(set(lines)) == 4
    assert len(second.oracle.trials) == 4


CHILD = textwrap.dedent("""
    import json, os, signal, sys
    import numpy as np
    import kerasprob as kp, zoo

    directory, log = sys.argv[1], sys.argv[2]
    max_trials, kill_at = int(sys.argv[3]), int(sys.argv[4])
    x, _ = zoo.datasets.load_digits()
    x = (x / 16.0).astype("float32")

    class Counting(kp.tuning.ModelHyperModel):
        def fit(self, hp, model, *args, **kwargs):
            with open(log, "a") as f:
                f.write(json.dumps({"tuner": os.environ.get("KERASTUNER_TUNER_ID", "tuner0"),
                                    "values": hp.values}, sort_keys=True) + "\\n")
            if sum(1 for _ in open(log)) == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)  # killed mid-trial
            return super().fit(hp, model, *args, **kwargs)

    # latent_dim and hidden_units' width tuned: a discrete space.
    hm = Counting(zoo.VAE, input_shape=(8, 8), learning_rate=1e-3, hidden_units=[16])
    tuner = kp.tuning.KnowledgeGradientSearch(
        hm, max_trials=max_trials, num_initial_points=2, num_candidates=16, num_fantasies=4,
        num_restarts=2, seed=0, directory=directory, project_name="p")
    tuner.search(x[:96], epochs=1, batch_size=32, validation_data=(x[96:160],), verbose=0)
""")


def _run_child(tmp_path, args, env=None, name="child"):
    """Starts CHILD; its output goes to tmp_path/<name>.log (a file: a pipe nobody reads
    while it waits for the others could fill and stop it)."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    full_env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    with open(tmp_path / f"{name}.log", "w") as out:
        process = subprocess.Popen([sys.executable, str(script), *map(str, args)],
                                   env=full_env, stdout=out, stderr=subprocess.STDOUT)
    process.log = tmp_path / f"{name}.log"
    return process


def _wait_for_all(processes, timeout):
    """Waits until every process has exited, and returns their outputs. The first to fail,
    or the deadline, ends the rest (a chief whose worker died waits forever for its trial)
    and fails the test with every output."""
    deadline = time.monotonic() + timeout
    try:
        while any(p.poll() is None for p in processes):
            failed = [p for p in processes if p.returncode not in (None, 0)]
            if failed or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    outs = [p.log.read_text()[-3000:] for p in processes]
    assert all(p.returncode == 0 for p in processes), (
        f"exit codes {[p.returncode for p in processes]} (-9: ended here, after another "
        f"failed or {timeout} s passed)", outs)
    return outs


@pytest.mark.slow
def test_a_search_killed_mid_trial_resumes_without_repeating_finished_trials(tmp_path):
    log = tmp_path / "log.jsonl"
    killed = _run_child(tmp_path, [tmp_path / "d", log, 3, 2])  # dies in the second trial
    try:
        killed.wait(timeout=300)
    finally:
        killed.kill()
    assert killed.returncode == -9, killed.log.read_text()[-3000:]
    _wait_for_all([_run_child(tmp_path, [tmp_path / "d", log, 3, 0])], timeout=300)
    runs = [json.dumps(json.loads(line)["values"], sort_keys=True)
            for line in log.read_text().splitlines()]
    # trial 0 once; trial 1 twice (killed, then rerun with the same values); trial 2 once.
    assert len(runs) == 4 and runs[1] == runs[2] and len(set(runs)) == 3, runs


@pytest.mark.slow
def test_one_chief_and_two_workers_run_every_trial_exactly_once(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "log.jsonl"
    env = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
    args = [tmp_path / "d", log, 4, 0]
    chief = _run_child(tmp_path, args, {**env, "KERASTUNER_TUNER_ID": "chief"}, "chief")
    workers = [_run_child(tmp_path, args, {**env, "KERASTUNER_TUNER_ID": f"tuner{i}"},
                          f"tuner{i}") for i in range(2)]
    _wait_for_all([*workers, chief], timeout=420)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    values = [json.dumps(r["values"], sort_keys=True) for r in records]
    assert len(records) == 4 and len(set(values)) == 4  # every trial exactly once
    assert {r["tuner"] for r in records} <= {"tuner0", "tuner1"}  # the chief trains nothing
    trials = [json.load(open(tmp_path / "d" / "p" / t / "trial.json"))
              for t in sorted(os.listdir(tmp_path / "d" / "p")) if t.startswith("trial_")]
    assert len(trials) == 4 and all(t["status"] == "COMPLETED" for t in trials)


# Their validation step fails today ("... got an unexpected keyword argument 'training'"
# from the model's own call): not tunable on a val_* objective until that is fixed.
_NO_VALIDATION = {"DensityRatioEstimator", "ImplicitGenerator", "PolyaGammaLogisticRegression"}


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(reason="evaluate/validation step raises TypeError",
                                            strict=False))
    if n in _NO_VALIDATION else n for n in zoo.list()])
def test_every_zoo_model_logs_its_default_objective(name):
    cls = zoo.get(name)
    kwargs, x, y = cls.example()
    hypermodel = cls.hypermodel(**{k: v for k, v in kwargs.items() if k not in cls.search_space})
    objective = hypermodel.objective
    assert isinstance(objective, kt.Objective) and objective.direction in ("min", "max")
    model = cls(**kwargs)
    validation = (x,) if y is None else (x, y)
    history = model.fit(x, y, epochs=1, validation_data=validation, verbose=0)
    assert objective.name in history.history, (name, sorted(history.history))
    assert np.isfinite(history.history[objective.name][-1])
