"""TensorFlow-side anchors, run in the main venv: plain TFP / ``tfp.layers`` code on tf-keras.

They are what a user writes today without kerasprob, so our zoo models are compared with them
on the same framework. Threads are whatever the caller's ``_harness.parse_args`` set.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras
from _harness import WARMUP, keras_step_timer, time_steps

tfb, tfd, tfpl = tfp.bijectors, tfp.distributions, tfp.layers


def tfp_maf_digits(counts_train, x_test, steps: int = 2000, batch: int = 256, lr: float = 1e-3,
                   seed: int = 0, warmup: int = WARMUP) -> dict:
    """TFP MAF on digits: 5 ``tfb.MaskedAutoregressiveFlow`` with reverse permutations between.

    Each MAF's network is ``tfb.AutoregressiveNetwork(params=2, hidden_units=[128, 128],
    activation="relu")`` (shift and log-scale). Training: a ``tf.function`` step, Adam ``lr``,
    batches of ``batch`` rows from a fresh permutation each epoch (remainder dropped), each
    dequantized afresh as ``(counts + U[0, 1)) / 17``, loss = mean -log_prob; the same
    protocol as ``anchors/zuko_digits.py``.

    Args:
      counts_train: pixel values 0..16, ``[n_train, dim]``; x_test: float32 ``[n_test, dim]``
        in (0, 1), already dequantized.

    Returns:
      ``ms_per_step`` (median after warm-up), ``total_s``, ``steps``, ``warmup``, ``test_nll``
      (mean -log_prob on ``x_test``, nats per example), ``final_train_loss``, ``params``.
    """
    tf_keras.utils.set_random_seed(seed)
    dim = counts_train.shape[1]
    nets, bijectors = [], []
    for i in range(5):
        if i > 0:
            bijectors.append(tfb.Permute(permutation=list(range(dim - 1, -1, -1))))
        net = tfb.AutoregressiveNetwork(params=2, hidden_units=[128, 128], activation="relu")
        nets.append(net)
        bijectors.append(tfb.MaskedAutoregressiveFlow(shift_and_log_scale_fn=net))
    # Chain applies its list last-first; the order of a stack of MAFs is immaterial here.
    flow = tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0.0, 1.0), [dim]),
                                       tfb.Chain(bijectors))
    counts = tf.constant(counts_train, tf.float32)  # [n_train, dim]
    flow.log_prob(counts[:1] / 17.0)  # builds the networks
    variables = [v for net in nets for v in net.trainable_variables]
    optimizer = tf_keras.optimizers.Adam(lr)

    @tf.function
    def train_step(idx):  # idx: int [batch]
        c = tf.gather(counts, idx)  # [batch, dim]
        x = (c + tf.random.uniform(tf.shape(c))) / 17.0
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(flow.log_prob(x))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    rng = np.random.default_rng(seed)
    batches = _epoch_batches(len(counts_train), batch, rng)
    losses = []

    def step():
        losses.append(train_step(next(batches)))
        return losses[-1]

    result = time_steps(step, steps, warmup)
    test_nll = float(-tf.reduce_mean(flow.log_prob(tf.constant(x_test, tf.float32))))
    return {**result, "test_nll": test_nll, "final_train_loss": float(losses[-1]),
            "params": int(sum(np.prod(v.shape) for v in variables))}


def _epoch_batches(n: int, batch: int, rng: np.random.Generator):
    while True:
        perm = rng.permutation(n).astype(np.int32)
        for i in range(0, n - batch + 1, batch):
            yield perm[i : i + batch]


def tfpl_vae(x_train, x_val, epochs: int = 20, batch: int = 20, lr: float = 5e-4,
             latent_dim: int = 2, seed: int = 0) -> dict:
    """Seed 001's convolutional VAE, written with ``tfp.layers`` on tf-keras, as in the seed.

    Encoder: 3 strided Conv2D + BatchNorm, ``Dense(params_size)``, ``MultivariateNormalTriL``
    with a ``KLDivergenceRegularizer`` (3-sample KL estimate) against ``N(0, I)``. Decoder:
    Dense(1152), upsampling convs, ``IndependentBernoulli((36, 36, 3))``. Loss: mean
    -log p(x|z) plus the regularizer's KL, which tf-keras divides by the batch size (it does
    so for every activity regularizer): the seed's loss is ``-log p(x|z) + KL / batch``, not
    quite the negative ELBO. Adam ``lr``, batches of ``batch`` (training shuffled each epoch,
    remainders dropped), ``model.fit`` for ``epochs``.

    Args:
      x_train: float32 ``[n_train, 36, 36, 3]`` in [0, 1]; x_val: ``[n_val, 36, 36, 3]``.

    Returns:
      ``s_per_epoch`` (median epoch time incl. validation, first epoch skipped),
      ``ms_per_step``, ``total_s`` (fit wall time), ``val_neg_elbo`` and ``train_neg_elbo``
      (last epoch's val_loss / loss as logged: the seed's figures), ``val_recon`` (mean
      -log p(x|z), one z per image), ``val_kl`` (mean analytic KL(q || prior)),
      ``val_neg_elbo_full`` (``val_recon + val_kl``, the true negative ELBO), ``epochs``,
      ``params``.
    """
    from tf_keras.layers import BatchNormalization as BatchNorm
    from tf_keras.layers import Conv2D, Dense, Flatten, Reshape, UpSampling2D

    tf_keras.utils.set_random_seed(seed)
    shape = x_train.shape[1:]
    prior = tfd.MultivariateNormalDiag(loc=tf.zeros(latent_dim))
    kl = tfpl.KLDivergenceRegularizer(prior, weight=1.0, use_exact_kl=False,
                                      test_points_fn=lambda q: q.sample(3),
                                      test_points_reduce_axis=(0, 1))
    encoder = tf_keras.Sequential([
        Conv2D(32, 3, activation="relu", strides=2, padding="same", input_shape=shape),
        BatchNorm(),
        Conv2D(64, 3, activation="relu", strides=2, padding="same"),
        BatchNorm(),
        Conv2D(128, 3, activation="relu", strides=3, padding="same"),
        BatchNorm(),
        Flatten(),
        Dense(tfpl.MultivariateNormalTriL.params_size(latent_dim)),
        tfpl.MultivariateNormalTriL(latent_dim, activity_regularizer=kl),
    ], name="encoder")
    decoder = tf_keras.Sequential([
        Dense(1152, activation="relu", input_shape=(latent_dim,)),
        Reshape((3, 3, 128)),
        UpSampling2D(size=(3, 3)),
        Conv2D(64, 3, activation="relu", padding="same"),
        UpSampling2D(size=(2, 2)),
        Conv2D(32, 2, activation="relu", padding="same"),
        UpSampling2D(size=(2, 2)),
        Conv2D(128, 2, activation="relu", padding="same"),
        Conv2D(3, 2, activation=None, padding="same"),
        Flatten(),
        tfpl.IndependentBernoulli(event_shape=shape),
    ], name="decoder")
    vae = tf_keras.Model(inputs=encoder.inputs, outputs=decoder(encoder.outputs[0]))

    def reconstruction_loss(x, decoding_dist):
        return -tf.reduce_mean(decoding_dist.log_prob(x))

    vae.compile(optimizer=tf_keras.optimizers.Adam(learning_rate=lr), loss=reconstruction_loss)
    train = (tf.data.Dataset.from_tensor_slices((x_train, x_train))
             .shuffle(len(x_train), seed=seed).batch(batch, drop_remainder=True))
    val = tf.data.Dataset.from_tensor_slices((x_val, x_val)).batch(batch, drop_remainder=True)
    timer = keras_step_timer()
    history = vae.fit(train, validation_data=val, epochs=epochs, verbose=0, callbacks=[timer])
    recon, kl_div = [], []
    for x, _ in val:
        q = encoder(x, training=False)
        recon.append(-tf.reduce_mean(decoder(tf.convert_to_tensor(q)).log_prob(x)))
        kl_div.append(tf.reduce_mean(tfd.kl_divergence(q, prior)))
    val_recon, val_kl = float(np.mean(recon)), float(np.mean(kl_div))
    return {**timer.result(), "val_neg_elbo": history.history["val_loss"][-1],
            "train_neg_elbo": history.history["loss"][-1], "val_recon": val_recon,
            "val_kl": val_kl, "val_neg_elbo_full": val_recon + val_kl,
            "params": vae.count_params()}
