"""Seed 001's convolutional VAE on the random-flow contour images, as a new user writes it.

    python examples/vae_conv_flow_images.py [--epochs 20] [--out runs/vae_conv]

``zoo.VAE(input_shape=(36, 36, 3), encoder="conv", posterior="tril")`` is the course
write-up's network (three strided convolutions with batch norm, a full-covariance
Gaussian posterior over a 2-d latent, upsampling convolutions and a Bernoulli decoder),
trained on ``zoo.datasets.load_flow_images()`` (800 / 200 images) with batch 20 and
Adam 5e-4. Writes to ``--out``:

* ``curves.png``: training and validation negative ELBO per epoch;
* ``embedding.png``: the posterior means of the validation images (the latent code);
* ``reconstructions.png``: originals next to reconstructions;
* ``samples.png``: decoded draws from the prior;
* ``interpolation.png``: decoded points on a line between two images' codes;
* ``vae.keras``: the model (``zoo.load`` it back).
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import tf_keras

import zoo


def image_grid(rows, titles, path, suptitle):
    fig, axes = plt.subplots(len(rows), len(rows[0]),
                             figsize=(1.3 * len(rows[0]), 1.4 * len(rows)), squeeze=False)
    for r, (row, title) in enumerate(zip(rows, titles)):
        for c, image in enumerate(row):
            axes[r, c].imshow(np.clip(image, 0, 1))
            axes[r, c].axis("off")
        axes[r, 0].set_title(title, fontsize=8, loc="left")
    fig.suptitle(suptitle)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


FAST = os.environ.get("KERASPROB_FAST") == "1"  # examples/README.md: the fast mode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1 if FAST else 20)
    parser.add_argument("--out", default=os.path.join("runs", "vae_conv"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    tf_keras.utils.set_random_seed(0)

    x_train, x_val = zoo.datasets.load_flow_images(n=50 if FAST else 1000)
    vae = zoo.VAE(input_shape=(36, 36, 3), latent_dim=2, encoder="conv", posterior="tril",
                  learning_rate=5e-4)
    history = vae.fit(x_train, epochs=args.epochs, batch_size=20, validation_data=x_val,
                      verbose=2).history
    print(f"final validation negative ELBO: {history['val_loss'][-1]:.1f} nats "
          f"(KL {history['val_kl'][-1]:.2f})")
    log_px = vae.log_likelihood(x_val[:100], num_samples=5 if FAST else 50)
    print(f"importance-sampled log p(x), k=50, 100 validation images: {log_px.mean():.1f}")

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(history["loss"], label="train")
    ax.plot(history["val_loss"], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("negative ELBO (nats)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "curves.png"), dpi=100)
    plt.close(fig)

    z = vae.encode(x_val).mean().numpy()  # [200, 2]
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(z[:, 0], z[:, 1], c=x_val.mean(axis=(1, 2, 3)), s=12, cmap="viridis")
    ax.set_title("posterior means of validation images\n(colour: mean brightness)")
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "embedding.png"), dpi=100)
    plt.close(fig)

    picks = x_val[:8]
    image_grid([picks, vae.reconstruct(picks)], ["originals", "reconstructions"],
               os.path.join(args.out, "reconstructions.png"), "originals vs reconstructions")
    image_grid([vae.sample(8, seed=1), vae.sample(8, seed=2)], ["prior samples", ""],
               os.path.join(args.out, "samples.png"), "decoded draws from p(z)")
    a, b = z[0], z[1]
    line = np.stack([(1 - t) * a + t * b for t in np.linspace(0, 1, 8)]).astype("float32")
    image_grid([vae.decode(line).mean().numpy()], ["z(0) -> z(1)"],
               os.path.join(args.out, "interpolation.png"), "latent interpolation")

    path = os.path.join(args.out, "vae.keras")
    vae.save(path)
    same = np.allclose(zoo.load(path).reconstruct(picks), vae.reconstruct(picks), atol=1e-6)
    print(f"saved {path}; reloaded model gives the same reconstructions: {same}")
    print(f"figures in {args.out}/")


if __name__ == "__main__":
    main()
