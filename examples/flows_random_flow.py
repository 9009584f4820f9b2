"""Seed 001's random normalizing flow and its contour images, on kerasprob flow layers.

``z ~ N(0, 0.3^2 I)``; ``x = tanh(R(theta) f3(f2(f1(z))))`` with ``f1(z) = (z1, z2 - 2)``,
``f2(z) = (z1, z2 / 2)``, ``f3(z) = (z1, z2 + a z1^2)``, ``a ~ N(3, 1)``,
``theta ~ U[0, 2 pi)``. ``f3`` and the rotation are the custom bijectors of
``examples/custom_bijectors.py``; shift, scale and tanh are built in.

Checks (printed): for each of 4 random flows, the density integrates to 1 over (-1, 1)^2 and
equals the seed's TFP ``TransformedDistribution`` (``tfb.Chain`` of ``tfb.Shift``,
``tfb.Scale``, the polynomial, the rotation and ``tfb.Tanh``). Writes samples and contour
images to ``--out`` (default ``runs/flows_random_flow.png``).

    python examples/flows_random_flow.py
"""

import argparse
import os

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from custom_bijectors import random_flow

tfb, tfd = tfp.bijectors, tfp.distributions


def seed_reference(a, theta, sigma=0.3):
    """The seed's TFP construction (its own Bijector subclasses, written inline)."""
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]],
                        np.float32)
    polynomial = tfb.Inline(
        forward_fn=lambda z: tf.concat([z[..., :1], z[..., 1:] + a * z[..., :1] ** 2], -1),
        inverse_fn=lambda y: tf.concat([y[..., :1], y[..., 1:] - a * y[..., :1] ** 2], -1),
        inverse_log_det_jacobian_fn=lambda y: tf.zeros(tf.shape(y)[:-1]),
        forward_min_event_ndims=1, is_constant_jacobian=True,
    )
    rotate = tfb.Inline(
        forward_fn=lambda z: tf.linalg.matvec(rotation, z),
        inverse_fn=lambda y: tf.linalg.matvec(rotation.T, y),
        inverse_log_det_jacobian_fn=lambda y: tf.zeros(tf.shape(y)[:-1]),
        forward_min_event_ndims=1, is_constant_jacobian=True,
    )
    bijectors = [tfb.Shift([0.0, -2.0]), tfb.Scale([1.0, 0.5]), polynomial, rotate, tfb.Tanh()]
    base = tfd.MultivariateNormalDiag(tf.zeros(2), sigma * tf.ones(2))
    return tfd.TransformedDistribution(base, tfb.Chain(list(reversed(bijectors))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/flows_random_flow.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    m = 100
    edges = np.linspace(-1, 1, m + 1)
    mids = (edges[1:] + edges[:-1]) / 2
    g1, g2 = np.meshgrid(mids, mids)
    grid = np.stack([g1.ravel(), g2.ravel()], -1).astype("float32")
    results = []
    for _ in range(4):
        a, theta = rng.normal(3.0, 1.0), rng.uniform(0.0, 2 * np.pi)
        flow = random_flow(a, theta)
        log_p = np.asarray(flow.log_prob(grid))
        mass = np.exp(log_p).sum() * (2.0 / m) ** 2
        reference = np.asarray(seed_reference(a, theta).log_prob(grid))
        relevant = reference > -20.0  # float32 log-densities far out differ in the last digits
        gap = np.max(np.abs(log_p - reference)[relevant])
        samples = np.asarray(flow.sample(2000, seed=int(rng.integers(1 << 30))))
        print(f"a={a:5.2f} theta={theta:4.2f}: integral over (-1,1)^2 = {mass:.4f}, "
              f"max |log p - log p_TFP| (where log p > -20) = {gap:.2e}")
        results.append((a, theta, samples, np.exp(log_p).reshape(m, m), mass, gap))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(16, 8))
    for i, (a, theta, samples, density, _, _) in enumerate(results):
        axes[0, i].scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, c="C3")
        axes[0, i].set(xlim=(-1, 1), ylim=(-1, 1), title=rf"$\theta$={theta:.2f}, a={a:.2f}")
        axes[1, i].contourf(g1, g2, density, levels=100, cmap="hot")
        axes[1, i].axis("off")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=80, bbox_inches="tight")
    print(f"wrote {args.out}")
    return results


if __name__ == "__main__":
    main()
