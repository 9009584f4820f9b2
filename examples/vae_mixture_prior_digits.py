"""Seed 004's VAE with a learnable 16-component mixture-of-Gaussians prior, on the digits.

    python examples/vae_mixture_prior_digits.py [--epochs 60] [--out runs/vae_mixture]

The R blog post trains a VAE whose prior ``p(z) = sum_k pi_k N(mu_k, diag s_k^2)`` is
learned with the model (KL estimated by Monte Carlo). Here: ``zoo.VAE(prior="mixture",
num_components=16)`` on the embedded 8 x 8 digits, next to the same VAE with a
standard normal prior; it prints both validation negative ELBOs and importance-sampled
log-likelihoods and writes to ``--out``:

* ``latents.png``: validation codes coloured by digit over the learned prior's density;
* ``samples.png``: draws from each model's prior, decoded.
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import tf_keras

import zoo

FAST = os.environ.get("KERASPROB_FAST") == "1"  # examples/README.md: the fast mode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1 if FAST else 60)
    parser.add_argument("--out", default=os.path.join("runs", "vae_mixture"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    images, labels = zoo.datasets.load_digits()
    x = images / 16.0
    x_train, x_val, y_val = x[:1500], x[1500:], labels[1500:]
    models = {}
    for prior in ("normal", "mixture"):
        tf_keras.utils.set_random_seed(0)
        vae = zoo.VAE(input_shape=(8, 8), latent_dim=2, hidden_units=[256], prior=prior,
                      num_components=16, learning_rate=2e-3)
        history = vae.fit(x_train, epochs=args.epochs, batch_size=100,
                          validation_data=x_val, verbose=0).history
        ll = vae.log_likelihood(x_val, num_samples=10 if FAST else 200).mean()
        print(f"prior={prior:8s} validation negative ELBO {history['val_loss'][-1]:6.2f}  "
              f"KL {history['val_kl'][-1]:5.2f}  log p(x) (k=200) {ll:7.2f}")
        models[prior] = vae

    vae = models["mixture"]
    z = vae.encode(x_val).mean().numpy()
    lim = np.abs(z).max() * 1.2
    grid = np.linspace(-lim, lim, 200).astype("float32")
    g1, g2 = np.meshgrid(grid, grid)
    points = np.stack([g1.ravel(), g2.ravel()], axis=1)
    density = np.exp(vae.prior_distribution().log_prob(points).numpy()).reshape(g1.shape)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contourf(g1, g2, density, levels=30, cmap="Greys")
    scatter = ax.scatter(z[:, 0], z[:, 1], c=y_val, cmap="tab10", s=10)
    ax.legend(*scatter.legend_elements(), title="digit", fontsize=7, loc="upper right")
    ax.set_title("validation codes over the learned 16-component prior")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "latents.png"), dpi=100)
    plt.close(fig)

    fig, axes = plt.subplots(2, 12, figsize=(12, 2.4))
    for row, prior in enumerate(("normal", "mixture")):
        for col, image in enumerate(models[prior].sample(12, seed=3)):
            axes[row, col].imshow(image, cmap="gray_r")
            axes[row, col].axis("off")
        axes[row, 0].set_title(f"prior={prior}", fontsize=8, loc="left")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "samples.png"), dpi=100)
    plt.close(fig)
    print(f"figures in {args.out}/")


if __name__ == "__main__":
    main()
