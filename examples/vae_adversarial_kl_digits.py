"""A VAE with an implicit encoder (adversarial KL layer) on the 8x8 digits, beside zoo.VAE.

    python examples/vae_adversarial_kl_digits.py [--fast] [--epochs 60] [--out runs/vae_avb]

The implicit encoder is ``z = MLP([x, eps])`` with ``eps ~ N(0, I)`` fed as an input: it
gives samples of ``q(z | x)`` but no density, so the KL term of the ELBO cannot be computed.
:class:`kerasprob.layers.AdversarialKLDivergenceLayer` replaces
:class:`kerasprob.layers.KLDivergenceLayer`: a ratio network ``T(z, x)`` learns
``log q(z | x) / p(z)`` against prior draws and ``mean T`` is the KL (adversarial
variational Bayes). Printed: both models' validation reconstruction term, KL and negative
ELBO in nats per image (for the implicit model the KL, hence the ELBO, is an estimate, not
a bound); the seed post has no VAE figure, the explicit ``zoo.VAE`` is the reference. Writes
``samples.png`` (decoded prior draws of both) and ``latents.png`` to ``--out``.
"""

import argparse
import os

import tensorflow as tf
import tf_keras

import kerasprob as kp
import zoo

LATENT, NOISE = 2, 8


def implicit_vae(hidden):
    x_in, eps_in = tf_keras.Input((64,)), tf_keras.Input((NOISE,))
    z = kp.layers.MLP([hidden, hidden], LATENT, name="encoder")(
        tf_keras.layers.Concatenate()([x_in, eps_in]))
    z = kp.layers.AdversarialKLDivergenceLayer(hidden_units=[hidden, hidden])([z, x_in])
    logits = kp.layers.MLP([hidden], 64, name="decoder")(z)
    model = tf_keras.Model([x_in, eps_in], logits)
    # 64 * mean BCE = -log p(x | z), summed over pixels; the KL layer adds its estimate.
    model.compile(tf_keras.optimizers.Adam(1e-3),
                  loss=tf_keras.losses.BinaryCrossentropy(from_logits=True), loss_weights=64.0)
    return model


def with_noise(x, batch, shuffle):
    ds = tf.data.Dataset.from_tensor_slices(x)
    if shuffle:
        ds = ds.shuffle(len(x), seed=0)
    return ds.batch(batch).map(
        lambda b: ((b, tf.random.normal([tf.shape(b)[0], NOISE])), b))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--fast", action="store_true", help="3 epochs",
                        default=os.environ.get("KERASPROB_FAST") == "1")
    parser.add_argument("--out", default=os.path.join("runs", "vae_avb"))
    args = parser.parse_args(argv)
    epochs = 3 if args.fast else args.epochs
    os.makedirs(args.out, exist_ok=True)
    images, labels = zoo.datasets.load_digits()
    x = (images / 16.0).astype("float32")
    x_train, x_val, y_val = x[:1500], x[1500:], labels[1500:]

    tf_keras.utils.set_random_seed(0)
    explicit = zoo.VAE(input_shape=(8, 8), latent_dim=LATENT, hidden_units=[256],
                       learning_rate=1e-3)
    hist_e = explicit.fit(x_train, epochs=epochs, batch_size=100, validation_data=x_val,
                          verbose=0).history
    tf_keras.utils.set_random_seed(0)
    implicit = implicit_vae(256)
    flat_train, flat_val = x_train.reshape(-1, 64), x_val.reshape(-1, 64)
    hist_i = implicit.fit(with_noise(flat_train, 100, True), epochs=epochs, verbose=0,
                          validation_data=with_noise(flat_val, 100, False)).history
    kl_e, kl_i = hist_e["val_kl"][-1], hist_i["val_kl"][-1]
    neg_elbo_e, neg_elbo_i = hist_e["val_loss"][-1], hist_i["val_loss"][-1]
    print(f"{'validation, nats/image':24s} {'recon':>8s} {'KL':>7s} {'-ELBO':>8s}")
    print(f"{'explicit zoo.VAE':24s} {neg_elbo_e - kl_e:8.2f} {kl_e:7.2f} {neg_elbo_e:8.2f}")
    print(f"{'implicit (adversarial)':24s} {neg_elbo_i - kl_i:8.2f} {kl_i:7.2f} {neg_elbo_i:8.2f}"
          "  (KL estimated)")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    decoder = implicit.get_layer("decoder")
    z = tf.random.stateless_normal([12, LATENT], seed=[3, 0])
    implicit_samples = tf.sigmoid(decoder(z)).numpy().reshape(-1, 8, 8)
    fig, axes = plt.subplots(2, 12, figsize=(12, 2.4))
    for row, samples in enumerate([explicit.sample(12, seed=3), implicit_samples]):
        for col, image in enumerate(samples):
            axes[row, col].imshow(image, cmap="gray_r")
            axes[row, col].axis("off")
        axes[row, 0].set_title(["explicit q(z|x)", "implicit q(z|x)"][row], fontsize=8,
                               loc="left")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "samples.png"), dpi=100)
    plt.close(fig)
    encoder = implicit.get_layer("encoder")
    codes = encoder(tf.concat([flat_val, tf.random.normal([len(flat_val), NOISE])], 1)).numpy()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, z_val, title in [(axes[0], explicit.encode(x_val).mean().numpy(), "explicit"),
                             (axes[1], codes, "implicit (one draw per image)")]:
        ax.scatter(z_val[:, 0], z_val[:, 1], c=y_val, cmap="tab10", s=8)
        ax.set_title(f"validation codes, {title}")
    fig.savefig(os.path.join(args.out, "latents.png"), dpi=100)
    plt.close(fig)
    print(f"figures in {args.out}/")
    return neg_elbo_i - neg_elbo_e


if __name__ == "__main__":
    main()
