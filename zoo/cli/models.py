"""Models for the command line: registry look-ups, constructor arguments (``--set``), the
scaled arrays a model is fitted on, the split, ``fit``'s arguments and the tuners."""

import difflib
import inspect
import json
import re

import numpy as np

from zoo.cli.common import DEFAULT_EPOCHS, KINDS, CLIError
from zoo.cli.scaling import apply_scaling, fit_scaling


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
    """The model's tuning objective: its ``tuning_objective`` class attribute (a name or a
    ``keras_tuner.Objective``), else ``"val_loss"``."""
    value = getattr(cls, "tuning_objective", None)
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
        scaling = fit_scaling(scaling or "none", x)
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



def tuner_class(name):
    import kerasprob.tuning as tuning

    classes = {"random": "RandomSearch", "bayes": "BayesianOptimization",
               "hyperband": "Hyperband", "kg": "KnowledgeGradientSearch"}
    found = getattr(tuning, classes[name], None)
    if found is None:
        raise CLIError(f"--tuner {name}: kerasprob.tuning.{classes[name]} is not in this "
                       f"version of kerasprob; use one of random, bayes, hyperband")
    return found
