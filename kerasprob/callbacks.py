"""Training callbacks: KL annealing, stopping once converged, and stopping on NaN without
losing weights."""

import math

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


@register
class ConvergenceStopping(tf_keras.callbacks.Callback):
    """Stops ``fit`` once ``monitor`` has flattened: when its mean over the last window of
    epochs is not below its mean over the window before by ``min_delta``.

    A window is the fewest whole epochs that hold ``window_steps`` optimizer steps,
    ``w = ceil(window_steps / steps_per_epoch)``; after epoch ``e >= 2w`` training stops if

        mean(loss[e - 2w + 1 .. e - w]) - mean(loss[e - w + 1 .. e]) < min_delta.

    The rule so means the same at 2 steps per epoch as at 2000, and averaging over a window
    smooths a minibatch loss's noise (``EarlyStopping`` compares each epoch with the best so
    far, a low outlier of a noisy loss, and stops a slow descent early). A loss that rises
    from one window to the next stops training too. ``stopped_epoch`` is the epoch it
    stopped at (``None`` if it ran to ``epochs``).

    Args:
      monitor: the logged quantity to watch (``"loss"``; ``"val_loss"`` needs validation data).
      min_delta: the least improvement of the windowed mean that counts (in ``monitor``'s
        units, e.g. nats per example).
      window_steps: the optimizer steps a window holds at least.
    """

    def __init__(self, monitor="loss", min_delta=1e-3, window_steps=200):
        super().__init__()
        self.monitor = monitor
        self.min_delta = check_positive_float("min_delta", min_delta)
        self.window_steps = check_int_at_least("window_steps", window_steps, 1)
        self.values = []
        self.window = 1
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        steps = (self.params or {}).get("steps") or 1
        self.window = max(1, math.ceil(self.window_steps / steps))
        self.values = []
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not np.isfinite(value):
            return
        self.values.append(float(value))
        w = self.window
        if len(self.values) < 2 * w:
            return
        previous = np.mean(self.values[-2 * w:-w])
        last = np.mean(self.values[-w:])
        if previous - last < self.min_delta:
            self.model.stop_training = True
            self.stopped_epoch = epoch

    def get_config(self):
        return {"monitor": self.monitor, "min_delta": self.min_delta,
                "window_steps": self.window_steps}


class TerminateOnNaN(tf_keras.callbacks.Callback):
    """Stops training at the first non-finite loss or weight and restores the last good state.

    The state is the model's weights and the optimizer's variables (Adam's moments, the
    step count): restoring weights alone would leave NaN moments that poison the next
    step. It is snapshotted at the start of training and then every ``snapshot_every``
    training batches, counted across epochs. A non-finite loss, or non-finite values met
    at a snapshot or at the end of training (the last update can overflow while its loss,
    computed before the update, was finite), give the model the last snapshot back and
    set ``model.stop_training``; ``self.restored`` tells whether that happened. Training
    that starts from non-finite weights is refused with a ``ValueError``.

    A snapshot copies the state to host memory, so it is kept off the per-epoch path:
    full-batch training runs one batch per epoch, and a snapshot per epoch would double
    the time of a long full-batch fit (``benchmarks/README.md``).
    """

    def __init__(self, snapshot_every=50):
        super().__init__()
        self.snapshot_every = check_int_at_least("snapshot_every", snapshot_every, 1)
        self.restored = False
        self._good = None
        self._state = []
        self._since_snapshot = 0
        self._relist = False

    def _state_variables(self):
        """The model's weights, then the optimizer's variables (once built)."""
        optimizer = getattr(self.model, "optimizer", None)
        slots = getattr(optimizer, "variables", [])
        slots = slots() if callable(slots) else slots  # legacy optimizers: a method
        state, seen = [], set()
        for v in [*self.model.weights, *slots]:
            if id(v) not in seen:
                seen.add(id(v))
                state.append(v)
        return state

    def _finite_state(self):
        """``(variable, value)`` pairs of the state, or None if a float value is NaN or inf."""
        values = tf_keras.backend.batch_get_value(self._state)
        if all(np.all(np.isfinite(v)) for v in values if v.dtype.kind == "f"):
            return list(zip(self._state, values))
        return None

    def _restore(self, reason):
        tf_keras.backend.batch_set_value(self._good)
        self.model.stop_training = True
        self.restored = True
        print(f"\nTerminateOnNaN: {reason}; stopped and restored the last finite weights.")

    def _snapshot(self):
        self._since_snapshot = 0
        values = self._finite_state()
        if values is None:
            self._restore("a weight or optimizer variable became non-finite")
        else:
            self._good = values

    def on_train_begin(self, logs=None):
        self.restored = False
        self._state = self._state_variables()  # listed once: walking the layers is slow
        self._good = self._finite_state()
        self._since_snapshot = 0
        self._relist = True
        if self._good is None:
            bad = [v.name for v in self._state
                   if v.dtype.is_floating and not np.all(np.isfinite(v.numpy()))]
            raise ValueError(
                "The model has non-finite weights or optimizer variables before training; "
                f"fitting would only spread them. Received non-finite values in: {bad[:5]}. "
                "Expected finite values: reload a saved model or rebuild it."
            )

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            self._restore(f"loss became {float(loss)} at batch {batch}")
            return
        self._since_snapshot += 1
        if self._relist:  # a lazily built model or optimizer makes variables in step one
            self._relist = False
            state = self._state_variables()
            if len(state) != len(self._state):
                self._state = state
                self._snapshot()
                return
        if self._since_snapshot >= self.snapshot_every:
            self._snapshot()

    def on_train_end(self, logs=None):
        if not self.restored and self._finite_state() is None:
            self._restore("a weight or optimizer variable became non-finite in the last step")
