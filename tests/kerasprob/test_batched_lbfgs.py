"""kerasprob.math.batched_lbfgs against scipy's L-BFGS-B, problem by problem."""

import numpy as np
import pytest
from scipy.optimize import minimize, rosen, rosen_der

from kerasprob.math.batched_lbfgs import minimize_batched


def batched_rosenbrock(x):
    return np.array([rosen(v) for v in x]), np.stack([rosen_der(v) for v in x])


@pytest.mark.parametrize("k", [2, 5])
def test_each_problem_reaches_scipys_minimum_on_its_own(k):
    rng = np.random.default_rng(k)
    starts = rng.uniform(-1.5, 1.5, size=(6, k))
    x, f = minimize_batched(batched_rosenbrock, starts, max_iterations=500, tolerance=1e-9)
    for start, xb, fb in zip(starts, x, f):
        ref = minimize(rosen, start, jac=rosen_der, method="L-BFGS-B",
                       options={"gtol": 1e-9, "ftol": 1e-15, "maxiter": 2000})
        assert fb <= ref.fun + 1e-8
        np.testing.assert_allclose(xb, ref.x, atol=1e-4)  # k = 5 has one minimum too
    assert np.all(f <= batched_rosenbrock(starts)[0])


def test_problems_are_independent_and_bad_regions_are_stepped_back_from():
    # f_b(x) = (x - b)^2, infinite beyond x > 3: a problem's path never depends on another's
    def value_and_gradient(x):
        target = np.arange(len(x), dtype=float)[:, None]
        f = np.sum((x - target) ** 2, axis=1)
        f = np.where(x[:, 0] > 3, np.inf, f)
        return f, 2 * (x - target)

    x, f = minimize_batched(value_and_gradient, np.full((3, 1), -4.0), tolerance=1e-10)
    np.testing.assert_allclose(x[:, 0], [0.0, 1.0, 2.0], atol=1e-8)
    alone, _ = minimize_batched(lambda v: tuple(a[1:2] for a in value_and_gradient(
        np.concatenate([np.zeros((1, 1)), v, np.zeros((1, 1))]))), np.full((1, 1), -4.0),
        tolerance=1e-10)
    np.testing.assert_allclose(alone[0], x[1], atol=1e-12)
    x0, f0 = minimize_batched(value_and_gradient, np.full((3, 1), -4.0), max_iterations=0)
    np.testing.assert_array_equal(x0, np.full((3, 1), -4.0))
