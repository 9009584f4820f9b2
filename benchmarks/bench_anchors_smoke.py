"""Runs every anchor once and prints their figures (the "ours" column stays empty).

With ``--quick`` (50 steps; 2 VAE epochs on 200/50 images) it checks that the pipeline works:
anchor venv, data files, JSON hand-over, table. Without it, it runs the anchors at full size,
which gives the anchor figures the other benchmarks compare with.
"""

import json

import _harness as h


def main() -> None:
    parser = h.arg_parser(__doc__)
    parser.add_argument("--digits-src", default=h.DIGITS_SRC, help="digits .npz (images, target)")
    parser.add_argument("--iris-src", default=h.IRIS_SRC, help="iris .csv")
    args = h.parse_args(parser)
    import anchors_tf  # imports TensorFlow: after the threads are set

    from zoo import datasets

    digits_path, digits = h.digits_data(args.seed, args.digits_src)
    iris_path, _ = h.iris_data(args.iris_src)
    flow_steps = h.steps(args, 2000)
    common = ("--data", digits_path, "--steps", flow_steps, "--seed", args.seed)
    rows, raw = [], []

    def add(bench, anchor_name, result, metrics):
        raw.append({"bench": bench, "anchor": anchor_name, **result})
        for key, label, compare in metrics:
            rows.append(h.Row(bench, label, anchor_name, None, result[key], compare))

    times = [("ms_per_step", "ms/step", "ratio"), ("total_s", "total s", "ratio")]
    nll = [("test_nll", "test NLL", "diff")]
    for flow in ("maf", "nsf"):
        result = h.run_anchor("zuko_digits.py", "--flow", flow, *common)
        add(f"digits {flow.upper()}", "zuko", result, times + nll)
    result = anchors_tf.tfp_maf_digits(digits["counts_train"], digits["x_test"], flow_steps,
                                       seed=args.seed)
    add("digits MAF", "TFP MAF", result, times + nll)

    result = h.run_anchor("pyro_iris_realnvp.py", "--data", iris_path,
                          "--steps", h.steps(args, 2501), "--seed", args.seed)
    add("iris RealNVP", "Pyro", result, [*times, ("final_nll", "train NLL", "diff")])

    x_train, x_val = datasets.load_flow_images(args.seed, n=250 if args.quick else 1000)
    result = anchors_tf.tfpl_vae(x_train, x_val,
                                 epochs=h.steps(args, 20, quick=2), seed=args.seed)
    add("contour VAE", "tfp.layers", result, [("s_per_epoch", "s/epoch", "ratio"),
                                              ("val_neg_elbo", "val loss", "diff"),
                                              ("val_neg_elbo_full", "val -ELBO", "diff")])
    print("\n".join(json.dumps(r, default=float) for r in raw))
    print(f"\nthreads={args.threads} quick={args.quick} seed={args.seed}")
    h.print_table(rows)


if __name__ == "__main__":
    main()
