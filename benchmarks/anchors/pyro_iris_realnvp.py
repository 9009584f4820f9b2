"""Anchor: the seed lecture's Pyro RealNVP loop on iris (first two features, standardized).

Exactly the slides' model and loop: 5 ``affine_coupling(hidden_dims=[20, 20])`` transforms with
reverse permutations between them, base ``Normal(0, 1)`` in 2-d, full batch, loss = summed
-log_prob, Adam 1e-2, 2501 steps, ``clear_cache()`` after each step.

Prints one JSON line: total_s (wall time of the training loop), ms_per_step (median after
warm-up), final_nll (mean -log_prob per example after training, nats), final_loss (the summed
loss the slides minimize), params.
"""

import argparse

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from _common import emit, setup, timed_loop
from pyro.distributions.transforms import affine_coupling, permute


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help=".npz with x [150, 2], standardized")
    parser.add_argument("--steps", type=int, default=2501)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    setup(args.seed)
    pyro.set_rng_seed(args.seed)

    dataset = torch.tensor(np.load(args.data)["x"], dtype=torch.float)  # [150, 2]
    p = dataset.shape[1]
    dist_z = dist.Normal(torch.zeros(p), torch.ones(p))
    transforms = []
    for i in range(5):
        if i > 0:
            transforms.append(permute(input_dim=p, permutation=torch.tensor(range(p - 1, -1, -1))))
        transforms.append(affine_coupling(input_dim=p, hidden_dims=[20, 20]))
    dist_x = dist.TransformedDistribution(dist_z, transforms)
    params = [w for t in transforms if hasattr(t, "parameters") for w in t.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-2)

    def step() -> None:
        optimizer.zero_grad()
        loss = -dist_x.log_prob(dataset).sum()
        loss.backward()
        optimizer.step()
        dist_x.clear_cache()

    result = timed_loop(step, args.steps, args.warmup)
    with torch.no_grad():
        log_prob = dist_x.log_prob(dataset)
    emit({
        "anchor": "Pyro RealNVP",
        "pyro": pyro.__version__,
        **result,
        "final_nll": -log_prob.mean().item(),
        "final_loss": -log_prob.sum().item(),
        "params": sum(w.numel() for w in params),
    })


if __name__ == "__main__":
    main()
