"""Pretrained zoo models shipped in the package, loadable by name: ``zoo.load("vae-digits")``.

Each preset is a ``.keras`` file in this directory and an entry in ``presets.json``: what it
is (``description``), how it was made (``run``: the model, the data, the scaling and the
split, as in a ``python -m zoo fit`` run directory's ``run.json``) and the metrics it scored on
its validation split (``metrics``). ``python -m zoo.presets.make`` rebuilds every preset (or
``python -m zoo.presets.make vae-digits``); ``python -m zoo presets`` lists them, and
``python -m zoo evaluate vae-digits`` / ``sample vae-digits -n 16 --out x.npy`` use them like a
run directory. Loading goes through ``zoo.load``: tf-keras' safe mode, no code from the file.

>>> import zoo.presets
>>> "vae-digits" in zoo.presets.names()
True
"""

import json
import os

DIRECTORY = os.path.dirname(os.path.abspath(__file__))
INDEX = os.path.join(DIRECTORY, "presets.json")


def _read_index():
    if not os.path.isfile(INDEX):
        return {}
    with open(INDEX) as f:
        return json.load(f)


PRESETS = _read_index()


def names():
    """Names of the shipped presets, sorted."""
    return sorted(PRESETS)


def _entry(name):
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}. Expected one of {names()}")
    return PRESETS[name]


def path(name):
    """The ``.keras`` file of preset ``name``."""
    return os.path.join(DIRECTORY, _entry(name)["file"])


def run_info(name):
    """How preset ``name`` was trained (the ``run.json`` of its ``python -m zoo fit`` run)."""
    return _entry(name)["run"]


def metrics(name):
    """The metrics preset ``name`` scored on its validation split when it was made."""
    return dict(_entry(name)["metrics"])


def load(name):
    """The preset model ``name`` (``zoo.load(name)`` does the same)."""
    from zoo.registry import load as load_file

    return load_file(path(name))


__all__ = ["PRESETS", "load", "metrics", "names", "path", "run_info"]
