"""Pretrained zoo models shipped in the package, loadable by name: ``zoo.load("vae-digits")``.

Each family keeps its presets beside its models (``zoo/vae/presets/``, ``zoo/flows/presets/``,
``zoo/gp/presets/``, ``zoo/density_ratio/presets/``, ``zoo/classifiers/presets/``): a
``.keras`` file per preset and an entry in that folder's ``presets.json``: what it is
(``description``), how it was made (``run``: the model, the data and the split, as in a
``python -m zoo fit`` run directory's ``run.json``) and the metrics it scored on its
validation split (``metrics``). Every preset takes raw data: any scaling it wants is a saved
layer inside it. ``python -m zoo.presets.make`` rebuilds every preset (or
``python -m zoo.presets.make vae-digits``); ``python -m zoo presets`` lists them, and
``python -m zoo evaluate vae-digits`` / ``sample vae-digits -n 16 --out x.npy`` use them like a
run directory. Loading is ``zoo.load(name)`` (the registry reads this index; nothing here imports
it back): tf-keras' safe mode, no code from the file.

>>> import zoo.presets
>>> "vae-digits" in zoo.presets.names()
True
"""

import json
import os

#: The family folders that hold presets (``zoo/<family>/presets/``).
FAMILIES = ("classifiers", "density_ratio", "flows", "gp", "vae")

_ZOO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def directory(family):
    """The presets folder of ``family`` (one of :data:`FAMILIES`)."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {list(FAMILIES)}. Received: family={family!r}")
    return os.path.join(_ZOO, family, "presets")


def index_path(family):
    """The ``presets.json`` of ``family``."""
    return os.path.join(directory(family), "presets.json")


def _read_index():
    """Every family's entries, each with its ``family`` added."""
    found = {}
    for family in FAMILIES:
        if os.path.isfile(index_path(family)):
            with open(index_path(family)) as f:
                found.update({name: {**entry, "family": family}
                              for name, entry in json.load(f).items()})
    return found


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
    entry = _entry(name)
    return os.path.join(directory(entry["family"]), entry["file"])


def run_info(name):
    """How preset ``name`` was trained (the ``run.json`` of its ``python -m zoo fit`` run)."""
    return _entry(name)["run"]


def metrics(name):
    """The metrics preset ``name`` scored on its validation split when it was made."""
    return dict(_entry(name)["metrics"])


__all__ = ["FAMILIES", "PRESETS", "directory", "index_path", "metrics", "names", "path",
           "run_info"]
