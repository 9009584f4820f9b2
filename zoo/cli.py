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
``plots`` (names in ``zoo.plots.PLOTS``), ``input_scaling`` and ``objective`` (the tuning
objective; ``"val_loss"`` when a model declares none). The model reads its data-shaped
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
import csv
import difflib
import inspect
import json
import os
import re
import shutil
import sys
import tempfile

import numpy as np

KINDS = ("unsupervised", "supervised", "conditional", "two_sample")
SCALINGS = ("none", "unit", "standardize")
TUNERS = ("random", "bayes", "hyperband", "kg")
DEFAULT_EPOCHS = 10


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


# ------------------------------------------------------------------------ registry look-ups
def _normalize(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


def resolve_model(name):
    """The registered name matching ``name`` (case, ``-`` and ``_`` ignored), else a
    :class:`CLIError` suggesting the closest names."""
    import zoo

    names = zoo.list()
    by_key = {_normalize(n): n for n in names}
    key = _normalize(name)
    if key in by_key:
        return by_key[key]
    close = difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.5)
    close += [k for k in by_key if key and key in k and k not in close]
    hint = (f" Did you mean {' or '.join(by_key[k] for k in close[:3])}?" if close
            else f" Known models: {', '.join(names)}.")
    raise CLIError(f"unknown model {name!r}.{hint} ('python -m zoo list' shows them all)")


def model_class(name):
    import zoo

    return zoo.get(resolve_model(name))


def data_kind(cls):
    kind = getattr(cls, "data_kind", "supervised")
    if kind not in KINDS:
        raise CLIError(f"{cls.__name__}.data_kind must be one of {KINDS}. Received: {kind!r}")
    return kind


def default_objective(cls):
    """The model's tuning objective: its ``objective`` class attribute, else ``"val_loss"``."""
    value = inspect.getattr_static(cls, "objective", None)
    for klass in cls.__mro__:  # a class attribute, not an instance's constructor argument
        if "objective" in vars(klass):
            value = vars(klass)["objective"]
            break
    return value if isinstance(value, str) else getattr(value, "name", None) or "val_loss"


def constructor_defaults(cls):
    """``{argument: default}`` over the constructor and its bases (``inspect.empty`` if none)."""
    defaults = {}
    for klass in cls.__mro__:
        if klass.__name__ == "Model" and klass.__module__.startswith("tf_keras"):
            break
        for name, param in inspect.signature(klass.__init__).parameters.items():
            if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            defaults.setdefault(name, param.default)
    return {name: defaults.get(name, inspect.Parameter.empty)
            for name in cls.constructor_arguments()}


def _first_line(obj):
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


# ------------------------------------------------------------------------------ data
class Data:
    """Arrays for one run: ``x`` ``[n, ...]``, ``y`` (targets, labels or contexts, or None),
    ``x_q`` (a two-sample model's second sample, or None), ``classes`` (label names)."""

    def __init__(self, x, y=None, x_q=None, classes=None, source=""):
        self.x, self.y, self.x_q, self.classes, self.source = x, y, x_q, classes, source


def _dataset_names():
    from zoo.datasets import DATASETS

    return DATASETS


def _as_features(name, value):
    try:
        return np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise CLIError(f"{name}: expected numeric features ({error})") from None


def _labels_or_values(values):
    """Target values as int64 labels (class names or integers) or float32 values."""
    try:
        numbers = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        classes = sorted(set(values))
        index = {c: i for i, c in enumerate(classes)}
        return np.asarray([index[v] for v in values], np.int64), classes
    if numbers.size and np.all(np.isfinite(numbers)) and np.all(numbers == np.round(numbers)):
        return numbers.astype(np.int64), None
    return numbers.astype(np.float32), None


def read_csv(path, target=None):
    """``(x [n, d] float32, y [n] or None, classes or None, feature names)`` from a CSV.

    The first row is a header if any of its cells is not a number; columns are then named by
    it, else by their index (``"0"``, ``"1"``, ...). ``target`` is a column name or index.
    """
    path = os.fspath(path)
    with open(path, newline="") as f:
        rows = [row for row in csv.reader(f) if any(cell.strip() for cell in row)]
    if not rows:
        raise CLIError(f"--data {path!r} is an empty CSV file")

    def is_number(cell):
        try:
            float(cell)
            return True
        except ValueError:
            return False

    # A header: a text cell above a number, or a first row of text only.
    second = rows[1] if len(rows) > 1 else rows[0]
    header = all(not is_number(cell) for cell in rows[0]) or any(
        not is_number(a) and is_number(b) for a, b in zip(rows[0], second))
    names = [c.strip() for c in rows[0]] if header else [str(i) for i in range(len(rows[0]))]
    body = rows[1:] if header else rows
    if not body:
        raise CLIError(f"--data {path!r} has a header and no data rows")
    for i, row in enumerate(body):
        if len(row) != len(names):
            raise CLIError(f"--data {path!r}: row {i + 1 + header} has {len(row)} fields, "
                           f"expected {len(names)} (as the {'header' if header else 'first row'})")
    columns = list(zip(*body))
    y = classes = None
    if target is not None:
        if target in names:
            t = names.index(target)
        elif target.isdigit() and int(target) < len(names):
            t = int(target)
        else:
            close = difflib.get_close_matches(target, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise CLIError(f"--target {target!r} is not a column of {path!r}: its columns are "
                           f"{names}.{hint}")
        y, classes = _labels_or_values([v.strip() for v in columns[t]])
        columns = columns[:t] + columns[t + 1:]
        names = names[:t] + names[t + 1:]
    for name, column in zip(names, columns):
        for i, cell in enumerate(column):
            if not is_number(cell):
                raise CLIError(
                    f"--data {path!r}: column {name!r} is not numeric (row {i + 1 + header}: "
                    f"{cell.strip()!r}); features must be numbers (name a label column with "
                    "--target, or drop it)")
    if not columns:
        raise CLIError(f"--data {path!r} has no feature column left besides --target")
    x = np.asarray(columns, dtype=np.float64).T.astype(np.float32)  # [n, d]
    return x, y, classes, names


def load_data(spec, kind, target=None, reference=None, need_target=True):
    """The arrays a ``kind`` model fits, from an embedded name or a file (see the module)."""
    datasets = _dataset_names()
    spec = os.fspath(spec)
    x = y = x_q = classes = None
    if spec in datasets:
        loaded = datasets[spec]()
        if isinstance(loaded, tuple) and len(loaded) == 2 and np.ndim(loaded[1]) == 1:
            x, y = loaded  # (features, labels)
        elif isinstance(loaded, tuple):
            x = np.concatenate(loaded, 0)  # (train, validation) splits: the CLI splits itself
        else:
            x = loaded
        if target is not None:
            raise CLIError(f"--target is for CSV files; the embedded data set {spec!r} "
                           "brings its own labels")
    else:
        if not os.path.exists(spec):
            close = difflib.get_close_matches(spec, list(datasets), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise CLIError(f"--data {spec!r}: no such file, and not an embedded data set (one "
                           f"of {', '.join(datasets)}).{hint}")
        if os.path.isdir(spec):
            raise CLIError(f"--data {spec!r} is a directory; expected a .npy, .npz or .csv file")
        extension = os.path.splitext(spec)[1].lower()
        if extension == ".csv":
            x, y, classes, _ = read_csv(spec, target)
        elif extension in (".npy", ".npz"):
            if target is not None:
                raise CLIError("--target names a CSV column; in an .npz file put the targets "
                               "in an array named 'y'")
            try:
                loaded = np.load(spec, allow_pickle=False)
            except (OSError, ValueError) as error:
                raise CLIError(f"--data {spec!r} is not a readable {extension} file "
                               f"({error})") from None
            if extension == ".npy":
                x = loaded
            else:
                keys = list(loaded.keys())
                if "x" in keys:
                    x = loaded["x"]
                elif "x_p" in keys:
                    x = loaded["x_p"]
                elif len(keys) == 1:
                    x = loaded[keys[0]]
                else:
                    raise CLIError(f"--data {spec!r}: expected an array named 'x' (and 'y' or "
                                   f"'x_q' as the model needs). Received arrays {keys}")
                y = loaded["y"] if "y" in keys else (loaded["c"] if "c" in keys else None)
                x_q = loaded["x_q"] if "x_q" in keys else None
            if y is not None and y.dtype.kind in "US":
                y, classes = _labels_or_values(y.tolist())
        else:
            raise CLIError(f"--data {spec!r}: expected a .npy, .npz or .csv file, or an "
                           f"embedded data set ({', '.join(datasets)})")
    x = _as_features(f"--data {spec!r}", x)
    if x.ndim == 1:
        x = x[:, None]
    if len(x) < 2:
        raise CLIError(f"--data {spec!r} has {len(x)} example(s); expected at least 2")
    if kind in ("supervised", "conditional") and y is None and need_target:
        raise CLIError(
            f"this model fits {'(x, y)' if kind == 'supervised' else '(x, c)'}: give a CSV "
            "with --target COLUMN, an .npz with arrays 'x' and 'y', or a labelled embedded "
            "data set (iris, digits)")
    if kind == "two_sample":
        if reference is not None:
            x_q = load_data(reference, "unsupervised").x
        if x_q is None:
            raise CLIError("a two-sample model fits (x_p, x_q): give the second sample with "
                           "--reference NAME|FILE, or an .npz holding 'x' and 'x_q'")
        x_q = _as_features("x_q", x_q)
    return Data(x, y, x_q, classes, spec)


# ------------------------------------------------------------------------- scaling
def fit_scaling(kind, x):
    """``{"kind", "shift", "scale"}`` so that ``(x - shift) / scale`` is the model's input."""
    if kind == "none":
        return {"kind": "none", "shift": 0.0, "scale": 1.0}
    if kind == "unit":
        low, high = float(np.min(x)), float(np.max(x))
        low = min(low, 0.0)
        return {"kind": "unit", "shift": low, "scale": (high - low) if high > low + 1e-12
                and (low < 0 or high > 1) else 1.0}
    axes = tuple(range(x.ndim - 1)) if x.ndim == 2 else 0
    mean, std = np.mean(x, axis=axes), np.std(x, axis=axes)
    std = np.where(std > 1e-12, std, 1.0)
    return {"kind": "standardize", "shift": mean.tolist(), "scale": std.tolist()}


def apply_scaling(scaling, x):
    return ((x - np.asarray(scaling["shift"], np.float32))
            / np.asarray(scaling["scale"], np.float32)).astype(np.float32)


def undo_scaling(scaling, x):
    return (np.asarray(x, np.float32) * np.asarray(scaling["scale"], np.float32)
            + np.asarray(scaling["shift"], np.float32))


# -------------------------------------------------------------------- building models
def _parse_sets(pairs):
    values = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise CLIError(f"--set expects name=value (a JSON value). Received: {pair!r}")
        name, text = pair.split("=", 1)
        try:
            values[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            values[name.strip()] = text
    return values


def prepare(cls, data, scaling=None, sets=None):
    """``(kwargs, x, x_q, scaling)``: the model's constructor arguments (``--set``; the
    model reads its shapes from the data) and scaled inputs."""
    x, x_q = data.x, data.x_q
    if x.ndim > 2 and cls.input_rank == 1:
        x = x.reshape(len(x), -1)  # a vector model fed images: flatten them
        x_q = None if x_q is None else x_q.reshape(len(x_q), -1)
    if scaling is None or isinstance(scaling, str):
        scaling = fit_scaling(scaling or getattr(cls, "input_scaling", "none"), x)
    x = apply_scaling(scaling, x)
    x_q = None if x_q is None else apply_scaling(scaling, x_q)
    sets = dict(sets or {})
    unknown = sorted(set(sets) - set(cls.constructor_arguments()))
    if unknown:
        raise CLIError(f"--set {unknown[0]!r} is not an argument of {cls.__name__}: its "
                       f"arguments are {cls.constructor_arguments()}")
    return sets, x, x_q, scaling


def second_array(kind, data, x_q):
    return {"unsupervised": None, "two_sample": x_q}.get(kind, data.y)


def split(n, fraction, seed):
    """``(train, validation)`` index arrays from a seeded permutation."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(fraction * n))
    if fraction > 0 and (n_val < 1 or n_val >= n):
        raise CLIError(f"--validation-split {fraction} leaves no examples on one side of "
                       f"{n} examples")
    return order[n_val:], order[:n_val]


def _take(a, index):
    return None if a is None else np.asarray(a)[index]


def fit_arguments(model, args):
    """``fit`` keyword arguments: ``epochs`` (the CLI's default unless the model's ``fit``
    chooses its own, i.e. defaults ``epochs=None``), ``batch_size`` and ``verbose``."""
    kwargs = {"verbose": args.verbose}
    epochs = args.epochs
    if epochs is None:
        parameter = inspect.signature(model.fit).parameters.get("epochs")
        epochs = None if parameter is not None and parameter.default is None else DEFAULT_EPOCHS
    if epochs is not None:
        kwargs["epochs"] = epochs
    if args.batch_size is not None:
        kwargs["batch_size"] = args.batch_size
    return kwargs


# ----------------------------------------------------------------------- run directories
class RunDirectory:
    """Writes into a temporary directory beside ``out``; ``commit`` renames it to ``out``."""

    def __init__(self, out, overwrite=False):
        self.out = os.path.abspath(out)
        if os.path.exists(self.out):
            if not os.path.isdir(self.out):
                raise CLIError(f"--out {out!r} exists and is a file; expected a directory")
            if os.listdir(self.out) and not overwrite:
                raise CLIError(f"--out {out!r} exists and is not empty; choose another "
                               "directory or pass --overwrite")
        self.parent = os.path.dirname(self.out)
        self.path = None

    def __enter__(self):
        os.makedirs(self.parent, exist_ok=True)
        self.path = tempfile.mkdtemp(prefix=f".{os.path.basename(self.out)}.partial-",
                                     dir=self.parent)
        return self

    def file(self, name):
        return os.path.join(self.path, name)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            if os.path.exists(self.out):
                shutil.rmtree(self.out)
            os.replace(self.path, self.out)
        elif self.path and os.path.exists(self.path):
            shutil.rmtree(self.path)
        return False


def read_run(model_dir):
    """``(run info, model path)`` of a run directory, a ``.keras`` file's run or a preset."""
    from zoo import presets

    if model_dir in presets.names():
        return presets.run_info(model_dir), presets.path(model_dir)
    if not os.path.exists(model_dir):
        raise CLIError(f"{model_dir!r}: no such run directory (nor a preset: "
                       f"{', '.join(presets.names()) or 'none'})")
    info_path = os.path.join(model_dir, "run.json")
    model_path = os.path.join(model_dir, "model.keras")
    if not (os.path.isdir(model_dir) and os.path.isfile(info_path)
            and os.path.isfile(model_path)):
        raise CLIError(f"{model_dir!r} is not a saved zoo model directory: expected the "
                       "model.keras and run.json that 'python -m zoo fit ... --out DIR' writes")
    try:
        with open(info_path) as f:
            info = json.load(f)
        missing = [k for k in ("model", "scaling", "data_kind") if k not in info]
        if missing:
            raise KeyError(missing[0])
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise CLIError(f"{info_path!r} is not a zoo run description ({error!r})") from None
    return info, model_path


def load_model(model_path):
    import zoo

    try:
        return zoo.load(model_path)
    except (ValueError, TypeError, OSError) as error:
        raise CLIError(f"cannot load {model_path!r}: {str(error).splitlines()[0]}") from None


# ------------------------------------------------------------------------------ metrics
def evaluate_model(model, kind, x, second, seed=0):
    """Keras' ``evaluate`` metrics plus, where the model has them, deterministic ones:
    ``mean_log_prob`` (``log_prob``), ``mean_log_likelihood`` (``log_likelihood``, k=100,
    seeded), ``accuracy`` (``predict_proba``), ``rmse`` (regression ``predict``),
    ``kl_divergence`` (a two-sample model's ``kl_divergence(x_p)``)."""
    metrics = {}
    values = model.evaluate(x, second, verbose=0, return_dict=True)
    metrics.update({k: float(v) for k, v in values.items()})
    if hasattr(model, "log_prob") and kind == "unsupervised":
        metrics["mean_log_prob"] = float(np.mean(np.asarray(model.log_prob(x))))
    if hasattr(model, "log_likelihood") and kind in ("unsupervised", "conditional"):
        args = (x,) if kind == "unsupervised" else (x, second)
        metrics["mean_log_likelihood"] = float(np.mean(model.log_likelihood(
            *args, num_samples=100, seed=seed)))
    if kind == "supervised" and hasattr(model, "predict_proba"):
        probabilities = np.asarray(model.predict_proba(x))
        if probabilities.ndim == 1:
            probabilities = np.stack([1 - probabilities, probabilities], -1)
        metrics["accuracy"] = float(np.mean(np.argmax(probabilities, -1) == np.ravel(second)))
    elif kind == "two_sample" and hasattr(model, "kl_divergence"):
        metrics["kl_divergence"] = float(model.kl_divergence(x))  # KL[p || q], from x ~ p
    elif kind == "supervised":
        mean, _ = _regression(model, x)
        if mean is not None and np.size(mean) == np.size(second):
            metrics["rmse"] = float(np.sqrt(np.mean((np.ravel(mean) - np.ravel(second)) ** 2)))
    return metrics


def _regression(model, x):
    output = model.predict(x, verbose=0) if "verbose" in inspect.signature(
        model.predict).parameters or _takes_kwargs(model.predict) else model.predict(x)
    if isinstance(output, (tuple, list)) and len(output) == 2:
        return np.asarray(output[0]), np.asarray(output[1])
    return np.asarray(output), None


def _takes_kwargs(function):
    return any(p.kind == p.VAR_KEYWORD for p in inspect.signature(function).parameters.values())


# -------------------------------------------------------------------------------- plots
def draw_plots(model, kind, history, x, second, labels, directory, seed=0):
    """The figures ``model.plots`` asks for that suit the data; returns the files written."""
    from zoo import plots as P

    names = [name for name in getattr(model, "plots", ("history",)) if name in P.PLOTS]
    P.require_matplotlib()
    written = []
    x_show = x[:500]
    for name in names:
        path = os.path.join(directory, f"{name}.png")
        if name == "history" and history:
            written.append(P.plot_history(history, path))
        elif name == "samples" and hasattr(model, "sample"):
            if kind == "conditional":
                draws = model.sample(len(x_show), np.asarray(second[:500]), seed=seed)
            elif kind == "unsupervised":
                draws = model.sample(len(x_show), seed=seed)
            else:
                continue
            written.append(P.plot_samples(x_show, np.asarray(draws), path))
        elif name == "density" and x.ndim == 2 and x.shape[1] == 2 and hasattr(model, "log_prob"):
            low, high = np.quantile(x, 0.005, 0), np.quantile(x, 0.995, 0)
            pad = 0.15 * (high - low)
            gx = np.linspace(low[0] - pad[0], high[0] + pad[0], 80, dtype=np.float32)
            gy = np.linspace(low[1] - pad[1], high[1] + pad[1], 80, dtype=np.float32)
            grid = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
            log_p = np.asarray(model.log_prob(grid)).reshape(len(gy), len(gx))
            written.append(P.plot_density(gx, gy, log_p, x_show, path))
        elif name == "reconstructions" and hasattr(model, "reconstruct") and x.ndim >= 3:
            recon = (model.reconstruct(x[:10]) if kind == "unsupervised"
                     else model.reconstruct(x[:10], np.asarray(second[:10])))
            written.append(P.plot_reconstructions(x[:10], np.asarray(recon), path))
        elif name == "latent" and hasattr(model, "encode") and kind == "unsupervised":
            z = np.asarray(model.encode(x_show).mean())
            written.append(P.plot_latent(z, None if labels is None else labels[:500], path))
        elif name == "confusion" and kind == "supervised" and hasattr(model, "predict_proba"):
            probabilities = np.asarray(model.predict_proba(x))
            if probabilities.ndim == 1:
                probabilities = np.stack([1 - probabilities, probabilities], -1)
            written.append(P.plot_confusion(second, np.argmax(probabilities, -1), path))
        elif name == "predictions" and kind == "supervised":
            mean, variance = _regression(model, x_show)
            written.append(P.plot_predictions(second[:500], mean, variance, path))
        elif name == "log_ratio" and kind == "two_sample" and hasattr(model, "log_ratio"):
            written.append(P.plot_log_ratio(np.asarray(model.log_ratio(x_show)),
                                            np.asarray(model.log_ratio(second[:500])), path))
    return written


# --------------------------------------------------------------------------- subcommands
def cmd_list(args):
    import zoo

    names = zoo.list()
    if args.markdown:  # the README's table
        print("| model | fits | what it is |\n|---|---|---|")
        for name in names:
            cls = zoo.get(name)
            print(f"| `{name}` | {data_kind(cls)} | {_first_line(cls)} |")
        return 0
    width = max(map(len, names), default=0)
    for name in names:
        cls = zoo.get(name)
        print(f"{name:<{width}}  {data_kind(cls):<12}  {_first_line(cls)}")
    return 0


def _format_default(value):
    return "(required)" if value is inspect.Parameter.empty else repr(value)


def cmd_info(args):
    name = resolve_model(args.model)
    cls = model_class(name)
    print(f"{name}: {_first_line(cls)}")
    print(f"  data: {data_kind(cls)}    plots: {', '.join(cls.plots)}    "
          f"tuning objective: {default_objective(cls)}    "
          f"input scaling: {getattr(cls, 'input_scaling', 'none')}")
    print("  arguments (name = default):")
    for arg, default in constructor_defaults(cls).items():
        print(f"    {arg} = {_format_default(default)}")
    print("  search space:" + ("" if cls.search_space else " (none)"))
    for arg, space in cls.search_space.items():
        print(f"    {arg}: {space!r}")
    from zoo import presets

    mine = [p for p in presets.names() if presets.run_info(p)["model"] == name]
    if mine:
        print(f"  presets: {', '.join(mine)}")
    return 0


def cmd_datasets(args):
    datasets = _dataset_names()
    width = max(map(len, datasets))
    for name, loader in datasets.items():
        print(f"{name:<{width}}  {_first_line(loader)}")
    return 0


def cmd_presets(args):
    from zoo import presets

    for name in presets.names():
        entry = presets.PRESETS[name]
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in entry["metrics"].items())
        print(f"{name}  ({entry['run']['model']} on {entry['run']['data']}): "
              f"{entry['description']} [{metrics}]")
    return 0


def _run_info(name, kind, data, scaling, args, config, extra=None):
    return {"model": name, "data": data.source, "data_kind": kind, "target": args.target,
            "reference": getattr(args, "reference", None), "classes": data.classes,
            "scaling": scaling, "validation_split": args.validation_split, "seed": args.seed,
            "flatten": bool(data.x.ndim > 2 and model_class(name).input_rank == 1),
            "config": config, **(extra or {})}


def _jsonable(value):
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist")
                                 else repr(v)))


def _split_arrays(kind, data, x, x_q, args):
    second = second_array(kind, data, x_q)
    train, val = split(len(x), args.validation_split, args.seed)
    train_q, val_q = (train, val) if kind != "two_sample" else split(
        len(x_q), args.validation_split, args.seed + 1)
    arrays = (x[train], _take(second, train_q), x[val], _take(second, val_q))
    labels = None if data.y is None else np.asarray(data.y)[val if kind != "two_sample" else []]
    return arrays, labels


def _validation(x_val, second_val):
    if len(x_val) == 0:
        return None
    return (x_val,) if second_val is None else (x_val, second_val)


def cmd_fit(args):
    name = resolve_model(args.model)
    cls = model_class(name)
    kind = data_kind(cls)
    sets = _parse_sets(args.set)
    run = RunDirectory(args.out, args.overwrite)
    data = load_data(args.data, kind, args.target, args.reference)
    if not args.no_plots:
        from zoo.plots import require_matplotlib

        require_matplotlib()
    kwargs, x, x_q, scaling = prepare(cls, data, args.scale, sets)
    (x_tr, s_tr, x_val, s_val), labels = _split_arrays(kind, data, x, x_q, args)
    model = cls(**kwargs)
    fit_kwargs = fit_arguments(model, args)
    # Keras runs validation through evaluate(x=..., y=...); a two-sample model's evaluate takes
    # (x_p, x_q), so it is scored on the held-out pair after fit instead.
    validation = None if kind == "two_sample" else _validation(x_val, s_val)
    with run:
        history = model.fit(x_tr, s_tr, validation_data=validation, **fit_kwargs)
        history = {k: [float(v) for v in vs] for k, vs in (history.history or {}).items()}
        model.save(run.file("model.keras"))
        x_eval, s_eval = (x_val, s_val) if len(x_val) else (x_tr, s_tr)
        metrics = evaluate_model(model, kind, x_eval, s_eval, args.seed)
        config = _jsonable(model.get_config())
        info = _run_info(name, kind, data, scaling, args, config,
                         {"metrics": metrics, "epochs": fit_kwargs.get("epochs")})
        with open(run.file("run.json"), "w") as f:
            json.dump(_jsonable(info), f, indent=2)
        with open(run.file("history.json"), "w") as f:
            json.dump(history, f, indent=2)
        written = [] if args.no_plots else draw_plots(
            model, kind, history, x_eval, s_eval, labels, run.path, args.seed)
    print(f"validation metrics: {json.dumps(metrics)}")
    print(f"wrote {args.out}: model.keras run.json history.json "
          + " ".join(os.path.basename(p) for p in written))
    return 0


def _data_for_run(info, args):
    import zoo

    cls = zoo.get(info["model"])
    kind = info["data_kind"]
    data = load_data(args.data or info["data"], kind, args.target or info.get("target"),
                     getattr(args, "reference", None) or info.get("reference"))
    if data.classes is not None and info.get("classes") and data.classes != info["classes"]:
        raise CLIError(f"--data {args.data!r}: its target classes {data.classes} are not the "
                       f"ones the model was trained on {info['classes']}")
    _, x, x_q, _ = prepare(cls, data, info["scaling"])
    return kind, data, x, second_array(kind, data, x_q)


def cmd_evaluate(args):
    info, model_path = read_run(args.model_dir)
    kind, data, x, second = _data_for_run(info, args)
    model = load_model(model_path)
    try:
        model.validate_data(x, second) if kind != "two_sample" else None
    except (ValueError, TypeError) as error:
        raise CLIError(f"--data {data.source!r} does not fit this {info['model']}: "
                       f"{str(error).splitlines()[0]}") from None
    metrics = evaluate_model(model, kind, x, second, args.seed)
    print(json.dumps(metrics, indent=2))
    return 0


def _write_array(path, array, tmp_dir):
    extension = os.path.splitext(path)[1].lower()
    fd, tmp = tempfile.mkstemp(prefix=".sample.", suffix=extension, dir=tmp_dir)
    os.close(fd)
    try:
        if extension == ".npy":
            np.save(tmp, array)
        else:
            np.savetxt(tmp, array.reshape(len(array), -1), delimiter=",", fmt="%.7g")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def cmd_sample(args):
    info, model_path = read_run(args.model_dir)
    extension = os.path.splitext(args.out)[1].lower()
    if extension not in (".npy", ".csv"):
        raise CLIError(f"--out {args.out!r}: expected a .npy or .csv file name")
    directory = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(directory):
        raise CLIError(f"--out {args.out!r}: directory {directory!r} does not exist")
    if args.n < 1:
        raise CLIError(f"-n must be a positive integer. Received: {args.n}")
    model = load_model(model_path)
    if not hasattr(model, "sample"):
        import zoo

        able = [n for n in zoo.list() if hasattr(zoo.get(n), "sample")]
        raise CLIError(f"{info['model']} does not sample; models that do: {', '.join(able)}")
    kind = info["data_kind"]
    if kind == "conditional":
        if args.condition is None:
            raise CLIError(f"{info['model']} samples given a label: pass --condition LABEL")
        label = args.condition
        classes = info.get("classes")
        if classes and label in classes:
            label = classes.index(label)
        try:
            label = int(label)
        except ValueError:
            raise CLIError(f"--condition {args.condition!r}: expected a class index"
                           + (f" or one of {classes}" if classes else "")) from None
        draws = model.sample(args.n, np.full(args.n, label), seed=args.seed)
    else:
        if args.condition is not None:
            raise CLIError(f"{info['model']} is unconditional: --condition does not apply")
        draws = model.sample(args.n, seed=args.seed)
    draws = undo_scaling(info["scaling"], np.asarray(draws))
    _write_array(args.out, draws, directory)
    print(f"wrote {args.out}: {args.n} samples of shape {list(draws.shape[1:])}")
    return 0


def tuner_class(name):
    import kerasprob.tuning as tuning

    classes = {"random": "RandomSearch", "bayes": "BayesianOptimization",
               "hyperband": "Hyperband", "kg": "KnowledgeGradientSearch"}
    found = getattr(tuning, classes[name], None)
    if found is None:
        raise CLIError(f"--tuner {name}: kerasprob.tuning.{classes[name]} is not in this "
                       f"version of kerasprob; use one of random, bayes, hyperband")
    return found


def cmd_tune(args):
    name = resolve_model(args.model)
    cls = model_class(name)
    kind = data_kind(cls)
    sets = _parse_sets(args.set)
    if args.trials < 1:
        raise CLIError(f"--trials must be a positive integer. Received: {args.trials}")
    if args.validation_split <= 0:
        raise CLIError("tune needs a validation split to score trials: --validation-split > 0")
    Tuner = tuner_class(args.tuner)
    run = RunDirectory(args.out, args.overwrite)
    data = load_data(args.data, kind, args.target, args.reference)
    kwargs, x, x_q, scaling = prepare(cls, data, args.scale, sets)
    (x_tr, s_tr, x_val, s_val), _ = _split_arrays(kind, data, x, x_q, args)
    objective = args.objective or default_objective(cls)
    epochs = args.epochs or DEFAULT_EPOCHS
    with run:
        options = dict(objective=objective, directory=run.file("trials"), project_name=name,
                       overwrite=True)
        if args.tuner == "hyperband":
            options.update(max_epochs=epochs, hyperband_iterations=1, seed=args.seed)
        else:
            options.update(max_trials=args.trials, seed=args.seed)
        tuner = Tuner(cls.hypermodel(**kwargs), **options)
        search = {"validation_data": _validation(x_val, s_val), "verbose": args.verbose}
        if args.tuner != "hyperband":
            search["epochs"] = epochs
        if args.batch_size:
            search["batch_size"] = args.batch_size
        tuner.search(x_tr, s_tr, **search)
        ranked = tuner.oracle.get_best_trials(num_trials=len(tuner.oracle.trials))
        trials = [{"trial": t.trial_id, "score": t.score,
                   "hyperparameters": t.hyperparameters.values} for t in ranked]
        best = tuner.get_best_models(1)[0]
        best.save(run.file("model.keras"))
        metrics = evaluate_model(best, kind, x_val, s_val, args.seed)
        config = _jsonable(best.get_config())
        info = _run_info(name, kind, data, scaling, args, config, {
            "metrics": metrics, "tuner": args.tuner, "objective": objective,
            "best_hyperparameters": trials[0]["hyperparameters"] if trials else {}})
        with open(run.file("run.json"), "w") as f:
            json.dump(_jsonable(info), f, indent=2)
        with open(run.file("trials.json"), "w") as f:
            json.dump(_jsonable(trials), f, indent=2)
        shutil.rmtree(run.file("trials"), ignore_errors=True)
    for t in trials:
        values = json.dumps(_jsonable(t["hyperparameters"]))
        print(f"trial {t['trial']}: {objective} {t['score']}  {values}")
    print(f"best {objective}: {trials[0]['score'] if trials else None}; wrote {args.out}: "
          "model.keras run.json trials.json")
    return 0


# ------------------------------------------------------------------------------ parser
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
                       help="feature scaling (default: the model's input_scaling)")
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
