"""Tests for the kerasprob.validation checks shared with zoo.datasets: a finite real in an
interval, a non-negative integer seed, a numpy Generator or seed, an array of points."""

import math
import subprocess
import sys

import numpy as np
import pytest

from kerasprob import validation as v


@pytest.mark.parametrize(
    "bounds, good, bad, where",
    [
        ({}, [0, -3.5, 1e300, np.float32(2.0), np.int64(7)], [math.inf, math.nan], ""),
        ({"greater_than": 0.0, "less_than": 1.0}, [0.5, 1e-12], [0.0, 1.0, 1.5], " in (0, 1)"),
        ({"at_least": 0.0, "at_most": 1}, [0.0, 1, 0.25], [-1e-12, 1.0000001], " in [0, 1]"),
        ({"greater_than": -1, "at_most": 2.5}, [2.5, -0.5], [-1, 3], " in (-1, 2.5]"),
        ({"at_least": 0.01}, [0.01, 5], [0.0099, -math.inf], " >= 0.01"),
        ({"greater_than": 0}, [1e-300], [0, -2.0], " > 0"),
        ({"less_than": 2 * math.pi}, [0.0, -100], [2 * math.pi, 7], f" < {2 * math.pi!r}"),
        ({"at_most": -3}, [-3, -4.5], [-2.9], " <= -3"),
    ],
)
def test_check_finite_real_intervals(bounds, good, bad, where):
    for value in good:
        out = v.check_finite_real("t", value, **bounds)
        assert type(out) is float and out == float(value)
    for value in bad:
        with pytest.raises(ValueError) as info:
            v.check_finite_real("t", value, **bounds)
        assert str(info.value) == f"t must be a finite real number{where}. Received: t={value!r}"


@pytest.mark.parametrize("value", ["3", None, True, np.bool_(False), [1.0], 1 + 2j])
def test_check_finite_real_refuses_non_reals_with_value_error(value):
    with pytest.raises(ValueError, match=r"^a must be a finite real number >= 0\. Received: a="):
        v.check_finite_real("a", value, at_least=0)


def test_check_finite_real_refuses_two_bounds_on_one_side():
    with pytest.raises(TypeError, match="greater_than or at_least"):
        v.check_finite_real("t", 1.0, greater_than=0, at_least=0)
    with pytest.raises(TypeError, match="less_than or at_most"):
        v.check_finite_real("t", 1.0, less_than=2, at_most=2)


def test_check_seed():
    """One rule for integer seeds: ints in [0, 2**31), what TF's stateless ops and numpy's
    default_rng both take."""
    assert v.check_seed("seed", 0) == 0 and type(v.check_seed("seed", np.int64(5))) is int
    assert v.check_seed("seed", 2**31 - 1) == 2**31 - 1
    assert v.check_seed("seed", None, allow_none=True) is None
    for value in [-1, 2**31, 2**80, 1.0, "0", None, True, np.bool_(True)]:
        with pytest.raises(ValueError) as info:
            v.check_seed("seed", value)
        assert str(info.value) == f"seed must be an int in [0, 2**31). Received: seed={value!r}"
    with pytest.raises(ValueError, match=r"seed must be None or an int in \[0, 2\*\*31\)"):
        v.check_seed("seed", -1, allow_none=True)


def test_check_rng_passes_generators_and_seeds_default_rng():
    rng = np.random.default_rng(3)
    assert v.check_rng("rng", rng) is rng
    np.testing.assert_array_equal(
        v.check_rng("rng", 11).random(5), np.random.default_rng(11).random(5)
    )
    for value in ["abc", -1, 2.0, None, True, np.random.RandomState(0)]:
        with pytest.raises(ValueError, match=r"^rng must be a numpy\.random\.Generator or a "):
            v.check_rng("rng", value)


def test_check_points():
    out = v.check_points("x", [[1, 2], [3, 4]], 2)
    assert out.dtype == np.float64 and out.shape == (2, 2)
    np.testing.assert_array_equal(out, [[1.0, 2.0], [3.0, 4.0]])
    assert v.check_points("x", np.zeros((5, 4, 3), np.float32), 3).shape == (5, 4, 3)
    assert v.check_points("x", [0.5, 0.25], 2).shape == (2,)  # one point
    with pytest.raises(ValueError) as info:
        v.check_points("x", np.zeros((4, 3)), 2)
    assert str(info.value) == (
        "x must be an array of 2-D points of shape [..., 2]. Received: x with shape (4, 3)"
    )
    with pytest.raises(ValueError, match=r"Received: x with shape \(\)$"):
        v.check_points("x", 3.0, 2)
    with pytest.raises(ValueError, match=r"Received: z=\[\['a', 'b'\]\]$"):
        v.check_points("z", [["a", "b"]], 2)
    with pytest.raises(ValueError, match=r"3-D points .* Received: y=\[\[1, 2, 3\], \[4\]\]"):
        v.check_points("y", [[1, 2, 3], [4]], 3)  # ragged


def test_validation_imports_only_numpy():
    code = (
        "import sys, types\n"
        f"m = types.ModuleType('kerasprob'); m.__path__ = [{v.__file__.rsplit('/', 1)[0]!r}]\n"
        "sys.modules['kerasprob'] = m\n"
        "import kerasprob.validation\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('tensorflow', 'tf_keras')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
