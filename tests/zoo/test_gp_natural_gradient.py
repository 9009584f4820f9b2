"""Zoo GP models with ``natural_gradient=gamma``: q(u) by natural-gradient steps inside
``model.fit`` (the Gaussian case against SGPR's closed-form optimum), the rest by Adam."""

import numpy as np
import pytest

import zoo
from kerasprob.layers import gp as layers
from kerasprob.math import sgpr as sgpr_math
from kerasprob.optimizers import NaturalGradient

RNG = np.random.default_rng(0)
X = RNG.uniform(-3, 3, (200, 2))
Y = np.sin(X[:, 0]) + 0.3 * X[:, 1] + 0.1 * RNG.normal(size=200)


def _optimal_q(model, whiten):
    layer = model.gp
    chol = layer.kuu_cholesky()
    stats = sgpr_math.sgpr_statistics(
        chol, layer.kernel.matrix(layer.inducing_inputs, X), layer.kernel.diag(X),
        Y[:, None] - layer.mean_fn(X), model.likelihood.variance)
    q_mu, q_sqrt = sgpr_math.optimal_inducing_distribution(
        stats, model.likelihood.variance, chol, whiten=whiten)
    return q_mu.numpy(), q_sqrt.numpy(), float(sgpr_math.collapsed_bound(
        stats, model.likelihood.variance))


@pytest.mark.parametrize("whiten", [True, False])
def test_one_full_batch_step_with_gamma_one_gives_the_sgpr_optimum(whiten):
    # Adam's step on the hyperparameters is 1e-9, so the optimum for the step's starting
    # hyperparameters is (to ~1e-8) the optimum for the final ones.
    model = zoo.SVGPRegressor(num_inducing=20, whiten=whiten, natural_gradient=1.0,
                              learning_rate=1e-9)
    assert isinstance(model.optimizer, NaturalGradient)
    model.fit(X, Y, epochs=1, batch_size=len(X), verbose=0)
    q_mu, q_sqrt, bound = _optimal_q(model, whiten)
    np.testing.assert_allclose(model.gp.q_mu.numpy(), q_mu, atol=1e-6)
    np.testing.assert_allclose(model.gp.q_sqrt.numpy()[0], q_sqrt, atol=1e-6)
    assert model.elbo(X, Y) == pytest.approx(bound, abs=1e-6)


def test_natural_gradients_converge_in_tens_of_steps_where_adam_does_not():
    natural = zoo.SVGPRegressor(num_inducing=20, natural_gradient=1.0)
    natural.fit(X, Y, epochs=30, batch_size=len(X), verbose=0)
    adam = zoo.SVGPRegressor(num_inducing=20)
    adam.fit(X, Y, epochs=30, batch_size=len(X), verbose=0)
    _, _, bound = _optimal_q(natural, whiten=True)
    # q(u) stays at the optimum for the hyperparameters of one Adam step before
    assert natural.elbo(X, Y) == pytest.approx(bound, abs=0.05)
    assert natural.elbo(X, Y) > adam.elbo(X, Y) + 20.0


@pytest.mark.parametrize("num_classes", [2, 3])
def test_a_classifier_with_natural_gradients_reaches_a_higher_elbo_than_adam(num_classes):
    labels = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-1.0, 1.0] if num_classes == 3 else [0.0])
    losses = {}
    for gamma in (None, 0.1):
        model = zoo.SVGPClassifier(num_inducing=12, natural_gradient=gamma, num_samples=20,
                                   q_diag=num_classes == 3)
        model.fit(X, labels, epochs=25, batch_size=len(X), verbose=0)
        losses[gamma] = model.evaluate(X, labels, verbose=0)  # -ELBO per example
    assert losses[0.1] < losses[None] - 0.02


def test_save_mid_training_load_and_continue_follows_the_same_trajectory(tmp_path):
    def model():
        return zoo.SVGPRegressor(num_inducing=10, natural_gradient=0.5, seed=1)

    straight = model()
    straight.fit(X, Y, epochs=4, batch_size=50, shuffle=False, verbose=0)
    first = model()
    first.fit(X, Y, epochs=2, batch_size=50, shuffle=False, verbose=0)
    first.save(tmp_path / "gp.keras")
    resumed = zoo.load(tmp_path / "gp.keras")
    assert isinstance(resumed.optimizer, NaturalGradient) and resumed.optimizer.gamma == 0.5
    resumed.fit(X, Y, epochs=2, batch_size=50, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def test_a_deep_gp_trains_with_natural_gradients():
    model = zoo.DeepGP(num_layers=2, num_inducing=10, natural_gradient=0.1)
    history = model.fit(X, Y, epochs=20, batch_size=100, verbose=0).history["loss"]
    assert np.mean(history[-3:]) < history[0] - 0.3


@pytest.mark.parametrize("model, kwargs, match", [
    (zoo.SGPR, {"natural_gradient": 1.0}, "closed form"),
    (zoo.SVGPRegressor, {"natural_gradient": 0.0}, "natural_gradient"),
    (zoo.SVGPRegressor, {"natural_gradient": 2.0}, r"natural_gradient must be in \(0, 1\]"),
    (zoo.SVGPClassifier, {"natural_gradient": "big"}, "natural_gradient"),
])
def test_bad_natural_gradient_arguments_are_refused(model, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        model(**kwargs)


def test_a_log_scale_moves_a_large_variance_faster_than_softplus():
    # y ~ 50 sin(x): the kernel variance should grow towards ~10^3; Adam moves softplus(raw)
    # about one learning rate per step, exp(raw) by up to a factor e^{+-lr} (seen here after
    # 150 steps: softplus 4.1, exp 15.3, ELBO -1500 against -550; SGPR's L-BFGS reaches
    # 6e4 and +463).
    x = np.linspace(-3, 3, 100)[:, None]
    y = 50.0 * np.sin(2.0 * x[:, 0])
    variances, elbos = {}, {}
    for positive in ("softplus", "exp"):
        # a kernel object keeps its starting values (a named one would start at var(y))
        kernel = layers.SquaredExponential(positive=positive)
        model = zoo.SVGPRegressor(num_inducing=15, natural_gradient=1.0, learning_rate=0.05,
                                  kernel=kernel, positive=positive, mean_function="zero",
                                  noise_variance=1.0)
        model.fit(x, y, epochs=150, batch_size=len(x), verbose=0)
        variances[positive] = float(model.gp.kernel.variance)
        elbos[positive] = model.elbo(x, y)
    assert variances["exp"] > 2.5 * variances["softplus"], variances
    assert elbos["exp"] > elbos["softplus"] + 300.0, elbos


def test_a_fit_without_epochs_trains_until_converged():
    """scikit-learn's breast cancer (569 x 30, raw features), as a new user fits it: one
    epoch left the classifier at the majority class (accuracy 0.63); without ``epochs`` the
    fit runs until the loss stops improving."""
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    model = zoo.SVGPClassifier()
    history = model.fit(x, y, verbose=0)
    epochs = len(history.history["loss"])
    assert 30 < epochs < 1000  # stopped by the convergence rule, not the cap
    losses = history.history["loss"]
    assert min(losses[-20:]) > min(losses) - 1e-3  # no improvement left at the stop
    assert np.mean(model.predict_proba(x).argmax(-1) == y) > 0.93
