"""Simple regret of KnowledgeGradientSearch's oracle against keras-tuner's
BayesianOptimization and RandomSearch and BoTorch's qKnowledgeGradient, side by side.

Each problem (the seed post's 1-D function sin(3x) + x^2 - 0.7x on [-1, 2], Branin,
Hartmann-6) is a keras-tuner objective over a ``HyperParameters`` space of floats; every
method starts from the same initial design (2 (d + 1) uniform points per seed) and runs to
the same number of trials. The table gives the median simple regret over the seeds
(best value found minus the global minimum), ours / anchor, and the median oracle time per
trial. The anchors run in ``benchmarks/.venv-anchors-torch`` (torch 2.13.0, botorch,
keras-tuner 1.4.7 on keras' torch backend, scipy, scikit-learn: keras-tuner's
BayesianOptimization needs scipy and scikit-learn, which the main venv does not have).

    .venv/bin/python benchmarks/bench_tuning_kg.py            # 20 seeds, 30 trials, 3 problems
    .venv/bin/python benchmarks/bench_tuning_kg.py --quick    # 3 seeds, 15 trials, 1-D + Branin
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _harness as h

HERE = Path(__file__).resolve().parent
ANCHOR_PYTHON = HERE / ".venv-anchors-torch" / "bin" / "python"
sys.path.insert(0, str(HERE / "anchors"))


def run_ours(problem, design, trials, seed):
    import keras_tuner as kt
    import numpy as np

    from kerasprob.tuning import KnowledgeGradientOracle

    lows, highs, f, _ = problem
    hp = kt.HyperParameters()
    for i, (lo, hi) in enumerate(zip(lows, highs)):
        hp.Float(f"x{i}", lo, hi)
    oracle = KnowledgeGradientOracle(objective=kt.Objective("f", "min"), max_trials=trials,
                                     num_initial_points=len(design), seed=seed,
                                     hyperparameters=hp)
    oracle._set_project_dir(tempfile.mkdtemp(), "p")
    oracle.verbose = 0
    lows_, span = np.asarray(lows), np.asarray(highs) - np.asarray(lows)
    queue = [dict(zip([f"x{i}" for i in range(len(lows))], map(float, lows_ + span * p)))
             for p in design]
    random_values = oracle._random_values
    oracle._random_values = lambda: queue.pop(0) if queue else random_values()
    best = np.inf
    while True:
        trial = oracle.create_trial("t")
        if trial.status == "STOPPED":
            break
        x = np.array([trial.hyperparameters.values[f"x{i}"] for i in range(len(lows))])
        value = float(f(x))
        best = min(best, value)
        oracle.update_trial(trial.trial_id, {"f": value})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    # The first suggestion traces the graphs (once per process and dimension): left out.
    seconds = oracle.acquisition_seconds[1:] or oracle.acquisition_seconds
    return best, float(np.median(seconds))


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--problems", default=None)
    args = h.parse_args(parser)
    import numpy as np
    from problems import PROBLEMS, initial_design

    seeds = args.seeds or (3 if args.quick else 20)
    trials = args.trials or (15 if args.quick else 30)
    problems = (args.problems or ("oned,branin" if args.quick else "oned,branin,hartmann6"))
    anchor = None
    if ANCHOR_PYTHON.exists():
        threads = os.environ.get("BENCH_THREADS", "2")
        env = {**os.environ, "BENCH_THREADS": threads, "OMP_NUM_THREADS": threads,
               "MKL_NUM_THREADS": threads}
        start = time.time()
        proc = subprocess.run(
            [str(ANCHOR_PYTHON), str(HERE / "anchors" / "tuning_anchors.py"), "--problems",
             problems, "--seeds", str(seeds), "--trials", str(trials)],
            env=env, stdout=subprocess.PIPE, text=True, check=True)
        anchor = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"anchors: {time.time() - start:.0f} s", file=sys.stderr)
    else:
        print(f"no anchor venv at {ANCHOR_PYTHON}: ours only", file=sys.stderr)
    rows = []
    for name in problems.split(","):
        problem = PROBLEMS[name]
        ours = [run_ours(problem, initial_design(name, s), trials, s) for s in range(seeds)]
        regret = float(np.median([b - problem[3] for b, _ in ours]))
        secs = float(np.median([t for _, t in ours]))
        label = f"{name} {trials} trials"
        for method, title in (("bo", "kt BayesOpt"), ("random", "kt Random"),
                              ("botorch", "BoTorch qKG")):
            value = None if anchor is None else float(np.median(anchor["regret"][method][name]))
            rows.append(h.Row(label, "median regret", title, regret, value))
        for method, title in (("bo", "kt BayesOpt"), ("botorch", "BoTorch qKG")):
            value = None if anchor is None else float(np.median(anchor["seconds"][method][name]))
            rows.append(h.Row(label, "oracle s/trial", title, secs, value))
    h.print_table(rows)


if __name__ == "__main__":
    main()
