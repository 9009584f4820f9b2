"""A keras-tuner ``HyperModel`` that builds a model class from its search space."""

import keras_tuner as kt


def _class_attribute(cls, name):
    """``name`` as a class attribute (a constructor argument of the same name, stored on
    instances, does not shadow it); ``None`` if no class in the MRO sets it."""
    for klass in cls.__mro__:
        if name in vars(klass):
            value = vars(klass)[name]
            return value if isinstance(value, (str, kt.Objective, list)) else None
    return None


class ModelHyperModel(kt.HyperModel):
    """Builds ``model_class(**fixed, **{name: hp value})`` for each trial.

    Args:
      model_class: a class with a ``search_space`` dict of ``name -> space``
        whose names are its constructor arguments.
      fixed: constructor arguments held fixed (e.g. ``input_shape``); a name
        given here is not tuned.

    Attributes:
      objective: the model class's default tuning objective (its ``tuning_objective`` class
        attribute, a ``keras_tuner.Objective``), used by the kerasprob tuners when they are
        given none; ``None`` if the class declares none.
    """

    def __init__(self, model_class, **fixed):
        super().__init__(name=model_class.__name__)
        unknown = set(fixed) - set(model_class.constructor_arguments())
        if unknown:
            raise ValueError(
                f"{model_class.__name__} has no constructor argument(s) {sorted(unknown)}. "
                f"Expected some of {sorted(model_class.constructor_arguments())}"
            )
        self.model_class = model_class
        self.fixed = fixed
        self.objective = _class_attribute(model_class, "tuning_objective")

    def declare_hyperparameters(self, hp):
        """Declare the tuned part of ``search_space`` in ``hp`` (without building a model);
        returns ``{name: value}``."""
        return {
            name: space.declare(hp, name)
            for name, space in self.model_class.search_space.items()
            if name not in self.fixed
        }

    def build(self, hp):
        return self.model_class(**self.fixed, **self.declare_hyperparameters(hp))

    def fix_data_arguments(self, x, y=None):
        """Hold the arguments a model reads from its data (``read_data_arguments``, e.g.
        ``input_shape``) at what ``x`` and ``y`` say, so that every trial's model, and the
        best one rebuilt to load its weights, has the same shapes. Returns what was fixed."""
        reader = getattr(self.model_class, "read_data_arguments", None)
        if reader is None:
            return {}
        found = self.model_class(**self.fixed).read_data_arguments(x, y)
        found = {name: value for name, value in found.items() if name not in self.fixed}
        self.fixed.update(found)
        return found
