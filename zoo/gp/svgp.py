"""``zoo.SVGPRegressor``: stochastic variational GP regression, minibatched through ``model.fit``.

An :class:`kerasprob.layers.gp.SVGP` layer and a :class:`kerasprob.layers.gp.Gaussian`
likelihood; the loss is the negative ELBO per example (Hensman et al. 2013),
``-(1/b) sum_batch E_q(f)[log p(y | f)] + KL[q(u) || p(u)] / N``, an unbiased estimate of
``-ELBO / N`` from every minibatch.

>>> import numpy as np, zoo
>>> x = np.linspace(-2.0, 2.0, 64)[:, None]
>>> y = np.sin(2.0 * x[:, 0])
>>> gp = zoo.SVGPRegressor(num_inducing=8, noise_variance=0.1)
>>> history = gp.fit(x, y, epochs=2, batch_size=16, verbose=0)
>>> mean, var = gp.predict(x[:3])
>>> mean.shape, var.shape
((3, 1), (3, 1))
"""

import numpy as np
import tensorflow as tf

from kerasprob.tuning import Choice, Float, Int
from kerasprob.validation import check_bool, check_choice, check_positive_float
from zoo.gp._base import PREDICT_BATCH, GaussianProcessModel
from zoo.gp.regression import RegressionMixin, gaussian_likelihood
from zoo.registry import register

MEAN_FUNCTIONS = ("zero", "constant", "linear")


@register
class SVGPRegressor(RegressionMixin, GaussianProcessModel):
    """Sparse variational GP regression with minibatches (SVGP, Hensman et al. 2013).

    ``y = f(x) + eps``, ``f ~ GP(m, k)``, ``eps ~ N(0, sigma^2)``; ``q(u) = N(q_mu, S S^T)``
    at ``M`` inducing inputs (whitened by default: ``u = L v``, ``p(v) = N(0, I)``). The
    loss Keras logs is the negative ELBO per example (nats), computed from each batch:
    ``-mean_batch(E_q[log N(y; f, sigma^2)]) + KL[q(u) || p(u)] / N`` (``N`` is set from the
    data at ``fit``; the expectation is in closed form).

    Args:
      noise_variance: initial ``sigma^2`` (learned); ``None``: ``var(y) / 10`` at the first
        ``fit`` (1 before it).
      mean_function: ``"zero"``, ``"constant"`` or ``"linear"`` (learned).
      whiten: parameterize ``q(v)``, ``v = L^{-1} u`` (default), or ``q(u)``.
      q_diag: a diagonal ``S`` instead of a full lower-triangular one.
      (others: see :class:`zoo.gp.GaussianProcessModel`)

    Input: ``x`` ``[batch, D]``. Target: ``y`` ``[batch]`` or ``[batch, 1]``.
    ``predict(x)``: ``(mean [N, 1], variance [N, 1])`` of ``y*``; ``predict_f`` the latent.

    References:
      Hensman, J., Fusi, N. & Lawrence, N. (2013). Gaussian processes for big data. UAI.
      Tiao, L. C. (2020). A Handbook for Sparse Variational Gaussian Processes. tiao.io.
    """

    search_space = {
        "num_inducing": Int(16, 256, sampling="log"),
        "kernel": Choice(("rbf", "matern32", "matern52")),
        "learning_rate": Float(1e-3, 1e-1, sampling="log"),
    }

    def __init__(self, input_shape=None, num_inducing=50, kernel="rbf", noise_variance=None,
                 mean_function="constant", whiten=True, q_diag=False, inducing_init="kmeans",
                 train_inducing=True, seed=0, precision="float64", learning_rate=1e-2,
                 **kwargs):
        super().__init__(input_shape, num_inducing, kernel, inducing_init, train_inducing, seed,
                         precision, learning_rate, **kwargs)
        self.noise_variance = (None if noise_variance is None
                               else check_positive_float("noise_variance", noise_variance))
        self.mean_function = check_choice("mean_function", mean_function, MEAN_FUNCTIONS)
        self.whiten = check_bool("whiten", whiten)
        self.q_diag = check_bool("q_diag", q_diag)
        self._finish()

    def build_layers(self):
        self.gp = self._make_svgp(self.num_features, 1, self.mean_function, "svgp",
                                  whiten=self.whiten, q_diag=self.q_diag)
        self.likelihood = gaussian_likelihood(self.noise_variance, self.precision,
                                              self.positive)

    def _first_layer(self):
        return self.gp

    # ------------------------------------------------------------------ the math
    def call(self, x, training=None):
        return self._predict_y_batch(tf.cast(x, self.precision))

    def _predict_f_batch(self, x, full_cov=False):
        return self.gp.predict_f(x, full_cov=full_cov)

    def _expected_log_likelihood(self, x, y, chol):
        mean, var = self.gp.predict_f(tf.cast(x, self.precision), chol_kuu=chol)  # [b, 1]
        y = tf.reshape(tf.cast(y, self.precision), (-1, 1))
        return self.likelihood.expected_log_likelihood(y, mean, var)  # [b]

    def _negative_objective(self, x, y, training=False):
        return self.gp.negative_elbo(x, y, self.likelihood)

    def elbo(self, x, y, batch_size=PREDICT_BATCH):
        """The ELBO of all of ``(x, y)``: ``sum_n E_q[log p(y_n | f_n)] - KL`` (nats, one
        batched pass; ``N`` need not be the training size)."""
        self._require_built()
        x, y = self.validate_data(x, y)
        chol = self.gp.kuu_cholesky()
        ell = self._batched(lambda xb, yb: self._ell_fn(xb, yb, chol), x, y,
                            batch_size=batch_size)
        kl = self.gp.prior_kl(None if self.whiten else chol)
        return float(np.sum(ell) - kl.numpy())

    @tf.function(reduce_retracing=True)
    def _ell_fn(self, x, y, chol):
        return self._expected_log_likelihood(x, y, chol)

    # ------------------------------------------------------------- from an SGPR
    @classmethod
    def from_sgpr(cls, sgpr, whiten=True, **kwargs):
        """An SVGPRegressor starting where a fitted :class:`zoo.SGPR` ends: its kernel, noise,
        mean, inducing inputs and optimal ``q(u)`` (so its ELBO equals the SGPR bound).

        Args:
          sgpr: a built ``zoo.SGPR`` (after ``fit``, ``q(u)`` is the optimum for its data).
          whiten: the new model's parameterization; ``whiten=False`` stores
            ``q(u) = N(L q_mu, L S S^T L^T)`` (the same distribution).
          kwargs: other constructor arguments (e.g. ``learning_rate``); the shared ones
            (``input_shape``, ``num_inducing``, ``kernel``, ``mean_function``, ...) are the SGPR's.
        """
        from zoo.gp.sgpr import SGPR

        if not isinstance(sgpr, SGPR):
            raise TypeError(f"sgpr must be a zoo.SGPR. Received: sgpr of type "
                            f"{type(sgpr).__name__}")
        sgpr._require_built()
        shared = ("input_shape", "num_inducing", "kernel", "noise_variance", "mean_function",
                  "inducing_init", "train_inducing", "seed", "precision", "jitter", "positive")
        clash = sorted(set(shared) & set(kwargs))
        if clash or kwargs.get("q_diag"):
            raise ValueError(
                "from_sgpr copies the SGPR's structure and its full q_sqrt; do not pass "
                f"{clash or ['q_diag=True']}. Received: {sorted(kwargs)}")
        model = cls(**{name: getattr(sgpr, name) for name in shared}, whiten=whiten, **kwargs)
        model.gp.set_weights(sgpr.gp.get_weights())
        model.likelihood.set_weights(sgpr.likelihood.get_weights())
        model.gp.assign_variational(sgpr.gp.q_mu.numpy(), sgpr.gp.q_sqrt.numpy(),
                                    whitened=sgpr.gp.whiten)
        model.set_num_data(int(sgpr.num_data.numpy()))
        model.initialized.assign(1.0)
        return model

    # ------------------------------------------------------------------ contract
    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x = rng.uniform(-2.0, 2.0, size=(32, 1))
        y = np.sin(2.0 * x[:, 0]) + 0.1 * rng.normal(size=32)
        return {"input_shape": (1,), "num_inducing": 6}, x, y
