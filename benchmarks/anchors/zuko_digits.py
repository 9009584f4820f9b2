"""Anchor: zuko MAF or NSF on 8x8 digits (64-d), the reference for our MAF / NSF.

5 transforms, hidden_features [128, 128], NSF with 8 bins; Adam 1e-3, batch 256 (a fresh
permutation each epoch, remainder dropped), each batch dequantized afresh as
``(counts + U[0, 1)) / 17``, loss = mean -log_prob. The data file (``_harness.digits_data``)
holds ``counts_train`` and ``x_test`` (dequantized once), so every side scores the same test set.

Prints one JSON line: ms_per_step (median after warm-up), total_s, test_nll (nats per example,
mean -log_prob on x_test), final_train_loss, params.
"""

import argparse

import numpy as np
import torch
import zuko
from _common import emit, epoch_batches, setup, timed_loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flow", choices=["maf", "nsf"], default="maf")
    parser.add_argument("--data", required=True, help=".npz with counts_train, x_test")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    setup(args.seed)

    data = np.load(args.data)
    counts = torch.from_numpy(data["counts_train"].astype(np.float32))  # [n_train, 64]
    x_test = torch.from_numpy(data["x_test"].astype(np.float32))  # [n_test, 64]
    features = counts.shape[1]
    kwargs = {"transforms": 5, "hidden_features": [128, 128]}
    if args.flow == "maf":
        flow = zuko.flows.MAF(features, **kwargs)
    else:
        flow = zuko.flows.NSF(features, bins=8, **kwargs)
    optimizer = torch.optim.Adam(flow.parameters(), lr=1e-3)
    batches = epoch_batches(len(counts), args.batch, np.random.default_rng(args.seed))
    losses = []

    def step() -> None:
        c = counts[next(batches)]
        x = (c + torch.rand_like(c)) / 17.0
        loss = -flow().log_prob(x).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    result = timed_loop(step, args.steps, args.warmup)
    with torch.no_grad():
        test_nll = -flow().log_prob(x_test).mean().item()
    emit({
        "anchor": f"zuko {args.flow.upper()}",
        "zuko": zuko.__version__,
        **result,
        "test_nll": test_nll,
        "final_train_loss": losses[-1],
        "params": sum(p.numel() for p in flow.parameters()),
    })


if __name__ == "__main__":
    main()
