"""A keras-tuner search space as points of the unit cube, for a GP surrogate.

Each tunable hyperparameter gets coordinates in ``[0, 1]``:

==========================  ===========================================================
hyperparameter              coordinates
==========================  ===========================================================
``Float``                   one, continuous: keras-tuner's ``value_to_prob`` (linear,
                            ``log`` or ``reverse_log`` scale)
``Int``, ordered ``Choice``  one, discrete: the centre of the value's bin (its
                            ``value_to_prob``), so neighbours stay close
``Boolean``                 one, discrete: 0.25 / 0.75
unordered ``Choice``        one per value, discrete: one-hot (no false order)
==========================  ===========================================================

``Fixed`` values are left out. An inactive conditional value is encoded as its default
(as keras-tuner's ``BayesianOptimizationOracle`` does).

>>> import keras_tuner as kt
>>> hp = kt.HyperParameters()
>>> _ = hp.Float("lr", 1e-4, 1e-2, sampling="log"); _ = hp.Choice("act", ["relu", "tanh"])
>>> encoding = UnitCubeEncoding(hp)
>>> encoding.dimension, encoding.continuous.tolist()
(3, [True, False, False])
>>> encoding.encode({"lr": 1e-3, "act": "tanh"}).round(3).tolist()
[0.5, 0.0, 1.0]
>>> encoding.decode([0.5, 0.0, 1.0])["act"]
'tanh'
"""

import numpy as np
from keras_tuner.src.engine import hyperparameters as hp_module

__all__ = ["UnitCubeEncoding"]


def _one_hot(hp):
    return isinstance(hp, hp_module.Choice) and not hp.ordered


class UnitCubeEncoding:
    """Encode hyperparameter values as points of ``[0, 1]^d`` and decode them back.

    Args:
      hyperparameters: a ``keras_tuner.HyperParameters`` search space.

    Attributes:
      space: the tunable (non-``Fixed``) hyperparameters, in order.
      dimension: ``d``. continuous: ``[d]`` boolean mask of the continuous coordinates.
    """

    def __init__(self, hyperparameters):
        self.hyperparameters = hyperparameters
        self.space = [hp for hp in hyperparameters.space if not isinstance(hp, hp_module.Fixed)]
        widths = [len(hp.values) if _one_hot(hp) else 1 for hp in self.space]
        self.offsets = np.concatenate([[0], np.cumsum(widths)]).astype(int)
        self.dimension = int(self.offsets[-1])
        self.continuous = np.zeros(self.dimension, bool)
        for i, hp in enumerate(self.space):
            if isinstance(hp, hp_module.Float):
                self.continuous[self.offsets[i]] = True

    def encode(self, values):
        """``{name: value}`` (or ``HyperParameters``) -> ``[d]``."""
        hps = values if isinstance(values, hp_module.HyperParameters) else None
        values = hps.values if hps is not None else dict(values)
        point = np.zeros(self.dimension)
        for i, hp in enumerate(self.space):
            active = hp.name in values and (hps is None or hps.is_active(hp))
            value = values[hp.name] if active else hp.default
            start = self.offsets[i]
            if _one_hot(hp):
                point[start + list(hp.values).index(value)] = 1.0
            else:
                point[start] = hp.value_to_prob(value)
        return point

    def decode(self, point):
        """``[d]`` -> ``{name: value}`` of the active hyperparameters (``Fixed`` ones too)."""
        point = np.asarray(point, float)
        hps = hp_module.HyperParameters()
        index = {hp.name: i for i, hp in enumerate(self.space)}
        for hp in self.hyperparameters.space:
            hps.merge([hp])
            if isinstance(hp, hp_module.Fixed):
                value = hp.value
            else:
                i = index[hp.name]
                start, stop = self.offsets[i], self.offsets[i + 1]
                if _one_hot(hp):
                    value = hp.values[int(np.argmax(point[start:stop]))]
                else:
                    value = hp.prob_to_value(float(np.clip(point[start], 0.0, 1.0 - 1e-12)))
            if hps.is_active(hp):
                hps.values[hp.name] = value
        return hps.values

    def snap(self, point):
        """The encoding of the nearest valid configuration: ``encode(decode(point))``."""
        return self.encode(self.decode(point))

    def sample(self, rng, num):
        """``[num, d]`` encodings of uniformly drawn configurations (valid points)."""
        return np.stack([self.snap(rng.uniform(size=self.dimension)) for _ in range(num)])

    def perturb(self, rng, points, scale=0.05):
        """Valid neighbours of ``points`` ``[k, d]``: continuous coordinates moved by
        ``N(0, scale^2)``, and each discrete hyperparameter redrawn with probability
        ``1 / len(space)``."""
        out = []
        for point in np.atleast_2d(points):
            new = point.copy()
            new[self.continuous] = np.clip(
                new[self.continuous] + scale * rng.standard_normal(self.continuous.sum()), 0, 1)
            for i, hp in enumerate(self.space):
                if isinstance(hp, hp_module.Float) or rng.uniform() >= 1.0 / len(self.space):
                    continue
                start, stop = self.offsets[i], self.offsets[i + 1]
                new[start:stop] = 0.0
                if _one_hot(hp):
                    new[start + rng.integers(stop - start)] = 1.0
                else:
                    new[start] = rng.uniform()
            out.append(self.snap(new))
        return np.stack(out)
