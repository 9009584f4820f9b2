"""The zoo's command line: ``python -m zoo`` (or the ``kerasprob-zoo`` console script).

Subcommands::

    python -m zoo list                                   # every registered model, one line each
    python -m zoo info VAE                               # arguments, defaults, search space
    python -m zoo datasets                               # the embedded data sets
    python -m zoo presets                                # pretrained models loadable by name
    python -m zoo fit VAE --data digits --epochs 10 --out runs/vae
    python -m zoo fit GaussianNaiveBayes --data my.csv --target label --out runs/nb
    python -m zoo evaluate runs/vae --data digits        # or a preset name: vae-digits
    python -m zoo sample runs/vae -n 16 --out samples.npy
    python -m zoo tune VAE --data digits --tuner random --trials 5 --epochs 3 --out runs/tune

Everything is read from the registry (``zoo.list()``, ``zoo.get(name)``), so a model
added by a package through the ``kerasprob.zoo`` entry-point group shows up here too. A
model tells the command line what it needs through class attributes of
:class:`zoo.ZooModel`: ``data_kind`` (``"unsupervised"`` ``fit(x)``, ``"supervised"``
``fit(x, y)``, ``"conditional"`` ``fit(x, c)``, ``"two_sample"`` ``fit(x_p, x_q)``),
``plots`` (names in ``zoo.plots.PLOTS``) and ``tuning_objective`` (the tuning
objective; ``"val_loss"`` when a model declares none). Models take raw data: any scaling
they want is a saved layer fitted from the first ``fit`` (``--scale`` rescales the data
anyway, and ``run.json`` records it). The model reads its data-shaped
arguments (``input_shape``, ``num_classes``) from the data itself, and examples are
flattened for a model of vectors (``input_rank = 1``); any other argument is set with
``--set name=value`` (a JSON value).

Data (``--data``): an embedded name (``python -m zoo datasets``) or a file: ``.npy`` (one
array ``x``), ``.npz`` (arrays ``x`` and, as needed, ``y`` for targets or labels, or
``x_q`` for the second sample of a two-sample model) or ``.csv`` (numeric columns, an
optional header row; ``--target COLUMN`` names the target, whose values may be class
names). A two-sample model takes its second sample from ``--reference NAME|FILE``.

A run directory (``fit`` / ``tune --out DIR``) holds ``model.keras`` (load it with
``zoo.load``), ``run.json`` (the model, the data, the scaling, the split, the final
metrics), ``history.json`` and the PNG plots. It is written to a temporary directory
beside ``DIR`` and renamed at the end: a failed run leaves nothing at ``DIR``.

Errors in what was asked (a missing file, a non-numeric CSV column, an unknown target
column or model name, a directory that is not a run) print one line, ``zoo: error: ...``,
and exit with status 2; ``--debug`` shows the traceback instead.

TensorFlow is imported only by the subcommands that need a model.
"""

import argparse
import sys

from zoo.cli.commands import (
    cmd_datasets,
    cmd_evaluate,
    cmd_fit,
    cmd_info,
    cmd_list,
    cmd_presets,
    cmd_sample,
    cmd_tune,
)
from zoo.cli.common import DEFAULT_EPOCHS, SCALINGS, TUNERS, CLIError
from zoo.cli.data import Data, load_data, read_csv
from zoo.cli.metrics import evaluate_model
from zoo.cli.models import (
    data_kind,
    default_objective,
    model_class,
    prepare,
    resolve_model,
    second_array,
    split,
    tuner_class,
)
from zoo.cli.runs import RunDirectory, read_run
from zoo.cli.scaling import apply_scaling, fit_scaling, undo_scaling


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m zoo", description="Train, evaluate, sample and tune the zoo's models.",
        epilog="Models come from the registry (entry-point group kerasprob.zoo included).")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("list", help="every registered model, one line each")
    p.add_argument("--markdown", action="store_true", help="as a Markdown table")
    p = sub.add_parser("info", help="a model's arguments, defaults and search space")
    p.add_argument("model")
    sub.add_parser("datasets", help="the embedded data sets")
    sub.add_parser("presets", help="the pretrained models loadable by name (zoo.load(name))")

    def data_options(p, required=True):
        p.add_argument("--data", required=required,
                       help="an embedded data set name or a .npy / .npz / .csv file")
        p.add_argument("--target", help="the CSV column holding targets or labels")
        p.add_argument("--reference", help="a two-sample model's second sample (name or file)")
        p.add_argument("--seed", type=int, default=0, help="seed of the split and the draws")

    def training_options(p):
        data_options(p)
        p.add_argument("--epochs", type=int, help=f"default {DEFAULT_EPOCHS} (or the model's own)")
        p.add_argument("--batch-size", type=int)
        p.add_argument("--validation-split", type=float, default=0.2)
        p.add_argument("--scale", choices=SCALINGS,
                       help="rescale the data before fit (default: none; models scale their own)")
        p.add_argument("--set", action="append", metavar="NAME=VALUE",
                       help="a constructor argument (JSON value), repeatable")
        p.add_argument("--out", required=True, help="the run directory to write")
        p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
        p.add_argument("--verbose", type=int, choices=(0, 1, 2),
                       default=1 if sys.stdout.isatty() else 2,
                       help="Keras' progress: 1 a bar, 2 a line per epoch (default off a tty)")

    p = sub.add_parser("fit", help="train a model, save it with its history and plots")
    p.add_argument("model")
    training_options(p)
    p.add_argument("--no-plots", action="store_true", help="write no PNG")

    p = sub.add_parser("evaluate", help="a saved run (or preset) on data: metrics as JSON")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    data_options(p, required=False)

    p = sub.add_parser("sample", help="draw from a saved run (or preset) into .npy or .csv")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("-n", type=int, default=16)
    p.add_argument("--out", required=True)
    p.add_argument("--condition", help="the label to sample for a conditional model")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("tune", help="keras-tuner search over the model's search_space")
    p.add_argument("model")
    training_options(p)
    p.add_argument("--tuner", choices=TUNERS, default="random",
                   help="kg: knowledge gradient, when kerasprob.tuning has it")
    p.add_argument("--trials", type=int, default=5, help="trials (hyperband: ignored)")
    p.add_argument("--objective", help="default: the model's objective, else val_loss")
    return parser


COMMANDS = {"list": cmd_list, "info": cmd_info, "datasets": cmd_datasets,
            "presets": cmd_presets, "fit": cmd_fit, "evaluate": cmd_evaluate,
            "sample": cmd_sample, "tune": cmd_tune}


def main(argv=None):
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2): argparse printed it
        return int(exit_.code or 0)
    try:
        return COMMANDS[args.command](args)
    except (CLIError, ValueError, TypeError, FileNotFoundError, ImportError) as error:
        if args.debug:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        print(f"zoo: error: {message}", file=sys.stderr)
        return 2


__all__ = [
    "CLIError", "Data", "RunDirectory", "apply_scaling", "build_parser", "data_kind",
    "default_objective", "evaluate_model", "fit_scaling", "load_data", "main", "model_class",
    "prepare", "read_csv", "read_run", "resolve_model", "second_array", "split",
    "tuner_class", "undo_scaling",
]
