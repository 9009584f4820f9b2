"""``zoo.GaussianNaiveBayes``: a class prior and per-class diagonal Gaussians, by maximum
likelihood from sufficient statistics streamed through ``model.fit``.

``p(y = k) = pi_k`` (Categorical) and ``p(x | y = k) = prod_j N(x_j; mu_kj, s_kj^2)`` (one
batched ``MultivariateNormalDiag``), so ``p(y = k | x) = pi_k p(x | k) / sum_l pi_l p(x | l)``.
``fit(x, y)`` runs one pass of ``tf_keras.Model.fit``: each training step adds its batch's
per-class count, mean and sum of squared deviations to non-trainable variables
(:mod:`kerasprob.math.naive_bayes`, Chan et al.'s exact merge), so ``tf.data`` input,
data larger than memory, callbacks, progress bars and distribution strategies work, and
any batch size gives the same estimates as the whole data at once.

>>> import numpy as np, zoo
>>> x = np.array([[0.0], [1.0], [5.0], [6.0]]); y = np.array([0, 0, 1, 1])
>>> nb = zoo.GaussianNaiveBayes()             # input_shape and the classes read from fit
>>> nb.fit(x, y, verbose=0).history["examples"]
[4.0]
>>> nb.predict(np.array([[0.2], [5.5]])).tolist(), nb.prior.probs_parameter().numpy().tolist()
([0, 1], [0.5, 0.5])

Labels may be any values (``["setosa", "virginica", ...]``): the first ``fit`` keeps them,
sorted, in ``classes``, and ``predict`` returns them.

>>> nb = zoo.GaussianNaiveBayes().fit(x, np.array(["a", "a", "b", "b"]), verbose=0).model
>>> nb.classes, nb.num_classes, nb.predict(np.array([[5.5]])).tolist()
(['a', 'b'], 2, ['b'])

References:
  K. P. Murphy (2012). Machine Learning: A Probabilistic Perspective, section 3.5.
  scikit-learn's ``GaussianNB`` (the same estimates and ``var_smoothing``).
"""

import numpy as np
import tensorflow as tf

from kerasprob.math.naive_bayes import total_variance
from kerasprob.tuning import Float
from kerasprob.validation import check_positive_float
from zoo.classifiers.class_conditional import GaussianClassConditional
from zoo.registry import register


@register
class GaussianNaiveBayes(GaussianClassConditional):
    """Gaussian naive Bayes: ``p(y = k) = n_k / N``, ``p(x | k) = N(mu_k, diag(s_k^2))``.

    Maximum likelihood: ``mu_k`` the class mean, ``s_k^2`` the class variance (ddof 0)
    plus ``epsilon = var_smoothing * max_j Var(x_j)`` (scikit-learn's smoothing, the
    variance of all examples pooled) so that no variance is 0.

    Args:
      input_shape, num_classes, classes: as :class:`GaussianClassConditional` (read from the
        first ``fit`` when ``None``).
      var_smoothing: the ``epsilon`` factor above, ``>= 0`` (scikit-learn's default 1e-9).
      precision: ``"float64"`` or ``"float32"``.

    Input: ``x`` ``[batch, d]``; targets ``y`` ``[batch]`` in ``[0, K)``.
    Output: ``log p(y = k | x)`` ``[batch, K]``.
    """

    search_space = {"var_smoothing": Float(1e-12, 1e-1, sampling="log")}

    def __init__(self, input_shape=None, num_classes=None, classes=None, var_smoothing=1e-9,
                 precision="float64", **kwargs):
        super().__init__(input_shape=input_shape, num_classes=num_classes, classes=classes,
                         precision=precision, **kwargs)
        self.var_smoothing = check_positive_float("var_smoothing", var_smoothing,
                                                  allow_zero=True)
        self._finish()

    def _epsilon(self):
        spread = total_variance(self.class_count, self.class_mean, self.class_m2)
        return self.var_smoothing * tf.reduce_max(spread)

    def _variance(self):
        count = tf.maximum(self.class_count, 1)[:, None]
        return self.class_m2 / count + self._epsilon()

    def _check_fitted_statistics(self):
        super()._check_fitted_statistics()
        variance = self._variance().numpy()
        if np.any(variance <= 0):
            k, j = np.argwhere(variance <= 0)[0]
            raise ValueError(
                f"class {int(k)} has zero variance in feature {int(j)} and var_smoothing="
                f"{self.var_smoothing}: its density would be infinite. Expected "
                "var_smoothing > 0 (e.g. the default 1e-9) or more varied data"
            )
