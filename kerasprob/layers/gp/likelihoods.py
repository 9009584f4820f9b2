"""Likelihood layers ``p(y | f)`` for GPs: the expected log-likelihood under ``q(f)`` and the
predictive ``p(y* | x*) = int p(y* | f) q(f) df``.

Every likelihood takes the marginals of ``q(f)``, ``mean`` and ``var`` ``[batch, L]`` (L latent
GPs; L = C for :class:`Softmax`), and gives

* ``expected_log_likelihood(y, mean, var)``: ``sum_l E_{q(f)}[log p(y | f)]``, ``[batch]``
  (closed form where one exists, else Gauss-Hermite; ``method="monte_carlo"`` on request);
* ``predictive(mean, var)``: the mean and variance of ``y*``, two ``[batch, L]`` tensors
  (``[batch, C]`` class probabilities and their variances for :class:`Softmax`);
* ``predictive_log_density(y, mean, var)``: ``log p(y* | x*)`` summed over L, ``[batch]``;
* ``log_prob(y, f)``: ``log p(y | f)`` elementwise.

Calling the layer on ``[mean, var]`` returns ``predictive(mean, var)`` stacked on a last axis
(``[batch, L, 2]``). Likelihoods compute in at least float32 (the policy's variable dtype).

>>> import numpy as np
>>> lik = Gaussian(variance=0.5, dtype="float64")
>>> y, mu, var = np.array([[1.0]]), np.array([[0.5]]), np.array([[0.2]])
>>> float(np.round(lik.expected_log_likelihood(y, mu, var)[0], 6))  # -log(2 pi 0.5)/2 - 0.45/1
-1.022365

References:
  Hensman, J., Matthews, A. & Ghahramani, Z. (2015). Scalable variational Gaussian process
  classification. AISTATS.
  Rasmussen & Williams (2006), GPML, section 3.9 (probit predictive), chapter 9.
"""

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from kerasprob.dtypes import FullPrecision
from kerasprob.math import quadrature
from kerasprob.math.positive import TRANSFORMS, inverse_positive, positive
from kerasprob.math.random import normal
from kerasprob.serialization import register
from kerasprob.validation import check_choice, check_positive_float, check_positive_int

__all__ = [
    "Bernoulli",
    "Gaussian",
    "Likelihood",
    "Poisson",
    "Softmax",
    "StudentT",
]

METHODS = ("auto", "quadrature", "monte_carlo")


class Likelihood(FullPrecision, tf_keras.layers.Layer):
    """Base class (see the module docstring).

    Args:
      method: how ``expected_log_likelihood`` integrates: ``"auto"`` (closed form where one
        exists, else Gauss-Hermite), ``"quadrature"`` or ``"monte_carlo"``.
      num_quadrature_points: Gauss-Hermite nodes.
      num_samples: Monte Carlo draws (``"monte_carlo"``, and :class:`Softmax` always).
      positive: how a positive parameter (a noise variance, a scale) is stored:
        ``"softplus"`` (``theta = softplus(raw) + floor``) or ``"exp"`` (a log scale).
    """

    closed_form = False

    def __init__(self, method="auto", num_quadrature_points=50, num_samples=100,
                 positive="softplus", **kwargs):
        super().__init__(**kwargs)
        self.positive = check_choice("positive", positive, TRANSFORMS)
        self.method = check_choice("method", method, METHODS)
        self.num_quadrature_points = check_positive_int("num_quadrature_points",
                                                        num_quadrature_points)
        self.num_samples = check_positive_int("num_samples", num_samples)

    def _cast(self, *tensors):
        return [tf.cast(t, self.dtype) for t in tensors]

    def ensure_built(self):
        if not self.built:
            self.build(None)

    # -- per-likelihood math -------------------------------------------------------------
    def log_prob(self, y, f):
        """``log p(y | f)``, elementwise (broadcasting)."""
        raise NotImplementedError

    def _closed_form_ell(self, y, mean, var):
        raise NotImplementedError

    def _moments(self, mean, var):
        """``(E[y*], Var[y*])`` ``[batch, L]``: by quadrature unless overridden."""
        e_mean = quadrature.gauss_hermite_expectation(
            self._conditional_mean, mean, var, self.num_quadrature_points)
        e_second = quadrature.gauss_hermite_expectation(
            lambda f: self._conditional_variance(f) + tf.square(self._conditional_mean(f)),
            mean, var, self.num_quadrature_points)
        return e_mean, e_second - tf.square(e_mean)

    def _conditional_mean(self, f):
        raise NotImplementedError

    def _conditional_variance(self, f):
        raise NotImplementedError

    # -- public API ------------------------------------------------------------------------
    def expected_log_likelihood(self, y, mean, var, method=None, seed=None):
        """``sum_l E_{N(f; mean, var)}[log p(y_l | f)]``: ``[batch]``.

        Args:
          y: ``[batch, L]`` observations.
          mean, var: ``[batch, L]``, the marginals of ``q(f)``.
          method: overrides the constructor's ``method`` for this call.
          seed: for ``"monte_carlo"``: None or a stateless seed (:mod:`kerasprob.math.random`).
        """
        self.ensure_built()
        y, mean, var = self._cast(y, mean, var)
        method = self.method if method is None else check_choice("method", method, METHODS)
        if method == "auto" and self.closed_form:
            values = self._closed_form_ell(y, mean, var)
        elif method == "monte_carlo":
            values = quadrature.monte_carlo_expectation(
                lambda f: self.log_prob(y[tf.newaxis], f), mean, var, self.num_samples, seed)
        else:
            values = quadrature.gauss_hermite_expectation(
                lambda f: self.log_prob(y[tf.newaxis], f), mean, var, self.num_quadrature_points)
        return tf.reduce_sum(values, axis=-1)

    def predictive(self, mean, var):
        """Mean and variance of ``y* ~ int p(y* | f) N(f; mean, var) df``: two ``[batch, L]``."""
        self.ensure_built()
        mean, var = self._cast(mean, var)
        return self._moments(mean, var)

    def predictive_log_density(self, y, mean, var):
        """``sum_l log int p(y_l | f) N(f; mean, var) df``: ``[batch]``."""
        self.ensure_built()
        y, mean, var = self._cast(y, mean, var)
        return tf.reduce_sum(self._log_density(y, mean, var), axis=-1)

    def _log_density(self, y, mean, var):
        return quadrature.gauss_hermite_log_expectation(
            lambda f: self.log_prob(y[tf.newaxis], f), mean, var, self.num_quadrature_points)

    def call(self, inputs):
        mean, var = inputs
        return tf.stack(self.predictive(mean, var), axis=-1)

    def _positive_weight(self, name, value):
        """A scalar weight ``raw_<name>`` with ``t(raw) + floor = value``."""
        return self.add_weight(
            name=f"raw_{name}", shape=(), dtype=self.dtype,
            initializer=tf_keras.initializers.Constant(
                inverse_positive(value, self.floor, self.positive)))

    def _constrained(self, raw):
        return positive(raw, self.floor, self.positive)

    def get_config(self):
        return {**super().get_config(), "method": self.method,
                "num_quadrature_points": self.num_quadrature_points,
                "num_samples": self.num_samples, "positive": self.positive}


@register
class Gaussian(Likelihood):
    """``p(y | f) = N(y; f, sigma^2)`` with a learnable noise variance ``sigma^2``.

    ``E[log p] = -log(2 pi sigma^2) / 2 - ((y - mu)^2 + var) / (2 sigma^2)`` (closed form);
    predictive ``N(mu, var + sigma^2)``.

    Args:
      variance: initial ``sigma^2`` (> ``floor``).
      floor: lower bound of ``sigma^2 = t(raw) + floor`` (``t`` the ``positive`` transform).
      method, num_quadrature_points, num_samples: as :class:`Likelihood`.
    """

    closed_form = True

    def __init__(self, variance=1.0, floor=1e-6, method="auto", num_quadrature_points=50,
                 num_samples=100, **kwargs):
        super().__init__(method=method, num_quadrature_points=num_quadrature_points,
                         num_samples=num_samples, **kwargs)
        self.floor = check_positive_float("floor", floor)
        self.variance_init = check_positive_float("variance", variance)
        if self.variance_init <= self.floor:
            raise ValueError(f"variance must be greater than floor={self.floor}. Received: "
                             f"variance={variance!r}")
        self.build(None)

    def build(self, input_shape=None):
        if self.built:
            return
        self.raw_variance = self._positive_weight("variance", self.variance_init)
        super().build(input_shape)

    @property
    def variance(self):
        """The noise variance ``sigma^2``, a scalar tensor."""
        return self._constrained(self.raw_variance)

    def log_prob(self, y, f):
        v = self.variance
        return -0.5 * (math.log(2.0 * math.pi) + tf.math.log(v) + tf.square(y - f) / v)

    def _closed_form_ell(self, y, mean, var):
        v = self.variance
        return -0.5 * (math.log(2.0 * math.pi) + tf.math.log(v)
                       + (tf.square(y - mean) + var) / v)

    def _moments(self, mean, var):
        return mean, var + self.variance

    def _log_density(self, y, mean, var):
        total = var + self.variance
        return -0.5 * (math.log(2.0 * math.pi) + tf.math.log(total) + tf.square(y - mean) / total)

    def get_config(self):
        return {**super().get_config(), "variance": self.variance_init, "floor": self.floor}


@register
class Bernoulli(Likelihood):
    """``p(y = 1 | f) = sigma(f)`` (``link="logit"``) or ``Phi(f)`` (``link="probit"``), ``y``
    in {0, 1}.

    Probit has closed forms: ``p(y* = 1) = Phi(mu / sqrt(1 + var))`` (GPML eq. 3.82); the
    expected log-likelihood is by Gauss-Hermite for both links.

    Args:
      link: ``"logit"`` or ``"probit"``.
      method, num_quadrature_points, num_samples: as :class:`Likelihood`.
    """

    def __init__(self, link="logit", method="auto", num_quadrature_points=50, num_samples=100,
                 **kwargs):
        super().__init__(method=method, num_quadrature_points=num_quadrature_points,
                         num_samples=num_samples, **kwargs)
        self.link = check_choice("link", link, ("logit", "probit"))

    def _log_p1(self, f):
        """``(log p(y=1|f), log p(y=0|f))``."""
        if self.link == "logit":
            return tf.math.log_sigmoid(f), tf.math.log_sigmoid(-f)
        return _log_ndtr(f), _log_ndtr(-f)

    def log_prob(self, y, f):
        log1, log0 = self._log_p1(f)
        return tf.where(y > 0.5, log1, log0)

    def _prob(self, mean, var):
        if self.link == "probit":
            return _ndtr(mean / tf.sqrt(1.0 + var))
        return quadrature.gauss_hermite_expectation(tf.sigmoid, mean, var,
                                                    self.num_quadrature_points)

    def _moments(self, mean, var):
        p = self._prob(mean, var)
        return p, p * (1.0 - p)

    def _log_density(self, y, mean, var):
        if self.link == "probit":
            z = mean / tf.sqrt(1.0 + var)
            return tf.where(y > 0.5, _log_ndtr(z), _log_ndtr(-z))
        return super()._log_density(y, mean, var)

    def get_config(self):
        return {**super().get_config(), "link": self.link}


@register
class Poisson(Likelihood):
    """``p(y | f) = Poisson(y; exp(f))``, ``y`` a count (0, 1, 2, ...).

    Closed forms: ``E[log p] = y mu - exp(mu + var / 2) - log y!``; ``E[y*] = exp(mu + var/2)``,
    ``Var[y*] = E[y*] + (exp(var) - 1) exp(2 mu + var)``.

    Args: as :class:`Likelihood`.
    """

    closed_form = True

    def log_prob(self, y, f):
        return y * f - tf.exp(f) - tf.math.lgamma(y + 1.0)

    def _closed_form_ell(self, y, mean, var):
        return y * mean - tf.exp(mean + 0.5 * var) - tf.math.lgamma(y + 1.0)

    def _moments(self, mean, var):
        rate = tf.exp(mean + 0.5 * var)
        return rate, rate + tf.math.expm1(var) * tf.exp(2.0 * mean + var)


@register
class StudentT(Likelihood):
    """``p(y | f) = StudentT(y; df, loc=f, scale)`` with a learnable ``scale`` (robust
    regression). Expected log-likelihood and predictive log density by Gauss-Hermite;
    ``E[y*] = mu``, ``Var[y*] = var + scale^2 df / (df - 2)`` (inf for ``df <= 2``).

    Args:
      df: degrees of freedom (fixed, > 0).
      scale: initial scale (> ``floor``), ``scale = t(raw) + floor``.
      floor, method, num_quadrature_points, num_samples: as :class:`Gaussian`.
    """

    def __init__(self, df=3.0, scale=1.0, floor=1e-6, method="auto", num_quadrature_points=50,
                 num_samples=100, **kwargs):
        super().__init__(method=method, num_quadrature_points=num_quadrature_points,
                         num_samples=num_samples, **kwargs)
        self.df = check_positive_float("df", df)
        self.floor = check_positive_float("floor", floor)
        self.scale_init = check_positive_float("scale", scale)
        if self.scale_init <= self.floor:
            raise ValueError(f"scale must be greater than floor={self.floor}. Received: "
                             f"scale={scale!r}")
        self.build(None)

    def build(self, input_shape=None):
        if self.built:
            return
        self.raw_scale = self._positive_weight("scale", self.scale_init)
        super().build(input_shape)

    @property
    def scale(self):
        return self._constrained(self.raw_scale)

    def log_prob(self, y, f):
        df = tf.cast(self.df, self.dtype)
        s = self.scale
        z = (y - f) / s
        return (tf.math.lgamma(0.5 * (df + 1.0)) - tf.math.lgamma(0.5 * df)
                - 0.5 * tf.math.log(df * math.pi) - tf.math.log(s)
                - 0.5 * (df + 1.0) * tf.math.log1p(tf.square(z) / df))

    def _moments(self, mean, var):
        if self.df > 2.0:
            noise = tf.square(self.scale) * self.df / (self.df - 2.0)
        else:
            noise = tf.constant(np.inf, self.dtype)
        return mean, var + noise

    def get_config(self):
        return {**super().get_config(), "df": self.df, "scale": self.scale_init,
                "floor": self.floor}


@register
class Softmax(Likelihood):
    """Multi-class ``p(y = c | f) = softmax(f)_c`` over C latent GPs (``mean``, ``var``
    ``[batch, C]``); ``y`` ``[batch]`` or ``[batch, 1]`` class indices in ``0 .. C-1``.

    No 1-D quadrature applies (the classes couple the latents), so the expected
    log-likelihood, ``p(y*)`` and ``log p(y*)`` are Monte Carlo over ``num_samples`` draws
    of ``f ~ N(mean, diag(var))`` (as GPflow's ``Softmax``); ``method`` must be ``"auto"`` or
    ``"monte_carlo"``. ``predictive`` returns the class probabilities ``[batch, C]`` and
    their Bernoulli variances ``p (1 - p)``.

    Args:
      num_classes: C.
      num_samples: Monte Carlo draws.
      seed: None (fresh draws) or an int: the stateless seed of the draws (repeatable).
    """

    def __init__(self, num_classes, num_samples=100, seed=None, method="auto",
                 num_quadrature_points=50, **kwargs):
        if method == "quadrature":
            raise ValueError("Softmax has no Gauss-Hermite form; method must be 'auto' or "
                             f"'monte_carlo'. Received: method={method!r}")
        super().__init__(method=method, num_quadrature_points=num_quadrature_points,
                         num_samples=num_samples, **kwargs)
        self.num_classes = check_positive_int("num_classes", num_classes)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be None or an int. Received: seed={seed!r}")
        self.seed = seed

    def _labels(self, y):
        y = tf.convert_to_tensor(y)
        if y.shape.rank is not None and y.shape.rank == 2:
            y = y[:, 0]
        return tf.cast(y, tf.int32)

    def _draws(self, mean, var, seed):
        seed = self.seed if seed is None else seed
        shape = tf.concat([[self.num_samples], tf.shape(mean)], 0)
        eps = normal(shape, seed, dtype=mean.dtype)
        return mean[tf.newaxis] + tf.sqrt(var)[tf.newaxis] * eps  # [S, batch, C]

    def log_prob(self, y, f):
        """``log softmax(f)_y``: ``f`` ``[..., batch, C]``, ``y`` ``[batch]`` -> ``[..., batch]``.
        """
        labels = self._labels(y)
        logp = tf.nn.log_softmax(f, axis=-1)
        return tf.reduce_sum(logp * tf.one_hot(labels, self.num_classes, dtype=f.dtype), -1)

    def expected_log_likelihood(self, y, mean, var, method=None, seed=None):
        """``E_{q(f)}[log softmax(f)_y]`` by Monte Carlo: ``[batch]``."""
        mean, var = self._cast(mean, var)
        return tf.reduce_mean(self.log_prob(y, self._draws(mean, var, seed)), axis=0)

    def predictive(self, mean, var, seed=None):
        mean, var = self._cast(mean, var)
        p = tf.reduce_mean(tf.nn.softmax(self._draws(mean, var, seed), axis=-1), axis=0)
        return p, p * (1.0 - p)

    def predictive_log_density(self, y, mean, var, seed=None):
        mean, var = self._cast(mean, var)
        values = self.log_prob(y, self._draws(mean, var, seed))  # [S, batch]
        return tf.reduce_logsumexp(values, axis=0) - math.log(self.num_samples)

    def get_config(self):
        config = super().get_config()
        return {**config, "num_classes": self.num_classes, "seed": self.seed}


def _ndtr(x):
    return 0.5 * tf.math.erfc(-x / math.sqrt(2.0))


def _log_ndtr(x):
    """``log Phi(x)``, accurate far in the lower tail (TFP's asymptotic series)."""
    zero = tf.zeros([], x.dtype)
    return tfp.distributions.Normal(zero, zero + 1.0).log_cdf(x)
