"""ConditionalVAE samples per class, and the IWAE bound tightening with k, on the digits.

    python examples/vae_conditional_iwae_digits.py [--epochs 40] [--out runs/vae_cvae]

1. ``zoo.ConditionalVAE(num_classes=10)`` learns ``p(x | z, y)``; ``sample(n, y)`` draws
   images of the requested digit (``cvae_samples.png``: one row per class).
2. ``zoo.VAE(num_samples=k)`` trains on the importance-weighted bound; for a VAE
   trained on the ELBO and one trained with k = 10, ``log_likelihood(x, k)`` is printed
   for k = 1 (the ELBO), 10, 100 and 1000: the estimate of ``log p(x)`` rises with k
   (``iwae.png``).
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import tf_keras

import zoo

FAST = os.environ.get("KERASPROB_FAST") == "1"  # examples/README.md: the fast mode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1 if FAST else 40)
    parser.add_argument("--out", default=os.path.join("runs", "vae_cvae"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    images, labels = zoo.datasets.load_digits()
    x = images / 16.0
    x_train, y_train, x_val = x[:1500], labels[:1500], x[1500:]

    tf_keras.utils.set_random_seed(0)
    cvae = zoo.ConditionalVAE(input_shape=(8, 8), num_classes=10, latent_dim=2,
                              hidden_units=[256], learning_rate=2e-3)
    history = cvae.fit(x_train, y_train, epochs=args.epochs, batch_size=100,
                       validation_data=(x_val, labels[1500:]), verbose=0).history
    print(f"ConditionalVAE validation negative ELBO: {history['val_loss'][-1]:.2f}")
    fig, axes = plt.subplots(10, 10, figsize=(6, 6))
    for digit in range(10):
        for col, image in enumerate(cvae.sample(10, y=digit, seed=digit)):
            axes[digit, col].imshow(image, cmap="gray_r")
            axes[digit, col].axis("off")
    fig.suptitle("ConditionalVAE: sample(10, y) for y = 0..9 (rows)")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "cvae_samples.png"), dpi=100)
    plt.close(fig)

    ks = [1, 10] if FAST else [1, 10, 100, 1000]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for train_k in (1, 10):
        tf_keras.utils.set_random_seed(0)
        vae = zoo.VAE(input_shape=(8, 8), latent_dim=2, hidden_units=[256],
                      num_samples=train_k, learning_rate=2e-3)
        vae.fit(x_train, epochs=args.epochs, batch_size=100, verbose=0)
        ll = [vae.log_likelihood(x_val, num_samples=k).mean() for k in ks]
        print(f"trained with k={train_k:2d}: log p(x) estimates "
              + ", ".join(f"k={k}: {v:.2f}" for k, v in zip(ks, ll)))
        ax.plot(ks, ll, marker="o", label=f"trained with num_samples={train_k}")
    ax.set_xscale("log")
    ax.set_xlabel("k (importance samples)")
    ax.set_ylabel("mean log p(x) estimate (nats)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "iwae.png"), dpi=100)
    plt.close(fig)
    print(f"figures in {args.out}/")


if __name__ == "__main__":
    main()
