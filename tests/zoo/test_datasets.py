"""Tests for zoo.datasets: shipped data, toy densities against their samplers, flow images."""

import functools
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from zoo import datasets as ds
from zoo.datasets import random_flow, real, rendering

PACKAGE_DIR = pathlib.Path(ds.__file__).parent
REPO_DIR = PACKAGE_DIR.parents[1]
MODULES = ("real", "toy2d", "two_sample", "random_flow", "rendering")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def midpoint_grid(lo1, hi1, lo2, hi2, step1, step2):
    """Midpoints [m2, m1, 2] of a regular grid and the area of one cell."""
    c1 = np.arange(lo1 + step1 / 2, hi1, step1)
    c2 = np.arange(lo2 + step2 / 2, hi2, step2)
    return np.stack(np.meshgrid(c1, c2), axis=-1), step1 * step2


def grid_masses(log_prob, grid, area):
    """Probability mass exp(log_prob) * area of each grid cell, float64 [m2, m1]."""
    return np.exp(log_prob(grid).astype(np.float64)) * area


def grid_moments(masses, grid):
    """Total mass, mean [2] and covariance [2, 2] of the grid masses."""
    mass = masses.sum()
    pts = grid.reshape(-1, 2)
    w = masses.reshape(-1) / mass
    mean = w @ pts
    centred = pts - mean
    cov = (centred * w[:, None]).T @ centred
    return mass, mean, cov


def total_variation(samples, masses, grid, edges1, edges2):
    """TV distance between the sample histogram and the grid's bin masses (+ outside)."""
    pts = grid.reshape(-1, 2)
    expected, _, _ = np.histogram2d(
        pts[:, 0], pts[:, 1], [edges1, edges2], weights=masses.reshape(-1)
    )
    observed, _, _ = np.histogram2d(samples[:, 0], samples[:, 1], [edges1, edges2])
    observed = observed / len(samples)
    expected_out = 1.0 - expected.sum()
    observed_out = 1.0 - observed.sum()
    return 0.5 * (np.abs(observed - expected).sum() + abs(observed_out - expected_out))


# (name, sampler, log_prob, grid (lo1, hi1, lo2, hi2, step1, step2), histogram box)
TOYS = [
    (
        "banana",
        ds.make_banana,
        ds.banana_log_prob,
        (-6.0, 110.0, -22.0, 22.0, 0.1, 0.05),
        (-3.0, 30.0, -12.0, 12.0),
    ),
    (
        "two_moons",
        ds.make_two_moons,
        ds.two_moons_log_prob,
        (-2.0, 3.0, -1.5, 2.0, 0.02, 0.02),
        (-1.4, 2.4, -0.9, 1.4),
    ),
    (
        "gaussian_mixture",
        ds.make_gaussian_mixture_2d,
        ds.gaussian_mixture_log_prob,
        (-3.5, 3.5, -3.5, 3.5, 0.02, 0.02),
        (-2.6, 2.6, -2.6, 2.6),
    ),
    (
        "checkerboard",
        ds.make_checkerboard,
        ds.checkerboard_log_prob,
        (-5.0, 5.0, -5.0, 5.0, 0.02, 0.02),
        (-4.0, 4.0, -4.0, 4.0),
    ),
]
TOY_IDS = [t[0] for t in TOYS]


@functools.cache
def toy_grid(name):
    """(grid, masses) of the named toy density on its integration grid."""
    _, _, log_prob, box, _ = TOYS[TOY_IDS.index(name)]
    grid, area = midpoint_grid(*box)
    return grid, grid_masses(log_prob, grid, area)


@pytest.fixture(scope="module")
def flow_images_default():
    """The default flow-image split (1000 images), computed once for the module."""
    return ds.load_flow_images()


def matplotlib_contour_image(z_grid):
    """The write-up's get_image_array_from_density_values, at the notebook's 72 dpi."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    g = np.linspace(-1.0, 1.0, len(z_grid))
    xx, yy = np.meshgrid(g, g)
    fig = Figure(figsize=(0.5, 0.5), dpi=72)
    canvas = FigureCanvasAgg(fig)
    ax = fig.gca()
    ax.contourf(xx, yy, z_grid, cmap="hot", levels=100)
    ax.axis("off")
    fig.tight_layout(pad=0)
    ax.margins(0)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


# --------------------------------------------------------------------------------------------
# Module hygiene
# --------------------------------------------------------------------------------------------


def test_modules_do_not_import_tensorflow():
    # Import the package and its modules without running the __init__ of zoo or kerasprob
    # (both import TensorFlow): empty stand-ins with the real __path__ let zoo.datasets.*
    # and kerasprob.validation load on their own. Nothing may pull TensorFlow (or
    # matplotlib, scikit-learn) in.
    roots = {name: str(REPO_DIR / name) for name in ("zoo", "kerasprob")}
    code = (
        "import sys, types\n"
        f"for name, path in {roots!r}.items():\n"
        "    m = types.ModuleType(name); m.__path__ = [path]; sys.modules[name] = m\n"
        f"for module in {MODULES!r}:\n"
        "    __import__('zoo.datasets.' + module)\n"
        "import zoo.datasets as m\n"
        "m.load_iris(); m.load_digits(); m.make_flow_images(2)\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in "
        "('tensorflow', 'tf_keras', 'matplotlib', 'sklearn')))\n"
        "print(sorted(k for k in sys.modules if k.startswith('zoo.datasets.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "[]"
    assert lines[1] == str(sorted("zoo.datasets." + m for m in MODULES))


def test_all_names_exist_and_data_files_ship_in_zoo_data():
    for name in ds.__all__:
        assert hasattr(ds, name), name
    # pyproject's package-data zoo = ["data/*"] ships zoo/data/; the loaders read from there.
    data_dir = PACKAGE_DIR.parent / "data"
    assert real._DATA_DIR == data_dir.resolve()
    assert (data_dir / "iris.csv").is_file()
    assert (data_dir / "digits.npz").is_file()


def test_datasets_registry_loads_without_arguments(flow_images_default):
    assert set(ds.DATASETS) == {
        "iris",
        "digits",
        "banana",
        "two_moons",
        "gaussian_mixture",
        "checkerboard",
        "flow_images",
        "co2",
        "gaussian_pair",
    }
    for name, loader in ds.DATASETS.items():
        result = loader()
        arrays = tuple(result.values()) if isinstance(result, dict) else (
            result if isinstance(result, tuple) else (result,))
        assert arrays[0].dtype == np.float32, name
        assert len(arrays[0]) > 0, name
    x, y = ds.DATASETS["iris"]()
    assert x.shape == (150, 4) and y.shape == (150,)
    assert ds.DATASETS["banana"]().shape == (2000, 2)
    x_train, x_val = ds.DATASETS["flow_images"]()
    np.testing.assert_array_equal(x_train, flow_images_default[0])


# --------------------------------------------------------------------------------------------
# Iris
# --------------------------------------------------------------------------------------------


def test_iris_shapes_values_and_known_means():
    x, y = ds.load_iris()
    assert x.shape == (150, 4) and x.dtype == np.float32
    assert y.shape == (150,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [50, 50, 50])
    np.testing.assert_array_equal(
        np.round(x.astype(np.float64).mean(axis=0), 3), [5.843, 3.057, 3.758, 1.199]
    )
    # First and last rows of Fisher's table.
    np.testing.assert_allclose(x[0], [5.1, 3.5, 1.4, 0.2], rtol=1e-6)
    np.testing.assert_allclose(x[-1], [5.9, 3.0, 5.1, 1.8], rtol=1e-6)
    assert ds.IRIS_FEATURES[0] == "sepal length (cm)" and len(ds.IRIS_FEATURES) == 4
    assert ds.IRIS_CLASSES == ("setosa", "versicolor", "virginica")


def test_iris_without_labels_and_returns_independent_copies():
    x = ds.load_iris(return_labels=False)
    assert isinstance(x, np.ndarray) and x.shape == (150, 4)
    x[:] = -1.0
    assert ds.load_iris(return_labels=False)[0, 0] == np.float32(5.1)


# --------------------------------------------------------------------------------------------
# Digits
# --------------------------------------------------------------------------------------------


def test_digits_shapes_values_and_class_counts():
    x, y = ds.load_digits()
    assert x.shape == (1797, 8, 8) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 16.0
    np.testing.assert_array_equal(x, np.round(x))
    counts = np.bincount(y, minlength=10)
    assert counts.sum() == 1797 and len(counts) == 10
    np.testing.assert_array_equal(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    assert x.astype(np.int64).sum() == 561718  # fingerprint of the UCI test set
    # The first image is a zero.
    assert y[0] == 0
    np.testing.assert_array_equal(x[0, 0], [0, 0, 5, 13, 9, 1, 0, 0])


def test_digits_flat_dequantized_protocol():
    x_train, x_test = ds.digits_flat_dequantized()
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    both = np.concatenate([x_train, x_test])
    assert both.min() >= 0.0 and both.max() < 1.0
    # floor(17 x) recovers the integer pixels: the rows are a permutation of the digits.
    recovered = np.floor(both.astype(np.float64) * 17.0).astype(np.int64)
    original = ds.load_digits(return_labels=False).reshape(1797, 64).astype(np.int64)
    np.testing.assert_array_equal(
        recovered[np.lexsort(recovered.T)], original[np.lexsort(original.T)]
    )
    # The noise is uniform on [0, 1): mean 1/2, variance 1/12.
    u = both.astype(np.float64) * 17.0 - recovered
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    # Shuffled: not the file order.
    assert not np.array_equal(recovered[:100], original[:100])


def test_digits_flat_dequantized_determinism_and_fraction():
    a_train, a_test = ds.digits_flat_dequantized(seed=3)
    b_train, b_test = ds.digits_flat_dequantized(seed=3)
    np.testing.assert_array_equal(a_train, b_train)
    np.testing.assert_array_equal(a_test, b_test)
    c_train, _ = ds.digits_flat_dequantized(seed=4)
    assert not np.array_equal(a_train, c_train)
    train, test = ds.digits_flat_dequantized(test_fraction=0.5)
    assert len(train) == 898 and len(test) == 899


# --------------------------------------------------------------------------------------------
# Toy densities
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, sampler, log_prob, box, hist_box", TOYS, ids=TOY_IDS)
def test_toy_sampler_shape_dtype_determinism(name, sampler, log_prob, box, hist_box):
    x = sampler(500, seed=1)
    assert x.shape == (500, 2) and x.dtype == np.float32
    assert np.all(np.isfinite(x))
    np.testing.assert_array_equal(x, sampler(500, seed=1))
    assert not np.array_equal(x, sampler(500, seed=2))
    lp = log_prob(x)
    assert lp.shape == (500,) and lp.dtype == np.float32
    assert np.all(np.isfinite(lp)), "every sample must have positive density"
    # Batch shapes are kept.
    assert log_prob(x.reshape(5, 100, 2)).shape == (5, 100)


@pytest.mark.parametrize("name, sampler, log_prob, box, hist_box", TOYS, ids=TOY_IDS)
def test_toy_log_prob_integrates_to_one(name, sampler, log_prob, box, hist_box):
    grid, masses = toy_grid(name)
    mass, _, _ = grid_moments(masses, grid)
    assert abs(mass - 1.0) < 1e-2, mass


@pytest.mark.parametrize("name, sampler, log_prob, box, hist_box", TOYS, ids=TOY_IDS)
def test_toy_samples_agree_with_log_prob(name, sampler, log_prob, box, hist_box):
    n = 50_000
    x = sampler(n, seed=123).astype(np.float64)
    grid, masses = toy_grid(name)
    _, mean, cov = grid_moments(masses, grid)
    sample_mean = x.mean(axis=0)
    sample_cov = np.cov(x.T)
    standard_error = np.sqrt(np.diag(cov) / n)
    np.testing.assert_array_less(np.abs(sample_mean - mean), 5 * standard_error + 1e-3)
    scale = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    np.testing.assert_array_less(np.abs(sample_cov - cov) / scale, 0.05)
    lo1, hi1, lo2, hi2 = hist_box
    edges1 = np.linspace(lo1, hi1, 13)
    edges2 = np.linspace(lo2, hi2, 13)
    tv = total_variation(x, masses, grid, edges1, edges2)
    assert tv < 0.04, tv


def test_toy_closed_form_moments():
    _, mean, cov = grid_moments(*toy_grid("banana")[::-1])
    # x2 ~ N(0, 16), x1 = x2^2 / 4 + N(0, 1): E = (4, 0), Var x1 = 2 * 16^2 / 16 + 1 = 33.
    np.testing.assert_allclose(mean, [4.0, 0.0], atol=1e-3)
    np.testing.assert_allclose(cov, [[33.0, 0.0], [0.0, 16.0]], atol=2e-2)
    _, mean, _ = grid_moments(*toy_grid("two_moons")[::-1])
    # E[cos t] = 0, E[sin t] = 2 / pi on U[0, pi]; the moons average to (1/2, 1/4).
    np.testing.assert_allclose(mean, [0.5, 0.25], atol=1e-3)
    _, mean, cov = grid_moments(*toy_grid("gaussian_mixture")[::-1])
    # Ring of radius 2, 8 equal weights: E = 0, Cov = (r^2 / 2 + s^2) I.
    np.testing.assert_allclose(mean, [0.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(cov, (2.0 + 0.04) * np.eye(2), atol=1e-3)


def test_banana_log_prob_value():
    # log N(2; 0, 16) + log N(1; 1, 1) at (x1, x2) = (1, 2).
    expected = (
        -0.5 * (2 / 4) ** 2 - math.log(4 * math.sqrt(2 * math.pi)) - 0.5 * math.log(2 * math.pi)
    )
    np.testing.assert_allclose(ds.banana_log_prob([1.0, 2.0]), expected, rtol=1e-6)


def test_checkerboard_support():
    lp = ds.checkerboard_log_prob([[-3.0, 1.0], [-1.0, 1.0], [5.0, 0.5], [1.0, 1.0]])
    np.testing.assert_allclose(lp[[0, 3]], -math.log(32.0), rtol=1e-6)
    assert np.all(np.isneginf(lp[[1, 2]]))
    x = ds.make_checkerboard(10_000, seed=0)
    assert np.all(np.abs(x) <= 4.0)


def test_two_moons_labels_and_noise_free_geometry():
    x, y = ds.make_two_moons(1000, noise=0.0, seed=0, return_labels=True)
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    outer = x[y == 0].astype(np.float64)
    inner = x[y == 1].astype(np.float64)
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0, atol=1e-6)
    # Wider noise gives a density that still integrates to one.
    grid, area = midpoint_grid(-2.5, 3.5, -2.0, 2.5, 0.02, 0.02)
    mass, _, _ = grid_moments(
        grid_masses(lambda g: ds.two_moons_log_prob(g, noise=0.3), grid, area), grid
    )
    assert abs(mass - 1.0) < 1e-2


def test_gaussian_mixture_parameters():
    x = ds.make_gaussian_mixture_2d(20_000, seed=0, n_components=3, radius=5.0, scale=0.1)
    radius = np.hypot(x[:, 0], x[:, 1])
    assert abs(np.median(radius) - 5.0) < 0.02
    grid, area = midpoint_grid(-6.0, 6.0, -6.0, 6.0, 0.01, 0.01)
    log_prob = lambda g: ds.gaussian_mixture_log_prob(  # noqa: E731
        g, n_components=3, radius=5.0, scale=0.1
    )
    mass, _, _ = grid_moments(grid_masses(log_prob, grid, area), grid)
    assert abs(mass - 1.0) < 1e-2


# --------------------------------------------------------------------------------------------
# The random flow
# --------------------------------------------------------------------------------------------


def test_random_flow_params_distribution_and_determinism():
    rng = np.random.default_rng(0)
    params = [ds.sample_random_flow_params(rng) for _ in range(20_000)]
    a = np.array([p.a for p in params])
    theta = np.array([p.theta for p in params])
    assert abs(a.mean() - 3.0) < 0.03 and abs(a.std() - 1.0) < 0.03
    assert theta.min() >= 0.0 and theta.max() < 2 * math.pi
    assert abs(theta.mean() - math.pi) < 0.05
    assert ds.sample_random_flow_params(7) == ds.sample_random_flow_params(7)
    assert isinstance(ds.sample_random_flow_params(7), ds.FlowParams)


def test_flow_bijector_chain_formulas():
    a, theta = 2.5, 0.7
    z = np.array([[0.1, -0.2], [-0.3, 0.25], [0.0, 0.0]])
    # Step by step, as the write-up's bijectors.
    v = np.stack([z[:, 0], (z[:, 1] - 2.0) / 2.0], axis=-1)  # f2(f1(z))
    v = np.stack([v[:, 0], v[:, 1] + a * v[:, 0] ** 2], axis=-1)  # f3
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    expected = np.tanh(v @ rot.T)  # f5(f4(.))
    x = ds.flow_forward(z, a, theta)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ds.flow_inverse(x, a, theta), z, atol=1e-4)


def test_flow_log_prob_matches_change_of_variables():
    a, theta = 3.2, 1.9
    rng = np.random.default_rng(0)
    z = 0.3 * rng.standard_normal((50, 2))
    x = ds.flow_forward(z, a, theta).astype(np.float64)
    # log|det dx/dz| by central differences of the forward map (independent of the inverse).
    eps = 1e-6
    jac = np.empty((50, 2, 2))
    for j in range(2):
        dz = np.zeros(2)
        dz[j] = eps
        jac[:, :, j] = (
            random_flow._flow_forward(z + dz, a, theta)
            - random_flow._flow_forward(z - dz, a, theta)
        ) / (2 * eps)
    log_det = np.log(np.abs(np.linalg.det(jac)))
    log_base = -0.5 * np.sum(z**2, axis=-1) / 0.09 - math.log(2 * math.pi * 0.09)
    expected = log_base - log_det
    x_exact = random_flow._flow_forward(z, a, theta)
    np.testing.assert_allclose(random_flow._flow_log_prob(x_exact, a, theta), expected, atol=1e-5)
    np.testing.assert_allclose(ds.flow_log_prob(x, a, theta), expected, atol=2e-2)
    assert np.isneginf(ds.flow_log_prob([[1.0, 0.0], [0.2, -1.5]], a, theta)).all()


@pytest.mark.parametrize("a, theta", [(3.0, 0.5), (4.5, 2.0), (1.0, 4.0)])
def test_flow_density_integrates_to_one_and_matches_samples(a, theta):
    grid, area = midpoint_grid(-1.0, 1.0, -1.0, 1.0, 1 / 400, 1 / 400)
    log_prob = lambda g: ds.flow_log_prob(g, a, theta)  # noqa: E731
    masses = grid_masses(log_prob, grid, area)
    mass, _, _ = grid_moments(masses, grid)
    assert abs(mass - 1.0) < 1e-2
    x = ds.sample_flow(50_000, a, theta, seed=1)
    assert x.shape == (50_000, 2) and x.dtype == np.float32
    edges = np.linspace(-1.0, 1.0, 11)
    assert total_variation(x.astype(np.float64), masses, grid, edges, edges) < 0.03


# --------------------------------------------------------------------------------------------
# Flow images
# --------------------------------------------------------------------------------------------


def test_flow_images_shape_range_and_content():
    x = ds.make_flow_images(20, seed=0)
    assert x.shape == (20, 36, 36, 3) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    np.testing.assert_allclose(x.max(axis=(1, 2, 3)), 1.0)  # normalized per image
    for image in x:
        assert image.std() > 0.05, "image is blank"
        # Most of the canvas is the zero-density colour of "hot": near black (13, 0, 0)/255.
        np.testing.assert_allclose(
            np.median(image.reshape(-1, 3), axis=0), [13 / 255, 0, 0], atol=0.02
        )
        # The peak is white-hot.
        assert np.any(np.all(image > 0.95, axis=-1))


def test_flow_images_determinism_prefix_and_seeds():
    a = ds.make_flow_images(6, seed=5)
    np.testing.assert_array_equal(a, ds.make_flow_images(6, seed=5))
    np.testing.assert_array_equal(a[:3], ds.make_flow_images(3, seed=5))
    b = ds.make_flow_images(6, seed=6)
    assert np.abs(a - b).mean() > 0.01
    # Distinct images within one data set.
    assert np.abs(a[0] - a[1]).mean() > 0.01


def test_flow_images_other_size():
    x = ds.make_flow_images(2, seed=0, image_size=20)
    assert x.shape == (2, 20, 20, 3) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() == 1.0


def test_flow_images_match_matplotlib_contourf():
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(11)
    g = np.linspace(-1.0, 1.0, 100)
    grid = np.stack(np.meshgrid(g, g), axis=-1)
    same, close, diffs = [], [], []
    for _ in range(20):
        a, theta = ds.sample_random_flow_params(rng)
        z_grid = np.exp(random_flow._flow_log_prob(grid, a, theta))
        reference = matplotlib_contour_image(z_grid).astype(np.int64)
        assert reference.shape == (36, 36, 3)
        ours = random_flow._flow_image(a, theta, 36).astype(np.int64)
        d = np.abs(reference - ours).max(axis=-1)
        same.append(np.mean(d == 0))
        close.append(np.mean(d <= 10))
        diffs.append(np.abs(reference - ours).mean() / 255)
    assert np.mean(same) > 0.93, np.mean(same)
    assert np.mean(close) > 0.99, np.mean(close)
    assert np.mean(diffs) < 0.002, np.mean(diffs)


def test_contour_levels_and_colormap_match_matplotlib():
    matplotlib = pytest.importorskip("matplotlib")
    from matplotlib.ticker import MaxNLocator

    rng = np.random.default_rng(0)
    for _ in range(300):
        lo = float(rng.choice([0.0, 1e-12, rng.uniform(-5, 5)]))
        hi = lo + 10 ** rng.uniform(-6, 4)
        lev = MaxNLocator(101, min_n_ticks=1).tick_values(lo, hi)
        under = np.nonzero(lev < lo)[0]
        over = np.nonzero(lev > hi)[0]
        i0 = under[-1] if len(under) else 0
        i1 = over[0] + 1 if len(over) else len(lev)
        if i1 - i0 < 3:
            i0, i1 = 0, len(lev)
        np.testing.assert_allclose(
            rendering._contour_levels(lo, hi),
            lev[i0:i1],
            rtol=1e-12,
            atol=1e-12 * max(1.0, abs(hi)),
        )
    hot = matplotlib.colormaps["hot"](np.linspace(0.0, 1.0, 256))[:, :3]
    np.testing.assert_allclose(rendering._HOT_LUT, hot, atol=1e-12)


@pytest.mark.parametrize("grid_points", [100, 41])
def test_filled_contour_image_matches_matplotlib_on_a_skewed_gaussian(grid_points):
    # An off-centre, tilted Gaussian bump: a mirrored or transposed image would differ
    # from matplotlib's in most bright pixels.
    pytest.importorskip("matplotlib")
    g = np.linspace(-1.0, 1.0, grid_points)
    xx, yy = np.meshgrid(g, g)
    u, v = xx - 0.4, yy + 0.3
    z_grid = np.exp(-(u**2 / 0.08 + v**2 / 0.02 + u * v / 0.05))  # [G, G]
    reference = matplotlib_contour_image(z_grid).astype(np.int64)
    ours = rendering.filled_contour_image(z_grid, 36)
    assert ours.shape == (36, 36, 3) and ours.dtype == np.uint8
    d = np.abs(reference - ours.astype(np.int64)).max(axis=-1)
    assert np.mean(d == 0) > 0.93, np.mean(d == 0)
    assert np.mean(d <= 10) > 0.99, np.mean(d <= 10)
    # The brightest pixels surround the peak (x, y) = (0.4, -0.3): pixel column
    # (0.4 + 1) / 2 * 36 = 25.2, row (1 - (-0.3)) / 2 * 36 = 23.4 from the top (centres at +0.5).
    brightness = ours.astype(np.int64).sum(axis=-1)
    rows, cols = np.nonzero(brightness == brightness.max())
    assert abs(cols.mean() + 0.5 - 25.2) < 1.0 and abs(rows.mean() + 0.5 - 23.4) < 1.0
    # The flow images are this rasterizer applied to the flow density on the 100-point grid.
    a, theta = 2.0, 1.0
    flow_grid = np.exp(random_flow._flow_log_prob(np.stack(np.meshgrid(g, g), -1), a, theta))
    if grid_points == 100:
        np.testing.assert_array_equal(
            rendering.filled_contour_image(flow_grid, 36), random_flow._flow_image(a, theta, 36)
        )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"z_grid": np.zeros((4, 5))}, r"z_grid must be a square grid .* shape \(4, 5\)"),
        ({"z_grid": np.zeros(4)}, r"z_grid must be a square grid .* shape \(4,\)"),
        ({"z_grid": np.zeros((1, 1))}, r"G >= 2\. Received: z_grid with shape \(1, 1\)"),
        ({"z_grid": [["a", "b"], ["c", "d"]]}, r"z_grid must be a square grid .* of type list"),
        ({"z_grid": np.full((3, 3), np.nan)}, r"z_grid must be finite.* 9 NaN"),
        ({"z_grid": np.zeros((3, 3)), "image_size": 3}, r"image_size must be an integer >= 4"),
    ],
)
def test_filled_contour_image_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rendering.filled_contour_image(**kwargs)


def test_load_flow_images_split_and_cache(flow_images_default):
    x_train, x_val = flow_images_default
    assert x_train.shape == (800, 36, 36, 3) and x_val.shape == (200, 36, 36, 3)
    assert x_train.dtype == np.float32 and x_val.dtype == np.float32
    assert 0.0 <= min(x_train.min(), x_val.min()) and max(x_train.max(), x_val.max()) <= 1.0
    np.testing.assert_array_equal(x_train[:4], ds.make_flow_images(4, seed=0))
    # Cached: a second call returns equal copies that the caller may modify freely.
    again_train, again_val = ds.load_flow_images()
    np.testing.assert_array_equal(again_train, x_train)
    np.testing.assert_array_equal(again_val, x_val)
    again_train[:] = 0.0
    assert ds.load_flow_images()[0].max() == 1.0
    small_train, small_val = ds.load_flow_images(seed=1, n=10)
    assert small_train.shape == (8, 36, 36, 3) and small_val.shape == (2, 36, 36, 3)


# --------------------------------------------------------------------------------------------
# Argument validation
# --------------------------------------------------------------------------------------------

# Arguments of a wrong value (or of a wrong type, for the checks that answer every wrong
# argument with ValueError, as kerasprob.validation.check_positive_int does).
BAD_VALUES = [
    (ds.make_banana, {"n": -3}, "n"),
    (ds.make_banana, {"n": 0}, "n"),
    (ds.make_banana, {"n": 2.5}, "n"),
    (ds.make_banana, {"n": True}, "n"),
    (ds.make_banana, {"seed": -1}, "seed"),
    (ds.make_checkerboard, {"seed": "zero"}, "seed"),
    (ds.make_two_moons, {"noise": -0.1}, "noise"),
    (ds.make_two_moons, {"noise": float("nan")}, "noise"),
    (ds.make_gaussian_mixture_2d, {"n_components": 0}, "n_components"),
    (ds.make_gaussian_mixture_2d, {"scale": 0.0}, "scale"),
    (ds.make_gaussian_mixture_2d, {"radius": -1.0}, "radius"),
    (ds.digits_flat_dequantized, {"test_fraction": 0.0}, "test_fraction"),
    (ds.digits_flat_dequantized, {"test_fraction": 1.5}, "test_fraction"),
    (ds.digits_flat_dequantized, {"seed": 1.0}, "seed"),
    (ds.make_flow_images, {"n": -3}, "n"),
    (ds.make_flow_images, {"image_size": 2}, "image_size"),
    (ds.make_flow_images, {"seed": -2}, "seed"),
    (ds.load_flow_images, {"n": 1}, "n"),
    (ds.sample_random_flow_params, {"rng": "abc"}, "rng"),
    (ds.banana_log_prob, {"x": np.zeros((4, 3))}, "x"),
    (ds.checkerboard_log_prob, {"x": 3.0}, "x"),
    (ds.two_moons_log_prob, {"x": np.zeros((2, 2)), "noise": 0.0}, "noise"),
    (ds.gaussian_mixture_log_prob, {"x": [["a", "b"]]}, "x"),
    (ds.flow_log_prob, {"x": np.zeros((2, 2)), "a": "3", "theta": 0.0}, "a"),
    (ds.flow_forward, {"z": np.zeros((2, 5)), "a": 3.0, "theta": 0.0}, "z"),
    (ds.sample_flow, {"n": 0, "a": 3.0, "theta": 0.0}, "n"),
]


# Arguments of a wrong type: a bool flag given something else (kerasprob.validation.check_bool).
BAD_TYPES = [
    (ds.make_two_moons, {"return_labels": "yes"}, "return_labels"),
    (ds.load_iris, {"return_labels": 1}, "return_labels"),
    (ds.load_digits, {"return_labels": None}, "return_labels"),
]


@pytest.mark.parametrize(
    "fn, kwargs, arg", BAD_VALUES, ids=[f"{f.__name__}-{a}" for f, _, a in BAD_VALUES]
)
def test_bad_values_name_the_argument_and_value(fn, kwargs, arg):
    with pytest.raises(ValueError, match=rf"\b{arg}\b.*Received: {arg}[ =]") as info:
        fn(**kwargs)
    if arg != "x" and arg != "z":
        assert repr(kwargs[arg]) in str(info.value)


@pytest.mark.parametrize(
    "fn, kwargs, arg", BAD_TYPES, ids=[f"{f.__name__}-{a}" for f, _, a in BAD_TYPES]
)
def test_bad_types_name_the_argument_and_value(fn, kwargs, arg):
    with pytest.raises(TypeError, match=rf"\b{arg}\b.*Received: {arg}[ =]") as info:
        fn(**kwargs)
    assert repr(kwargs[arg]) in str(info.value)


def test_error_message_format():
    with pytest.raises(ValueError) as info:
        ds.make_banana(-3)
    assert str(info.value) == "n must be a positive integer. Received: n=-3"


def test_gaussian_pair_log_ratio_and_kl_are_the_closed_forms():
    from scipy.stats import norm

    pair = ds.make_gaussian_pair(n=200_000, seed=1)
    x = pair["x_p"][:, 0].astype(np.float64)
    exact = norm(1, 1).logpdf(x) - norm(0, 2).logpdf(x)
    np.testing.assert_allclose(ds.gaussian_pair_log_ratio(pair["x_p"]), exact, rtol=1e-10)
    assert abs(np.mean(exact) - ds.GAUSSIAN_PAIR_KL) < 4 * np.std(exact) / np.sqrt(len(x))
    assert abs(pair["x_q"].std() - 2.0) < 0.02 and abs(pair["x_p"].mean() - 1.0) < 0.01
