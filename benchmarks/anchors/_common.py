"""Helpers shared by the torch anchors (run by the anchor venv, never imported by our side).

The harness passes the thread count in ``BENCH_THREADS`` (and ``OMP_NUM_THREADS``); ``setup``
applies it to torch so the anchor uses the same number of CPU threads as our TensorFlow side.
"""

import json
import os
import statistics
import time

import numpy as np
import torch


def setup(seed: int) -> int:
    """Seeds torch, sets torch's thread pools; returns the thread count."""
    threads = int(os.environ.get("BENCH_THREADS", "2"))
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    torch.manual_seed(seed)
    return threads


def epoch_batches(n: int, batch: int, rng: np.random.Generator):
    """Yields index batches forever: a fresh permutation each epoch, remainder dropped."""
    while True:
        perm = rng.permutation(n)
        for i in range(0, n - batch + 1, batch):
            yield torch.from_numpy(perm[i : i + batch])


def summarize(step_seconds: list[float], warmup: int, total_s: float) -> dict:
    """Median ms/step over the steps after ``warmup``, and the whole loop's wall time."""
    warmup = min(warmup, len(step_seconds) // 2)
    timed = step_seconds[warmup:]
    return {
        "ms_per_step": 1e3 * statistics.median(timed),
        "total_s": total_s,
        "steps": len(step_seconds),
        "warmup": warmup,
    }


def timed_loop(step_fn, steps: int, warmup: int) -> dict:
    """Calls ``step_fn()`` ``steps`` times; returns ``summarize`` of the per-step times."""
    times = []
    start = time.perf_counter()
    for _ in range(steps):
        t = time.perf_counter()
        step_fn()
        times.append(time.perf_counter() - t)
    return summarize(times, warmup, time.perf_counter() - start)


def emit(result: dict) -> None:
    """Prints the result as the single JSON line the harness parses (it must come last)."""
    result = {**result, "torch": torch.__version__, "threads": torch.get_num_threads()}
    print(json.dumps(result), flush=True)
