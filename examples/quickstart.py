"""Quickstart: train zoo.VAE on the embedded 8x8 digits, save it, plot what it learned.

    python examples/quickstart.py [--epochs 50] [--out runs/quickstart]

Prints progress per epoch, then writes ``vae.keras`` (reload with
``zoo.load``) and ``vae.png`` (originals / reconstructions / prior samples /
latent embedding) to ``--out``.
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import zoo
from zoo.datasets import load_digits

FAST = os.environ.get("KERASPROB_FAST") == "1"  # examples/README.md: the fast mode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1 if FAST else 50)
    parser.add_argument("--latent-dim", type=int, default=2)
    parser.add_argument("--out", default=os.path.join("runs", "quickstart"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    x, y = load_digits()
    x = x / 16.0  # [1797, 8, 8] in [0, 1]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    train, val = order[:1500], order[1500:]

    vae = zoo.VAE(input_shape=(8, 8), latent_dim=args.latent_dim, hidden_units=[256],
                  learning_rate=2e-3)
    history = vae.fit(x[train], epochs=args.epochs, batch_size=100,
                      validation_data=x[val], verbose=2)
    val_loss = history.history["val_loss"][-1]
    mean_error = np.mean((x[val] - x[train].mean(0)) ** 2)
    recon_error = np.mean((vae.reconstruct(x[val]) - x[val]) ** 2)
    print(f"validation negative ELBO: {val_loss:.2f} nats/image")
    print(f"reconstruction MSE {recon_error:.4f} vs mean-image MSE {mean_error:.4f}")

    model_path = os.path.join(args.out, "vae.keras")
    vae.save(model_path)
    reloaded = zoo.load(model_path)
    same = np.allclose(reloaded.reconstruct(x[val][:10]), vae.reconstruct(x[val][:10]))
    print(f"saved {model_path} (reloads to identical reconstructions: {same})")

    fig = plt.figure(figsize=(11, 4))
    grid = fig.add_gridspec(3, 10)
    recon = vae.reconstruct(x[val][:10])
    samples = vae.sample(10, seed=0)
    for row, (images, title) in enumerate(
        [(x[val][:10], "data"), (recon, "reconstruction"), (samples, "prior sample")]
    ):
        for col in range(10):
            ax = fig.add_subplot(grid[row, col])
            ax.imshow(images[col], cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(title, fontsize=8)
    fig.suptitle(f"zoo.VAE on 8x8 digits: validation negative ELBO {val_loss:.1f} nats")
    image_path = os.path.join(args.out, "vae.png")
    fig.savefig(image_path, dpi=100)

    z = vae.encode(x[val]).mean().numpy()
    fig2, ax2 = plt.subplots(figsize=(5, 5))
    scatter = ax2.scatter(z[:, 0], z[:, 1], c=y[val], cmap="tab10", s=8)
    fig2.colorbar(scatter, ax=ax2, label="digit")
    ax2.set_title("posterior means of validation digits")
    fig2.savefig(os.path.join(args.out, "vae_latent.png"), dpi=100)
    print(f"wrote {image_path} and {os.path.join(args.out, 'vae_latent.png')}")


if __name__ == "__main__":
    main()
