"""Custom bijectors on kerasprob's public API: the seeds' banana, degree-2 polynomial, rotation.

This is the documented way to add a bijector: subclass
``kerasprob.layers.flows.BijectorLayer``, implement ``_forward(x, context, training)`` and
``_inverse(y, context, training)``, each returning ``(value, log|det J|)`` with the
log-determinant summed over the event axis (shape ``[batch...]``), put the constructor
arguments in ``get_config``, and register the class so saved models load it. The layer then
composes with every other flow layer in ``Flow([...])``, gives a TFP bijector
(``layer.bijector()``), and trains (weights made in ``build_bijector`` are learned).

Running it checks each bijector's log-determinant against the autodiff Jacobian and the
banana's density against TFP's ``TransformedDistribution``, prints the largest error, and
draws the banana (``--out``, default ``runs/custom_bijectors.png``).

    python examples/custom_bijectors.py
"""

import argparse
import os

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.layers.flows import BijectorLayer, Flow, Scale, Shift, Tanh


def _zeros(x):
    return tf.zeros(tf.shape(x)[:-1], x.dtype)


@tf_keras.saving.register_keras_serializable(package="examples")
class Degree2Polynomial(BijectorLayer):
    """``f(z) = (z_1, z_2 + a z_1^2)``: a shear along a parabola; ``log|det J| = 0``.

    Seed 001's ``f3``. The Jacobian is unit lower triangular, so the map preserves volume.
    ``a`` is a weight: ``trainable=True`` learns it.

    Input shape: ``[batch..., 2]``.
    """

    def __init__(self, a=1.0, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.a = float(a)

    def build_bijector(self, event_dim, context_dim):
        if event_dim != 2:
            raise ValueError(
                f"Degree2Polynomial acts on 2 features. Received: event_dim={event_dim}"
            )
        self.coefficient = self.add_weight(
            name="a", shape=(), initializer=tf_keras.initializers.Constant(self.a)
        )

    def _forward(self, x, context, training):
        y2 = x[..., 1:] + self.coefficient * tf.square(x[..., :1])
        return tf.concat([x[..., :1], y2], axis=-1), _zeros(x)

    def _inverse(self, y, context, training):
        x2 = y[..., 1:] - self.coefficient * tf.square(y[..., :1])
        return tf.concat([y[..., :1], x2], axis=-1), _zeros(y)

    def get_config(self):
        return {**super().get_config(), "a": self.a}


@tf_keras.saving.register_keras_serializable(package="examples")
class Rotation(BijectorLayer):
    """``f(z) = R(theta) z`` with ``R = [[cos, -sin], [sin, cos]]``; ``log|det J| = 0``.

    Seed 001's ``f4``. The inverse is ``R(theta)^T``.

    Input shape: ``[batch..., 2]``.
    """

    def __init__(self, theta=0.0, **kwargs):
        super().__init__(**kwargs)
        self.theta = float(theta)
        c, s = np.cos(self.theta), np.sin(self.theta)
        self.matrix = np.array([[c, -s], [s, c]], np.float32)

    def _forward(self, x, context, training):
        return tf.linalg.matvec(self.matrix, x), _zeros(x)

    def _inverse(self, y, context, training):
        return tf.linalg.matvec(self.matrix.T, y), _zeros(y)

    def get_config(self):
        return {**super().get_config(), "theta": self.theta}


@tf_keras.saving.register_keras_serializable(package="examples")
class Banana(BijectorLayer):
    """``G(x) = (x_1, x_2 - x_1^2 - 1, x_3, ...)``: bends a Gaussian into a banana.

    ``log|det J| = 0`` (unit triangular Jacobian).

    The bijector post's ``Banana`` (seed 003). Written with ``x[..., 2:]`` for the tail
    features: the post's ``x[..., 2:-1]`` drops the last feature when ``d > 2``.
    """

    def _forward(self, x, context, training):
        y1 = x[..., 1:2] - tf.square(x[..., :1]) - 1.0
        return tf.concat([x[..., :1], y1, x[..., 2:]], axis=-1), _zeros(x)

    def _inverse(self, y, context, training):
        x1 = y[..., 1:2] + tf.square(y[..., :1]) + 1.0
        return tf.concat([y[..., :1], x1, y[..., 2:]], axis=-1), _zeros(y)


@tf_keras.saving.register_keras_serializable(package="examples")
class LowerTriangular(BijectorLayer):
    """``f(z) = L z`` with a fixed lower-triangular ``L``; ``log|det J| = sum_i log|L_ii|``.

    With ``L = cholesky(Sigma)`` it turns ``N(0, I)`` into ``N(0, Sigma)`` (the banana's
    correlated base). The inverse is a triangular solve.
    """

    def __init__(self, matrix=((1.0, 0.0), (0.0, 1.0)), **kwargs):
        super().__init__(**kwargs)
        self.matrix = [[float(v) for v in row] for row in matrix]
        self._l = np.tril(np.asarray(self.matrix, np.float32))
        self._log_det = float(np.sum(np.log(np.abs(np.diag(self._l)))))

    def _forward(self, x, context, training):
        return tf.linalg.matvec(self._l, x), tf.fill(tf.shape(x)[:-1], self._log_det)

    def _inverse(self, y, context, training):
        cols = tf.transpose(tf.reshape(y, [-1, y.shape[-1]]))
        x = tf.transpose(tf.linalg.triangular_solve(self._l, cols, lower=True))
        return tf.reshape(x, tf.shape(y)), tf.fill(tf.shape(y)[:-1], -self._log_det)

    def get_config(self):
        return {**super().get_config(), "matrix": self.matrix}


def banana_flow(rho=0.95):
    """The post's banana: ``y = G(x)``, ``x ~ N(0, [[1, rho], [rho, 1]])`` (data side first)."""
    chol = np.linalg.cholesky(np.array([[1.0, rho], [rho, 1.0]]))
    return Flow([Banana(), LowerTriangular(chol.tolist())], event_dim=2)


def random_flow(a, theta, sigma=0.3):
    """Seed 001's flow: ``x = tanh(R(theta) f3(f2(f1(z))))``, ``z ~ N(0, sigma^2 I)``.

    ``f1 = Shift([0, -2])``, ``f2 = Scale([1, 1/2])``, ``f3 = Degree2Polynomial(a)``; the
    base's ``sigma`` is a ``Scale`` on the noise side of a standard normal.
    """
    return Flow([Tanh(), Rotation(theta), Degree2Polynomial(a), Scale([1.0, 0.5]),
                 Shift([0.0, -2.0]), Scale(sigma)], event_dim=2)


def log_det_errors(layers, x):
    """Per layer, the largest of ``|log|det J| - slogdet(autodiff J)|``, ``|ildj + fldj|`` and
    ``|f^{-1}(f(x)) - x|`` (one number: all three should be ~0)."""
    errors = {}
    x = tf.constant(x, tf.float32)
    for layer in layers:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y, log_det = layer.forward_and_log_det(x)
        autodiff = tf.linalg.slogdet(tape.batch_jacobian(y, x))[1]
        x_back, inverse_log_det = layer.inverse_and_log_det(y)
        errors[type(layer).__name__] = max(
            float(tf.reduce_max(tf.abs(log_det - autodiff))),
            float(tf.reduce_max(tf.abs(inverse_log_det + log_det))),
            float(tf.reduce_max(tf.abs(x_back - x))),
        )
    return errors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/custom_bijectors.png")
    args = parser.parse_args(argv)
    import tensorflow_probability as tfp

    tfb, tfd = tfp.bijectors, tfp.distributions
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    chol = np.linalg.cholesky(np.array([[1.0, 0.95], [0.95, 1.0]]))
    errors = log_det_errors(
        [Degree2Polynomial(3.0), Rotation(1.2), Banana(), LowerTriangular(chol.tolist())], x
    )
    for name, err in errors.items():
        print(f"{name:18s} max(|fldj - autodiff|, |ildj + fldj|, |f^-1(f(x)) - x|) = {err:.2e}")

    flow = banana_flow()
    reference = tfd.TransformedDistribution(
        tfd.MultivariateNormalTriL(tf.zeros(2), chol.astype("float32")),
        tfb.Inline(forward_fn=lambda v: Banana().forward(v),
                   inverse_fn=lambda v: Banana().inverse(v),
                   inverse_log_det_jacobian_fn=lambda v: tf.zeros(tf.shape(v)[:-1]),
                   forward_min_event_ndims=1, is_constant_jacobian=True),
    )
    y = np.asarray(flow.sample(1000, seed=1))
    gap = float(np.max(np.abs(flow.log_prob(y) - reference.log_prob(y))))
    print(f"banana: max |log p (ours) - log p (TFP TransformedDistribution)| = {gap:.2e}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g1, g2 = np.meshgrid(np.linspace(-3, 3, 200), np.linspace(-7, 2, 200))
    grid = np.stack([g1.ravel(), g2.ravel()], -1).astype("float32")
    density = np.exp(np.asarray(flow.log_prob(grid))).reshape(g1.shape)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    axes[0].scatter(y[:, 0], y[:, 1], s=3, alpha=0.5)
    axes[0].set_title("1000 samples of Flow([Banana(), LowerTriangular(L)])")
    axes[1].contourf(g1, g2, density, levels=30, cmap="viridis")
    axes[1].set_title("its density (Flow.log_prob)")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=100, bbox_inches="tight")
    print(f"wrote {args.out}")
    return max(*errors.values(), gap)


if __name__ == "__main__":
    main()
