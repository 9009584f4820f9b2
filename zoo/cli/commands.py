"""The commands of ``python -m zoo``: one function each, ``cmd_<name>(args)`` -> exit status."""

import inspect
import json
import os
import shutil

import numpy as np

from zoo.cli.common import DEFAULT_EPOCHS, CLIError
from zoo.cli.data import _dataset_names, load_data
from zoo.cli.metrics import draw_plots, evaluate_model
from zoo.cli.models import (
    _first_line,
    _parse_sets,
    _take,
    constructor_defaults,
    data_kind,
    default_objective,
    fit_arguments,
    model_class,
    prepare,
    resolve_model,
    second_array,
    split,
    tuner_class,
)
from zoo.cli.runs import RunDirectory, _jsonable, _run_info, load_model, read_run
from zoo.cli.scaling import undo_scaling
from zoo.files import atomic_path


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
          f"tuning objective: {default_objective(cls)}")
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



def _write_array(path, array):
    """``array`` to a ``.npy`` or ``.csv`` file (one row per draw), atomically."""
    with atomic_path(path) as tmp:
        if path.lower().endswith(".npy"):
            np.save(tmp, array)
        else:
            np.savetxt(tmp, array.reshape(len(array), -1), delimiter=",", fmt="%.7g")


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
    _write_array(args.out, draws)
    print(f"wrote {args.out}: {args.n} samples of shape {list(draws.shape[1:])}")
    return 0



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
