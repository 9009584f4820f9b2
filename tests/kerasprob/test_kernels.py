"""Kernel math and kernel layers against hand-written numpy formulas and TFP's psd_kernels."""

import json
import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from kerasprob.layers import gp
from kerasprob.layers.gp import kernels as K
from kerasprob.math import kernels as kmath
from kerasprob.serialization import serialize

psd = tfp.math.psd_kernels
RNG = np.random.default_rng(0)
X = RNG.normal(size=(7, 3))
Y = RNG.normal(size=(5, 3))
LS = np.array([0.5, 1.0, 2.0])
TOL = {np.float32: 1e-5, np.float64: 1e-12}


def r_scaled(x, y, ls):
    return np.sqrt(np.sum(((x[:, None, :] - y[None, :, :]) / ls) ** 2, axis=-1))


def numpy_kernel(name, x, y, variance=1.3, ls=LS, alpha=0.7, period=1.5):
    r = r_scaled(x, y, ls)
    if name == "rbf":
        return variance * np.exp(-0.5 * r**2)
    if name == "matern12":
        return variance * np.exp(-r)
    if name == "matern32":
        return variance * (1 + np.sqrt(3) * r) * np.exp(-np.sqrt(3) * r)
    if name == "matern52":
        return variance * (1 + np.sqrt(5) * r + 5 * r**2 / 3) * np.exp(-np.sqrt(5) * r)
    if name == "rational_quadratic":
        return variance * (1 + r**2 / (2 * alpha)) ** (-alpha)
    if name == "periodic":
        diff = x[:, None, :] - y[None, :, :]
        return variance * np.exp(-2 * np.sum(np.sin(np.pi * diff / period) ** 2 / ls**2, -1))
    if name == "linear":
        return (x * variance) @ y.T
    raise AssertionError(name)


def layer_for(name, dtype, variance=1.3, ls=LS, alpha=0.7, period=1.5):
    if name == "periodic":
        return K.Periodic(variance=variance, lengthscales=list(ls), period=list(period),
                          dtype=dtype)
    if name == "linear":
        return K.Linear(variance=list(variance) if np.ndim(variance) else variance, dtype=dtype)
    if name == "rational_quadratic":
        return K.RationalQuadratic(variance=variance, lengthscales=list(ls), alpha=alpha,
                                   dtype=dtype)
    return K.KERNELS[name](variance=variance, lengthscales=list(ls), dtype=dtype)


NAMES = ["rbf", "matern12", "matern32", "matern52", "rational_quadratic", "periodic", "linear"]


def _args(name):
    if name == "periodic":
        return {"period": np.array([1.5, 2.0, 3.0])}
    if name == "linear":
        return {"variance": np.array([0.5, 1.0, 2.0])}
    return {}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_kernel_layer_matches_numpy_formula(name, dtype):
    args = _args(name)
    layer = layer_for(name, "float32" if dtype == np.float32 else "float64", **args)
    expected = numpy_kernel(name, X, Y, **args)
    got = layer.matrix(X.astype(dtype), Y.astype(dtype))
    assert got.dtype == tf.as_dtype(dtype) and got.shape == (7, 5)
    np.testing.assert_allclose(got.numpy(), expected, rtol=10 * TOL[dtype], atol=10 * TOL[dtype])
    square = layer.matrix(X.astype(dtype)).numpy()
    np.testing.assert_allclose(layer.diag(X.astype(dtype)).numpy(), np.diag(square),
                               rtol=10 * TOL[dtype], atol=10 * TOL[dtype])
    np.testing.assert_allclose(square, square.T, atol=10 * TOL[dtype])


@pytest.mark.parametrize("name", NAMES)
def test_kernel_is_positive_semidefinite_on_random_inputs(name):
    layer = layer_for(name, "float64", **_args(name))
    x = np.random.default_rng(3).uniform(-3, 3, size=(40, 3))
    eig = np.linalg.eigvalsh(layer.matrix(x).numpy())
    assert eig.min() > -1e-9 * eig.max()


def test_kernels_match_tfp_psd_kernels():
    x, y = X[:, :1] * 2, Y[:, :1] * 2  # 1-D, so TFP's isotropic forms apply
    amp, ls = np.sqrt(1.3), 0.8
    pairs = [
        (K.SquaredExponential(1.3, ls, dtype="float64"), psd.ExponentiatedQuadratic(amp, ls)),
        (K.Matern12(1.3, ls, dtype="float64"), psd.MaternOneHalf(amp, ls)),
        (K.Matern32(1.3, ls, dtype="float64"), psd.MaternThreeHalves(amp, ls)),
        (K.Matern52(1.3, ls, dtype="float64"), psd.MaternFiveHalves(amp, ls)),
        (K.RationalQuadratic(1.3, ls, alpha=0.7, dtype="float64"),
         psd.RationalQuadratic(amp, ls, scale_mixture_rate=0.7)),
        (K.Periodic(1.3, ls, period=1.5, dtype="float64"),
         psd.ExpSinSquared(amp, ls, period=1.5)),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.matrix(x, y).numpy(), theirs.matrix(x, y).numpy(),
                                   rtol=1e-10, err_msg=type(ours).__name__)
    # ARD = TFP's kernel on features divided by the lengthscales
    ard = psd.FeatureScaled(psd.ExponentiatedQuadratic(amp, 1.0), scale_diag=LS)
    np.testing.assert_allclose(K.SquaredExponential(1.3, list(LS), dtype="float64").matrix(X, Y),
                               ard.matrix(X, Y).numpy(), rtol=1e-10)


@pytest.mark.parametrize("name", ["matern12", "matern32", "matern52", "periodic"])
def test_gradients_are_finite_at_coincident_points(name):
    layer = layer_for(name, "float64", **_args(name))
    x = tf.constant(np.vstack([X[:3], X[:3]]))  # every point twice: distance 0
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(layer.matrix(x))
    grads = tape.gradient(total, [x, *layer.trainable_weights])
    assert all(np.all(np.isfinite(g.numpy())) for g in grads)


def test_sum_and_product():
    a = K.SquaredExponential(1.3, list(LS), dtype="float64")
    b = K.Linear(0.5, dtype="float64")
    c = K.Periodic(1.0, 0.8, period=2.0, dtype="float64")
    total = a + b + c
    assert isinstance(total, K.Sum) and len(total.kernels) == 3  # flattened
    np.testing.assert_allclose(total.matrix(X, Y), a.matrix(X, Y) + b.matrix(X, Y)
                               + c.matrix(X, Y), rtol=1e-12)
    prod = a * c
    assert isinstance(prod, K.Product)
    np.testing.assert_allclose(prod.matrix(X, Y), a.matrix(X, Y) * c.matrix(X, Y), rtol=1e-12)
    np.testing.assert_allclose(prod.diag(X), a.diag(X) * c.diag(X), rtol=1e-12)
    assert len(total.trainable_weights) == 2 + 1 + 3
    clone = K.Sum.from_config(json.loads(json.dumps(total.get_config())))
    np.testing.assert_allclose(clone.matrix(X, Y), total.matrix(X, Y), rtol=1e-12)


def test_positive_parameters_have_a_floor():
    layer = K.SquaredExponential(variance=1.0, lengthscales=[1.0, 2.0], floor=1e-3)
    np.testing.assert_allclose(layer.lengthscales.numpy(), [1.0, 2.0], rtol=1e-6)
    layer.raw_variance.assign(-1e4)  # the optimizer pushed it far below 0
    assert layer.variance.numpy() == pytest.approx(1e-3)


def test_kernel_dtype_policies():
    k64 = K.Matern52(input_dim=3, dtype="float64")
    assert k64.matrix(X.astype(np.float32)).dtype == tf.float64  # inputs cast to the kernel's
    mixed = K.SquaredExponential(input_dim=3, dtype="mixed_float16")
    assert mixed.matrix(X).dtype == tf.float32  # never 16-bit
    assert mixed.get_config()["dtype"]["config"]["name"] == "mixed_float16"


def test_get_and_batched_inputs():
    k = K.get("rbf", input_dim=3, dtype="float64")
    assert isinstance(k, K.SquaredExponential) and k.lengthscales.shape == (3,)
    batched = k.matrix(np.stack([X, X + 1]), np.stack([Y, Y]))
    assert batched.shape == (2, 7, 5)
    np.testing.assert_allclose(batched[1], k.matrix(X + 1, Y), rtol=1e-12)
    assert K.get(k) is k
    assert isinstance(K.get(k.get_config() and {"module": "kerasprob.layers.gp.kernels",
                                                "class_name": "SquaredExponential",
                                                "config": k.get_config(),
                                                "registered_name": "kerasprob>SquaredExponential"}),
                      K.SquaredExponential)
    assert gp.Kernel is K.Kernel


@pytest.mark.parametrize(
    ("build", "error", "pattern"),
    [
        (lambda: K.SquaredExponential(lengthscales=-1.0), ValueError,
         "lengthscales must be a finite positive number. Received: lengthscales=-1.0"),
        (lambda: K.SquaredExponential(lengthscales=[1.0, 2.0], input_dim=3), ValueError,
         "lengthscales must have input_dim=3 entries. Received: lengthscales=[1.0, 2.0]"),
        (lambda: K.SquaredExponential(variance=[1.0, 2.0]), ValueError,
         "variance must be a positive float. Received: variance=[1.0, 2.0]"),
        (lambda: K.Matern32(variance=1e-7), ValueError, "variance must be greater than floor"),
        (lambda: K.Periodic(period=[1.0, 2.0], input_dim=3), ValueError,
         "period must have input_dim=3 entries. Received: period=[1.0, 2.0]"),
        (lambda: K.RationalQuadratic(alpha=0.0), ValueError,
         "alpha must be a finite positive number. Received: alpha=0.0"),
        (lambda: K.Sum([K.Linear()]), ValueError, "kernels must be a list of at least two"),
        (lambda: K.Sum([K.Linear(), "rbf"]), TypeError, "kernels[1] must be a kerasprob kernel"),
        (lambda: K.get("gaussian"), ValueError, "kernel must be one of"),
    ],
)
def test_bad_kernel_arguments(build, error, pattern):
    with pytest.raises(error, match=re.escape(pattern)):
        build()


def test_math_functions_broadcast_and_default_y():
    np.testing.assert_allclose(kmath.squared_exponential(X), kmath.squared_exponential(X, X),
                               atol=1e-12)
    np.testing.assert_allclose(kmath.linear_diag(X, 2.0), 2.0 * np.sum(X**2, -1), rtol=1e-12)
    np.testing.assert_allclose(kmath.stationary_diag(X, 1.5), np.full(7, 1.5))


def test_every_public_gp_layer_has_a_contract_case():
    import inspect

    import tf_keras

    from tests.cases import gp as gp_cases

    abstract = {"Kernel", "Stationary", "Likelihood"}
    public = {getattr(gp, name) for name in gp.__all__ if name not in abstract
              and inspect.isclass(getattr(gp, name))
              and issubclass(getattr(gp, name), tf_keras.layers.Layer)}
    covered = {type(factory()) for factory, *_ in gp_cases.CASES}
    assert not sorted(c.__name__ for c in public - covered)


def test_active_dims_select_the_features_a_kernel_reads():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(6, 4)), rng.normal(size=(5, 4))
    additive = (gp.SquaredExponential(lengthscales=[0.7, 1.3], active_dims=[0, 2],
                                      dtype="float64")
                + gp.Periodic(period=2.0, active_dims=[3], dtype="float64"))
    sq = lambda a, b, ls: np.sum(((a[:, None] - b[None]) / ls) ** 2, -1)  # noqa: E731
    expected = (np.exp(-0.5 * sq(x[:, [0, 2]], y[:, [0, 2]], np.array([0.7, 1.3])))
                + np.exp(-2 * np.sin(np.pi * (x[:, None, 3] - y[None, :, 3]) / 2.0) ** 2))
    np.testing.assert_allclose(additive.matrix(x, y), expected, rtol=1e-12)
    np.testing.assert_allclose(additive.diag(x), np.full(6, 2.0), rtol=1e-12)
    again = K.get(json.loads(json.dumps(serialize(additive))))
    np.testing.assert_allclose(again.matrix(x, y), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="active_dims must be a non-empty list"):
        gp.Matern32(active_dims=[0, -1])


def test_fixed_hyperparameters_are_not_trained():
    kernel = gp.Periodic(variance=1.0, period=1.0, fixed=("variance", "period"),
                         dtype="float64")
    assert [w.name for w in kernel.trainable_weights] == ["raw_lengthscales:0"]
    assert {w.name for w in kernel.non_trainable_weights} == {"raw_variance:0",
                                                              "raw_period:0"}
    again = K.get(serialize(kernel))
    assert again.fixed == ("variance", "period") and len(again.trainable_weights) == 1
    with pytest.raises(ValueError, match=r"fixed must name hyperparameters of Periodic"):
        gp.Periodic(fixed=("alpha",))
    with pytest.raises(TypeError, match="fixed must be a list"):
        gp.Periodic(fixed="period")


def test_a_serialized_kernel_takes_the_dtype_it_is_made_in():
    kernel = gp.SquaredExponential() + gp.SquaredExponential(2.0) * gp.Periodic()  # float32
    made = K.get(serialize(kernel), dtype="float64")
    assert made.dtype == "float64" and all(k.dtype == "float64" for k in made.kernels)
    layer = gp.SVGP(serialize(kernel), num_inducing=3, input_dim=1, dtype="float64")
    assert layer.kernel.dtype == "float64"


def test_a_log_scale_stores_log_values_and_old_configs_keep_softplus():
    kernel = gp.SquaredExponential(variance=2500.0, lengthscales=0.5, positive="exp",
                                   dtype="float64")
    np.testing.assert_allclose(kernel.raw_variance.numpy(), np.log(2500.0 - 1e-6))
    assert float(kernel.variance) == pytest.approx(2500.0, rel=1e-12)
    config = serialize(gp.Matern32(variance=3.0, dtype="float64"))
    del config["config"]["positive"]  # as saved before the argument existed
    old = K.get(config)
    assert old.positive == "softplus" and float(old.variance) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="positive must be one of"):
        gp.Matern32(positive="log")
