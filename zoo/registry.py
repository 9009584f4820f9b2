"""The model registry: ``zoo.list()``, ``zoo.get(name)``, ``zoo.load(path)``.

Zoo models register with :func:`register`. Third-party packages add models
through the entry-point group ``kerasprob.zoo``; in their ``pyproject.toml``::

    [project.entry-points."kerasprob.zoo"]
    MyModel = "my_package.models:MyModel"

Each entry point must load a ``zoo.ZooModel`` subclass; it is registered
(under the entry point's name) the first time the registry is read.
"""

import importlib
import os
from importlib import metadata

ENTRY_POINT_GROUP = "kerasprob.zoo"

_MODELS = {}
_entry_points_loaded = False


def register(cls):
    """Class decorator: list ``cls`` in the zoo and register it serializable as ``zoo>Name``."""
    import tf_keras

    _MODELS[cls.__name__] = tf_keras.saving.register_keras_serializable(package="zoo")(cls)
    return cls


def _load_entry_points():
    """The built-in models (:mod:`zoo.models`), then those of other packages."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    importlib.import_module("zoo.models")
    _entry_points_loaded = True
    from zoo.base import ZooModel

    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        cls = entry_point.load()
        if not (isinstance(cls, type) and issubclass(cls, ZooModel)):
            raise TypeError(
                f"Entry point {entry_point.name!r} in group {ENTRY_POINT_GROUP!r} must load a "
                f"zoo.ZooModel subclass. Received: {cls!r}"
            )
        _MODELS.setdefault(entry_point.name, cls)


def list_models():
    """Names of every registered zoo model, sorted."""
    _load_entry_points()
    return sorted(_MODELS)


def get(name):
    """The zoo model class registered as ``name``."""
    _load_entry_points()
    if name not in _MODELS:
        raise ValueError(f"Unknown zoo model {name!r}. Expected one of {list_models()}")
    return _MODELS[name]


def load(path):
    """Load a model saved with ``model.save("...keras")``, or a shipped preset by name
    (``zoo.load("vae-digits")``, see ``zoo.presets``); never runs code from the file.

    Uses tf-keras' safe mode: a file that asks for a ``Lambda`` layer or a
    pickled function is refused.
    """
    _load_entry_points()  # the classes the file names
    path = os.fspath(path)
    if not os.path.exists(path):
        from zoo import presets

        if path in presets.PRESETS:
            path = presets.path(path)
    if os.path.isdir(path):
        what = ("a TensorFlow SavedModel directory" if os.path.isfile(
            os.path.join(path, "saved_model.pb")) else "a directory")
        raise ValueError(
            f"path must be a '.keras' file. Received: path={path!r}, {what}. zoo.load reads "
            "the .keras files that model.save('name.keras') writes (a SavedModel holds traced "
            "graphs, not the model's config: load it with tf.saved_model.load, or save the "
            "model again as .keras)"
        )
    if not os.path.isfile(path):
        hint = (
            f" ({path!r} is a model name: build one with zoo.get({path!r})(...); "
            "the pretrained presets are listed by zoo.presets.names())"
            if path in _MODELS
            else ""
        )
        raise FileNotFoundError(f"No saved model at path={path!r}{hint}")
    if not path.endswith(".keras"):
        raise ValueError(f"path must be a '.keras' file. Received: path={path!r}")
    import tf_keras

    return tf_keras.models.load_model(path, safe_mode=True)


list = list_models
__all__ = ["ENTRY_POINT_GROUP", "get", "list", "list_models", "load", "register"]
