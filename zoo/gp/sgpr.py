"""``zoo.SGPR``: sparse GP regression with Titsias' collapsed bound and the closed-form q(u).

The hyperparameters (kernel, noise, inducing inputs, constant mean) are trained by Adam on the
collapsed bound (:func:`kerasprob.math.sgpr.collapsed_bound`) through ``model.fit``; after
``fit`` the optimal ``q(u)`` is computed from all the training data in one batched pass and
stored (whitened, ``q(v) = N(q_mu, q_sqrt q_sqrt^T)``), so predictions need no training data
and a saved model predicts the same numbers after loading.

>>> import numpy as np, zoo
>>> x = np.linspace(-2.0, 2.0, 40)[:, None]
>>> y = np.sin(2.0 * x[:, 0])
>>> gp = zoo.SGPR(num_inducing=10, noise_variance=0.01)
>>> history = gp.fit(x, y, epochs=2, verbose=0)
>>> mean, var = gp.predict(x[:3])
>>> mean.shape, var.shape
((3, 1), (3, 1))
"""

import numpy as np
import tensorflow as tf

from kerasprob.lbfgs import fit_lbfgs
from kerasprob.math import sgpr as sgpr_math
from kerasprob.tuning import Choice, Float, Int
from kerasprob.validation import check_choice, check_positive_float
from zoo.gp._base import PREDICT_BATCH, GaussianProcessModel
from zoo.gp.regression import RegressionMixin, gaussian_likelihood
from zoo.registry import register

MEAN_FUNCTIONS = ("zero", "constant", "linear")
SOLVERS = ("lbfgs", "adam")

#: The most L-BFGS iterations of a ``fit`` that does not say ``epochs`` (one per epoch).
MAX_ITERATIONS = 1000


@register
class SGPR(RegressionMixin, GaussianProcessModel):
    """Sparse GP regression (Titsias 2009): the collapsed bound, the optimal q(u), its predictive.

    ``y = f(x) + m + eps``, ``f ~ GP(0, k)``, ``eps ~ N(0, sigma^2)``; with inducing inputs
    ``Z`` ``[M, D]`` the model maximizes ``log N(y; m, Q_ff + sigma^2 I) - tr(K_ff - Q_ff) /
    (2 sigma^2)`` over ``k``'s parameters, ``sigma^2``, ``Z`` and ``m``. The loss Keras logs is
    minus this bound per example (nats).

    By default (``solver="lbfgs"``) ``fit`` maximizes the bound of all the training data by
    L-BFGS until it converges (:func:`kerasprob.lbfgs.fit_lbfgs`, one iteration per epoch;
    ``epochs`` caps the iterations, ``MAX_ITERATIONS`` = 1000 by default), as GPflow's
    ``Scipy()`` and scikit-learn's ``GaussianProcessRegressor`` do. ``solver="adam"`` takes
    Adam steps instead, each on one batch: by default the whole training set, the exact bound; a
    smaller ``batch_size`` maximizes the bound of each batch (a cheaper, biased stand-in for
    the full bound, since the bound does not split into a sum over examples). A step costs
    ``O(b M^2)`` time for ``b`` examples; :class:`zoo.SVGPRegressor` minibatches without bias.

    Args:
      noise_variance: initial ``sigma^2`` (learned); ``None``: ``var(y) / 10`` at the first
        ``fit`` (1 before it).
      mean_function: ``"zero"``, ``"constant"`` (a learned constant ``m``) or ``"linear"``
        (``m(x) = x w + b``, learned).
      solver: ``"lbfgs"`` (full batch, to convergence) or ``"adam"`` (``learning_rate``,
        ``epochs`` and ``batch_size`` as in ``model.fit``).
      (others: see :class:`zoo.gp.GaussianProcessModel`)

    Input: ``x`` ``[batch, D]``. Target: ``y`` ``[batch]`` or ``[batch, 1]``.
    ``predict(x)``: ``(mean [N, 1], variance [N, 1])`` of ``y*``.

    References:
      Titsias, M. (2009). Variational Learning of Inducing Variables in Sparse Gaussian
      Processes. AISTATS.
      Tiao, L. C. (2020). A Handbook for Sparse Variational Gaussian Processes. tiao.io.
    """

    search_space = {
        "num_inducing": Int(16, 256, sampling="log"),
        "kernel": Choice(("rbf", "matern32", "matern52")),
        "learning_rate": Float(1e-3, 1e-1, sampling="log"),
    }

    def __init__(self, input_shape=None, num_inducing=50, kernel="rbf", noise_variance=None,
                 mean_function="constant", inducing_init="kmeans", train_inducing=True, seed=0,
                 precision="float64", learning_rate=1e-2, solver="lbfgs", **kwargs):
        super().__init__(input_shape, num_inducing, kernel, inducing_init, train_inducing, seed,
                         precision, learning_rate, **kwargs)
        self.noise_variance = (None if noise_variance is None
                               else check_positive_float("noise_variance", noise_variance))
        self.mean_function = check_choice("mean_function", mean_function, MEAN_FUNCTIONS)
        self.solver = check_choice("solver", solver, SOLVERS)
        self._finish()

    variational_by_gradient = False  # q(u) is set to its optimum after each fit

    def build_layers(self):
        # The SVGP layer holds Z, the kernel, the mean and q(v); here q(v) is not trained by
        # gradients but set to its optimum after each fit (prior N(0, I) before).
        self.gp = self._make_svgp(self.num_features, 1, self.mean_function, "svgp")
        self.likelihood = gaussian_likelihood(self.noise_variance, self.precision,
                                              self.positive)

    def _first_layer(self):
        return self.gp

    def _train_variables(self):
        q = {id(self.gp.q_mu), id(self.gp.raw_q_sqrt)}
        return [v for v in self.trainable_variables if id(v) not in q]

    # ------------------------------------------------------------- the math
    def call(self, x, training=None):
        return self._predict_y_batch(tf.cast(x, self.precision))

    def _statistics(self, chol, x, y):
        x = tf.cast(x, self.precision)
        y = tf.reshape(tf.cast(y, self.precision), (-1, 1))  # [b, 1]
        residual = y - self.gp.mean_fn(x)  # [b, 1]
        kernel = self.gp.kernel
        return sgpr_math.sgpr_statistics(
            chol, kernel.matrix(self.gp.inducing_inputs, x), kernel.diag(x), residual,
            self.likelihood.variance)

    def _negative_objective(self, x, y, training=False):
        """``-bound(batch) / b``: minus the collapsed bound of the batch per example."""
        stats = self._statistics(self.gp.kuu_cholesky(), x, y)
        return -sgpr_math.collapsed_bound(stats, self.likelihood.variance) / stats.num_data

    def _predict_f_batch(self, x, full_cov=False):
        return self.gp.predict_f(x, full_cov=full_cov)

    # ------------------------------------------------------------- training
    def _default_batch_size(self, n):
        return n  # the collapsed bound couples every example: one exact step per epoch

    def fit(self, x=None, y=None, batch_size=None, epochs=None, **kwargs):
        """Train the hyperparameters on the collapsed bound, then set the optimal q(u).

        ``x`` ``[N, D]``, ``y`` ``[N]`` or ``[N, 1]``; keyword arguments go to
        ``tf_keras.Model.fit`` with ``solver="adam"`` (``batch_size`` defaults to ``N``) and
        to :func:`kerasprob.lbfgs.fit_lbfgs` with ``"lbfgs"`` (``epochs`` caps the
        iterations; ``batch_size`` is the examples per term of the bound's sums, for memory,
        the bound staying exact; ``callbacks``, ``verbose``, ``validation_data`` as in
        ``fit``). A finite
        ``tf.data.Dataset`` of ``(x, y)`` batches gets q(u) from one more pass over it; after
        a fit on an infinite one, call :meth:`update_posterior` on a finite pass.
        """
        history = super().fit(x, y, batch_size=batch_size, epochs=epochs, **kwargs)
        if not isinstance(x, tf.data.Dataset):
            self.update_posterior(x, y)
        elif int(x.cardinality()) >= 0:
            self.update_posterior(x)
        return history

    def _max_epochs(self, steps_per_epoch):
        """L-BFGS: at most ``MAX_ITERATIONS`` iterations (one per epoch)."""
        return MAX_ITERATIONS if self.solver == "lbfgs" else super()._max_epochs(steps_per_epoch)

    def _convergence_callbacks(self):
        """L-BFGS stops by its own tolerances; Adam as the other GP models."""
        return [] if self.solver == "lbfgs" else super()._convergence_callbacks()

    def prepare_fit(self, x, y, fit_kwargs):
        """With ``solver="lbfgs"``: refuse per-step arguments and read a finite dataset into
        arrays (every step needs all of it), before anything changes."""
        if self.solver == "lbfgs":
            if isinstance(x, tf.data.Dataset):
                x, y = self._materialized(x)
            if fit_kwargs.get("steps_per_epoch") is not None:
                raise ValueError(
                    "solver='lbfgs' takes every example in each step; steps_per_epoch does "
                    "not apply (use solver='adam'). Received: "
                    f"steps_per_epoch={fit_kwargs['steps_per_epoch']!r}")
        return super().prepare_fit(x, y, fit_kwargs)

    def run_fit(self, x, y, **kwargs):
        """Adam through ``tf_keras.Model.fit``, or L-BFGS on the bound of all of ``(x, y)``."""
        if self.solver == "adam":
            return super().run_fit(x, y, **kwargs)
        n = len(x)
        chunk = min(kwargs.get("batch_size") or PREDICT_BATCH, PREDICT_BATCH)
        x = tf.constant(x, self.precision)
        y = tf.reshape(tf.constant(y, self.precision), (-1, 1))

        def negative_bound():
            chol = self.gp.kuu_cholesky()
            stats = None
            for i in range(0, n, chunk):  # the sums in terms of O(chunk M) memory
                part = self._statistics(chol, x[i:i + chunk], y[i:i + chunk])
                stats = part if stats is None else stats + part
            return -sgpr_math.collapsed_bound(stats, self.likelihood.variance)

        validation_data = kwargs.get("validation_data")
        validation = None if validation_data is None else (
            lambda: self.evaluate(*(validation_data if isinstance(validation_data, tuple)
                                    else (validation_data,)), verbose=0))
        verbose = kwargs.get("verbose", "auto")
        return fit_lbfgs(self, negative_bound, self._train_variables(),
                         max_iterations=kwargs["epochs"],
                         callbacks=kwargs.get("callbacks"), verbose=1 if verbose == "auto"
                         else verbose, loss_scale=1.0 / n, validation=validation)

    def _materialized(self, dataset):
        """``(x, y)`` arrays of one pass over a finite dataset of ``(x, y)`` batches."""
        if int(dataset.cardinality()) < 0:
            raise ValueError(
                "solver='lbfgs' needs all the training data at each step: x must be a finite "
                "tf.data.Dataset (or arrays). Received: a dataset of cardinality "
                f"{int(dataset.cardinality())}; use solver='adam' to train on a stream")
        xs, ys = zip(*((np.asarray(b[0]), np.asarray(b[1])) for b in dataset))
        return np.concatenate(xs).astype(self.precision), np.concatenate(ys)

    def fit_variables(self):
        """Every trainable weight: the hyperparameters by the solver, q(v) (not given to
        it) by :meth:`update_posterior` at the end of ``fit``."""
        return list(self.trainable_weights)

    def _accumulate(self, x, y=None, batch_size=PREDICT_BATCH):
        """``(chol_kuu, SGPRStatistics)`` of all of ``(x, y)`` (arrays or a finite dataset)."""
        self._require_built()
        chol = self.gp.kuu_cholesky()
        total = None
        if isinstance(x, tf.data.Dataset):
            if x.cardinality() == tf.data.INFINITE_CARDINALITY:
                raise ValueError("x must be a finite tf.data.Dataset of (x, y) batches (one "
                                 "pass over the training data). Received: an infinite dataset")
            batches = ((tf.cast(b[0], self.precision), b[1]) for b in x)
        else:
            x, y = self.validate_data(x, y)
            if y is None:
                raise ValueError("y is needed with array x. Received: y=None")
            batches = ((tf.constant(x[i:i + batch_size]), tf.constant(y[i:i + batch_size]))
                       for i in range(0, len(x), batch_size))
        for xb, yb in batches:
            stats = self._statistics_fn(chol, xb, yb)
            total = stats if total is None else total + stats
        return chol, total

    @tf.function(reduce_retracing=True)
    def _statistics_fn(self, chol, x, y):
        return self._statistics(chol, x, y)

    def update_posterior(self, x, y=None, batch_size=PREDICT_BATCH):
        """Set ``q(u)`` to the optimum for the current hyperparameters and all of ``(x, y)``.

        One batched pass over the data (its sufficient statistics add up over batches), so
        ``N`` may be millions; ``fit`` calls it on its training data.
        """
        _, stats = self._accumulate(x, y, batch_size)
        q_mu, q_sqrt = sgpr_math.optimal_inducing_distribution(stats, self.likelihood.variance)
        self.gp.assign_variational(q_mu.numpy(), q_sqrt.numpy(), whitened=True)

    def collapsed_bound(self, x, y=None, batch_size=PREDICT_BATCH):
        """Titsias' bound on ``log p(y)`` for all of ``(x, y)`` (nats, one batched pass)."""
        _, stats = self._accumulate(x, y, batch_size)
        return float(sgpr_math.collapsed_bound(stats, self.likelihood.variance))

    # -------------------------------------------------------------- contract
    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x = rng.uniform(-2.0, 2.0, size=(32, 1))
        y = np.sin(2.0 * x[:, 0]) + 0.1 * rng.normal(size=32)
        return {"input_shape": (1,), "num_inducing": 6, "mean_function": "constant"}, x, y
