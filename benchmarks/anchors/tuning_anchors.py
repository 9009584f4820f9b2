"""Tuning anchors on the benchmark functions: keras-tuner's BayesianOptimization and
RandomSearch oracles, and BoTorch's qKnowledgeGradient, from the same initial designs.

Runs in benchmarks/.venv-anchors-torch (torch, botorch, keras-tuner with keras on the torch
backend, scipy, scikit-learn). Prints one JSON line: {method: {problem: [regret per seed]},
"seconds": {method: {problem: [median oracle seconds per trial per seed]}}}.
"""

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
from problems import PROBLEMS, initial_design


def run_keras_tuner(kind, problem, design, trials, seed):
    import keras_tuner as kt

    lows, highs, f, _ = problem
    hp = kt.HyperParameters()
    for i, (lo, hi) in enumerate(zip(lows, highs)):
        hp.Float(f"x{i}", lo, hi)
    objective = kt.Objective("f", "min")
    if kind == "bo":
        oracle = kt.oracles.BayesianOptimizationOracle(
            objective=objective, max_trials=trials, num_initial_points=len(design),
            seed=seed + 1, hyperparameters=hp)
    else:
        oracle = kt.oracles.RandomSearchOracle(objective=objective, max_trials=trials,
                                               seed=seed + 1, hyperparameters=hp)
    oracle._set_project_dir(tempfile.mkdtemp(), "p")
    oracle.verbose = 0
    lows_, span = np.asarray(lows), np.asarray(highs) - np.asarray(lows)
    queue = [dict(zip([f"x{i}" for i in range(len(lows))], map(float, lows_ + span * p)))
             for p in design]
    random_values = oracle._random_values
    oracle._random_values = lambda: queue.pop(0) if queue else random_values()
    best, seconds = np.inf, []
    while True:
        start = time.perf_counter()
        trial = oracle.create_trial("t")
        seconds.append(time.perf_counter() - start)
        if trial.status == "STOPPED":
            break
        x = np.array([trial.hyperparameters.values[f"x{i}"] for i in range(len(lows))])
        value = float(f(x))
        best = min(best, value)
        oracle.update_trial(trial.trial_id, {"f": value})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return best, float(np.median(seconds[len(design):-1] or [0.0]))


def run_botorch(problem, design, trials, seed):
    import torch
    from botorch.acquisition import qKnowledgeGradient
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Standardize
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import ExactMarginalLogLikelihood

    torch.manual_seed(seed)
    lows, highs, f, _ = problem
    d = len(lows)
    lows_, span = np.asarray(lows), np.asarray(highs) - np.asarray(lows)
    x = torch.tensor(design, dtype=torch.float64)  # unit cube
    y = torch.tensor([[-f(lows_ + span * p)] for p in design], dtype=torch.float64)
    bounds = torch.stack([torch.zeros(d), torch.ones(d)]).double()
    seconds = []
    while len(x) < trials:
        start = time.perf_counter()
        model = SingleTaskGP(x, y, outcome_transform=Standardize(m=1))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        acq = qKnowledgeGradient(model, num_fantasies=16)
        cand, _ = optimize_acqf(acq, bounds=bounds, q=1, num_restarts=4, raw_samples=64)
        seconds.append(time.perf_counter() - start)
        p = cand.detach().numpy()[0]
        x = torch.cat([x, cand.detach()])
        y = torch.cat([y, torch.tensor([[-f(lows_ + span * p)]], dtype=torch.float64)])
    return float(-y.max()), float(np.median(seconds or [0.0]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--problems", default="oned,branin")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--methods", default="bo,random,botorch")
    args = parser.parse_args()
    regrets, seconds = {}, {}
    for method in args.methods.split(","):
        for name in args.problems.split(","):
            problem = PROBLEMS[name]
            for seed in range(args.seeds):
                design = initial_design(name, seed)
                if method == "botorch":
                    best, secs = run_botorch(problem, design, args.trials, seed)
                else:
                    best, secs = run_keras_tuner(method, problem, design, args.trials, seed)
                regrets.setdefault(method, {}).setdefault(name, []).append(best - problem[3])
                seconds.setdefault(method, {}).setdefault(name, []).append(secs)
    print(json.dumps({"regret": regrets, "seconds": seconds}))


if __name__ == "__main__":
    main()
