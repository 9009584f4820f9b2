"""The concise Keras VAE, composed by hand from kerasprob layers (functional API).

    python examples/concise_vae.py [--epochs 50]

Reproduces the post's model piece for piece: a Bernoulli decoder, the
``KLDivergenceLayer`` over ``[mu, log_var]``, and ``z = mu + sigma * eps``
with the noise ``eps`` an explicit model input, trained with RMSprop on the
negative ELBO. MNIST cannot be downloaded here, so it runs on the embedded
8x8 digits; it prints the validation negative ELBO of this hand-built model
next to ``zoo.VAE`` with the same architecture (they should agree).
"""

import argparse
import os

import tensorflow as tf
import tf_keras
from tf_keras import layers

import kerasprob as kp
import zoo
from zoo.datasets import load_digits


def build(original_dim, intermediate_dim, latent_dim):
    x = layers.Input((original_dim,), name="x")
    eps = layers.Input((latent_dim,), name="eps")  # all stochasticity enters here
    h = layers.Dense(intermediate_dim, activation="relu")(x)
    z_mu = layers.Dense(latent_dim)(h)
    z_log_var = layers.Dense(latent_dim)(h)
    z_mu, z_log_var = kp.layers.KLDivergenceLayer()([z_mu, z_log_var])
    z = kp.layers.GaussianReparameterization(explicit_noise=True)([z_mu, z_log_var, eps])
    hidden = layers.Dense(intermediate_dim, activation="relu")(z)
    logits = layers.Dense(kp.distributions.IndependentBernoulli.params_size(original_dim))(hidden)
    x_pred = kp.distributions.IndependentBernoulli(original_dim, "mean")(logits)
    model = tf_keras.Model([x, eps], x_pred)
    model.compile(optimizer="rmsprop", loss=kp.losses.NegativeLogLikelihood())
    return model


FAST = os.environ.get("KERASPROB_FAST") == "1"  # examples/README.md: the fast mode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1 if FAST else 50)
    args = parser.parse_args(argv)
    tf.random.set_seed(0)
    images, _ = load_digits()
    x = (images / 16.0).reshape(-1, 64)
    x_train, x_val = x[:1500], x[1500:]
    latent_dim = 2

    def with_fresh_noise(data, shuffle):
        # ((x, eps), x) batches with new eps ~ N(0, I) every time a batch is drawn.
        dataset = tf.data.Dataset.from_tensor_slices(data)
        if shuffle:
            dataset = dataset.shuffle(len(data), seed=0)
        return dataset.batch(100).map(
            lambda b: ((b, tf.random.normal((tf.shape(b)[0], latent_dim))), b)
        )

    vae = build(64, 256, latent_dim)
    history = vae.fit(with_fresh_noise(x_train, True), epochs=args.epochs,
                      validation_data=with_fresh_noise(x_val, False), verbose=0)
    hand_built = history.history["val_loss"][-1]

    reference = zoo.VAE(input_shape=(64,), latent_dim=latent_dim, hidden_units=[256])
    reference.compile(optimizer="rmsprop")
    history = reference.fit(x_train, epochs=args.epochs, batch_size=100,
                            validation_data=x_val, verbose=0)
    print(f"validation negative ELBO, hand-built concise VAE: {hand_built:.2f} nats")
    print(f"validation negative ELBO, zoo.VAE:                {history.history['val_loss'][-1]:.2f}"
          " nats")


if __name__ == "__main__":
    main()
