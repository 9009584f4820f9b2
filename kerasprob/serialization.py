"""Registration of kerasprob objects with tf-keras serialization.

Every public class is registered under the package name, so a saved model
refers to it as ``"kerasprob>ClassName"`` and loads without ``custom_objects``
once ``kerasprob`` is imported. Nothing is pickled: configs hold plain JSON.
"""

import tf_keras

PACKAGE = "kerasprob"


def register(cls):
    """Class decorator: register ``cls`` as ``kerasprob>ClassName``."""
    return tf_keras.saving.register_keras_serializable(package=PACKAGE)(cls)


def serialize(obj):
    """Serialize a Keras object (layer, loss, ...) to a JSON-able dict, or ``None``."""
    return None if obj is None else tf_keras.saving.serialize_keras_object(obj)


def deserialize(config):
    """Inverse of :func:`serialize`; a non-dict value (an object or None) passes through."""
    if isinstance(config, dict):
        return tf_keras.saving.deserialize_keras_object(config)
    return config
