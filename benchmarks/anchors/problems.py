"""Benchmark functions for the tuning benchmark, shared by our side and the anchors (numpy
only): ``(lower bounds, upper bounds, f, global minimum)``, and the initial designs."""

import numpy as np


def oned(x):
    """The seed post's f(x) = sin(3x) + x^2 - 0.7x on [-1, 2]."""
    return np.sin(3 * x[0]) + x[0] ** 2 - 0.7 * x[0]


def branin(x):
    x1, x2 = x
    return ((x2 - 5.1 / (4 * np.pi**2) * x1**2 + 5 / np.pi * x1 - 6) ** 2
            + 10 * (1 - 1 / (8 * np.pi)) * np.cos(x1) + 10)


_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(x):
    x = np.asarray(x)
    return -float(_H6_ALPHA @ np.exp(-(_H6_A * (x[None] - _H6_P) ** 2).sum(1)))


# The 1-D minimum: found on a fine grid (f is smooth; grid step 3e-6).
_GRID = np.linspace(-1, 2, 1_000_001)
PROBLEMS = {
    "oned": ([-1.0], [2.0], oned, float(np.min(oned([_GRID])))),
    "branin": ([-5.0, 0.0], [10.0, 15.0], branin, 0.397887357729738),
    "hartmann6": ([0.0] * 6, [1.0] * 6, hartmann6, -3.32236801141551),
}


def initial_design(name, seed):
    """``[2 (d + 1), d]`` uniform points of the unit cube, the same for every method."""
    d = len(PROBLEMS[name][0])
    return np.random.default_rng([seed, 2024]).uniform(size=(2 * (d + 1), d))
