"""Anchor for bench_density_ratio.py: KL[p || q] from samples with densratio (uLSIF, KLIEP)
and with scikit-learn's logistic regression on quadratic features.

Runs in ``benchmarks/.venv-anchors-densratio`` (``pip install densratio scikit-learn``).
Reads ``--data`` (an ``.npz`` with ``x_p``, ``x_q``, ``x_eval``: samples of p, of q, and the
points of p where ``mean log r`` is taken); prints one JSON line: ``kl`` and ``seconds``
(the fit and the ratio evaluation) for ``--method ulsif | kliep | logistic``.
"""

import argparse
import json
import os
import time

import numpy as np


def quadratic_features(x):
    d = x.shape[1]
    rows, cols = np.triu_indices(d)
    return np.concatenate([x, x[:, rows] * x[:, cols]], axis=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--method", choices=("ulsif", "kliep", "logistic"), required=True)
    args = parser.parse_args()
    data = np.load(args.data)
    x_p, x_q, x_eval = data["x_p"], data["x_q"], data["x_eval"]
    start = time.perf_counter()
    if args.method == "logistic":
        from sklearn.linear_model import LogisticRegression

        x = quadratic_features(np.concatenate([x_p, x_q]))
        y = np.r_[np.ones(len(x_p)), np.zeros(len(x_q))]
        model = LogisticRegression(C=1e6, max_iter=5000).fit(x, y)
        log_ratio = model.decision_function(quadratic_features(x_eval))
        log_ratio += np.log(len(x_q) / len(x_p))  # class-prior correction
    else:
        from densratio import densratio

        result = densratio(x_p, x_q, method="uLSIF" if args.method == "ulsif" else "KLIEP",
                           verbose=False)
        ratio = np.asarray(result.compute_density_ratio(x_eval)).ravel()
        log_ratio = np.log(np.maximum(ratio, 1e-12))  # uLSIF's ratio can be <= 0
    seconds = time.perf_counter() - start
    print(json.dumps({"kl": float(np.mean(log_ratio)), "seconds": seconds,
                      "threads": os.environ.get("OMP_NUM_THREADS")}))


if __name__ == "__main__":
    main()
