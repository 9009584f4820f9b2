"""Reading data for the command line: embedded data sets by name, ``.csv`` / ``.npz`` /
``.npy`` files, targets and class names."""

import csv
import difflib
import os

import numpy as np

from zoo.cli.common import CLIError


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
        if isinstance(loaded, dict):
            x, x_q = loaded["x_p"], loaded["x_q"]  # two samples
        elif isinstance(loaded, tuple) and len(loaded) == 2 and np.ndim(loaded[1]) == 1:
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
