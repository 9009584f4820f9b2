"""Kernel layers: covariance functions that own their (positive) hyperparameters.

A kernel is used through two methods, not by calling it:

* ``kernel.matrix(x, y=None)``: ``K(x, y)``, ``x`` ``[..., n, D]``, ``y`` ``[..., m, D]``
  (``y=None`` means ``x``) -> ``[..., n, m]``;
* ``kernel.diag(x)``: ``k(x_i, x_i)``, ``[..., n]``.

(Calling the layer on ``x`` gives ``matrix(x)``, so a kernel also sits in a functional model.)
The math is :mod:`kerasprob.math.kernels`. Every positive parameter ``theta`` is stored as an
unconstrained weight ``raw`` with ``theta = softplus(raw) + floor`` (``exp``, a log scale, on
request: :mod:`kerasprob.math.positive`): it can never reach 0, however far the optimizer
pushes. Constructor values are the *initial* hyperparameters.
Kernels compute in at least float32 (the policy's variable dtype; float64 under
``dtype="float64"``); inputs are cast to it. ``k1 + k2`` and ``k1 * k2`` build :class:`Sum`
and :class:`Product`.

>>> import numpy as np
>>> k = SquaredExponential(variance=2.0, lengthscales=[1.0, 2.0], dtype="float64")
>>> np.round(k.matrix(np.array([[0.0, 0.0], [1.0, 2.0]])).numpy(), 4)
array([[2.    , 0.7358],
       [0.7358, 2.    ]])
>>> k.diag(np.zeros((3, 2))).numpy()
array([2., 2., 2.])
"""

import math

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.dtypes import FullPrecision
from kerasprob.math import kernels as kmath
from kerasprob.math.positive import TRANSFORMS, inverse_positive, positive
from kerasprob.serialization import deserialize, register, serialize
from kerasprob.validation import check_choice, check_positive_float, check_positive_int

__all__ = [
    "KERNELS",
    "Kernel",
    "Linear",
    "Matern12",
    "Matern32",
    "Matern52",
    "Periodic",
    "Product",
    "RationalQuadratic",
    "SquaredExponential",
    "Stationary",
    "Sum",
    "get",
    "in_dtype",
]


def _positive_values(name, value, floor):
    """A positive float or a list of them, each > floor; returned as float or list."""
    if isinstance(value, (list, tuple, np.ndarray)):
        values = [check_positive_float(f"{name}[{i}]", v) for i, v in enumerate(list(value))]
        if not values:
            raise ValueError(f"{name} must be a positive float or a non-empty list of them. "
                             f"Received: {name}={value!r}")
        result = values
    else:
        result = check_positive_float(name, value)
        values = [result]
    if min(values) <= floor:
        raise ValueError(f"{name} must be greater than floor={floor}. Received: {name}={value!r}")
    return result


class Kernel(FullPrecision, tf_keras.layers.Layer):
    """Base class of kernel layers: :meth:`matrix` and :meth:`diag` (see the module docstring).

    Args:
      floor: the lower bound of every positive hyperparameter (softplus + floor).
      fixed: names of hyperparameters held at their initial values (not trained; e.g.
        ``fixed=("period",)``, scikit-learn's ``"fixed"`` bounds, GPflow's
        ``set_trainable(..., False)``).
      active_dims: the input features the kernel reads (indices into the last axis of
        ``x``; None: all). ``k(x, x') = k(x[..., active_dims], x'[..., active_dims])``, so a
        sum of kernels on different features is an additive model.
      positive: how a hyperparameter is stored: ``"softplus"`` (``theta = softplus(raw) +
        floor``, GPflow's default) or ``"exp"`` (``theta = exp(raw) + floor``, a log scale:
        Adam moves a variance of 2500 as easily as one of 1, and a lengthscale that grows
        grows faster).
    """

    def __init__(self, floor=1e-6, fixed=(), active_dims=None, positive="softplus", **kwargs):
        super().__init__(**kwargs)
        self.floor = check_positive_float("floor", floor)
        self.positive = check_choice("positive", positive, TRANSFORMS)
        if isinstance(fixed, str) or not all(isinstance(f, str) for f in fixed):
            raise TypeError(f"fixed must be a list of hyperparameter names. Received: "
                            f"fixed={fixed!r}")
        self.fixed = tuple(fixed)
        if active_dims is not None:
            active_dims = list(active_dims)
            if not active_dims or not all(
                    isinstance(i, (int, np.integer)) and not isinstance(i, bool) and i >= 0
                    for i in active_dims):
                raise ValueError(f"active_dims must be a non-empty list of feature indices "
                                 f"(integers >= 0). Received: active_dims={active_dims!r}")
            active_dims = [int(i) for i in active_dims]
        self.active_dims = active_dims
        self._hyperparameters = []

    def build(self, input_shape=None):
        unknown = sorted(set(self.fixed) - set(self._hyperparameters))
        if unknown:
            raise ValueError(
                f"fixed must name hyperparameters of {type(self).__name__} "
                f"({sorted(self._hyperparameters)}). Received: fixed={list(self.fixed)!r}")
        super().build(input_shape)

    def _positive(self, name, value):
        """A weight ``raw`` with ``t(raw) + floor = value`` (scalar or ``[D]``; ``t`` the
        ``positive`` transform), trained unless ``name`` is in ``fixed``."""
        array = np.asarray(value, dtype=np.float64)
        self._hyperparameters.append(name)
        return self.add_weight(
            name=f"raw_{name}", shape=array.shape, dtype=self.dtype,
            initializer=tf_keras.initializers.Constant(
                inverse_positive(array, self.floor, self.positive)),
            trainable=name not in self.fixed,
        )

    def _constrained(self, raw):
        return positive(raw, self.floor, self.positive)

    def _cast(self, x):
        x = tf.cast(x, self.dtype)
        if self.active_dims is not None:
            x = tf.gather(x, self.active_dims, axis=-1)
        return x

    def ensure_built(self):
        if not self.built:
            self.build(None)

    def matrix(self, x, y=None):
        """``K(x, y)``: ``[..., n, m]`` for ``x`` ``[..., n, D]``, ``y`` ``[..., m, D]``."""
        self.ensure_built()
        x = self._cast(x)
        return self._matrix(x, None if y is None else self._cast(y))

    def diag(self, x):
        """``k(x_i, x_i)``: ``[..., n]`` for ``x`` ``[..., n, D]``."""
        self.ensure_built()
        return self._diag(self._cast(x))

    def _matrix(self, x, y):
        raise NotImplementedError

    def _diag(self, x):
        raise NotImplementedError

    def call(self, inputs):
        return self.matrix(inputs)

    def __add__(self, other):
        return Sum([self, other])

    def __mul__(self, other):
        return Product([self, other])

    def get_config(self):
        return {**super().get_config(), "floor": self.floor, "fixed": list(self.fixed),
                "active_dims": self.active_dims, "positive": self.positive}


class Stationary(Kernel):
    """A kernel of the scaled distance ``r``: variance ``s^2`` and lengthscales ``l``.

    Args:
      variance: initial ``s^2`` (positive float).
      lengthscales: initial ``l``: a positive float (one shared lengthscale, or broadcast to
        ``[input_dim]`` when ``input_dim`` is given: ARD), or a list of ``D`` floats (ARD).
      input_dim: ``D``, the number of input features (None: from ``lengthscales``).
      floor: as in :class:`Kernel`.
    """

    def __init__(self, variance=1.0, lengthscales=1.0, input_dim=None, floor=1e-6, **kwargs):
        super().__init__(floor=floor, **kwargs)
        self.variance_init = _positive_values("variance", variance, self.floor)
        if isinstance(self.variance_init, list):
            raise ValueError(f"variance must be a positive float. Received: variance={variance!r}")
        self.lengthscales_init = _positive_values("lengthscales", lengthscales, self.floor)
        self.input_dim = check_positive_int("input_dim", input_dim, allow_none=True)
        if isinstance(self.lengthscales_init, list) and self.input_dim is not None and len(
                self.lengthscales_init) != self.input_dim:
            raise ValueError(
                f"lengthscales must have input_dim={self.input_dim} entries. Received: "
                f"lengthscales={lengthscales!r}")
        self.build(None)

    def build(self, input_shape=None):
        if self.built:
            return
        ls = self.lengthscales_init
        if not isinstance(ls, list) and self.input_dim is not None:
            ls = [ls] * self.input_dim
        self.raw_variance = self._positive("variance", self.variance_init)
        self.raw_lengthscales = self._positive("lengthscales", ls)
        super().build(input_shape)

    @property
    def variance(self):
        """``s^2``, a scalar tensor."""
        return self._constrained(self.raw_variance)

    @property
    def lengthscales(self):
        """``l``, scalar or ``[D]``."""
        return self._constrained(self.raw_lengthscales)

    def _diag(self, x):
        return kmath.stationary_diag(x, self.variance)

    def get_config(self):
        return {**super().get_config(), "variance": self.variance_init,
                "lengthscales": self.lengthscales_init, "input_dim": self.input_dim}


@register
class SquaredExponential(Stationary):
    """Squared exponential (RBF) kernel with ARD lengthscales:
    ``k(x, x') = s^2 exp(-sum_d (x_d - x'_d)^2 / (2 l_d^2))`` (GPML eq. 4.9).

    Args: as :class:`Stationary`.
    """

    def _matrix(self, x, y):
        return kmath.squared_exponential(x, y, self.variance, self.lengthscales)


@register
class Matern12(Stationary):
    """Matern 1/2 (exponential, Ornstein-Uhlenbeck) kernel: ``k = s^2 exp(-r)``, ``r`` the
    lengthscale-scaled distance (GPML eq. 4.14, nu = 1/2). Args: as :class:`Stationary`."""

    def _matrix(self, x, y):
        return kmath.matern12(x, y, self.variance, self.lengthscales)


@register
class Matern32(Stationary):
    """Matern 3/2 kernel: ``k = s^2 (1 + sqrt(3) r) exp(-sqrt(3) r)`` (GPML eq. 4.17).
    Args: as :class:`Stationary`."""

    def _matrix(self, x, y):
        return kmath.matern32(x, y, self.variance, self.lengthscales)


@register
class Matern52(Stationary):
    """Matern 5/2 kernel: ``k = s^2 (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r)`` (GPML
    eq. 4.17). Args: as :class:`Stationary`."""

    def _matrix(self, x, y):
        return kmath.matern52(x, y, self.variance, self.lengthscales)


@register
class RationalQuadratic(Stationary):
    """Rational quadratic kernel: ``k = s^2 (1 + r^2 / (2 alpha))^(-alpha)`` (GPML eq. 4.19).

    Args:
      alpha: initial shape ``alpha`` > 0 (trained like the others; large alpha -> RBF).
      variance, lengthscales, input_dim, floor: as :class:`Stationary`.
    """

    def __init__(self, variance=1.0, lengthscales=1.0, alpha=1.0, input_dim=None, floor=1e-6,
                 **kwargs):
        self.alpha_init = check_positive_float("alpha", alpha)
        super().__init__(variance=variance, lengthscales=lengthscales, input_dim=input_dim,
                         floor=floor, **kwargs)

    def build(self, input_shape=None):
        if self.built:
            return
        self.raw_alpha = self._positive("alpha", self.alpha_init)
        super().build(input_shape)

    @property
    def alpha(self):
        return self._constrained(self.raw_alpha)

    def _matrix(self, x, y):
        return kmath.rational_quadratic(x, y, self.variance, self.lengthscales, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha_init}


@register
class Periodic(Stationary):
    """Periodic (exp-sine-squared) kernel, a product over the features of 1-D periodic kernels:
    ``k = s^2 exp(-2 sum_d sin^2(pi (x_d - x'_d) / p_d) / l_d^2)`` (MacKay 1998; GPML eq. 4.31;
    GPflow's ``Periodic(SquaredExponential)`` with ``l`` halved).

    Args:
      period: initial period ``p``: a float (shared) or ``D`` floats (trained, positive).
      variance, lengthscales, input_dim, floor: as :class:`Stationary`.
    """

    def __init__(self, variance=1.0, lengthscales=1.0, period=1.0, input_dim=None, floor=1e-6,
                 **kwargs):
        self.period_init = _positive_values("period", period, 0.0)
        super().__init__(variance=variance, lengthscales=lengthscales, input_dim=input_dim,
                         floor=floor, **kwargs)
        if isinstance(self.period_init, list) and self.input_dim is not None and len(
                self.period_init) != self.input_dim:
            raise ValueError(f"period must have input_dim={self.input_dim} entries. "
                             f"Received: period={period!r}")

    def build(self, input_shape=None):
        if self.built:
            return
        period = self.period_init
        if not isinstance(period, list) and self.input_dim is not None:
            period = [period] * self.input_dim
        self.raw_period = self._positive("period", period)
        super().build(input_shape)

    @property
    def period(self):
        return self._constrained(self.raw_period)

    def _matrix(self, x, y):
        return kmath.periodic(x, y, self.variance, self.lengthscales, self.period)

    def get_config(self):
        return {**super().get_config(), "period": self.period_init}


@register
class Linear(Kernel):
    """Linear kernel ``k(x, x') = sum_d s^2_d x_d x'_d`` (Bayesian linear regression through
    the origin, weight variances ``s^2``; GPML section 4.2.2).

    Args:
      variance: initial ``s^2``: a float (shared, or ``[input_dim]`` if given) or ``D`` floats.
      input_dim: ``D`` (None: from ``variance``).
      floor: as in :class:`Kernel`.
    """

    def __init__(self, variance=1.0, input_dim=None, floor=1e-6, **kwargs):
        super().__init__(floor=floor, **kwargs)
        self.variance_init = _positive_values("variance", variance, self.floor)
        self.input_dim = check_positive_int("input_dim", input_dim, allow_none=True)
        if isinstance(self.variance_init, list) and self.input_dim is not None and len(
                self.variance_init) != self.input_dim:
            raise ValueError(f"variance must have input_dim={self.input_dim} entries. "
                             f"Received: variance={variance!r}")
        self.build(None)

    def build(self, input_shape=None):
        if self.built:
            return
        v = self.variance_init
        if not isinstance(v, list) and self.input_dim is not None:
            v = [v] * self.input_dim
        self.raw_variance = self._positive("variance", v)
        super().build(input_shape)

    @property
    def variance(self):
        return self._constrained(self.raw_variance)

    def _matrix(self, x, y):
        return kmath.linear(x, y, self.variance)

    def _diag(self, x):
        return kmath.linear_diag(x, self.variance)

    def get_config(self):
        return {**super().get_config(), "variance": self.variance_init,
                "input_dim": self.input_dim}


class _Combination(Kernel):
    _reduce = None

    def __init__(self, kernels, **kwargs):
        kwargs.pop("floor", None)
        kwargs.pop("positive", None)
        if "dtype" not in kwargs and isinstance(kernels, (list, tuple)) and kernels and (
                isinstance(kernels[0], Kernel)):
            kwargs["dtype"] = kernels[0].network_policy  # k1 + k2 computes as k1 does
        super().__init__(**kwargs)
        if not isinstance(kernels, (list, tuple)) or len(kernels) < 2:
            raise ValueError(f"kernels must be a list of at least two kernels. Received: "
                             f"kernels={kernels!r}")
        parts = []
        kernels = [deserialize(k) for k in kernels]
        for i, k in enumerate(kernels):
            if not isinstance(k, Kernel):
                raise TypeError(f"kernels[{i}] must be a kerasprob kernel layer. Received: "
                                f"kernels[{i}]={k!r}")
            if k.dtype != self.dtype:
                raise ValueError(f"kernels must all compute in {self.dtype}. Received: "
                                 f"kernels[{i}] with dtype {k.dtype}")
            # a Sum of Sums is flattened: k1 + k2 + k3 is one Sum of three
            flat = type(k) is type(self) and k.active_dims is None
            parts.extend(k.kernels if flat else [k])
        self.kernels = parts

    def build(self, input_shape=None):
        for k in self.kernels:
            k.ensure_built()
        super().build(input_shape)

    def _matrix(self, x, y):
        return type(self)._reduce([k.matrix(x, y) for k in self.kernels])

    def _diag(self, x):
        return type(self)._reduce([k.diag(x) for k in self.kernels])

    def get_config(self):
        config = super().get_config()
        config.pop("floor")
        config.pop("positive")  # the parts store their own hyperparameters
        return {**config, "kernels": [serialize(k) for k in self.kernels]}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["kernels"] = [deserialize(k) for k in config["kernels"]]
        return cls(**config)


@register
class Sum(_Combination):
    """``k(x, x') = sum_i k_i(x, x')`` (an additive GP: f = sum of independent GPs).

    Args:
      kernels: two or more kernel layers (their weights train with this one).
    """

    _reduce = staticmethod(tf.add_n)


@register
class Product(_Combination):
    """``k(x, x') = prod_i k_i(x, x')`` (products of kernels are kernels, GPML section 4.2.4).

    Args:
      kernels: two or more kernel layers.
    """

    _reduce = staticmethod(math.prod)


KERNELS = {
    "rbf": SquaredExponential,
    "squared_exponential": SquaredExponential,
    "matern12": Matern12,
    "matern32": Matern32,
    "matern52": Matern52,
    "rational_quadratic": RationalQuadratic,
    "periodic": Periodic,
    "linear": Linear,
}


def in_dtype(config, dtype):
    """A serialized kernel (a dict, nested parts included) with every part's dtype set to
    ``dtype``: how a model in float64 takes a kernel written without ``dtype=...``."""
    if isinstance(config, list):
        return [in_dtype(c, dtype) for c in config]
    if not isinstance(config, dict):
        return config
    result = {key: in_dtype(value, dtype) for key, value in config.items()}
    inner = result.get("config")
    if "class_name" in result and isinstance(inner, dict) and "dtype" in inner:
        result["config"] = {**inner, "dtype": dtype}
    return result


def get(kernel, dtype=None, **kwargs):
    """A kernel layer from a name of :data:`KERNELS` (built with ``kwargs``, e.g.
    ``get("rbf", input_dim=4)`` for ARD lengthscales), a serialized kernel (every part made
    in ``dtype`` when given), or a kernel layer (returned as it is)."""
    if isinstance(kernel, Kernel):
        return kernel
    if isinstance(kernel, dict):
        return deserialize(kernel if dtype is None else in_dtype(kernel, dtype))
    if dtype is not None:
        kwargs["dtype"] = dtype
    if not isinstance(kernel, str) or kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {sorted(KERNELS)} or a kernel layer. "
                         f"Received: kernel={kernel!r}")
    return KERNELS[kernel](**kwargs)



