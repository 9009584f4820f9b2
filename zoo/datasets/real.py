"""Real data shipped in the package (``zoo/data/``): Fisher's iris and the UCI digits.

Every loader returns NumPy arrays (``float32`` features, ``int64`` labels) read from the
files beside the ``zoo`` package; nothing is downloaded and no TensorFlow is imported.
"""

from __future__ import annotations

import functools
import math
import pathlib

import numpy as np

from kerasprob.validation import check_bool, check_finite_real, check_seed

__all__ = [
    "IRIS_CLASSES",
    "IRIS_FEATURES",
    "digits_flat_dequantized",
    "load_co2",
    "load_digits",
    "load_iris",
]

# zoo/data/, listed in pyproject's package-data (zoo = ["data/*"]).
_DATA_DIR = pathlib.Path(__file__).resolve().parent.parent / "data"

IRIS_FEATURES = (
    "sepal length (cm)",
    "sepal width (cm)",
    "petal length (cm)",
    "petal width (cm)",
)
IRIS_CLASSES = ("setosa", "versicolor", "virginica")


@functools.cache
def _iris_arrays():
    path = _DATA_DIR / "iris.csv"
    with open(path, encoding="ascii") as f:
        header = f.readline().strip().split(",")
        table = np.loadtxt(f, delimiter=",", dtype=np.float64)
    n_rows, n_features = int(header[0]), int(header[1])
    if table.shape != (n_rows, n_features + 1) or tuple(header[2:]) != IRIS_CLASSES:
        raise RuntimeError(f"{path} is corrupt: header {header}, table shape {table.shape}")
    x = table[:, :n_features].astype(np.float32)
    y = table[:, n_features].astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def load_iris(return_labels=True):
    """Fisher's iris data: 150 flowers, 4 measurements, 3 species (50 each).

    Columns are ``IRIS_FEATURES`` (sepal length, sepal width, petal length, petal width,
    in cm); labels index ``IRIS_CLASSES`` (0 setosa, 1 versicolor, 2 virginica). This is
    the copy distributed with scikit-learn (``sklearn/datasets/data/iris.csv``), which
    matches Fisher's paper (two rows of the UCI copy differ from it).

    Args:
        return_labels: bool. If True return ``(x, y)``, else only ``x``.

    Returns:
        x: float32 ``[150, 4]``.
        y: int64 ``[150]`` with values in ``{0, 1, 2}`` (only if ``return_labels``).

    References:
        R. A. Fisher (1936). The use of multiple measurements in taxonomic problems.
        Annals of Eugenics 7 (2): 179-188. The data are in the public domain.
    """
    return_labels = check_bool("return_labels", return_labels)
    x, y = _iris_arrays()
    if return_labels:
        return x.copy(), y.copy()
    return x.copy()


@functools.cache
def _digits_arrays():
    path = _DATA_DIR / "digits.npz"
    with np.load(path) as data:
        images = data["images"]
        target = data["target"]
    if images.shape != (1797, 8, 8) or target.shape != (1797,):
        raise RuntimeError(f"{path} is corrupt: shapes {images.shape}, {target.shape}")
    x = images.astype(np.float32)
    y = target.astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


@functools.cache
def _co2_table():
    table = np.loadtxt(_DATA_DIR / "co2_monthly.csv", delimiter=",", skiprows=1)
    return table[:, 0], table[:, 1], table[:, 2]  # year, month, ppm


def load_co2(dtype="float32"):
    """Monthly mean atmospheric CO2 at Mauna Loa, March 1958 to December 2001: 521 months.

    The monthly means of the Scripps weekly averages from continuous air samples (the
    series statsmodels ships as ``datasets.co2``; months without a weekly value are left
    out, as in scikit-learn's CO2 example and GPML chapter 5). Time is the decimal year at
    the middle of the month, ``year + (month - 0.5) / 12``.

    Args:
        dtype: ``"float32"`` (as the other loaders) or ``"float64"`` (GP users' precision).

    Returns:
        t: ``[521, 1]``, decimal years 1958.21 .. 2001.96.
        co2: ``[521]``, parts per million (ppmv, 1999 calibration scale).

    References:
        Keeling, C. D. & Whorf, T. P. (2004). Atmospheric CO2 concentrations derived from
        flask air samples at sites in the SIO network. In Trends: A Compendium of Data on
        Global Change. CDIAC, Oak Ridge National Laboratory. Public domain.
        Rasmussen, C. E. & Williams, C. K. I. (2006). GPML, section 5.4.3.
    """
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64'. Received: dtype={dtype!r}")
    year, month, ppm = _co2_table()
    t = (year + (month - 0.5) / 12.0)[:, None]
    return t.astype(dtype), ppm.astype(dtype)


def load_digits(return_labels=True):
    """The UCI optical handwritten digits, 8 x 8: 1797 images with integer values 0..16.

    Each pixel counts the "on" pixels of a 4 x 4 block of a 32 x 32 binary bitmap, so
    values are integers in ``0..16`` (returned as floats, not rescaled). This is the test
    part of the UCI set, as distributed with scikit-learn (``digits.csv.gz``); it is shipped
    here as ``zoo/data/digits.npz`` (uint8, compressed).

    Args:
        return_labels: bool. If True return ``(x, y)``, else only ``x``.

    Returns:
        x: float32 ``[1797, 8, 8]``, values in ``{0, 1, ..., 16}``.
        y: int64 ``[1797]``, the digit ``0..9`` (only if ``return_labels``).

    References:
        E. Alpaydin and C. Kaynak (1998). Optical Recognition of Handwritten Digits
        [data set]. UCI Machine Learning Repository. https://doi.org/10.24432/C50P49.
        Licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
    """
    return_labels = check_bool("return_labels", return_labels)
    x, y = _digits_arrays()
    if return_labels:
        return x.copy(), y.copy()
    return x.copy()


def digits_flat_dequantized(seed=0, test_fraction=0.2):
    """The flow benchmark's digits: 64-d, uniform dequantization, divided by 17, split.

    ``x = (d + u) / 17`` with ``d`` the integer pixels ``0..16`` of ``load_digits`` flattened
    to 64 values and ``u ~ U[0, 1)^64`` fresh noise per image, so ``x`` lies in ``[0, 1)``.
    Rows are shuffled with ``seed`` before the split; the first
    ``floor(1797 * (1 - test_fraction))`` rows train (1437 train / 360 test by default).

    Args:
        seed: non-negative int; the permutation and the noise are drawn from
            ``numpy.random.default_rng(seed)`` (permutation first).
        test_fraction: float in ``(0, 1)``, the share of rows held out.

    Returns:
        x_train: float32 ``[n_train, 64]`` in ``[0, 1)``.
        x_test: float32 ``[n_test, 64]`` in ``[0, 1)``.

    References:
        L. Theis, A. van den Oord and M. Bethge (2016). A note on the evaluation of
        generative models. ICLR (uniform dequantization of discrete data).
    """
    seed = check_seed("seed", seed)
    test_fraction = check_finite_real(
        "test_fraction", test_fraction, greater_than=0.0, less_than=1.0
    )
    images, _ = _digits_arrays()
    d = images.reshape(len(images), 64).astype(np.float64)  # [1797, 64]
    n = len(d)
    n_train = int(math.floor(n * (1.0 - test_fraction)))
    if n_train < 1 or n_train > n - 1:
        raise ValueError(
            "test_fraction leaves an empty split of the 1797 digits. "
            f"Received: test_fraction={test_fraction!r}"
        )
    rng = np.random.default_rng(seed)
    d = d[rng.permutation(n)]
    x = ((d + rng.random(d.shape)) / 17.0).astype(np.float32)  # [1797, 64]
    # float32 rounding could turn 16.9999999/17 into exactly 1.0; keep the interval half-open.
    x = np.minimum(x, np.nextafter(np.float32(1.0), np.float32(0.0)))
    return x[:n_train], x[n_train:]
