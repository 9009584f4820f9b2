"""kerasprob.math.knowledge_gradient against exact formulas and brute-force refits."""

import numpy as np
import pytest
import tensorflow as tf

from kerasprob.math import knowledge_gradient as kgm
from kerasprob.math.exact_gp import GaussianProcessPosterior

LENGTHSCALE = 0.25


def rbf(a, b):
    sq = tf.reduce_sum((a[..., :, None, :] - b[..., None, :, :]) ** 2, axis=-1)
    return 1.3 * tf.exp(-0.5 * sq / LENGTHSCALE**2)


def rbf_np(a, b):
    sq = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    return 1.3 * np.exp(-0.5 * sq / LENGTHSCALE**2)


def np_posterior_mean(x, y, noise, mean, grid):
    """Refit from scratch: a full solve of (K + s^2 I) for the data given."""
    gram = rbf_np(x, x) + noise * np.eye(len(x))
    return mean + rbf_np(grid, x) @ np.linalg.solve(gram, y - mean)


@pytest.fixture(scope="module")
def problem():
    x = np.array([[0.05], [0.3], [0.42], [0.8], [0.95]])
    f = np.sin(3 * (3 * x[:, 0] - 1)) + (3 * x[:, 0] - 1) ** 2 - 0.7 * (3 * x[:, 0] - 1)
    y = f - f.mean()
    noise, mean = 1e-3, 0.1
    return x, y, noise, mean, GaussianProcessPosterior(rbf, x, y, noise, mean)


def test_posterior_mean_and_covariance_equal_the_formulas(problem):
    x, y, noise, mean, post = problem
    grid = np.linspace(0, 1, 7)[:, None]
    gram = rbf_np(x, x) + noise * np.eye(len(x))
    np.testing.assert_allclose(post.mean(grid), np_posterior_mean(x, y, noise, mean, grid),
                               atol=1e-10)
    cov = rbf_np(grid, grid) - rbf_np(grid, x) @ np.linalg.solve(gram, rbf_np(x, grid))
    np.testing.assert_allclose(post.covariance(grid, grid), cov, atol=1e-10)
    np.testing.assert_allclose(post.variance(grid), np.diag(cov), atol=1e-10)


def test_augmented_mean_equals_a_refit_and_the_rank_one_identity(problem):
    x, y, noise, mean, post = problem
    x_new = np.array([[0.2], [0.6], [0.3]])
    z = np.array([-1.5, 0.3, 2.0])
    y_new = kgm.simulated_outcomes(post, x_new, z).numpy()  # [C, M]
    aug = kgm.SimulationAugmentedMean(post, x_new, y_new)
    grid = np.linspace(0, 1, 11)[:, None]
    values = aug(np.broadcast_to(grid, (3, 3, 11, 1))).numpy()  # [C, M, q]
    for c in range(3):
        # The appended factor is the factor of the augmented matrix.
        xa = np.concatenate([x, x_new[c:c + 1]])
        np.testing.assert_allclose(aug.chol[c].numpy(),
                                   np.linalg.cholesky(rbf_np(xa, xa) + noise * np.eye(6)),
                                   atol=1e-10)
        for m in range(3):
            ya = np.concatenate([y, y_new[c, m:m + 1]])
            np.testing.assert_allclose(values[c, m], np_posterior_mean(xa, ya, noise, mean, grid),
                                       atol=1e-9)
    # mu_{n+1}(x') = mu_n(x') + Sigma_n(x', x) / sqrt(Sigma_n(x, x) + s^2) z.
    sigma = (post.covariance(grid, x_new).numpy()
             / np.sqrt(post.variance(x_new).numpy() + noise))  # [q, C]
    rank_one = post.mean(grid).numpy()[None, None, :] + sigma.T[:, None, :] * z[None, :, None]
    np.testing.assert_allclose(values, rank_one, atol=1e-9)


def test_minimize_in_unit_cube_finds_interior_and_boundary_minima_and_keeps_discrete_fixed():
    target = tf.constant([0.3, 1.7, 0.6], tf.float64)  # the second lies outside: boundary 1

    def quadratic(x):
        return tf.reduce_sum((x - target) ** 2, axis=-1)

    starts = tf.constant([[[0.9, 0.1, 0.25], [0.5, 0.5, 0.75]]], tf.float64)  # [1, 2, 3]
    values, points = kgm.minimize_in_unit_cube(quadratic, starts, continuous=[True, True, False])
    np.testing.assert_allclose(points[..., :2], [[[0.3, 1.0], [0.3, 1.0]]], atol=1e-6)
    np.testing.assert_array_equal(points[..., 2], starts[..., 2])  # discrete: unchanged
    np.testing.assert_allclose(values, [[0.49 + 0.35**2, 0.49 + 0.15**2]], atol=1e-8)
    with pytest.raises(ValueError, match="one entry per coordinate"):
        kgm.minimize_in_unit_cube(quadratic, starts, continuous=[True])


def lines_expected_max_np(c, b):
    """E[max_i (c_i + b_i Z)] by a fine trapezoid rule on z in [-12, 12]."""
    z = np.linspace(-12, 12, 400001)
    density = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)
    return np.trapezoid((c[:, None] + b[:, None] * z).max(0) * density, z)


@pytest.mark.parametrize("case", ["random", "ties", "dominated", "single", "flat"])
def test_discrete_kg_equals_numerical_integration(case):
    rng = np.random.default_rng(3)
    a = rng.normal(size=6)
    b = rng.normal(size=6)
    if case == "ties":  # equal slopes, equal lines, negative slopes
        b[1] = b[0]
        a[3], b[3] = a[2], b[2]
    elif case == "dominated":  # a line below another of the same slope never counts
        b[4], a[4] = b[5], a[5] + 3.0
    elif case == "single":
        a, b = a[:1], b[:1]
    elif case == "flat":
        b = np.zeros(6)
    expected = lines_expected_max_np(-a, b) - np.max(-a)
    got = kgm.discrete_knowledge_gradient(tf.constant(a), tf.constant(b)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-8)
    assert got >= 0


def test_discrete_kg_batches():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    got = kgm.discrete_knowledge_gradient(a, b).numpy()
    want = [lines_expected_max_np(-a[i], b[i]) - np.max(-a[i]) for i in range(4)]
    np.testing.assert_allclose(got, want, atol=1e-8)


def test_monte_carlo_kg_over_a_discrete_set_matches_the_closed_form():
    """Frazier et al. (2009): the MC estimate over a discrete domain, within 4 standard errors
    of the exact value."""
    # Two competing minima (near 0.5 and 0.9), so that one more point is informative.
    post = GaussianProcessPosterior(rbf, [[0.1], [0.5], [0.9]], [0.2, -0.5, -0.4], 1e-2)
    points = np.linspace(0, 1, 9)[:, None]
    x_new = np.array([[0.2], [0.6], [0.875]])
    exact = kgm.knowledge_gradient_discrete(post, x_new, points).numpy()
    z = np.random.default_rng(1).standard_normal(4000)
    tau_next, _ = kgm.simulation_augmented_minimum(post, x_new, z, points=points)
    tau_n = np.min(post.mean(points))
    diffs = tau_n - tau_next.numpy()
    estimate, stderr = diffs.mean(1), diffs.std(1) / np.sqrt(len(z))
    assert np.all(np.abs(estimate - exact) < 4 * stderr + 1e-12)
    assert np.all(exact > 1e-3)
    np.testing.assert_allclose(
        kgm.knowledge_gradient(post, x_new, base_samples=z, points=points), estimate, atol=1e-12)


def brute_force_kg(x, y, noise, mean, x_new, z, grid):
    """Refit the GP on every simulated data set (no low-rank update); min over a fine grid."""
    tau_n = np_posterior_mean(x, y, noise, mean, grid).min()
    gram = rbf_np(x, x) + noise * np.eye(len(x))
    kx = rbf_np(x_new[None], x)[0]
    mu = mean + kx @ np.linalg.solve(gram, y - mean)
    var = rbf_np(x_new[None], x_new[None])[0, 0] - kx @ np.linalg.solve(gram, kx)
    taus = []
    for zm in z:
        ya = np.concatenate([y, [mu + np.sqrt(var + noise) * zm]])
        xa = np.concatenate([x, x_new[None]])
        taus.append(np_posterior_mean(xa, ya, noise, mean, grid).min())
    return tau_n - np.asarray(taus)


def test_kg_equals_a_brute_force_refit_within_its_standard_error(problem):
    x, y, noise, mean, post = problem
    grid = np.linspace(0, 1, 20001)[:, None]
    x_new = np.array([[0.2], [0.6], [0.875]])
    z = np.random.default_rng(7).standard_normal(64)
    ours = kgm.knowledge_gradient(post, x_new, base_samples=z).numpy()
    for c in range(3):
        diffs = brute_force_kg(x, y, noise, mean, x_new[c], z, grid)
        # The same simulated outcomes: equal up to the grid's resolution.
        np.testing.assert_allclose(ours[c], diffs.mean(), atol=1e-6)
    # Independent outcomes (the default quasi-random ones against fresh draws), within 4 SE.
    quasi = kgm.knowledge_gradient(post, x_new, num_fantasies=64).numpy()
    fresh = np.random.default_rng(8).standard_normal(400)
    for c in range(3):
        diffs = brute_force_kg(x, y, noise, mean, x_new[c], fresh, grid[::10])
        assert abs(quasi[c] - diffs.mean()) < 4 * diffs.std() / np.sqrt(len(fresh))


def test_kg_is_zero_where_the_posterior_is_exact_and_positive_elsewhere():
    x = np.array([[0.1], [0.4], [0.7]])
    y = np.array([0.5, -0.8, 0.2])
    post = GaussianProcessPosterior(rbf, x, y, 1e-10)  # (numerically) noise-free
    kg = kgm.knowledge_gradient(post, np.array([[0.1], [0.4], [0.7], [0.25], [0.55], [0.95]]))
    np.testing.assert_allclose(kg[:3], 0.0, atol=1e-6)
    assert np.all(kg[3:] > 1e-3)


def test_kg_runs_in_float32():
    x = np.array([[0.1], [0.4], [0.7]], "float32")
    post = GaussianProcessPosterior(rbf, x, np.array([0.5, -0.8, 0.2], "float32"), 1e-3)
    assert post.dtype == tf.float32
    kg = kgm.knowledge_gradient(post, np.array([[0.25], [0.55]], "float32"), num_fantasies=8)
    assert kg.dtype == tf.float32 and np.all(kg.numpy() > 0)
    post64 = GaussianProcessPosterior(rbf, x.astype("float64"), [0.5, -0.8, 0.2], 1e-3)
    np.testing.assert_allclose(
        kg, kgm.knowledge_gradient(post64, [[0.25], [0.55]], num_fantasies=8), rtol=1e-3)


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="kernel must be callable"):
        GaussianProcessPosterior("rbf", [[0.0]], [0.0], 1e-3)
    with pytest.raises(ValueError, match=r"x must have shape \[n, d\]"):
        GaussianProcessPosterior(rbf, [0.0, 1.0], [0.0, 1.0], 1e-3)
    with pytest.raises(ValueError, match="num_fantasies"):
        kgm.normal_quantiles(0)
