"""``KnowledgeGradientOracle``: a keras-tuner ``Oracle`` that picks the next trial by the
knowledge gradient of a GP surrogate.

Each trial after the random initial ones:

1. encodes the finished trials in the unit cube (:class:`UnitCubeEncoding`: continuous
   floats, integer and ordered choices as bin centres, other choices one-hot) and their
   scores (negated for ``direction="max"``), and trials still running on other workers at
   the surrogate's mean ("kriging believer");
2. fits a Matern 5/2 ARD GP by type-II maximum likelihood with restarts
   (:func:`kerasprob.tuning.surrogate.fit_gaussian_process`);
3. scores candidates (random valid configurations, neighbours of the best trials and of the
   predictive minimum, then neighbours of the best candidates) by the knowledge gradient
   ``E[tau_n - tau_{n+1}]`` (:func:`kerasprob.math.knowledge_gradient.knowledge_gradient`:
   Monte Carlo over ``num_fantasies`` simulated outcomes, each simulation-augmented predictive
   minimum by multi-start L-BFGS over the continuous coordinates, the augmented Cholesky
   factor appended to the current one instead of refactorized);
4. returns the best candidate not tried before.

The same seed and the same finished trials give the same suggestion, so a resumed search
continues where it stopped. Used through :class:`kerasprob.tuning.KnowledgeGradientSearch`.

References:
  Frazier, P., Powell, W. & Dayanik, S. (2009). The knowledge-gradient policy for correlated
    normal beliefs. INFORMS Journal on Computing 21(4), 599-613.
  Wu, J. & Frazier, P. (2016). The parallel knowledge gradient method for batch Bayesian
    optimization. NeurIPS.
"""

import time

import numpy as np
import tensorflow as tf
from keras_tuner.src.engine import oracle as oracle_module
from keras_tuner.src.engine import trial as trial_module

from kerasprob.math.exact_gp import GaussianProcessPosterior
from kerasprob.math.knowledge_gradient import (
    normal_quantiles,
    predictive_minimum,
    simulation_augmented_minimum,
)
from kerasprob.tuning.encoding import UnitCubeEncoding
from kerasprob.tuning.surrogate import fit_gaussian_process, matern52_ard
from kerasprob.validation import check_positive_int

__all__ = ["KnowledgeGradientOracle"]


class KnowledgeGradientOracle(oracle_module.Oracle):
    """Bayesian optimization by the knowledge gradient (Frazier et al. 2009).

    Args:
      objective: as keras-tuner's (a name, a ``keras_tuner.Objective`` or a list).
      max_trials: total number of trials, an int >= 1.
      num_initial_points: random trials before the surrogate is used; default
        ``2 * (d + 1)`` for ``d`` tunable coordinates.
      num_fantasies: ``M``, simulated outcomes per candidate (stratified normal quantiles).
      num_candidates: random candidates scored per trial (as many neighbours again).
      num_restarts: random restarts of the GP's marginal-likelihood fit.
      max_iterations: L-BFGS iterations of each predictive minimum.
      seed: int, for the initial trials, the candidates and the restarts.
      hyperparameters, allow_new_entries, tune_new_entries, max_retries_per_trial,
      max_consecutive_failed_trials: as keras-tuner's ``Oracle``.

    Attributes:
      acquisition_seconds: wall time of each surrogate suggestion (fit and KG), in order.
    """

    def __init__(
        self,
        objective=None,
        max_trials=10,
        num_initial_points=None,
        num_fantasies=8,
        num_candidates=64,
        num_restarts=8,
        max_iterations=15,
        seed=None,
        hyperparameters=None,
        allow_new_entries=True,
        tune_new_entries=True,
        max_retries_per_trial=0,
        max_consecutive_failed_trials=3,
    ):
        max_trials = check_positive_int("max_trials", max_trials)
        self.num_initial_points = check_positive_int("num_initial_points", num_initial_points,
                                                     allow_none=True)
        self.num_fantasies = check_positive_int("num_fantasies", num_fantasies)
        self.num_candidates = check_positive_int("num_candidates", num_candidates)
        self.num_restarts = check_positive_int("num_restarts", num_restarts)
        self.max_iterations = check_positive_int("max_iterations", max_iterations)
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)
                                 or seed < 0):
            raise ValueError(f"seed must be None or an int >= 0. Received: seed={seed!r}")
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            seed=seed,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        if seed is not None:  # keras-tuner's Oracle takes seed=0 for "no seed"
            self.seed = self._seed_state = int(seed)
        self.acquisition_seconds = []
        self._previous_fit = None

    # ------------------------------------------------------------------ data
    def _score(self, trial):
        score = trial.score
        return -score if self.objective.direction == "max" else score

    def _observations(self, encoding):
        """``(x [n, d], y [n], pending [p, d])`` from the finished and the running trials."""
        running = {t.trial_id for t in self.ongoing_trials.values()}
        x, y, pending = [], [], []
        for trial in self.trials.values():
            if trial.trial_id in running:
                pending.append(encoding.encode(trial.hyperparameters))
            elif trial.status == trial_module.TrialStatus.COMPLETED and trial.score is not None \
                    and np.isfinite(trial.score):
                x.append(encoding.encode(trial.hyperparameters))
                y.append(self._score(trial))
        d = encoding.dimension
        return (np.reshape(x, (-1, d)), np.asarray(y, float), np.reshape(pending, (-1, d)))

    def initial_points(self, dimension):
        return self.num_initial_points or 2 * (dimension + 1)

    # --------------------------------------------------------------- suggest
    def populate_space(self, trial_id):
        encoding = UnitCubeEncoding(self.hyperparameters)
        x, y, pending = self._observations(encoding)
        if encoding.dimension == 0 or len(y) < max(self.initial_points(encoding.dimension), 2):
            values = self._random_values()
            if values is None:
                return {"status": trial_module.TrialStatus.STOPPED, "values": None}
            return {"status": trial_module.TrialStatus.RUNNING, "values": values}
        start = time.perf_counter()
        values = self._suggest(encoding, x, y, pending, len(self.trials))
        self.acquisition_seconds.append(time.perf_counter() - start)
        if values is None:
            return {"status": trial_module.TrialStatus.STOPPED, "values": None}
        return {"status": trial_module.TrialStatus.RUNNING, "values": values}

    def _suggest(self, encoding, x, y, pending, step):
        rng = np.random.default_rng([self.seed, step])
        fit = fit_gaussian_process(x, y, num_restarts=self.num_restarts, seed=rng,
                                   previous=self._previous_fit)
        self._previous_fit = fit
        post = fit.posterior
        xs, zs = x, post.y.numpy()
        if len(pending):  # running trials count as observed at the surrogate's mean
            xs = np.concatenate([x, pending])
            zs = np.concatenate([zs, post.mean(pending).numpy()])
        posterior = GaussianProcessPosterior(
            matern52_ard(tf.constant(fit.variance, tf.float64), tf.constant(fit.lengthscales)),
            xs, zs, post.noise_variance)
        continuous = tuple(bool(c) for c in encoding.continuous)
        order = np.argsort(zs)
        starts = np.concatenate([xs[order[:5]], encoding.sample(rng, 3)])  # [S, d]
        tau_n, best = predictive_minimum(posterior, starts, continuous, self.max_iterations)
        # tau_{n+1} from argmin mu_n, the two best trials and (added there) the candidate.
        starts_next = np.concatenate([best.numpy()[None], xs[order[:2]]])
        best = encoding.snap(best.numpy())
        base = normal_quantiles(self.num_fantasies)

        def score(candidates):  # the knowledge gradient, tau_n - mean_m tau_{n+1}^(m)
            tau, _ = simulation_augmented_minimum(
                posterior, candidates, base, starts=starts_next, continuous=continuous,
                max_iterations=self.max_iterations)
            return (tau_n - tf.reduce_mean(tau, axis=-1)).numpy()

        # Stage 1: random configurations and neighbours of the incumbents.
        half = max(self.num_candidates // 2, 1)
        incumbents = np.concatenate([xs[order[:3]], best[None]])
        stage1 = np.concatenate([
            encoding.sample(rng, self.num_candidates - half),
            encoding.perturb(rng, np.repeat(incumbents, -(-half // len(incumbents)), 0)[:half]),
        ])
        kg1 = score(stage1)
        # Stage 2: neighbours of the best candidates, at a smaller scale.
        top = stage1[np.argsort(-kg1)[:4]]
        stage2 = encoding.perturb(rng, np.repeat(top, -(-half // 4), 0)[:half], scale=0.02)
        candidates = np.concatenate([stage1, stage2])
        kg = np.concatenate([kg1, score(stage2)])
        for i in np.argsort(-kg, kind="stable"):
            values = encoding.decode(candidates[i])
            if not self._duplicate(values):
                return values
        return self._random_values()

    # ----------------------------------------------------------------- state
    def get_state(self):
        state = super().get_state()
        state.update({
            "num_initial_points": self.num_initial_points,
            "num_fantasies": self.num_fantasies,
            "num_candidates": self.num_candidates,
            "num_restarts": self.num_restarts,
            "max_iterations": self.max_iterations,
        })
        return state

    def set_state(self, state):
        # The settings stay the constructor's; the trials, seed and space are restored.
        super().set_state(state)
