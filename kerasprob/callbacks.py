"""Training callbacks: KL annealing, and stopping on NaN without losing weights."""

import numpy as np
import tf_keras

from kerasprob.layers.kl import KLDivergenceLayer
from kerasprob.serialization import register
from kerasprob.validation import check_choice, check_int_at_least, check_positive_float


def kl_layers(model):
    """Every :class:`KLDivergenceLayer` inside ``model`` (nested layers included)."""
    return [m for m in model.submodules if isinstance(m, KLDivergenceLayer)]


@register
class KLAnnealing(tf_keras.callbacks.Callback):
    """Ramps the weight of every ``KLDivergenceLayer`` from ``start`` to ``end``.

    ``weight(t) = start + (end - start) * min(1, t / warmup_epochs)`` for the
    ``"linear"`` schedule (``t`` = epochs done, fractional per batch), or
    ``end * sigmoid(10 (t / warmup_epochs - 1/2))``-shaped for ``"sigmoid"``,
    held at ``end`` afterwards. The current weight is logged as ``kl_weight``.

    Args:
      warmup_epochs: epochs to reach ``end``.
      start: initial weight (``0`` is the usual warm-up).
      end: final weight (``1`` recovers the ELBO; ``beta`` for a beta-VAE).
      schedule: ``"linear"`` or ``"sigmoid"``.

    References:
      Bowman et al. (2016), Generating Sentences from a Continuous Space.
    """

    def __init__(self, warmup_epochs=10, start=0.0, end=1.0, schedule="linear"):
        super().__init__()
        self.warmup_epochs = check_int_at_least("warmup_epochs", warmup_epochs, 1)
        self.start = check_positive_float("start", start, allow_zero=True)
        self.end = check_positive_float("end", end, allow_zero=True)
        self.schedule = check_choice("schedule", schedule, ("linear", "sigmoid"))
        self._epoch = 0
        self._steps = None

    def weight_at(self, progress):
        """The weight after ``progress`` epochs (may be fractional)."""
        frac = min(1.0, max(0.0, progress / self.warmup_epochs))
        if self.schedule == "sigmoid":
            frac = 1.0 / (1.0 + np.exp(-10.0 * (frac - 0.5))) if frac < 1.0 else 1.0
        return self.start + (self.end - self.start) * frac

    def _set(self, value):
        for layer in kl_layers(self.model):
            layer.weight = value

    def on_train_begin(self, logs=None):
        if not kl_layers(self.model):
            raise ValueError(
                "KLAnnealing needs a model with a KLDivergenceLayer. Received: a model with "
                f"layers {[layer.name for layer in self.model.layers]}"
            )
        self._steps = self.params.get("steps") if self.params else None
        self._set(self.weight_at(0.0))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._set(self.weight_at(epoch))

    def on_train_batch_begin(self, batch, logs=None):
        if self._steps:
            self._set(self.weight_at(self._epoch + batch / self._steps))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["kl_weight"] = kl_layers(self.model)[0].weight

    def get_config(self):
        return {
            "warmup_epochs": self.warmup_epochs,
            "start": self.start,
            "end": self.end,
            "schedule": self.schedule,
        }


class TerminateOnNaN(tf_keras.callbacks.Callback):
    """Stops training at the first non-finite loss and restores the last good weights.

    Weights are snapshotted (when all finite) at the start of training and then
    every ``snapshot_every`` training batches, counted across epochs; on a NaN or
    inf loss the model gets the last snapshot back and ``model.stop_training`` is
    set. ``self.restored`` tells whether that happened. A snapshot copies every
    weight to host memory, so it is kept off the per-epoch path: full-batch
    training runs one batch per epoch (a snapshot per epoch doubled the time of a
    2501-epoch fit of the seed-002 RealNVP).
    """

    def __init__(self, snapshot_every=50):
        super().__init__()
        self.snapshot_every = check_int_at_least("snapshot_every", snapshot_every, 1)
        self.restored = False
        self._good = None
        self._weights = []
        self._since_snapshot = 0

    def _snapshot(self):
        values = tf_keras.backend.batch_get_value(self._weights)
        if all(np.all(np.isfinite(v)) for v in values if v.dtype.kind == "f"):
            self._good = values
        self._since_snapshot = 0

    def on_train_begin(self, logs=None):
        self.restored = False
        self._weights = list(self.model.weights)  # listed once: walking the layers is slow
        self._snapshot()

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        if not np.isfinite(float(loss)):
            tf_keras.backend.batch_set_value(list(zip(self._weights, self._good)))
            self.model.stop_training = True
            self.restored = True
            print(f"\nTerminateOnNaN: loss became {float(loss)} at batch {batch}; "
                  "stopped and restored the last finite weights.")
            return
        self._since_snapshot += 1
        if self._since_snapshot >= self.snapshot_every:
            self._snapshot()
