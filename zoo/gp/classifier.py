"""``zoo.SVGPClassifier``: sparse variational GP classification, binary or multi-class.

Two classes: one latent GP and a Bernoulli likelihood (logit or probit link), the expected
log-likelihood by Gauss-Hermite quadrature. ``C > 2`` classes: ``C`` independent latent GPs
sharing the kernel and inducing inputs, and a softmax likelihood (Monte Carlo). The loss is
the negative ELBO per example, as in :class:`zoo.SVGPRegressor`.

>>> import numpy as np, zoo
>>> x = np.linspace(-2.0, 2.0, 40)[:, None]
>>> labels = (x[:, 0] > 0).astype(int)
>>> clf = zoo.SVGPClassifier(num_inducing=6)
>>> history = clf.fit(x, labels, epochs=2, batch_size=20, verbose=0)
>>> clf.predict_proba(x[:2]).shape
(2, 2)
"""

import numpy as np
import tensorflow as tf

from kerasprob.layers.gp import Bernoulli, Softmax
from kerasprob.math.random import stateless_seed
from kerasprob.tuning import Choice, Float, Int
from kerasprob.validation import (
    check_bool,
    check_choice,
    check_int_at_least,
    check_labels,
    check_positive_int,
)
from zoo.gp._base import PREDICT_BATCH, GaussianProcessModel
from zoo.registry import register

MEAN_FUNCTIONS = ("zero", "constant")


@register
class SVGPClassifier(GaussianProcessModel):
    """Sparse variational GP classifier (Hensman, Matthews & Ghahramani 2015).

    ``p(y = 1 | f) = sigma(f)`` (or ``Phi(f)``) for two classes; ``p(y = c | f) =
    softmax(f)_c`` over ``C`` latent GPs for more. ``q(u)`` whitened, full covariance.

    Args:
      num_classes: ``C >= 2``; labels are the integers ``0 .. C - 1`` (``None``: one more
        than the largest label of the first ``fit``).
      link: ``"logit"`` or ``"probit"`` (two classes only).
      num_samples: Monte Carlo draws of the softmax likelihood (``C > 2``); predictions and
        ``evaluate`` use draws seeded by ``seed`` (repeatable), training fresh draws.
      mean_function: ``"zero"`` or ``"constant"`` (one learned constant per latent GP).
      q_diag: a diagonal ``S`` instead of a full lower-triangular one.
      (others: see :class:`zoo.gp.GaussianProcessModel`)

    Input: ``x`` ``[batch, D]``. Target: integer labels ``[batch]`` (or ``[batch, 1]``).
    ``predict_proba(x)``: ``[N, C]``; ``predict(x)``: the mean and variance of the one-hot
    ``y*`` (``[N, 1]`` each for two classes: ``p(y* = 1)`` and ``p (1 - p)``; ``[N, C]``
    otherwise).

    References:
      Hensman, J., Matthews, A. & Ghahramani, Z. (2015). Scalable variational Gaussian
      process classification. AISTATS.
    """

    plots = ("history", "confusion")
    search_space = {
        "num_inducing": Int(16, 256, sampling="log"),
        "kernel": Choice(("rbf", "matern32", "matern52")),
        "learning_rate": Float(1e-3, 1e-1, sampling="log"),
    }

    data_arguments = ("input_shape", "num_classes")
    min_classes = 2

    def __init__(self, input_shape=None, num_classes=None, num_inducing=50, kernel="rbf",
                 link="logit", num_samples=100, mean_function="constant", q_diag=False,
                 inducing_init="kmeans", train_inducing=True, seed=0, precision="float64",
                 learning_rate=1e-2, **kwargs):
        super().__init__(input_shape, num_inducing, kernel, inducing_init, train_inducing, seed,
                         precision, learning_rate, **kwargs)
        self.num_classes = (None if num_classes is None
                            else check_int_at_least("num_classes", num_classes, 2))
        self.link = check_choice("link", link, ("logit", "probit"))
        self.num_samples = check_positive_int("num_samples", num_samples)
        self.mean_function = check_choice("mean_function", mean_function, MEAN_FUNCTIONS)
        self.q_diag = check_bool("q_diag", q_diag)
        self._check_link()
        self._finish()

    def _check_data_arguments(self):
        super()._check_data_arguments()
        self._check_link()

    def _check_link(self):
        if self.num_classes is not None and self.num_classes > 2 and self.link != "logit":
            raise ValueError(f"link applies to two classes (more use a softmax). Received: "
                             f"link={self.link!r} with num_classes={self.num_classes}")

    @property
    def binary(self):
        return self.num_classes == 2

    def build_layers(self):
        latents = 1 if self.binary else self.num_classes
        self.gp = self._make_svgp(self.num_features, latents, self.mean_function, "svgp",
                                  q_diag=self.q_diag)
        if self.binary:
            self.likelihood = Bernoulli(link=self.link, dtype=self.precision, name="likelihood")
        else:
            self.likelihood = Softmax(self.num_classes, num_samples=self.num_samples,
                                      dtype=self.precision, name="likelihood")

    def _first_layer(self):
        return self.gp

    # ----------------------------------------------------------------------- data
    def validate_target(self, name, y):
        return check_labels(name, y, self.num_classes).astype(self.precision)[:, None]  # [N, 1]

    # ------------------------------------------------------------------- the math
    def call(self, x, training=None):
        return self._predict_y_batch(tf.cast(x, self.precision))

    def _predict_f_batch(self, x, full_cov=False):
        return self.gp.predict_f(x, full_cov=full_cov)

    def _seed(self):
        return stateless_seed(self.seed, 1)

    def _negative_objective(self, x, y, training=False):
        seed = None if training or self.binary else self._seed()
        return self.gp.negative_elbo(x, y, self.likelihood,
                                     **({} if self.binary else {"seed": seed}))

    def _predict_y_batch(self, x):
        mean, var = self._predict_f_batch(x)
        if self.binary:
            return self.likelihood.predictive(mean, var)  # [b, 1] each
        return self.likelihood.predictive(mean, var, seed=self._seed())  # [b, C] each

    def predict_proba(self, x, batch_size=PREDICT_BATCH):
        """Class probabilities ``p(y* = c | x*)``: ``[N*, C]``."""
        p, _ = self.predict(x, batch_size=batch_size)
        return np.concatenate([1.0 - p, p], axis=1) if self.binary else p

    def predict_class(self, x, batch_size=PREDICT_BATCH):
        """The most probable class: ``[N*]`` integers."""
        return np.argmax(self.predict_proba(x, batch_size), axis=1)

    def predict_log_density(self, x, y, batch_size=PREDICT_BATCH):
        """``log p(y* | x*)`` of the labels ``y``: ``[N*]`` (nats)."""
        self._require_built()
        x, y = self.validate_data(x, y)
        return self._batched(self._log_density_fn, x, y, batch_size=batch_size)

    @tf.function(reduce_retracing=True)
    def _log_density_fn(self, x, y):
        mean, var = self._predict_f_batch(x)
        if self.binary:
            return self.likelihood.predictive_log_density(y, mean, var)
        return self.likelihood.predictive_log_density(y, mean, var, seed=self._seed())

    # ------------------------------------------------------------------- contract
    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x = rng.uniform(-2.0, 2.0, size=(32, 2))
        y = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 0] > 1).astype(int)
        return {"input_shape": (2,), "num_classes": 3, "num_inducing": 6, "num_samples": 20}, x, y
