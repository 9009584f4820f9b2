"""Run directories: written whole or not at all (a temporary directory renamed into
place), read back by ``evaluate`` and ``sample`` (a preset reads as one)."""

import json
import os
import shutil
import tempfile

from zoo.cli.common import CLIError
from zoo.cli.models import model_class


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


def _run_info(name, kind, data, scaling, args, config, extra=None):
    return {"model": name, "data": data.source, "data_kind": kind, "target": args.target,
            "reference": getattr(args, "reference", None), "classes": data.classes,
            "scaling": scaling, "validation_split": args.validation_split, "seed": args.seed,
            "flatten": bool(data.x.ndim > 2 and model_class(name).input_rank == 1),
            "config": config, **(extra or {})}


def _jsonable(value):
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist")
                                 else repr(v)))
