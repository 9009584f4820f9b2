"""L-BFGS (kerasprob.math.lbfgs) against closed-form minima, and as a Keras loop
(kerasprob.lbfgs.fit_lbfgs) with callbacks."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from kerasprob.lbfgs import fit_lbfgs
from kerasprob.math.lbfgs import LBFGS


def _run(opt, limit=500):
    while not (opt.converged or opt.failed) and opt.iterations < limit:
        opt.step()
    return opt


def test_a_quadratic_ends_at_its_closed_form_minimum():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 30))
    h = a @ a.T + 0.1 * np.eye(30)  # condition number ~ 1e3
    b = rng.normal(size=30)
    opt = _run(LBFGS(lambda x: (0.5 * x @ h @ x - b @ x, h @ x - b), np.zeros(30),
                     tolerance=1e-10, f_relative_tolerance=0.0))
    assert opt.converged and not opt.failed
    # to round-off: f is flat to eps |f| within sqrt(2 eps |f| / lambda_min) ~ 1e-7 of x*
    np.testing.assert_allclose(opt.x, np.linalg.solve(h, b), atol=1e-6)


def test_each_iteration_lowers_the_objective_and_meets_sufficient_decrease():
    def fg(x):
        return np.sum(np.cosh(x - 1.0)) + 0.5 * x @ x, np.sinh(x - 1.0) + x

    opt = LBFGS(fg, np.full(5, 4.0), tolerance=1e-12, f_relative_tolerance=0.0)
    values = [opt.f]
    while not (opt.converged or opt.failed):
        opt.step()
        values.append(opt.f)
    assert np.all(np.diff(values) < 0)
    # the minimizer solves sinh(x - 1) + x = 0 in each coordinate
    np.testing.assert_allclose(np.sinh(opt.x - 1.0) + opt.x, 0.0, atol=1e-10)


def test_a_region_where_the_objective_is_not_finite_counts_as_too_long_a_step():
    # f = -log(1 - x) + x^2 is +inf (nan here) beyond x = 1; the minimum is at x = (1 - sqrt(1 - 2)
    # ...) solved below; a first step of 1 / |g| from x = -5 lands past the pole.
    def fg(x):
        if x[0] >= 1.0:
            return np.nan, np.array([np.nan])
        return -np.log(1.0 - x[0]) + x[0] ** 2, np.array([1.0 / (1.0 - x[0]) + 2.0 * x[0]])

    opt = _run(LBFGS(fg, np.array([0.9]), tolerance=1e-10))
    # 1 / (1 - x) + 2 x = 0  <=>  2 x^2 - 2 x - 1 = 0, the root below 1
    assert opt.converged
    np.testing.assert_allclose(opt.x[0], (1.0 - np.sqrt(3.0)) / 2.0, rtol=1e-8)


def test_a_non_finite_start_is_refused():
    with pytest.raises(ValueError, match="finite at the starting point"):
        LBFGS(lambda x: (np.nan, x), np.zeros(2))


def test_fit_lbfgs_logs_each_iteration_and_honours_callbacks():
    model = tf_keras.Sequential([tf_keras.layers.Dense(3, dtype="float64")])
    model.build((None, 4))
    x = np.random.default_rng(1).normal(size=(50, 4))
    y = x @ np.arange(12.0).reshape(4, 3) + 0.5

    def objective():
        return tf.reduce_sum((model(x) - y) ** 2)

    stopper = tf_keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    history = fit_lbfgs(model, objective, model.trainable_variables, callbacks=[stopper],
                        loss_scale=1 / 50)
    assert len(history.history["loss"]) == 2  # no decrease of 1e9: stopped after patience
    history = fit_lbfgs(model, objective, model.trainable_variables, loss_scale=1 / 50,
                        validation=lambda: 7.0)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, np.arange(12.0).reshape(4, 3), atol=1e-6)
    np.testing.assert_allclose(bias, 0.5, atol=1e-6)
    assert history.history["loss"][-1] == pytest.approx(float(objective()) / 50)
    assert history.history["val_loss"][-1] == 7.0
