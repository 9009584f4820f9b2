"""L-BFGS with a strong-Wolfe line search, one iteration at a time (numpy).

Minimizes a smooth ``f: R^n -> R`` given ``value_and_gradient(x) -> (f(x), grad f(x))``
(Nocedal & Wright 2006, algorithms 7.4, 3.5 and 3.6). The search direction is
``d = -H g``, ``H`` the inverse-Hessian estimate from the last ``memory`` pairs
``(s, y) = (x_{k+1} - x_k, g_{k+1} - g_k)`` (two-loop recursion, scaled by
``s^T y / y^T y``); the step length satisfies the strong Wolfe conditions

    f(x + a d) <= f(x) + c1 a g^T d,     |g(x + a d)^T d| <= c2 |g^T d|

(``c1 = 1e-4``, ``c2 = 0.9``), found by bracketing and safeguarded cubic interpolation. A
trial point where ``f`` is not finite (a Cholesky that failed) counts as too long a step.
It has converged when the gradient's largest entry is at most ``tolerance`` or an
iteration lowers ``f`` by at most ``f_relative_tolerance * max(|f|, 1)`` (scipy's L-BFGS-B
defaults: ``pgtol = 1e-5``, ``factr * eps = 2.2e-9``); it has failed when no step along a
descent direction (after resetting the memory to steepest descent) lowers ``f``.

Each iteration is a Python step, so a training loop can run callbacks between them; the
numpy overhead is ``O(memory * n)`` per iteration (microseconds for thousands of
parameters), against seconds to trace TFP's graph-mode ``lbfgs_minimize``.

>>> import numpy as np
>>> def rosenbrock(x):
...     f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
...     g = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
...                   200 * (x[1] - x[0] ** 2)])
...     return f, g
>>> opt = LBFGS(rosenbrock, np.array([-1.2, 1.0]), tolerance=1e-8)
>>> while not (opt.converged or opt.failed):
...     opt.step()
>>> np.round(opt.x, 6), opt.iterations < 60
(array([1., 1.]), True)

References:
  Nocedal, J. & Wright, S. (2006). Numerical Optimization, 2nd ed. Springer.
  Byrd, R., Lu, P., Nocedal, J. & Zhu, C. (1995). A limited memory algorithm for bound
  constrained optimization. SIAM J. Sci. Comput. (L-BFGS-B, scipy's and scikit-learn's).
"""

import collections

import numpy as np

__all__ = ["LBFGS"]

C1, C2 = 1e-4, 0.9


def _cubic_minimizer(a, fa, da, b, fb, db):
    """The minimizer of the cubic through ``(a, fa, da)`` and ``(b, fb, db)``, kept inside
    the middle 80% of ``[a, b]`` (bisection where the cubic has none)."""
    lo, hi = min(a, b), max(a, b)
    d1 = da + db - 3 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if disc >= 0:
        d2 = np.sign(b - a) * np.sqrt(disc)
        t = b - (b - a) * (db + d2 - d1) / (db - da + 2 * d2)
        if np.isfinite(t):
            margin = 0.1 * (hi - lo)
            return float(np.clip(t, lo + margin, hi - margin))
    return 0.5 * (a + b)


class LBFGS:
    """An L-BFGS minimizer advanced by :meth:`step` (see the module docstring).

    Args:
      value_and_gradient: ``x [n] -> (f, g [n])``, float64 numpy (or convertible).
      x0: the starting point ``[n]``.
      memory: the number of ``(s, y)`` pairs kept.
      tolerance: converged when ``max |g| <= tolerance``.
      f_relative_tolerance: converged when a step lowers ``f`` by at most this times
        ``max(|f|, 1)``.
      max_evaluations: the most evaluations of the line search per iteration.

    Attributes:
      x, f, g: the current point, value and gradient. iterations, evaluations: counts.
      converged, failed: whether to stop (``failed``: the line search found no decrease).
    """

    def __init__(self, value_and_gradient, x0, memory=10, tolerance=1e-5,
                 f_relative_tolerance=2.2e-9, max_evaluations=25):
        self._fg = value_and_gradient
        self.memory = collections.deque(maxlen=memory)
        self.tolerance = tolerance
        self.f_relative_tolerance = f_relative_tolerance
        self.max_evaluations = max_evaluations
        self.x = np.asarray(x0, dtype=np.float64).copy()
        self.evaluations = 0
        self.f, self.g = self._evaluate(self.x)
        if not np.isfinite(self.f) or not np.all(np.isfinite(self.g)):
            raise ValueError(f"the objective must be finite at the starting point. Received: "
                             f"f={self.f}, a gradient with {np.sum(~np.isfinite(self.g))} "
                             "non-finite entries")
        self.iterations = 0
        self.converged = bool(np.max(np.abs(self.g), initial=0.0) <= tolerance)
        self.failed = False

    def _evaluate(self, x):
        self.evaluations += 1
        f, g = self._fg(x)
        return float(f), np.asarray(g, dtype=np.float64).reshape(-1)

    def _direction(self):
        """``-H g`` by the two-loop recursion."""
        q = -self.g.copy()
        alphas = []
        for s, y, rho in reversed(self.memory):
            alpha = rho * (s @ q)
            q -= alpha * y
            alphas.append(alpha)
        if self.memory:
            s, y, _ = self.memory[-1]
            q *= (s @ y) / (y @ y)
        for (s, y, rho), alpha in zip(self.memory, reversed(alphas)):
            q += (alpha - rho * (y @ q)) * s
        return q

    def _line_search(self, d, alpha):
        """``(alpha, f, g)`` meeting the strong Wolfe conditions along ``d``, or None."""
        f0, d0 = self.f, self.g @ d

        def phi(a):
            f, g = self._evaluate(self.x + a * d)
            if not (np.isfinite(f) and np.all(np.isfinite(g))):
                return None
            return f, g, g @ d

        lo, f_lo, d_lo, hi, f_hi, d_hi = 0.0, f0, d0, None, None, None
        g_lo = self.g
        hi_finite = True
        for _ in range(self.max_evaluations):
            if hi is not None and abs(hi - lo) <= 1e-12 * max(abs(lo), abs(hi)):
                break  # the bracket has shrunk to round-off
            if hi is not None:
                alpha = (_cubic_minimizer(lo, f_lo, d_lo, hi, f_hi, d_hi) if hi_finite
                         else 0.5 * (lo + hi))
            trial = phi(alpha)
            if trial is None:  # too long: the objective is not finite there
                hi, hi_finite = alpha, False
                continue
            f, g, dg = trial
            if f > f0 + C1 * alpha * d0 or (f >= f_lo and lo > 0):
                hi, f_hi, d_hi, hi_finite = alpha, f, dg, True
            elif abs(dg) <= -C2 * d0:
                return alpha, f, g
            elif hi is None and dg < 0:  # still descending: extrapolate
                lo, f_lo, d_lo, g_lo = alpha, f, dg, g
                alpha *= 2.0
            else:  # a minimum lies between alpha and lo (or hi)
                if hi is None or dg * (hi - lo) >= 0:
                    hi, f_hi, d_hi, hi_finite = lo, f_lo, d_lo, True
                lo, f_lo, d_lo, g_lo = alpha, f, dg, g
        if lo > 0 and f_lo < f0 + C1 * lo * d0:  # sufficient decrease, weak curvature
            return lo, f_lo, g_lo
        return None

    def step(self):
        """One iteration: a direction, a line search along it, the memory updated."""
        if self.converged or self.failed:
            return
        d = self._direction()
        if not self.memory or self.g @ d >= 0:
            self.memory.clear()
            d = -self.g
        alpha = 1.0 if self.memory else min(1.0, 1.0 / np.max(np.abs(self.g)))
        found = self._line_search(d, alpha)
        if found is None and self.memory:  # retry downhill with a fresh memory
            self.memory.clear()
            d = -self.g
            found = self._line_search(d, min(1.0, 1.0 / np.max(np.abs(self.g))))
        self.iterations += 1
        if found is None:
            self.failed = True
            return
        alpha, f, g = found
        s, y = alpha * d, g - self.g
        if s @ y > 1e-10 * (y @ y):
            self.memory.append((s, y, 1.0 / (s @ y)))
        decrease = self.f - f
        self.x, self.f, self.g = self.x + s, f, g
        self.converged = bool(
            np.max(np.abs(g)) <= self.tolerance
            or decrease <= self.f_relative_tolerance * max(abs(f), 1.0))
