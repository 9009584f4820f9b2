"""Target handling shared by the zoo's GP regressors (a Gaussian likelihood)."""

import numpy as np
import tensorflow as tf

from kerasprob.layers.gp import Gaussian
from kerasprob.math.positive import inverse_positive


def gaussian_likelihood(variance, dtype, positive):
    """The :class:`kerasprob.layers.gp.Gaussian` likelihood with initial noise ``variance``
    (``None``: 1 until the first fit sets it from the targets)."""
    return Gaussian(variance=1.0 if variance is None else variance, dtype=dtype,
                    positive=positive, name="likelihood")


class RegressionMixin:
    """Real targets ``y`` ``[N]`` or ``[N, 1]``; ``predict`` gives the mean and variance of y."""

    def validate_target(self, name, y):
        arr = np.asarray(y) if not isinstance(y, np.ndarray) else y
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != 1:
            raise ValueError(
                f"{name} must have shape [batch] or [batch, 1] (one real target per example). "
                f"Received: {name} with shape {np.shape(y)}"
            )
        return self._as_precision(name, arr, (1,))

    def _initialize_from_targets(self, y):
        """A constant mean starts at ``mean(y)``, a named kernel's variance at ``var(y)`` and
        the noise, unless ``noise_variance`` was given, at ``var(y) / 10`` (before the first
        step of the first fit)."""
        out = self._svgp_layers()[-1]
        if out.mean_function == "constant":
            out.mean_constant.assign(np.full(out.mean_constant.shape, np.mean(y)))
        kernel = out.kernel
        variance = float(np.var(y))
        noise = self.likelihood
        if self.noise_variance is None and variance / 10 > 10 * noise.floor:
            noise.raw_variance.assign(inverse_positive(variance / 10, noise.floor,
                                                       noise.positive))
        if isinstance(self.kernel, str) and hasattr(kernel, "raw_variance") and (
                variance > 10 * kernel.floor) and kernel.raw_variance.shape.rank == 0:
            kernel.raw_variance.assign(inverse_positive(variance, kernel.floor,
                                                        kernel.positive))

    def _predict_y_batch(self, x):
        mean, var = self._predict_f_batch(x, full_cov=False)
        return self.likelihood.predictive(mean, var)  # (mean, var_f + sigma^2), [b, 1] each

    def predict_log_density(self, x, y, batch_size=None):
        """``log p(y* | x*) = log N(y*; mean, var_f + sigma^2)``: ``[N*]`` (nats)."""
        self._require_built()
        x, y = self.validate_data(x, y)
        kwargs = {} if batch_size is None else {"batch_size": batch_size}
        return self._batched(self._log_density_fn, x, y, **kwargs)

    @tf.function(reduce_retracing=True)
    def _log_density_fn(self, x, y):
        mean, var = self._predict_f_batch(x, full_cov=False)
        return self.likelihood.predictive_log_density(y, mean, var)
