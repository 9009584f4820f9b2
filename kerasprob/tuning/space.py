"""Search spaces as data: hyperparameter ranges named after constructor arguments.

A model declares ``search_space = {"latent_dim": Int(2, 16), ...}``; each
name is a constructor keyword, so a trial builds ``Model(**{name: value})``.

>>> import keras_tuner as kt
>>> hp = kt.HyperParameters()
>>> Int(2, 8, step=2).declare(hp, "latent_dim")
2
>>> Float(1e-4, 1e-2, sampling="log").declare(hp, "learning_rate")
0.0001
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Int:
    """An integer in ``[min_value, max_value]`` (``sampling="log"`` draws log-uniformly)."""

    min_value: int
    max_value: int
    step: int | None = None
    sampling: str = "linear"

    def declare(self, hp, name):
        return hp.Int(name, self.min_value, self.max_value, step=self.step,
                      sampling=self.sampling)


@dataclass(frozen=True)
class Float:
    """A real number in ``[min_value, max_value]`` (``sampling="log"`` for rates)."""

    min_value: float
    max_value: float
    sampling: str = "linear"

    def declare(self, hp, name):
        return hp.Float(name, self.min_value, self.max_value, sampling=self.sampling)


@dataclass(frozen=True)
class Choice:
    """One of ``values`` (ints, floats, strings or bools)."""

    values: tuple

    def declare(self, hp, name):
        return hp.Choice(name, list(self.values))


@dataclass(frozen=True)
class Units:
    """Hidden sizes ``[width] * depth``, tuned as ``<name>_width`` and ``<name>_depth``."""

    widths: tuple
    depths: tuple

    def declare(self, hp, name):
        width = hp.Choice(f"{name}_width", list(self.widths))
        depth = hp.Choice(f"{name}_depth", list(self.depths))
        return [width] * depth
