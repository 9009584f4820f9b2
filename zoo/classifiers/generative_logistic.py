"""``zoo.GenerativeLogisticRegression``: two Gaussian classes with one standard deviation
per feature shared by both, whose posterior is a logistic regression.

``p(y = k) = pi_k``, ``p(x | y = k) = N(mu_k, diag(s^2))`` with ``s`` ``[d]`` the same for
both classes, so ``p(y = 1 | x) = sigmoid(w^T x + w0)`` with ``w = (mu_1 - mu_0) / s^2`` and
``w0 = sum_j (mu_0j^2 - mu_1j^2) / (2 s_j^2) + log(pi_1 / pi_0)``
(:func:`kerasprob.math.naive_bayes.shared_scale_logistic_weights`); the decision boundary
is linear. The class prior and means are maximum-likelihood estimates from statistics
streamed by ``fit`` (as :class:`zoo.GaussianNaiveBayes`); the scales are learned by Adam
on the negative log-likelihood ``-mean_i log N(x_i; mu_{y_i}, diag(s^2))``, the course's
``learn_stdevs``. Its optimum is the pooled variance ``s^2 = sum_k M2_k / N``.

>>> import numpy as np, zoo
>>> x = np.array([[0.0], [2.0], [4.0], [6.0]]); y = np.array([0, 0, 1, 1])
>>> model = zoo.GenerativeLogisticRegression(learning_rate=0.05)
>>> history = model.fit(x, y, epochs=300, verbose=0)
>>> np.round(model.scale, 3).tolist()   # pooled MLE: sqrt(mean((x - mu_y)^2)) = 1
[1.0]

References:
  The TFP course write-up: "Naive Bayes and logistic regression with TensorFlow
  Probability". C. M. Bishop (2006). Pattern Recognition and Machine Learning, 4.2.1.
"""

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.math.naive_bayes import pooled_variance, shared_scale_logistic_weights
from kerasprob.tuning import Float
from kerasprob.validation import check_positive_float
from zoo.classifiers.class_conditional import GaussianClassConditional
from zoo.registry import register


@register
class GenerativeLogisticRegression(GaussianClassConditional):
    """Binary Gaussian classifier with shared per-feature scales (= logistic regression).

    Args:
      input_shape: ``(d,)`` (``None``: read from the first ``fit``).
      classes: the two class labels when they are not ``0, 1`` (``None``: read from the
        first ``fit`` when they are names).
      initial_scale: the scales' starting value (the course starts at 1).
      precision: ``"float64"`` or ``"float32"``.
      learning_rate: Adam learning rate of the scales (the course's 0.01).

    Input: ``x`` ``[batch, d]``; targets ``y`` ``[batch]`` in ``{0, 1}``.
    Output: ``log p(y = k | x)`` ``[batch, 2]``.

    ``fit`` logs ``loss``, the mean negative log-likelihood ``-log p(x | y)`` per example
    whose gradient moves the scales (the class means are those of the examples seen).
    """

    plots = ("history", "confusion")
    search_space = {"learning_rate": Float(1e-3, 1e-1, sampling="log")}
    min_classes = 2

    def __init__(self, input_shape=None, classes=None, initial_scale=1.0, precision="float64",
                 learning_rate=1e-2, **kwargs):
        if kwargs.pop("num_classes", 2) != 2:
            raise ValueError("GenerativeLogisticRegression is binary: num_classes is 2.")
        super().__init__(input_shape=input_shape, num_classes=2, classes=classes,
                         precision=precision, learning_rate=learning_rate, **kwargs)
        self.initial_scale = check_positive_float("initial_scale", initial_scale)
        self._finish()

    def build_layers(self):
        super().build_layers()
        self.log_scale = self.add_weight(
            name="log_scale", shape=(self.num_features,), dtype=self.precision,
            initializer=tf_keras.initializers.Constant(np.log(self.initial_scale)),
        )

    @classmethod
    def constructor_arguments(cls):
        return [n for n in super().constructor_arguments() if n != "num_classes"]

    def fit_variables(self):
        return [self.log_scale, self.class_count, self.class_mean]

    # ----------------------------------------------------------- the estimates
    def _variance(self):
        return tf.exp(2.0 * self.log_scale)  # [d], shared by the classes

    @property
    def scale(self):
        """The learned shared standard deviations ``s`` ``[d]`` (numpy)."""
        return np.exp(self.log_scale.numpy())

    def pooled_scale(self):
        """The closed-form maximum-likelihood shared scale ``sqrt(sum_k M2_k / N)`` ``[d]``
        of the examples seen, which gradient descent converges to."""
        return np.sqrt(pooled_variance(self.class_count, self.class_m2).numpy())

    def logistic_regression_params(self):
        """``(w [d], w0)``: ``p(y = 1 | x) = sigmoid(w^T x + w0)``, in closed form from the
        prior, the means and the shared scales (the course's function returns the
        parameters of ``p(y = 0 | x)``: ``-w, -w0``)."""
        w, w0 = shared_scale_logistic_weights(self._log_prior(), self._loc(), self._variance())
        return w.numpy(), float(w0.numpy())

    # -------------------------------------------------------------- training
    def train_step(self, data):
        x, y, _ = tf_keras.utils.unpack_x_y_sample_weight(data)
        x, y = self._accumulate(x, y)
        loc = tf.gather(tf.stop_gradient(self._loc()), y)  # [batch, d]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            variance = self._variance()
            nll = 0.5 * tf.reduce_sum(
                tf.square(x - loc) / variance + tf.math.log(2.0 * np.pi * variance), axis=-1
            )  # [batch]
            loss = tf.reduce_mean(nll)
            scaled = loss / tf.cast(replicas, loss.dtype)
        gradients = tape.gradient(scaled, [self.log_scale])
        self.optimizer.apply_gradients(zip(gradients, [self.log_scale]))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result(), "examples": tf.reduce_sum(self.class_count)}

    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        y = np.arange(40) % 2
        x = rng.normal(size=(40, 2)) + 2.0 * y[:, None]
        return {"input_shape": (2,)}, x, y
