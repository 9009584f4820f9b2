"""A keras-tuner ``HyperModel`` that builds a model class from its search space."""

import keras_tuner as kt


class ModelHyperModel(kt.HyperModel):
    """Builds ``model_class(**fixed, **{name: hp value})`` for each trial.

    Args:
      model_class: a class with a ``search_space`` dict of ``name -> space``
        whose names are its constructor arguments.
      fixed: constructor arguments held fixed (e.g. ``input_shape``); a name
        given here is not tuned.
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

    def build(self, hp):
        tuned = {
            name: space.declare(hp, name)
            for name, space in self.model_class.search_space.items()
            if name not in self.fixed
        }
        return self.model_class(**self.fixed, **tuned)
