"""Embedded data sets for the zoo: real data shipped in the package, toy densities made by it.

Nothing here downloads anything and nothing here imports TensorFlow: every loader returns
NumPy arrays (``float32`` features, ``int64`` labels), so the modules are cheap to import and
usable from the command line (``python -m zoo fit vae --data digits``) and from tests.
Arguments are checked with ``kerasprob.validation`` (errors name the argument and echo it).

* ``zoo.datasets.real``: data files in ``zoo/data/``. ``load_iris``, Fisher's iris,
  150 x 4 (public domain); ``load_digits``, the UCI optical handwritten digits, 1797
  images of 8 x 8 (CC BY 4.0), and ``digits_flat_dequantized``, the flow benchmark's
  64-d dequantized split.
  ``load_co2``, monthly Mauna Loa CO2 1958-2001, 521 months (public domain).
* ``zoo.datasets.toy2d``: toy 2-D densities, samplers with an exact numpy log-density:
  ``make_banana`` / ``banana_log_prob``, ``make_two_moons`` / ``two_moons_log_prob``
  (exact up to quadrature), ``make_gaussian_mixture_2d`` / ``gaussian_mixture_log_prob``,
  ``make_checkerboard`` / ``checkerboard_log_prob``.
* ``zoo.datasets.two_sample``: ``make_gaussian_pair``, the density-ratio post's
  ``p = N(1, 1)``, ``q = N(0, 2^2)`` (``gaussian_pair_log_ratio``, ``GAUSSIAN_PAIR_KL``).
* ``zoo.datasets.random_flow``: the random normalizing flow of the course write-up in
  closed form (``sample_random_flow_params``, ``flow_forward``, ``flow_inverse``,
  ``flow_log_prob``, ``sample_flow``) and the VAE data set of its contour images
  (``make_flow_images`` / ``load_flow_images``, 36 x 36 x 3).
* ``zoo.datasets.rendering``: the filled-contour rasterizer those images are drawn with
  (matplotlib's ``contourf`` in pure numpy).

``DATASETS`` maps a short name to a loader that needs no argument:

>>> from zoo.datasets import DATASETS
>>> x, y = DATASETS["iris"]()
>>> x.shape, y.shape
((150, 4), (150,))
"""

from zoo.datasets.random_flow import (
    FLOW_BASE_SCALE,
    FlowParams,
    flow_forward,
    flow_inverse,
    flow_log_prob,
    load_flow_images,
    make_flow_images,
    sample_flow,
    sample_random_flow_params,
)
from zoo.datasets.real import (
    IRIS_CLASSES,
    IRIS_FEATURES,
    digits_flat_dequantized,
    load_co2,
    load_digits,
    load_iris,
)
from zoo.datasets.toy2d import (
    banana_log_prob,
    checkerboard_log_prob,
    gaussian_mixture_log_prob,
    make_banana,
    make_checkerboard,
    make_gaussian_mixture_2d,
    make_two_moons,
    two_moons_log_prob,
)
from zoo.datasets.two_sample import (
    GAUSSIAN_PAIR_KL,
    gaussian_pair_log_ratio,
    make_gaussian_pair,
)

__all__ = [
    "DATASETS",
    "FLOW_BASE_SCALE",
    "GAUSSIAN_PAIR_KL",
    "IRIS_CLASSES",
    "IRIS_FEATURES",
    "FlowParams",
    "banana_log_prob",
    "checkerboard_log_prob",
    "digits_flat_dequantized",
    "flow_forward",
    "flow_inverse",
    "flow_log_prob",
    "gaussian_mixture_log_prob",
    "gaussian_pair_log_ratio",
    "load_co2",
    "load_digits",
    "load_flow_images",
    "load_iris",
    "make_banana",
    "make_checkerboard",
    "make_flow_images",
    "make_gaussian_mixture_2d",
    "make_gaussian_pair",
    "make_two_moons",
    "sample_flow",
    "sample_random_flow_params",
    "two_moons_log_prob",
]

# Loaders that need no argument, for the command line. "iris" and "digits" return
# (x, y); the 2-D toy densities return x of shape [2000, 2]; "flow_images" returns
# (x_train, x_val); "gaussian_pair" returns {"x_p", "x_q"}.
DATASETS = {
    "iris": load_iris,
    "digits": load_digits,
    "banana": make_banana,
    "two_moons": make_two_moons,
    "gaussian_mixture": make_gaussian_mixture_2d,
    "checkerboard": make_checkerboard,
    "flow_images": load_flow_images,
    "co2": load_co2,
    "gaussian_pair": make_gaussian_pair,
}
