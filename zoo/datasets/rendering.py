"""Filled-contour rasterization in pure NumPy: what matplotlib's ``contourf`` draws.

``filled_contour_image`` turns values on a regular square grid into the uint8 RGB image
that ``contourf(X, Y, Z, cmap='hot', levels=100)`` on an axis-less figure rasterizes to
(Agg, no antialiasing), without importing matplotlib: matplotlib's level choice
(``MaxNLocator``), its ``hot`` colour table and the way Agg fills the band polygons are
ported here. ``zoo.datasets.random_flow.make_flow_images`` draws its images with it.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from kerasprob.validation import check_int_at_least

__all__ = ["filled_contour_image"]

# Matplotlib's "hot" colormap (segment data of matplotlib._cm._hot_data) as a 256-entry table,
# built as LinearSegmentedColormap does (linear interpolation at linspace(0, 1, 256)).
_HOT_SEGMENTS = (
    ((0.0, 0.0416), (0.365079, 1.0), (1.0, 1.0)),
    ((0.0, 0.0), (0.365079, 0.0), (0.746032, 1.0), (1.0, 1.0)),
    ((0.0, 0.0), (0.746032, 0.0), (1.0, 1.0)),
)
_HOT_LUT = np.stack(
    [
        np.interp(np.linspace(0.0, 1.0, 256), [p[0] for p in seg], [p[1] for p in seg])
        for seg in _HOT_SEGMENTS
    ],
    axis=-1,
)  # [256, 3]

# Tick steps of matplotlib's MaxNLocator (its default ``steps``), extended by a decade.
_STEPS = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0])
_EXTENDED_STEPS = np.concatenate([0.1 * _STEPS[:-1], _STEPS, [10.0 * _STEPS[1]]])

# Agg fills contour bands without antialiasing, in increasing order, and a band lands on
# every pixel it reaches into except by a sliver: a pixel shows the highest band that meets
# its square shrunk by this fraction of a side on each edge (fitted against matplotlib).
_PIXEL_INSET = 0.04


def _contour_levels(zmin, zmax, num_levels=100):
    """The levels ``contourf(..., levels=num_levels)`` picks for data in ``[zmin, zmax]``.

    A port of ``MaxNLocator(num_levels + 1, min_n_ticks=1).tick_values`` followed by the
    trimming of ``ContourSet._autolev`` (matplotlib 3.x, linear scale, ``extend='neither'``).
    """
    nbins = num_levels + 1
    vmin, vmax = float(zmin), float(zmax)
    maxabs = max(abs(vmin), abs(vmax))
    if maxabs < 1e6 / 1e-14 * np.finfo(float).tiny:  # matplotlib's _nonsingular
        vmin, vmax = -1e-13, 1e-13
    elif vmax - vmin <= maxabs * 1e-14:
        if vmax == 0 and vmin == 0:
            vmin, vmax = -1e-13, 1e-13
        else:
            vmin -= 1e-13 * abs(vmin)
            vmax += 1e-13 * abs(vmax)
    dv = vmax - vmin
    meanv = 0.5 * (vmax + vmin)
    if abs(meanv) / dv < 100:
        offset = 0.0
    else:
        offset = math.copysign(10 ** (math.log10(abs(meanv)) // 1), meanv)
    scale = 10 ** (math.log10(dv / nbins) // 1)
    _vmin, _vmax = vmin - offset, vmax - offset
    steps = _EXTENDED_STEPS * scale
    raw_step = (_vmax - _vmin) / nbins
    large = np.nonzero(steps >= raw_step)[0]
    istep = large[0] if len(large) else len(steps) - 1
    for step in steps[: istep + 1][::-1]:
        if offset != 0:
            tol = min(0.4999, max(1e-10, 10 ** (math.log10(abs(offset) / step) - 12)))
        else:
            tol = 1e-10
        best_vmin = (_vmin // step) * step
        d, m = divmod(_vmin - best_vmin, step)
        low = d + 1 if abs(m / step - 1) < tol else d
        d, m = divmod(_vmax - best_vmin, step)
        high = d if abs(m / step) < tol else d + 1
        ticks = np.arange(low, high + 1) * step + best_vmin
        if np.sum((ticks <= _vmax) & (ticks >= _vmin)) >= 1:
            break
    lev = ticks + offset
    under = np.nonzero(lev < zmin)[0]
    i0 = under[-1] if len(under) else 0
    over = np.nonzero(lev > zmax)[0]
    i1 = over[0] + 1 if len(over) else len(lev)
    if i1 - i0 < 3:
        i0, i1 = 0, len(lev)
    return lev[i0:i1]


def _render_filled_contour(z_grid, z_pixels, num_levels=100):
    """Colour pixels as ``contourf(X, Y, z_grid, cmap='hot', levels=num_levels)`` does.

    Levels come from the grid values (as matplotlib's do); a pixel whose value is ``z``
    falls in band ``k`` with ``levels[k] <= z < levels[k + 1]`` and gets the colour
    ``hot(norm(midpoint_k))``, ``norm`` mapping ``[levels[0], levels[-1]]`` to ``[0, 1]``
    and the colour table having 256 entries, as in matplotlib.

    Args:
        z_grid: float ``[G, G]`` values on the contour grid.
        z_pixels: float ``[H, W]`` the value that decides each pixel's band.

    Returns:
        uint8 ``[H, W, 3]``.
    """
    levels = _contour_levels(np.min(z_grid), np.max(z_grid), num_levels)
    layers = 0.5 * (levels[:-1] + levels[1:])
    norm = (layers - levels[0]) / (levels[-1] - levels[0])
    lut_index = np.minimum((norm * 256).astype(np.int64), 255)
    colours = np.round(_HOT_LUT[lut_index] * 255.0).astype(np.uint8)  # [bands, 3]
    band = np.searchsorted(levels, z_pixels, side="right") - 1
    band = np.clip(band, 0, len(layers) - 1)
    return colours[band]


@functools.lru_cache(maxsize=8)
def _pixel_breakpoints(image_size, grid_points):
    """Linear-interpolation indices ``i0`` [S * K], weights ``t`` [S * K] and ``K``.

    Matplotlib draws the contours of (nearly) the piecewise-bilinear interpolant of the
    grid values. Along one axis the breakpoints of a pixel's (inset) interval are its two
    ends and the grid lines inside it; the maximum of a piecewise-bilinear function over a
    rectangle is attained on the tensor product of both axes' breakpoints. Entry
    ``j * K + k`` is breakpoint ``k`` of pixel column ``j`` (padded by repeating the last
    one), at fractional grid position ``i0 + t``. Coordinates run over ``[-1, 1]``, the
    grid being ``linspace(-1, 1, grid_points)`` and the image covering the same square.
    """
    g = np.linspace(-1.0, 1.0, grid_points)
    h = 2.0 / image_size
    points = []
    for j in range(image_size):
        lo = -1.0 + (j + _PIXEL_INSET) * h
        hi = -1.0 + (j + 1 - _PIXEL_INSET) * h
        points.append(np.concatenate([[lo], g[(g > lo) & (g < hi)], [hi]]))
    k = max(len(p) for p in points)
    points = np.stack([np.pad(p, (0, k - len(p)), mode="edge") for p in points])  # [S, K]
    f = (points.reshape(-1) + 1.0) * (0.5 * (grid_points - 1))
    i0 = np.clip(np.floor(f).astype(np.int64), 0, grid_points - 2)
    t = f - i0
    i0.setflags(write=False)
    t.setflags(write=False)
    return i0, t, k


def _filled_contour_image(z_grid, image_size):
    """``filled_contour_image`` without argument checks; ``z_grid`` float64 ``[G, G]``."""
    i0, t, k = _pixel_breakpoints(image_size, z_grid.shape[0])
    rows = (1.0 - t)[:, None] * z_grid[i0] + t[:, None] * z_grid[i0 + 1]  # [S * K, G]
    cand = (1.0 - t) * rows[:, i0] + t * rows[:, i0 + 1]  # [S * K (y up), S * K (x)]
    cand = cand[::-1]  # image rows run top-down (y = max first)
    z_pixels = cand.reshape(image_size, k, image_size, k).max(axis=(1, 3))  # [S, S]
    return _render_filled_contour(z_grid, z_pixels)


def filled_contour_image(z_grid, image_size=36):
    """The image ``contourf(X, Y, z_grid, cmap='hot', levels=100)`` rasterizes to.

    ``z_grid[i, j]`` is the value at ``(x_j, y_i)`` of a regular ``G x G`` grid whose
    corners are the image's corners (``X, Y = meshgrid(x, y)`` with ``y`` increasing with
    ``i``, the figure axis-less and without margins, a 0.5-inch figure at
    ``image_size / 0.5`` dpi). The 100 "nice" levels from ``min z`` to ``max z`` are
    matplotlib's ``MaxNLocator`` ones; each band is filled with the ``hot`` colour of its
    midpoint, and each pixel shows the highest band of the bilinear interpolant of the grid
    that reaches into it (its square shrunk by 4% of a side on each edge), as Agg's
    unantialiased fill of the band polygons does. Against matplotlib 3.9.4, on 200 images
    of ``zoo.datasets.make_flow_images``, 96.5% of the pixels are identical and 99.5% within
    10/255.

    Args:
        z_grid: array-like ``[G, G]`` of finite reals, ``G >= 2``.
        image_size: int >= 4, the image side ``S`` in pixels.

    Returns:
        uint8 ``[S, S, 3]``, image rows from the top (largest ``y``) down.

    References:
        J. D. Hunter (2007). Matplotlib: A 2D graphics environment. Computing in Science &
        Engineering 9 (3): 90-95 (``contourf``, ``MaxNLocator`` and the ``hot`` colormap).
    """
    image_size = check_int_at_least("image_size", image_size, 4)
    try:
        z = np.asarray(z_grid, dtype=np.float64)
    except (TypeError, ValueError):
        z = None
    if z is None or z.ndim != 2 or z.shape[0] != z.shape[1] or z.shape[0] < 2:
        shown = f"with shape {z.shape}" if z is not None else f"of type {type(z_grid).__name__}"
        raise ValueError(
            "z_grid must be a square grid of reals of shape [G, G] with G >= 2. "
            f"Received: z_grid {shown}"
        )
    if not np.all(np.isfinite(z)):
        raise ValueError(
            "z_grid must be finite. Received: z_grid with "
            f"{int(z.size - np.count_nonzero(np.isfinite(z)))} NaN or inf value(s)"
        )
    return _filled_contour_image(z, image_size)
