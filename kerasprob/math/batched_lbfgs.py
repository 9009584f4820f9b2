"""Many independent L-BFGS minimizations at once, in numpy, around one compiled function.

Minimizes ``B`` smooth problems ``f_b: R^k -> R`` given ``value_and_gradient(x [B, k]) ->
(f [B], grad [B, k])`` (one call evaluates every problem at its own point: restarts of a
marginal-likelihood fit, or the starts of a multi-start search). Each problem keeps its
own state: the last ``memory`` pairs ``(s, y)`` of its steps and gradient changes, its
search direction ``d = -H g`` by the two-loop recursion (scaled by ``s^T y / y^T y``; a pair
with ``s^T y <= 0`` is skipped), and a backtracking line search that accepts the first
step with ``f(x + a d) <= f(x) + c1 a g^T d`` (``c1 = 1e-4``), halving ``a`` (or taking the
minimizer of the quadratic through ``f(x)``, ``g^T d`` and ``f(x + a d)`` when that is
between ``a / 10`` and ``a / 2``). A problem stops when its gradient's largest entry is at
most ``tolerance``, when a step lowers ``f`` by at most ``2.2e-9 max(|f|, 1)`` (scipy's
L-BFGS-B default), or when no step is accepted; a non-finite value counts as too long a
step.

Each iteration costs one call plus one per backtrack, and tracing the function (a few
operations) takes a fraction of a second, against seconds to trace TFP's graph-mode
``lbfgs_minimize`` with its line search.

>>> import numpy as np
>>> def quadratics(x):  # f_b(x) = sum_i c_bi (x_i - b)^2
...     c = np.array([[1.0, 10.0], [100.0, 1.0]])
...     target = np.arange(2.0)[:, None]
...     return np.sum(c * (x - target) ** 2, axis=1), 2 * c * (x - target)
>>> x, f = minimize_batched(quadratics, np.zeros((2, 2)), tolerance=1e-10)
>>> np.round(x, 6)
array([[0., 0.],
       [1., 1.]])

References:
  Nocedal, J. & Wright, S. (2006). Numerical Optimization, 2nd ed., algorithms 7.4 and 3.1.
"""

import numpy as np

from kerasprob.validation import check_int_at_least, check_positive_int

__all__ = ["minimize_batched"]

C1 = 1e-4
F_RELATIVE_TOLERANCE = 2.2e-9


def _two_loop(g, s, y, rho, gamma):
    """``H g`` for each problem: ``g [B, k]``, pairs ``s, y [B, m, k]`` (newest first),
    ``rho [B, m]`` (0 for an empty or skipped pair), ``gamma [B]``."""
    q = g.copy()
    alpha = np.zeros(rho.shape)
    for i in range(s.shape[1]):  # newest to oldest
        alpha[:, i] = rho[:, i] * np.sum(s[:, i] * q, axis=1)
        q -= alpha[:, i, None] * y[:, i]
    r = gamma[:, None] * q
    for i in reversed(range(s.shape[1])):  # oldest to newest
        beta = rho[:, i] * np.sum(y[:, i] * r, axis=1)
        r += s[:, i] * (alpha[:, i] - beta)[:, None]
    return r


def minimize_batched(value_and_gradient, x0, max_iterations=100, tolerance=1e-7, memory=10,
                     max_backtracks=20):
    """Minimize ``B`` problems from ``x0 [B, k]``; returns ``(x [B, k], f [B])``.

    Args:
      value_and_gradient: ``x [B, k] -> (f [B], grad [B, k])``, numpy in and out, problem
        ``b``'s value and gradient depending on ``x[b]`` only.
      x0: ``[B, k]`` starting points.
      max_iterations: iterations (each problem stops earlier once converged).
      tolerance: the largest gradient entry at which a problem has converged.
      memory: pairs kept per problem.
      max_backtracks: halvings of the step before a problem gives up.

    Returns:
      The last accepted points and their values (never worse than the start's).
    """
    max_iterations = check_int_at_least("max_iterations", max_iterations, 0)
    memory = check_positive_int("memory", memory)
    x = np.array(x0, dtype=np.float64)
    f, g = (np.asarray(a, np.float64) for a in value_and_gradient(x))
    batch, k = x.shape
    s = np.zeros((batch, memory, k))
    y = np.zeros((batch, memory, k))
    rho = np.zeros((batch, memory))
    gamma = np.ones(batch)
    active = np.isfinite(f) & np.all(np.isfinite(g), axis=1)
    active &= np.max(np.abs(g), axis=1) > tolerance
    for _ in range(max_iterations):
        if not active.any():
            break
        d = -_two_loop(g, s, y, rho, gamma)
        slope = np.sum(g * d, axis=1)
        fresh = np.all(rho == 0, axis=1)
        reset = ~(slope < 0) | fresh  # no descent (or no pairs yet): a scaled gradient step
        if reset.any():
            scale = 1.0 / np.maximum(np.max(np.abs(g[reset]), axis=1), 1.0)
            d[reset] = -g[reset] * scale[:, None]
            rho[reset & ~fresh] = 0.0
            slope = np.sum(g * d, axis=1)
        step = np.where(active, 1.0, 0.0)
        searching = active.copy()
        x_new, f_new, g_new = x.copy(), f.copy(), g.copy()
        for _ in range(max_backtracks):
            trial = x + step[:, None] * d
            f_trial, g_trial = (np.asarray(a, np.float64) for a in value_and_gradient(trial))
            finite = np.isfinite(f_trial) & np.all(np.isfinite(g_trial), axis=1)
            accept = searching & finite & (f_trial <= f + C1 * step * slope)
            x_new[accept], f_new[accept], g_new[accept] = (
                trial[accept], f_trial[accept], g_trial[accept])
            searching &= ~accept
            if not searching.any():
                break
            # shorter steps for the others: the quadratic's minimizer, within [a/10, a/2]
            curvature = f_trial - f - slope * step
            quadratic = np.where(finite & (curvature > 0),
                                 -slope * step**2 / (2 * np.where(curvature > 0, curvature, 1)),
                                 0.5 * step)
            step = np.where(searching, np.clip(quadratic, 0.1 * step, 0.5 * step), step)
        moved = active & ~searching
        sk, yk = x_new - x, g_new - g
        sy = np.sum(sk * yk, axis=1)
        keep = moved & (sy > 1e-10 * np.sqrt(np.sum(sk**2, axis=1) * np.sum(yk**2, axis=1)))
        s[keep] = np.roll(s[keep], 1, axis=1)
        y[keep] = np.roll(y[keep], 1, axis=1)
        rho[keep] = np.roll(rho[keep], 1, axis=1)
        s[keep, 0], y[keep, 0], rho[keep, 0] = sk[keep], yk[keep], 1.0 / sy[keep]
        gamma[keep] = sy[keep] / np.sum(yk[keep] ** 2, axis=1)
        small = (f - f_new) <= F_RELATIVE_TOLERANCE * np.maximum(np.abs(f_new), 1.0)
        x, f, g = x_new, f_new, g_new
        active &= moved & ~small & (np.max(np.abs(g), axis=1) > tolerance)
    return x, f
