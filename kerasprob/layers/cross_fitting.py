"""Density-ratio networks that choose their capacity and score their own training sample.

:class:`CrossFittedLogRatio` holds a ladder of candidate networks for
``log r(x) = log p(x) / q(x)`` (the quadratic family, exact for two Gaussians; a
quadratic with a weight-decayed MLP residual; an MLP), each as ``k`` fold members and one
all-data member, all trained at once on one pooled sample of ``p`` (label 1) and ``q``
(label 0) with fold ids:

* fold member ``j < k`` is trained on the examples outside fold ``j``; scoring every
  example by the member that did not see it gives each candidate's **k-fold held-out
  loss** (:meth:`~CrossFittedLogRatio.held_out_losses`), which picks the candidate by the
  one-standard-error rule (:meth:`~CrossFittedLogRatio.select`);
* the same **out-of-fold** log ratios give estimates on the training sample that carry no
  bias from reusing it (cross-fitting, Chernozhukov et al. 2018);
* the all-data member of the selected candidate is ``log r`` for new points.

>>> import numpy as np, tensorflow as tf
>>> layer = CrossFittedLogRatio(candidates=["quadratic"], folds=2, standardize=False)
>>> x = tf.constant([[0.0], [1.0], [2.0], [3.0]])
>>> layer.member_log_ratios(x).shape   # [candidates, folds + 1, batch]
TensorShape([1, 3, 4])
>>> layer([x, tf.constant([1.0, 0.0, 1.0, 0.0]), tf.constant([0, 0, 1, 1])]).shape
TensorShape([4])

References:
  Chernozhukov, Chetverikov, Demirer, Duflo, Hansen, Newey & Robins (2018),
  Double/debiased machine learning for treatment and structural parameters.
  Econometrics Journal 21(1).
  Sugiyama, Suzuki & Kanamori (2012), Density Ratio Estimation in Machine Learning.
"""

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.layers.density_ratio import adapt_once, x_shape
from kerasprob.layers.stacked import StackedMLP, StackedQuadratic
from kerasprob.math import density_ratio as dr
from kerasprob.serialization import register
from kerasprob.validation import (
    check_bool,
    check_choice,
    check_positive_float,
    check_units,
)

#: Network families a candidate can be, in growing capacity: the quadratic family; a
#: quadratic with an MLP residual started at zero and held small by weight decay; an MLP,
#: unpenalized.
FAMILIES = ("quadratic", "quadratic+mlp", "mlp")


#: A held-out loss difference (nats per example) too small to pay for capacity.
_NEGLIGIBLE = 1e-4


def fold_ids(num, folds, seed=0):
    """Fold ids ``[num]`` in ``0 .. folds - 1``, sizes differing by at most one, in an
    order drawn from ``seed`` (assign each class separately for stratified folds)."""
    ids = np.empty(num, np.int32)
    ids[np.random.default_rng(seed).permutation(num)] = np.arange(num) % folds
    return ids


@register
class CrossFittedLogRatio(tf_keras.layers.Layer):
    """Candidate log-ratio networks, each as ``k`` fold members and one all-data member.

    Called on ``[x, labels, fold]`` (labels 1 for samples of ``p``, 0 for ``q``; fold ids
    ``[batch]`` in ``0 .. k - 1``, or ``-1`` for examples every member trains on) it adds
    the mean over candidates ``c`` and members ``m`` of

    ``L_cm = sum_i [fold_i != m] l(y_i, log r_cm(x_i)) / sum_i [fold_i != m]
    + lambda_c ||W_cm||^2``,

    ``l`` the per-example objective of :func:`kerasprob.math.density_ratio.per_example_loss`
    with the member's own class odds ``log(N_p / N_q)``, ``W`` the MLP kernels and
    ``lambda_c`` the ``weight_decay`` of a ``"quadratic+mlp"`` residual (0 otherwise); it returns
    the selected candidate's all-data log ratio ``[batch]``, as it does called on ``x``.

    Args:
      candidates: names from :data:`FAMILIES` (a one-name list fixes the network).
      folds: ``k`` (2 or more), or 0 for the all-data members alone (then
        :meth:`select` takes losses measured elsewhere, e.g. on held-out batches).

    References:
      Breiman, Friedman, Olshen & Stone (1984), Classification and Regression Trees.
      hidden_units, activation: the MLPs' hidden sizes and activation.
      weight_decay: the L2 penalty of the ``"quadratic+mlp"`` residual's kernels, per
        example of loss.
      objective: one of :data:`kerasprob.math.density_ratio.OBJECTIVES`.
      standardize: the networks see ``(x - mean) / std`` (set by
        :meth:`adapt_standardization` from pooled samples; ``log r`` stays a function of
        the raw ``x``).

    Input shape: ``[batch, d]``, or ``[[batch, d], [batch], [batch]]``. Output shape:
    ``[batch]``, float32 at least.
    """

    def __init__(self, candidates=FAMILIES, folds=5, hidden_units=(32, 32), activation="relu",
                 weight_decay=1e-3, objective="bce", standardize=True, **kwargs):
        super().__init__(**kwargs)
        candidates = [candidates] if isinstance(candidates, str) else list(candidates)
        if not candidates or len(set(candidates)) != len(candidates):
            raise ValueError("candidates must be distinct names from "
                             f"{list(FAMILIES)}. Received: candidates={candidates!r}")
        self.candidates = [check_choice("candidates", c, FAMILIES) for c in candidates]
        if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 0 \
                or folds == 1:
            raise ValueError(f"folds must be 0 or an integer >= 2. Received: folds={folds!r}")
        self.folds = int(folds)
        self.members = self.folds + 1
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.activation = activation
        self.weight_decay = check_positive_float("weight_decay", weight_decay,
                                                 allow_zero=True)
        self.objective = check_choice("objective", objective, dr.OBJECTIVES)
        self.standardize = check_bool("standardize", standardize)
        self.standardization = (
            tf_keras.layers.Normalization(axis=-1, dtype=self.dtype_policy.variable_dtype,
                                          name="standardization") if self.standardize else None)
        # One flat list of stacked parts (what Keras saves), and each candidate's parts.
        self.parts, self._candidate_parts = [], []
        for i, name in enumerate(self.candidates):
            parts = self._network(name, i)
            self._candidate_parts.append(list(range(len(self.parts),
                                                    len(self.parts) + len(parts))))
            self.parts.extend(parts)

    @property
    def networks(self):
        """Each candidate's stacked parts (a quadratic, an MLP or both)."""
        return [[self.parts[i] for i in indices] for indices in self._candidate_parts]

    def _network(self, family, index):
        parts = []
        if family != "mlp":
            parts.append(StackedQuadratic(self.members, dtype=self.dtype_policy,
                                          name=f"candidate_{index}_quadratic"))
        if family != "quadratic":
            parts.append(StackedMLP(self.members, self.hidden_units, self.activation,
                                    zero_output=family == "quadratic+mlp",
                                    dtype=self.dtype_policy, name=f"candidate_{index}_mlp"))
        return parts

    def build(self, input_shape):
        input_shape = x_shape(input_shape)
        if self.standardization is not None:
            self.standardization.build(input_shape)
        for part in self.parts:
            part.build(input_shape)
        loss_dtype = self._loss_dtype()
        self._log_prior_odds = self.add_weight("log_prior_odds", shape=(self.members,),
                                               dtype=loss_dtype, trainable=False,
                                               initializer="zeros")
        self._selected = self.add_weight("selected", shape=(), dtype=tf.int32,
                                         trainable=False, initializer="zeros")
        self._held_out_loss = self.add_weight(
            "held_out_loss", shape=(len(self.candidates),), dtype=loss_dtype, trainable=False,
            initializer="zeros")
        super().build(input_shape)

    def _loss_dtype(self):
        return tf.float64 if self.compute_dtype == "float64" else tf.float32

    # ------------------------------------------------------------------ state
    def adapt_standardization(self, x):
        """Set the standardization from pooled samples ``x`` ``[n, d]`` of both classes,
        unless set already (a no-op without ``standardize``)."""
        if self.standardization is not None:
            adapt_once(self.standardization, x)

    def set_sample_sizes(self, num_p, num_q):
        """Set each member's class odds ``log(N_p / N_q)`` from the numbers of samples of
        ``p`` and ``q`` it trains on: scalars, or ``[folds + 1]`` per member."""
        if not self.built:
            raise ValueError("set_sample_sizes needs a built layer: call it on a batch (or "
                             "build(input_shape)) first")
        num_p = np.broadcast_to(np.asarray(num_p, np.float64), (self.members,))
        num_q = np.broadcast_to(np.asarray(num_q, np.float64), (self.members,))
        if np.any(num_p <= 0) or np.any(num_q <= 0):
            raise ValueError("Every member needs samples of both p and q. Received: "
                             f"num_p={num_p.tolist()}, num_q={num_q.tolist()}")
        self._log_prior_odds.assign(np.log(num_p) - np.log(num_q))

    def set_fold_sizes(self, fold_p, fold_q):
        """:meth:`set_sample_sizes` from the fold ids ``[N_p]`` of the samples of ``p`` and
        ``[N_q]`` of ``q``: member ``j`` trains on the samples outside fold ``j``."""
        def outside(ids):
            ids = np.asarray(ids)
            return np.array([np.sum(ids != m) for m in range(self.members)], np.float64)

        self.set_sample_sizes(outside(fold_p), outside(fold_q))

    @property
    def log_prior_odds(self):
        """The all-data member's class odds ``log(N_p / N_q)``, as a float."""
        return float(self._log_prior_odds.numpy()[-1])

    @property
    def selected(self):
        """The index of the selected candidate in ``candidates``."""
        return int(self._selected.numpy())

    @property
    def selected_network(self):
        """The selected candidate's family name."""
        return self.candidates[self.selected]

    @property
    def held_out_loss(self):
        """Each candidate's held-out loss per example ``[candidates]`` (zeros before
        :meth:`select`), as a numpy array."""
        return self._held_out_loss.numpy()

    def select(self, losses):
        """Select a candidate from per-example held-out losses ``[C, n]`` (the same ``n``
        examples for every candidate, e.g. :meth:`held_out_losses`) by the one-standard-error
        rule: the first candidate of the ladder (the least flexible) whose mean loss exceeds
        the best by at most the standard error of their paired difference (or by 1e-4 nats),
        so that noise in the scores does not buy capacity (Breiman et al. 1984, sec. 3.4.3).
        """
        losses = np.asarray(losses, np.float64).reshape(len(self.candidates), -1)
        losses = np.where(np.isfinite(losses), losses, np.inf)
        means = losses.mean(1)
        best = int(np.argmin(means))
        choice = best
        for c in range(best):
            difference = losses[c] - losses[best]
            if not np.all(np.isfinite(difference)):
                continue
            se = difference.std(ddof=1) / np.sqrt(len(difference)) if len(difference) > 1 else 0
            if difference.mean() <= max(se, _NEGLIGIBLE):
                choice = c
                break
        self._held_out_loss.assign(means)
        self._selected.assign(choice)

    # ---------------------------------------------------------------- the math
    def _features(self, x):
        x = tf.convert_to_tensor(x)
        if self.standardization is not None:
            x = self.standardization(x)
        return tf.cast(x, self.compute_dtype)

    def member_log_ratios(self, x):
        """``log r_cm(x)`` of every candidate ``c`` and member ``m``: ``[C, k + 1, batch]``."""
        x = tf.convert_to_tensor(x)
        if not self.built:
            self.build(x.shape)
        features = self._features(x)
        outputs = [tf.add_n([part.members_first(features) for part in parts])
                   for parts in self.networks]
        return tf.cast(tf.stack(outputs), self._loss_dtype())

    def _penalty(self):
        """``lambda_c ||W_cm||^2``: ``[C, k + 1]``."""
        zeros = tf.zeros([self.members], self._loss_dtype())
        return tf.stack([
            self.weight_decay * tf.cast(parts[-1].squared_norm(), zeros.dtype)
            if name == "quadratic+mlp" else zeros
            for name, parts in zip(self.candidates, self.networks)])

    def candidate_log_ratios(self, x):
        """Every candidate's all-data log ratio: ``[C, batch]``."""
        return self.member_log_ratios(x)[:, -1]

    def log_ratio(self, x):
        """``log r(x)``, the selected candidate's all-data member: ``[batch, d] -> [batch]``."""
        return tf.gather(self.candidate_log_ratios(x), self._selected)

    def out_of_fold_log_ratios(self, x, fold):
        """Each example scored by the members that did not see it: ``[C, batch]`` (member
        ``fold_i`` for row ``i``; the all-data member for ``fold_i = -1``)."""
        fold = tf.convert_to_tensor(fold, tf.int32)
        member = tf.where(fold < 0, self.members - 1, fold)
        ratios = self.member_log_ratios(x)  # [C, M, batch]
        return tf.transpose(tf.gather(tf.transpose(ratios, [2, 1, 0]), member[:, None],
                                      batch_dims=1)[:, 0])

    def out_of_fold_log_ratio(self, x, fold):
        """:meth:`out_of_fold_log_ratios` of the selected candidate: ``[batch]``."""
        return tf.gather(self.out_of_fold_log_ratios(x, fold), self._selected)

    def held_out_losses(self, labels, fold, log_ratios):
        """Per-example objective ``[C, batch]`` of out-of-fold log ratios ``[C, batch]``, each
        example at the class odds of the member that scored it (mean over a sample: the
        candidates' k-fold cross-validation losses)."""
        fold = tf.convert_to_tensor(fold, tf.int32)
        odds = tf.gather(self._log_prior_odds, tf.where(fold < 0, self.members - 1, fold))
        labels = tf.broadcast_to(tf.cast(labels, log_ratios.dtype), tf.shape(log_ratios))
        return dr.per_example_loss(labels, log_ratios, self.objective, odds)

    def training_loss(self, x, labels, fold=None):
        """The mean of ``L_cm`` over candidates and members (see the class docstring), and
        the selected candidate's all-data objective and log ratios ``[batch]``."""
        ratios = self.member_log_ratios(x)  # [C, M, batch]
        labels = tf.cast(tf.reshape(labels, [-1]), ratios.dtype)
        if fold is None:
            fold = -tf.ones(tf.shape(labels), tf.int32)
        fold = tf.cast(tf.reshape(fold, [-1]), tf.int32)
        mask = tf.cast(tf.not_equal(fold[tf.newaxis], tf.range(self.members)[:, tf.newaxis]),
                       ratios.dtype)  # [M, batch]: the all-data member's row is all ones
        losses = dr.per_example_loss(tf.broadcast_to(labels, tf.shape(ratios)), ratios,
                                     self.objective, self._log_prior_odds[:, tf.newaxis])
        member_loss = (tf.reduce_sum(mask * losses, -1)
                       / tf.maximum(tf.reduce_sum(mask, -1), 1.0))  # [C, M]
        total = tf.reduce_mean(member_loss + self._penalty())
        selected = tf.gather(member_loss[:, -1], self._selected)
        return total, selected, tf.gather(ratios[:, -1], self._selected)

    # ------------------------------------------------------------------- keras
    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            return self.log_ratio(inputs)
        if len(inputs) not in (2, 3):
            raise ValueError("CrossFittedLogRatio takes x, [x, labels] or [x, labels, fold]. "
                             f"Received: a list of {len(inputs)} inputs")
        total, selected, log_ratio = self.training_loss(*inputs)
        self.add_loss(total)
        self.add_metric(selected, name=self.name + "_loss")
        return log_ratio

    def compute_output_shape(self, input_shape):
        return x_shape(input_shape)[:1]

    def get_config(self):
        return {
            **super().get_config(),
            "candidates": list(self.candidates),
            "folds": self.folds,
            "hidden_units": list(self.hidden_units),
            "activation": self.activation,
            "weight_decay": self.weight_decay,
            "objective": self.objective,
            "standardize": self.standardize,
        }


__all__ = ["FAMILIES", "CrossFittedLogRatio", "fold_ids"]
