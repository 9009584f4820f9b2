"""Seed 001's convolutional VAE on its flow images: zoo.VAE vs the tfp.layers version, side by side.

Protocol (the issue's): ``zoo.datasets.load_flow_images()`` (800 train / 200 validation
images, 36 x 36 x 3 in [0, 1]); batch 20 (remainders dropped), Adam 5e-4, 20 epochs, the
same network (3 strided convs + batch norm -> MultivariateNormalTriL posterior, latent 2;
dense + upsampling convs -> IndependentBernoulli decoder). Anchor: ``anchors_tf.tfpl_vae``
(``tfp.layers`` on tf-keras, as the seed wrote it). Ours: ``zoo.VAE(input_shape=(36, 36, 3),
encoder="conv", posterior="tril")``, fitted on the same arrays, with its default
``precision="auto"`` (bfloat16 convolutions on a CPU with AMX-BF16, float32 elsewhere;
``--float32`` adds a float32 run).

Reported: seconds per epoch (median, validation included, first epoch skipped), the
final validation negative ELBO, and the FLOP floor: the network's multiply-adds per epoch
(forward + backward for training, forward for validation) divided by the measured
throughput of a large float32 matmul on the same threads.

Note on the anchor's loss: tf-keras divides an ``activity_regularizer`` by the batch size,
so the anchor's logged loss is ``-log p(x|z) + KL / 20`` rather than the negative ELBO
(and its KL ends up large). The anchor also reports its true validation negative ELBO
(``val_neg_elbo_full``); both are compared with ours, whose ``loss`` is the negative ELBO
with the full (analytic) KL.

    .venv/bin/python benchmarks/bench_vae_conv.py [--quick] [--epochs N] [--float32]
        [--interleaved]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import _harness as h

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def conv_vae_macs(batch_norm=True):
    """Multiply-adds of one forward pass of the seed network per image: ``[(name, macs)]``."""
    layers = [
        ("enc conv1 3->32 k3 /2 @18x18", 18 * 18 * 32 * 3 * 9),
        ("enc conv2 32->64 k3 /2 @9x9", 9 * 9 * 64 * 32 * 9),
        ("enc conv3 64->128 k3 /3 @3x3", 3 * 3 * 128 * 64 * 9),
        ("enc dense 1152->5", 1152 * 5),
        ("dec dense 2->1152", 2 * 1152),
        ("dec conv 128->64 k3 @9x9", 9 * 9 * 64 * 128 * 9),
        ("dec conv 64->32 k2 @18x18", 18 * 18 * 32 * 64 * 4),
        ("dec conv 32->128 k2 @36x36", 36 * 36 * 128 * 32 * 4),
        ("dec conv 128->3 k2 @36x36", 36 * 36 * 3 * 128 * 4),
    ]
    return layers


def matmul_gflops(repeats=30):
    """Float32 matmul throughput (GFLOP/s) on the pinned threads: the best of ``repeats``
    timed 1024 x 1024 products (the best, so other processes' load is left out)."""
    import tensorflow as tf

    a = tf.random.normal((1024, 1024))
    f = tf.function(lambda a: tf.matmul(a, a))
    f(a).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        f(a).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * 1024**3 / best / 1e9


def seed_tfpl_model(lr=5e-4):
    """The anchor's network (``anchors_tf.tfpl_vae``), built here so its train step can be
    timed interleaved with ours; same layers, loss and optimizer."""
    import tensorflow as tf
    import tensorflow_probability as tfp
    import tf_keras
    from tf_keras.layers import BatchNormalization, Conv2D, Dense, Flatten, Reshape, UpSampling2D

    tfd, tfpl = tfp.distributions, tfp.layers
    prior = tfd.MultivariateNormalDiag(loc=tf.zeros(2))
    kl = tfpl.KLDivergenceRegularizer(prior, weight=1.0, use_exact_kl=False,
                                      test_points_fn=lambda q: q.sample(3),
                                      test_points_reduce_axis=(0, 1))
    encoder = tf_keras.Sequential([
        Conv2D(32, 3, activation="relu", strides=2, padding="same", input_shape=(36, 36, 3)),
        BatchNormalization(),
        Conv2D(64, 3, activation="relu", strides=2, padding="same"), BatchNormalization(),
        Conv2D(128, 3, activation="relu", strides=3, padding="same"), BatchNormalization(),
        Flatten(), Dense(tfpl.MultivariateNormalTriL.params_size(2)),
        tfpl.MultivariateNormalTriL(2, activity_regularizer=kl)])
    decoder = tf_keras.Sequential([
        Dense(1152, activation="relu", input_shape=(2,)), Reshape((3, 3, 128)),
        UpSampling2D(3), Conv2D(64, 3, activation="relu", padding="same"),
        UpSampling2D(2), Conv2D(32, 2, activation="relu", padding="same"),
        UpSampling2D(2), Conv2D(128, 2, activation="relu", padding="same"),
        Conv2D(3, 2, padding="same"), Flatten(), tfpl.IndependentBernoulli((36, 36, 3))])
    model = tf_keras.Model(encoder.inputs, decoder(encoder.outputs[0]))
    model.compile(tf_keras.optimizers.Adam(lr),
                  loss=lambda x, dist: -tf.reduce_mean(dist.log_prob(x)))
    return model


def interleaved_step_times(x, rounds=15, steps=5):
    """Train-step times (ms) of the anchor network and ours, measured in turns on one fixed
    batch of 20: each model runs ``steps`` steps per round, and the best round counts, so
    load from other processes (which slows whichever model it hits) drops out."""
    import tensorflow as tf
    import tf_keras

    import zoo

    tf_keras.utils.set_random_seed(0)
    batch = tf.constant(x[:20])
    models = {
        "tfp.layers": seed_tfpl_model(),
        "ours": zoo.VAE(input_shape=(36, 36, 3), encoder="conv", posterior="tril",
                        learning_rate=5e-4),
        "ours float32": zoo.VAE(input_shape=(36, 36, 3), encoder="conv", posterior="tril",
                                learning_rate=5e-4, precision="float32"),
    }
    steps_fns = {}
    for name, model in models.items():
        fn = model.make_train_function()
        data = iter(tf.data.Dataset.from_tensors((batch, batch)).repeat())
        for _ in range(3):
            fn(data)
        steps_fns[name] = (fn, data)
    best = dict.fromkeys(models, float("inf"))
    for _ in range(rounds):
        for name, (fn, data) in steps_fns.items():
            start = time.perf_counter()
            for _ in range(steps):
                out = fn(data)
            float(out["loss"])
            best[name] = min(best[name], (time.perf_counter() - start) / steps * 1e3)
    return best


def run_ours(x_train, x_val, epochs, seed, precision="auto"):
    import tensorflow as tf
    import tf_keras

    import zoo

    tf_keras.utils.set_random_seed(seed)
    vae = zoo.VAE(input_shape=(36, 36, 3), latent_dim=2, encoder="conv", posterior="tril",
                  learning_rate=5e-4, precision=precision)
    train = (tf.data.Dataset.from_tensor_slices(x_train).shuffle(len(x_train), seed=seed)
             .batch(20, drop_remainder=True))
    val = tf.data.Dataset.from_tensor_slices(x_val).batch(20, drop_remainder=True)
    timer = h.keras_step_timer()
    history = vae.fit(train, validation_data=val, epochs=epochs, verbose=0, callbacks=[timer])
    return {**timer.result(), "val_neg_elbo": history.history["val_loss"][-1],
            "val_kl": history.history["val_kl"][-1],
            "train_neg_elbo": history.history["loss"][-1], "params": vae.count_params()}


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=None, help="default 20 (--quick: 3)")
    parser.add_argument("--float32", action="store_true",
                        help="also run ours with precision='float32'")
    parser.add_argument("--interleaved", action="store_true",
                        help="also time train steps of both networks in turns (best round)")
    args = h.parse_args(parser)
    epochs = args.epochs or h.steps(args, 20, 3)

    import anchors_tf

    from zoo import datasets

    x_train, x_val = datasets.load_flow_images()
    print(f"data: train {x_train.shape}, validation {x_val.shape}; {epochs} epochs, "
          f"{args.threads} threads", flush=True)
    anchor = anchors_tf.tfpl_vae(x_train, x_val, epochs=epochs, seed=args.seed)
    print("anchor:", {k: round(v, 4) if isinstance(v, float) else v
                      for k, v in anchor.items()}, flush=True)
    ours = run_ours(x_train, x_val, epochs, args.seed)
    print("ours:", {k: round(v, 4) if isinstance(v, float) else v for k, v in ours.items()},
          flush=True)
    rows = [
        h.Row("conv VAE (seed 001)", "s/epoch", "tfp.layers", ours["s_per_epoch"],
              anchor["s_per_epoch"]),
        h.Row("conv VAE (seed 001)", "ms/step", "tfp.layers", ours["ms_per_step"],
              anchor["ms_per_step"]),
        h.Row("conv VAE (seed 001)", "val -ELBO", "tfp.layers", ours["val_neg_elbo"],
              anchor.get("val_neg_elbo_full"), compare="diff"),
        h.Row("conv VAE (seed 001)", "val -ELBO vs logged", "tfp.layers", ours["val_neg_elbo"],
              anchor["val_neg_elbo"], compare="diff"),
    ]
    if args.float32:
        f32 = run_ours(x_train, x_val, epochs, args.seed, precision="float32")
        print("ours (float32):", {k: round(v, 4) if isinstance(v, float) else v
                                  for k, v in f32.items()}, flush=True)
        rows += [
            h.Row("conv VAE, float32", "s/epoch", "tfp.layers", f32["s_per_epoch"],
                  anchor["s_per_epoch"]),
            h.Row("conv VAE, float32", "ms/step", "tfp.layers", f32["ms_per_step"],
                  anchor["ms_per_step"]),
            h.Row("conv VAE, float32", "val -ELBO", "tfp.layers", f32["val_neg_elbo"],
                  anchor.get("val_neg_elbo_full"), compare="diff"),
        ]
    if args.interleaved:
        best = interleaved_step_times(x_train, rounds=h.steps(args, 15, 3))
        print("interleaved best-of-rounds ms/step:", {k: round(v, 2) for k, v in best.items()})
        rows += [
            h.Row("conv VAE, interleaved", "best ms/step", "tfp.layers", best["ours"],
                  best["tfp.layers"]),
            h.Row("conv VAE float32, interleaved", "best ms/step", "tfp.layers",
                  best["ours float32"], best["tfp.layers"]),
        ]
    macs = sum(m for _, m in conv_vae_macs())
    flop_epoch = 2 * macs * (3 * len(x_train) + len(x_val))  # train fwd+bwd, validation fwd
    gflops = matmul_gflops()
    floor = flop_epoch / (gflops * 1e9)
    rows.append(h.Row("conv VAE (seed 001)", "s/epoch vs floor", "FLOP floor",
                      ours["s_per_epoch"], floor))
    print(f"\nFLOP floor: {macs / 1e6:.1f} M multiply-adds per image forward; "
          f"{flop_epoch / 1e9:.0f} GFLOP per epoch at {gflops:.0f} GFLOP/s (matmul) "
          f"= {floor:.2f} s/epoch\n")
    h.print_table(rows)


if __name__ == "__main__":
    main()
