"""Benchmark harness: run an anchor and our code side by side in one run, print ratios.

Every ``benchmarks/bench_<name>.py`` does the same four things::

    import _harness as h

    args = h.parse_args(h.arg_parser(__doc__))       # --quick, --threads, --seed
    path, data = h.digits_data(seed=args.seed)       # the same data file for both sides
    anchor = h.run_anchor("zuko_digits.py", "--flow", "maf", "--data", path,
                          "--steps", h.steps(args, 2000))
    ours = h.time_steps(my_train_step, h.steps(args, 2000))  # or h.keras_step_timer() in fit
    h.print_table([h.Row("digits MAF", "ms/step", "zuko", ours["ms_per_step"],
                         anchor["ms_per_step"])])

Threads: both sides get the same number of CPU threads, 2 by default (``--threads N`` or the
environment variable ``BENCH_THREADS``). Our side: TensorFlow intra-op and inter-op pools.
Anchors: ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` and ``torch.set_num_threads`` /
``set_num_interop_threads`` (see ``anchors/_common.py``).

Timing: ``ms_per_step`` is the median over the steps after the warm-up (20 by default, at most
half the steps), so tracing and first-call costs are excluded; ``total_s`` is the wall time of
the whole loop, warm-up included.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
ANCHORS_DIR = BENCH_DIR / "anchors"
ANCHOR_PYTHON = BENCH_DIR / ".venv-anchors" / "bin" / "python"
DATA_DIR = BENCH_DIR / ".data"  # generated .npz files handed to both sides (gitignored)
DIGITS_SRC = REPO / "zoo" / "data" / "digits.npz"
IRIS_SRC = REPO / "zoo" / "data" / "iris.csv"
DEFAULT_THREADS = 2
WARMUP = 20
if str(REPO) not in sys.path:  # benchmarks import kerasprob / zoo from this checkout
    sys.path.insert(1, str(REPO))


class AnchorVenvMissing(RuntimeError):
    """The anchor venv (torch, zuko, Pyro) has not been created."""


# --- command line -------------------------------------------------------------------------


def arg_parser(description: str | None = None) -> argparse.ArgumentParser:
    """The flags every benchmark takes; add your own before ``parse_args``.

    ``--quick`` shrinks every run to a smoke size (see ``steps``); figures from it are not
    meant to be compared.
    """
    parser = argparse.ArgumentParser(description=(description or "").strip().split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few steps/epochs")
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("BENCH_THREADS", DEFAULT_THREADS)),
        help="CPU threads for both sides (default: $BENCH_THREADS or 2)",
    )
    parser.add_argument("--seed", type=int, default=0)
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None = None):
    """Parses the flags and pins both sides to ``--threads`` (call before any TF op runs)."""
    args = parser.parse_args(argv)
    set_threads(args.threads)
    warn_if_busy()
    return args


def warn_if_busy(limit: float = 0.5) -> None:
    """Warns on stderr when other processes already load the CPUs (timings get noisy)."""
    load = os.getloadavg()[0]
    if load > limit:
        print(f"warning: the machine is busy (1-minute load average {load:.2f}); "
              "step times will be noisy and medians less so", file=sys.stderr)


def steps(args, full: int, quick: int = 50) -> int:
    """The ``--quick`` convention: ``quick`` steps (or epochs) in a smoke run, else ``full``."""
    return quick if args.quick else full


def set_threads(threads: int) -> None:
    """Pins TensorFlow's thread pools and records the count for anchors (``BENCH_THREADS``)."""
    if threads < 1:
        raise ValueError(f"threads must be a positive integer. Received: threads={threads}")
    os.environ["BENCH_THREADS"] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's start-up chatter out
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


# --- anchors ------------------------------------------------------------------------------


def run_anchor(script: str, *args, timeout: float | None = None) -> dict:
    """Runs ``benchmarks/anchors/<script> *args`` with the anchor venv's python.

    The anchor gets ``BENCH_THREADS`` / ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` equal to our
    thread count. Its stderr passes through; the last line it prints on stdout must be one
    JSON object, which is returned.
    """
    if not ANCHOR_PYTHON.exists():
        raise AnchorVenvMissing(
            f"anchor venv not found at {ANCHOR_PYTHON}; create it with "
            "`bash benchmarks/setup_anchors.sh` (installs torch, zuko, pyro-ppl), then rerun."
        )
    path = ANCHORS_DIR / script
    if not path.exists():
        raise FileNotFoundError(f"no anchor script {path}. Received: script={script!r}")
    threads = os.environ.get("BENCH_THREADS", str(DEFAULT_THREADS))
    env = {**os.environ, "BENCH_THREADS": threads, "OMP_NUM_THREADS": threads,
           "MKL_NUM_THREADS": threads, "PYTHONUNBUFFERED": "1"}
    cmd = [str(ANCHOR_PYTHON), str(path), *map(str, args)]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0:
        raise RuntimeError(f"anchor failed (exit {proc.returncode}): {' '.join(cmd)}")
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as err:
        raise RuntimeError(
            f"anchor {script} did not end with a JSON line; its stdout was:\n{proc.stdout}"
        ) from err


# --- timing our side ----------------------------------------------------------------------


def summarize(step_seconds: list[float], warmup: int = WARMUP, total_s: float | None = None):
    """``{"ms_per_step", "total_s", "steps", "warmup"}`` from per-step times in seconds.

    The median skips the first ``warmup`` steps (at most half of them); ``total_s`` defaults
    to the sum of all steps.
    """
    if not step_seconds:
        raise ValueError("no step times to summarize. Received: step_seconds=[]")
    warmup = min(warmup, len(step_seconds) // 2)
    return {
        "ms_per_step": 1e3 * statistics.median(step_seconds[warmup:]),
        "total_s": sum(step_seconds) if total_s is None else total_s,
        "steps": len(step_seconds),
        "warmup": warmup,
    }


def time_steps(step_fn, steps: int, warmup: int = WARMUP) -> dict:
    """Calls ``step_fn()`` ``steps`` times (warm-up included) and ``summarize``s the times.

    Whatever ``step_fn`` returns is turned into a numpy value, so the step has finished when
    its time is taken (return the loss tensor).
    """
    times = []
    start = time.perf_counter()
    for _ in range(steps):
        t = time.perf_counter()
        out = step_fn()
        if out is not None:
            np.asarray(out)
        times.append(time.perf_counter() - t)
    return summarize(times, warmup, time.perf_counter() - start)


def keras_step_timer(warmup: int = WARMUP):
    """A tf_keras callback for ``model.fit`` timing each train batch and each epoch.

    After fit: ``timer.result()`` is ``summarize`` of the batch times with ``total_s`` the
    fit's wall time, plus ``s_per_epoch`` (median epoch time, validation included, the first
    epoch skipped when there are several) and ``epochs``.
    """
    import tf_keras

    class StepTimer(tf_keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.step_times, self.epoch_times = [], []
            self._fit_start = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch_start = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            self._step_start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.step_times.append(time.perf_counter() - self._step_start)

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_times.append(time.perf_counter() - self._epoch_start)

        def on_train_end(self, logs=None):
            self.total_s = time.perf_counter() - self._fit_start

        def result(self) -> dict:
            epochs = self.epoch_times[1:] if len(self.epoch_times) > 1 else self.epoch_times
            return {**summarize(self.step_times, warmup, self.total_s),
                    "s_per_epoch": statistics.median(epochs), "epochs": len(self.epoch_times)}

    return StepTimer()


# --- data: one file, both sides -----------------------------------------------------------


def _save(name: str, **arrays) -> Path:
    """Writes ``.data/<name>`` atomically: concurrent benchmarks may write the same file."""
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / name
    tmp = path.with_name(f".{name}.{os.getpid()}.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    return path


def digits_data(seed: int = 0, src: str | Path = DIGITS_SRC) -> tuple[Path, dict]:
    """8x8 digits as 64-d vectors, split 80/20 by a permutation drawn with ``seed``.

    Training uses uniform dequantization drawn afresh for every batch,
    ``x = (counts + u) / 17`` with ``u ~ U[0, 1)``; the test set is dequantized once with
    ``seed`` so every side scores exactly the same numbers.
    ``src``: an .npz with ``images`` (uint8 [1797, 8, 8], values 0..16) and ``target``.
    Returns the path of the written .npz and its arrays: ``counts_train`` float32
    [1437, 64] (raw pixel values 0..16), ``y_train``, ``x_test`` float32 [360, 64] in (0, 1),
    ``counts_test``, ``y_test``.
    """
    src = Path(src)
    if not src.exists():
        raise FileNotFoundError(f"digits file not found. Received: src={src}")
    raw = np.load(src)
    images, labels = raw["images"], raw["target"]
    counts = images.reshape(len(images), -1).astype(np.float32)  # [n, 64]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(counts))
    n_train = int(0.8 * len(counts))
    train, test = perm[:n_train], perm[n_train:]
    x_test = (counts[test] + rng.uniform(size=counts[test].shape)) / 17.0
    arrays = {"counts_train": counts[train], "y_train": labels[train],
              "x_test": x_test.astype(np.float32), "counts_test": counts[test],
              "y_test": labels[test]}
    return _save(f"digits_seed{seed}.npz", **arrays), arrays


def iris_data(src: str | Path = IRIS_SRC) -> tuple[Path, dict]:
    """Iris sepal length and width, standardized (mean 0, std 1 with ddof=0): ``x`` [150, 2].

    ``src``: a CSV with columns sepal length, sepal width, petal length, petal width, label;
    lines whose four measurements do not parse (headers) are skipped.
    """
    src = Path(src)
    if not src.exists():
        raise FileNotFoundError(f"iris file not found. Received: src={src}")
    rows = []
    with open(src, newline="") as f:
        for row in csv.reader(f):
            try:
                rows.append([float(v) for v in row[:4]])
            except ValueError:
                continue  # a header, e.g. scikit-learn's "150,4,setosa,versicolor,virginica"
    x = np.asarray([r for r in rows if len(r) == 4])[:, :2]  # [150, 2]
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    return _save("iris.npz", x=x), {"x": x}


# --- report -------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: a metric of one benchmark, ours next to the anchor's.

    ``compare="ratio"`` prints ours/anchor (times: < 1 means we are faster); ``"diff"``
    prints ours - anchor (for NLLs and losses, in their own units; < 0 means we fit better).
    """

    bench: str
    metric: str
    anchor_name: str
    ours: float | None = None
    anchor: float | None = None
    compare: str = "ratio"


def _fmt(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.3e}"


def print_table(rows: list[Row | dict], file=sys.stdout) -> None:
    """Prints ours vs anchor, one line per row, with ours/anchor (or ours - anchor)."""
    rows = [r if isinstance(r, Row) else Row(**r) for r in rows]
    header = ("benchmark", "metric", "anchor", "ours", "anchor value", "ours/anchor")
    table = [header]
    for r in rows:
        if r.compare not in ("ratio", "diff"):
            raise ValueError(f"compare must be 'ratio' or 'diff'. Received: compare={r.compare!r}")
        cmp = "-"
        if r.ours is not None and r.anchor is not None:
            if r.compare == "ratio":
                cmp = f"{r.ours / r.anchor:.2f}x" if r.anchor else "-"
            else:
                cmp = f"diff {r.ours - r.anchor:+.3g}"
        table.append((r.bench, r.metric, r.anchor_name, _fmt(r.ours), _fmt(r.anchor), cmp))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for j, line in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip(), file=file)
        if j == 0:
            print("  ".join("-" * w for w in widths), file=file)
    print(f"(1-minute load average now: {os.getloadavg()[0]:.2f})", file=file)
