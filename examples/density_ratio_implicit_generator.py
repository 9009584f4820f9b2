"""An implicit generator x = G(eps) fitted to the 2-D banana by adversarial KL minimization.

    python examples/density_ratio_implicit_generator.py [--fast] [--out runs/implicit.png]

``zoo.ImplicitGenerator`` has no density, only samples. Each step a ratio network learns
``log r = log p_G / q`` by classification (generated against data) and G moves down
``E[log r(G(eps))]``, the current estimate of ``KL[p_G || q]`` (the seed's AffGAN
objective). Printed before and after training: an independent estimate of
``KL[p_G || q]`` (a fresh ``zoo.DensityRatioEstimator`` on 5000 generated against 5000
data points) and the exact cross-entropy ``E_G[-log q(x)]`` under the banana's density
(the seed post gives no figure for this experiment; it shows the objective). The PNG shows
the generator's samples over the data.
"""

import argparse
import os

import numpy as np
import tf_keras

import zoo


def independent_kl(samples, data, steps):
    tf_keras.utils.set_random_seed(1)
    est = zoo.DensityRatioEstimator(num_steps=steps)
    est.fit(samples, data, verbose=0)
    return est.kl_divergence(samples)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/density_ratio_implicit_generator.png")
    parser.add_argument("--fast", action="store_true", help="10 epochs, short estimates",
                        default=os.environ.get("KERASPROB_FAST") == "1")
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args(argv)
    epochs, steps = (10, 200) if args.fast else (args.epochs, 1000)
    data = zoo.datasets.make_banana(8000, seed=0).astype("float32")
    tf_keras.utils.set_random_seed(0)
    gen = zoo.ImplicitGenerator(input_shape=2, noise_dim=2, hidden_units=[64, 64],
                                ratio_hidden_units=[64, 64], learning_rate=1e-3)
    held_out = zoo.datasets.make_banana(5000, seed=1).astype("float32")
    before = gen.sample(5000, seed=2)
    kl_before = independent_kl(before, held_out, steps)
    history = gen.fit(data, epochs=epochs, batch_size=256, verbose=0).history
    after = gen.sample(5000, seed=2)
    kl_after = independent_kl(after, held_out, steps)
    ce_before = -np.mean(zoo.datasets.banana_log_prob(before))
    ce_after = -np.mean(zoo.datasets.banana_log_prob(after))
    ce_data = -np.mean(zoo.datasets.banana_log_prob(held_out))
    print(f"KL[p_G || data] (independent estimate): before {kl_before.value:.3f} "
          f"(+- {kl_before.standard_error:.3f}), after {kl_after.value:.3f} "
          f"(+- {kl_after.standard_error:.3f}); the generator's own last estimate "
          f"{history['kl'][-1]:.3f}")
    print(f"E_G[-log q]: before {ce_before:.3f}, after {ce_after:.3f} nats "
          f"(the data's entropy, E_q[-log q], is {ce_data:.3f})")
    print("seed: no figure for this experiment (the post states the objective only)")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharex=True, sharey=True)
    panels = [(axes[0], before, "before", kl_before), (axes[1], after, "after", kl_after)]
    for ax, samples, title, kl in panels:
        ax.scatter(held_out[:, 0], held_out[:, 1], s=2, alpha=0.3, label="data")
        ax.scatter(samples[:2000, 0], samples[:2000, 1], s=2, alpha=0.4, label="G(eps)")
        ax.set_title(f"{title} training: KL estimate {kl.value:.3f}")
        ax.legend(markerscale=5)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=80, bbox_inches="tight")
    print(f"wrote {args.out}")
    return kl_after.value - kl_before.value


if __name__ == "__main__":
    main()
