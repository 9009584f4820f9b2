"""Flows on 8x8 digits (64-d): our zoo.MAF / zoo.NeuralSplineFlow vs zuko and TFP, one run.

Protocol (issue 3, as the anchors): 5 flow layers, hidden [128, 128], NSF with 8 bins; batch
256 from a fresh permutation each epoch (remainder dropped), every batch dequantized afresh as
``(counts + U[0, 1)) / 17``; Adam 1e-3; 2000 steps; test NLL = mean -log p on the held-out 20%
(dequantized once by the harness). Our models are the zoo defaults otherwise (actnorm on the
data side of the NSF, initialized from one dequantized copy of the training set; none in the
MAF; soft-clamped affine scales; splines on [-5, 5] with identity tails). The NSF is also
run without actnorm (as zuko's).

Our side is timed two ways:

- ``loop``: the same ``tf.function`` training step as the TFP anchor (XLA on: the zoo default);
  the issue's figure of merit.
- ``fit``: ``model.fit`` on a ``tf.data`` pipeline (Keras' per-batch overhead included).

Ablations (fewer steps, median ms/step only): the loop without XLA, to report what XLA buys.

Usage: ``python benchmarks/bench_flows_digits.py [--quick] [--flows maf,nsf] [--no-anchors]``
"""

import json

import _harness as h
import numpy as np


def epoch_batches(n, batch, rng):
    while True:
        perm = rng.permutation(n).astype(np.int32)
        for i in range(0, n - batch + 1, batch):
            yield perm[i : i + batch]


def make_model(flow, jit_compile=True, **overrides):
    import zoo

    kwargs = {"input_shape": (64,), "num_layers": 5, "hidden_units": [128, 128],
              "learning_rate": 1e-3, "jit_compile": jit_compile, **overrides}
    if flow == "maf":
        return zoo.MAF(**kwargs)
    return zoo.NeuralSplineFlow(bins=8, **kwargs)


def dequantize_once(counts, seed):
    rng = np.random.default_rng(seed + 1)
    return ((counts + rng.uniform(size=counts.shape)) / 17.0).astype(np.float32)


def ours_loop(flow, counts_train, x_test, steps, seed, jit_compile=True, batch=256,
              **overrides):
    """Our zoo model trained by the anchors' ``tf.function`` loop."""
    import tensorflow as tf
    import tf_keras

    tf_keras.utils.set_random_seed(seed)
    model = make_model(flow, jit_compile, **overrides)
    model.flow.initialize(dequantize_once(counts_train, seed))
    counts = tf.constant(counts_train, tf.float32)  # [n_train, 64]
    variables = model.trainable_weights
    optimizer = tf_keras.optimizers.Adam(1e-3)

    @tf.function(jit_compile=jit_compile, autograph=False)  # no Python control flow to convert
    def train_step(idx):  # idx: int [batch]
        c = tf.gather(counts, idx)
        x = (c + tf.random.uniform(tf.shape(c))) / 17.0  # fresh dequantization
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(model.flow.log_prob(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    batches = epoch_batches(len(counts_train), batch, np.random.default_rng(seed))
    losses = []

    def step():
        losses.append(train_step(next(batches)))
        return losses[-1]

    result = h.time_steps(step, steps)
    test_nll = float(-np.mean(model.log_prob(x_test)))
    return {**result, "test_nll": test_nll, "final_train_loss": float(losses[-1]),
            "params": int(model.count_params())}


def ours_fit(flow, counts_train, x_test, steps, seed, batch=256):
    """``model.fit`` on a tf.data pipeline with the same batches and dequantization."""
    import tensorflow as tf
    import tf_keras

    tf_keras.utils.set_random_seed(seed)
    model = make_model(flow)
    model.flow.initialize(dequantize_once(counts_train, seed))
    per_epoch = len(counts_train) // batch
    epochs = max(1, steps // per_epoch)
    data = (tf.data.Dataset.from_tensor_slices(counts_train.astype(np.float32))
            .shuffle(len(counts_train), seed=seed, reshuffle_each_iteration=True)
            .batch(batch, drop_remainder=True)
            .map(lambda c: (c + tf.random.uniform(tf.shape(c))) / 17.0)
            .prefetch(2))
    timer = h.keras_step_timer()
    model.fit(data, epochs=epochs, verbose=0, callbacks=[timer])
    return {**timer.result(), "test_nll": float(-np.mean(model.log_prob(x_test)))}


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--flows", default="maf,nsf", help="comma-separated: maf, nsf")
    parser.add_argument("--no-anchors", action="store_true", help="our side only")
    parser.add_argument("--ablation-steps", type=int, default=300,
                        help="steps of the no-XLA and fit timings")
    args = h.parse_args(parser)
    import anchors_tf  # TensorFlow: after the threads are set

    path, data = h.digits_data(args.seed)
    counts, x_test = data["counts_train"], data["x_test"]
    steps = h.steps(args, 2000)
    ablation = h.steps(args, args.ablation_steps)
    rows, raw = [], {}
    for flow in [f.strip() for f in args.flows.split(",") if f.strip()]:
        name = f"digits {flow.upper()}"
        ours = ours_loop(flow, counts, x_test, steps, args.seed)
        no_xla = ours_loop(flow, counts, x_test, ablation, args.seed, jit_compile=False)
        fit = ours_fit(flow, counts, x_test, ablation, args.seed)
        raw[flow] = {"ours_loop_xla": ours, "ours_loop_no_xla": no_xla, "ours_fit_xla": fit}
        if flow == "nsf":  # the zoo NSF has a (shrink-only) actnorm by default; without it:
            raw[flow]["ours_loop_xla_no_actnorm"] = ours_loop(flow, counts, x_test, steps,
                                                              args.seed, actnorm=False)
        anchors = []
        if not args.no_anchors:
            zuko = h.run_anchor("zuko_digits.py", "--flow", flow, "--data", path,
                                "--steps", steps, "--seed", args.seed)
            anchors.append(("zuko", zuko))
            if flow == "maf":
                tfp_maf = anchors_tf.tfp_maf_digits(counts, x_test, steps, seed=args.seed)
                anchors.append(("TFP MAF loop", tfp_maf))
            raw[flow].update({label: result for label, result in anchors})
        for label, result in anchors or [("-", {})]:
            rows.append(h.Row(name, "ms/step (loop, XLA)", label, ours["ms_per_step"],
                              result.get("ms_per_step")))
            rows.append(h.Row(name, "ms/step (loop, no XLA)", label, no_xla["ms_per_step"],
                              result.get("ms_per_step")))
            rows.append(h.Row(name, "ms/step (model.fit)", label, fit["ms_per_step"],
                              result.get("ms_per_step")))
            rows.append(h.Row(name, "test NLL", label, ours["test_nll"], result.get("test_nll"),
                              compare="diff"))
            if "ours_loop_xla_no_actnorm" in raw[flow]:
                other = raw[flow]["ours_loop_xla_no_actnorm"]
                rows.append(h.Row(name, "ms/step (loop, XLA, no actnorm)", label,
                                  other["ms_per_step"], result.get("ms_per_step")))
                rows.append(h.Row(name, "test NLL (no actnorm)", label, other["test_nll"],
                                  result.get("test_nll"), compare="diff"))
    h.print_table(rows)
    print(json.dumps(raw, default=float))


if __name__ == "__main__":
    main()
