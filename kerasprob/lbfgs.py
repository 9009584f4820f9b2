"""L-BFGS as a Keras training loop: one quasi-Newton iteration per epoch, with callbacks.

A model whose objective uses all of its data at once (an exact or collapsed GP bound) is
fitted best by a quasi-Newton method, as GPflow's ``Scipy()`` and scikit-learn's
``GaussianProcessRegressor`` do: scale-free where Adam moves a raw parameter about one
learning rate per step (a variance of 2500 stored as ``softplus(raw)`` needs ~2500 / lr
steps). :func:`fit_lbfgs` minimizes ``objective()`` over ``variables`` with
:class:`kerasprob.math.lbfgs.LBFGS` (the objective and its gradient one ``tf.function``,
traced once), one iteration per "epoch", so ``History``, ``EarlyStopping``,
``ModelCheckpoint``, ``TerminateOnNaN`` and the progress bar work as in ``model.fit``. It
stops when converged (the gradient's largest entry below ``tolerance`` or the objective's
relative decrease below ``f_relative_tolerance``: scipy's L-BFGS-B defaults, 1e-5 and
2.2e-9) or when the line search finds no decrease; the variables end at the best point.

>>> import tensorflow as tf, tf_keras
>>> model = tf_keras.Sequential([tf_keras.layers.Dense(1, use_bias=False)])
>>> model.build((None, 2))
>>> w = model.trainable_variables[0]
>>> target = tf.constant([[3.0], [-1.0]])
>>> history = fit_lbfgs(model, lambda: tf.reduce_sum((w - target) ** 2), [w])
>>> [round(float(v), 4) for v in w.numpy()[:, 0]], len(history.history["loss"]) < 5
([3.0, -1.0], True)
"""

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.math.lbfgs import LBFGS
from kerasprob.validation import check_positive_float, check_positive_int

__all__ = ["fit_lbfgs"]


def fit_lbfgs(model, objective, variables, max_iterations=1000, callbacks=None, verbose=0,
              loss_scale=1.0, validation=None, tolerance=1e-5, f_relative_tolerance=2.2e-9,
              memory=10):
    """Minimize ``objective()`` over ``variables`` by L-BFGS; returns ``model.history``.

    Args:
      model: the ``tf_keras.Model`` the callbacks see (``model.stop_training`` stops early).
      objective: a function of no arguments returning the scalar to minimize (e.g. ``-bound``
        in nats, summed over the data; the tolerances refer to its scale).
      variables: the float variables to optimize.
      max_iterations: the most L-BFGS iterations (epochs).
      callbacks: Keras callbacks (a ``History`` is added).
      verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch.
      loss_scale: the logged ``loss`` is ``objective() * loss_scale`` (e.g. ``1 / N``, to log
        nats per example as ``fit`` does).
      validation: a function of no arguments returning the ``val_loss`` to log, or None.
      tolerance, f_relative_tolerance, memory: :class:`kerasprob.math.lbfgs.LBFGS`'s.
    """
    max_iterations = check_positive_int("max_iterations", max_iterations)
    check_positive_float("tolerance", tolerance)
    variables = list(variables)
    shapes = [v.shape for v in variables]
    sizes = [int(np.prod(s)) for s in shapes]

    def assign(position):
        for var, part, shape in zip(variables, np.split(position, np.cumsum(sizes)[:-1]),
                                    shapes):
            var.assign(part.reshape(shape).astype(var.dtype.as_numpy_dtype))

    @tf.function
    def value_and_gradients():
        with tf.GradientTape() as tape:
            value = objective()
        grads = tape.gradient(value, variables, unconnected_gradients="zero")
        return value, grads

    def evaluate(position):
        assign(position)
        value, grads = value_and_gradients()
        return float(value), np.concatenate([np.ravel(g.numpy()) for g in grads])

    start = np.concatenate([np.ravel(v.numpy()) for v in variables]).astype(np.float64)
    callback_list = tf_keras.callbacks.CallbackList(
        callbacks, add_history=True, add_progbar=verbose != 0, model=model, verbose=verbose,
        epochs=max_iterations, steps=1)
    model.stop_training = False
    callback_list.on_train_begin()
    optimizer = LBFGS(evaluate, start, memory=memory, tolerance=tolerance,
                      f_relative_tolerance=f_relative_tolerance)
    logs = {}
    for epoch in range(max_iterations):
        callback_list.on_epoch_begin(epoch)
        callback_list.on_train_batch_begin(0)
        optimizer.step()
        assign(optimizer.x)  # the line search leaves its last trial point in the variables
        logs = {"loss": optimizer.f * loss_scale}
        callback_list.on_train_batch_end(0, logs)
        if validation is not None:
            logs["val_loss"] = float(validation())
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training or optimizer.converged or optimizer.failed:
            break
    callback_list.on_train_end(logs)
    return model.history
