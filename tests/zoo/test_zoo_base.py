"""ZooModel behaviour shared by every zoo model: checks, NaN guard, saving, registry."""

import os
from importlib import metadata

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import zoo
from kerasprob.callbacks import TerminateOnNaN
from zoo import registry

X = np.random.default_rng(0).uniform(size=(32, 4, 4)).astype("float32")


@pytest.fixture()
def vae():
    return zoo.VAE(input_shape=(4, 4), latent_dim=2, hidden_units=[8])


def test_list_get_and_unknown_name():
    assert "VAE" in zoo.list()
    assert zoo.get("VAE") is zoo.VAE
    with pytest.raises(ValueError, match=r"Unknown zoo model 'Nope'. Expected one of \["):
        zoo.get("Nope")


def test_fit_works_without_compile_and_logs_kl(vae):
    history = vae.fit(X, epochs=2, batch_size=8, verbose=0).history
    assert set(history) == {"loss", "kl"}


BAD_DATA = [
    (X[:, :3], ValueError,
     r"x must have shape \[batch, 4, 4\]. Received: x with shape \(32, 3, 4\)"),
    (X[0], ValueError, r"x must have shape \[batch, 4, 4\]. Received: x with shape \(4, 4\)"),
    (X.astype("complex64"), TypeError, r"x must be a numeric array. Received: x with dtype"),
    (np.array([["a"] * 4] * 4), TypeError, r"x must be a numeric array"),
    (X > 0.5, TypeError, r"x must hold floats. Received: x with dtype bool"),
    (np.where(X > 0.9, np.nan, X), ValueError, r"x must be finite. Received: x with \d+ NaN"),
    (np.where(X > 0.9, np.inf, X), ValueError, r"x must be finite"),
    ((row for row in X), TypeError, r"x must be an array \(or, where accepted, a "
     r"tf.data.Dataset\). Received: x of type generator; wrap a generator in"),
    (X[:0], ValueError, r"x must be a non-empty array with a batch axis. Received: x with "
     r"shape \(0, 4, 4\)"),
]


@pytest.mark.parametrize("data, error, match", BAD_DATA)
def test_bad_data_is_refused_before_any_step(vae, data, error, match):
    before = [w.copy() for w in vae.get_weights()]
    for call in (lambda: vae.fit(data, epochs=1, verbose=0), lambda: vae.predict(data),
                 lambda: vae.evaluate(data, verbose=0)):
        with pytest.raises(error, match=match):
            call()
    assert vae.optimizer.iterations.numpy() == 0
    for a, b in zip(before, vae.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bad_validation_data_is_named(vae):
    with pytest.raises(ValueError, match=r"validation_x must have shape \[batch, 4, 4\]"):
        vae.fit(X, validation_data=X[:, :2], epochs=1, verbose=0)


@pytest.mark.parametrize("call", [
    lambda m: m.fit(X, sample_weight=np.zeros(32), epochs=1, verbose=0),
    lambda m: m.fit(X, class_weight={0: 1.0}, epochs=1, verbose=0),
    lambda m: m.fit(X, validation_data=(X, None, np.ones(32)), epochs=1, verbose=0),
    lambda m: m.evaluate(X, sample_weight=np.zeros(32), verbose=0),
])
def test_example_weights_are_refused_where_the_loss_is_added_by_layers(vae, call):
    # Keras weights only the compiled loss; the VAE's negative ELBO would ignore them.
    with pytest.raises(ValueError, match=r"VAE cannot weight examples: Keras applies "
                                         r"(sample_weight|class_weight|validation_data's)"):
        call(vae)
    assert vae.optimizer.iterations.numpy() == 0


@pytest.mark.parametrize("context_dim", [0, 1])
def test_example_weights_weight_a_compiled_loss(context_dim):
    # Keras drops sample weights that come without a target; a flow's target is x.
    flow = zoo.MAF(input_shape=2, context_dim=context_dim, hidden_units=[8], num_layers=1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 2)).astype("float32")
    args = (x,) if not context_dim else (x, rng.normal(size=(16, 1)).astype("float32"))
    weights = np.r_[np.ones(8), np.zeros(8)]  # Keras divides the weighted sum by the batch
    weighted = flow.evaluate(*args, sample_weight=weights, batch_size=16, verbose=0)
    first = [a[:8] for a in args]
    np.testing.assert_allclose(weighted, -flow.log_prob(*first).mean() / 2, rtol=1e-4)
    flow.fit(*args, sample_weight=weights, epochs=1, batch_size=16, verbose=0)


def test_training_that_goes_to_nan_stops_and_keeps_last_good_weights(vae):
    vae.fit(X, epochs=1, batch_size=8, verbose=0)
    good = [w.copy() for w in vae.get_weights()]
    # A huge learning rate drives the weights to inf / NaN within a few steps.
    vae.compile(optimizer=tf_keras.optimizers.SGD(1e30))
    history = vae.fit(X, epochs=5, batch_size=8, verbose=0).history
    assert len(history["loss"]) == 1  # stopped in the first epoch
    weights = vae.get_weights()
    assert all(np.all(np.isfinite(w)) for w in weights)
    for a, b in zip(good, weights):
        np.testing.assert_array_equal(a, b)


def test_nan_guard_restores_the_snapshot_taken_every_few_batches_across_epochs(vae):
    """Full batch (one batch per epoch), a snapshot every 3 batches: NaN weights injected
    before epoch 7 give back the weights after epoch 5 (batch 6), the last snapshot."""
    seen = {}

    class Recorder(tf_keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen[epoch] = [w.copy() for w in self.model.get_weights()]

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 7:
                for w in self.model.trainable_weights:
                    w.assign(tf.fill(w.shape, np.nan))

    guard = TerminateOnNaN(snapshot_every=3)
    history = vae.fit(X, epochs=10, batch_size=len(X), verbose=0,
                      callbacks=[Recorder(), guard]).history
    assert guard.restored and len(history["loss"]) == 8
    for a, b in zip(seen[5], vae.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_nan_guard_catches_weights_broken_by_the_last_step(vae):
    """The last update's loss is computed before it: NaN weights it writes are caught at
    the end of training and the snapshot (here the start of training) comes back."""
    before = [w.copy() for w in vae.get_weights()]

    class BreakLastStep(tf_keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 3:
                self.model.trainable_weights[0].assign(
                    tf.fill(self.model.trainable_weights[0].shape, np.inf))

    guard = TerminateOnNaN()
    vae.fit(X, epochs=1, batch_size=8, verbose=0, callbacks=[BreakLastStep(), guard])
    assert guard.restored
    for a, b in zip(before, vae.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_nan_guard_restores_the_optimizer_state_so_training_can_resume(vae):
    vae.fit(X, epochs=1, batch_size=8, verbose=0)
    moments = [v.numpy().copy() for v in vae.optimizer.variables]
    # tf.data passes unchecked: 1e30 pixels overflow the loss, and the NaN step's
    # gradients reach Adam's moments before the guard sees the loss.
    poisoned = tf.data.Dataset.from_tensor_slices(X * 1e30).batch(8)
    vae.fit(poisoned, epochs=1, verbose=0)
    for a, b in zip(moments, vae.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a, b.numpy())
    history = vae.fit(X, epochs=2, batch_size=8, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    assert all(np.all(np.isfinite(w)) for w in vae.get_weights())


def test_nan_guard_keeps_a_legacy_optimizers_slots_finite_from_the_first_step(vae):
    # A legacy optimizer makes its slots in its first step: a NaN there left NaN moments.
    vae.compile(optimizer=tf_keras.optimizers.legacy.Adam(1e-3))
    vae.fit(tf.data.Dataset.from_tensor_slices(X * 1e30).batch(8), epochs=1, verbose=0)
    assert all(np.all(np.isfinite(v.numpy())) for v in vae.optimizer.variables())
    history = vae.fit(X, epochs=1, batch_size=8, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))


def test_fit_from_non_finite_weights_is_refused_before_any_step(vae):
    weight = vae.trainable_weights[0]
    weight.assign(tf.fill(weight.shape, np.nan))
    with pytest.raises(ValueError, match="non-finite weights .* before training"):
        vae.fit(X, epochs=1, verbose=0)
    assert int(vae.optimizer.iterations) == 0


def test_save_is_atomic_and_keeps_the_old_file_on_failure(vae, tmp_path, monkeypatch):
    path = str(tmp_path / "model.keras")
    vae.save(path)
    original = open(path, "rb").read()

    def broken_save(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(tf_keras.Model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        vae.save(path)
    assert open(path, "rb").read() == original
    assert os.listdir(tmp_path) == ["model.keras"]  # no temporary left behind


def test_save_requires_keras_extension(vae, tmp_path):
    with pytest.raises(ValueError, match=r"filepath must end in '.keras'.*model.h5"):
        vae.save(str(tmp_path / "model.h5"))


def test_saved_file_gets_the_usual_permissions(vae, tmp_path):
    """A new file gets 0o666 less the umask (not the temporary file's private 0o600);
    an overwritten file keeps its mode."""
    old_umask = os.umask(0o022)
    try:
        vae.save(tmp_path / "new.keras")
    finally:
        os.umask(old_umask)
    assert os.stat(tmp_path / "new.keras").st_mode & 0o777 == 0o644
    os.chmod(tmp_path / "new.keras", 0o640)
    vae.save(tmp_path / "new.keras")
    assert os.stat(tmp_path / "new.keras").st_mode & 0o777 == 0o640


def test_save_into_a_missing_directory_names_the_path(vae, tmp_path):
    path = tmp_path / "missing" / "model.keras"
    with pytest.raises(FileNotFoundError, match=r"directory does not exist.*missing/model.keras"):
        vae.save(path)
    assert not (tmp_path / "missing").exists()


def test_loaded_model_keeps_training(vae, tmp_path):
    vae.fit(X, epochs=1, verbose=0)
    path = str(tmp_path / "vae.keras")
    vae.save(path)
    loaded = zoo.load(path)
    assert loaded.optimizer.iterations.numpy() == vae.optimizer.iterations.numpy()
    loaded.fit(X, epochs=1, verbose=0)
    assert loaded.optimizer.iterations.numpy() > vae.optimizer.iterations.numpy()


def test_load_refuses_code_in_the_file(tmp_path):
    inputs = tf_keras.Input((2,))
    model = tf_keras.Model(inputs, tf_keras.layers.Lambda(lambda t: t * 2.0)(inputs))
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    with pytest.raises(ValueError, match="(?i)unsafe|lambda|safe_mode"):
        zoo.load(path)


def test_load_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="'VAE' is a model name"):
        zoo.load("VAE")
    with pytest.raises(FileNotFoundError, match="No saved model at path="):
        zoo.load(str(tmp_path / "missing.keras"))


def test_load_says_what_a_savedmodel_directory_is(tmp_path):
    import tensorflow as tf

    module = tf.Module()
    module.v = tf.Variable(1.0)
    tf.saved_model.save(module, str(tmp_path / "exported"))
    with pytest.raises(ValueError, match=r"SavedModel directory.*tf.saved_model.load.*\.keras"):
        zoo.load(str(tmp_path / "exported"))
    with pytest.raises(ValueError, match=r"Received: path=.*, a directory\."):
        zoo.load(str(tmp_path))


def test_entry_point_models_are_listed(monkeypatch):
    class Plugin(zoo.VAE):
        pass

    class FakeEntryPoint:
        name = "PluginVAE"

        def load(self):
            return Plugin

    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))
    monkeypatch.setattr(
        metadata, "entry_points",
        lambda group: [FakeEntryPoint()] if group == registry.ENTRY_POINT_GROUP else [],
    )
    assert "PluginVAE" in zoo.list()
    assert zoo.get("PluginVAE") is Plugin


def test_entry_point_must_be_a_zoo_model(monkeypatch):
    class FakeEntryPoint:
        name = "Broken"

        def load(self):
            return object

    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))
    monkeypatch.setattr(metadata, "entry_points", lambda group: [FakeEntryPoint()])
    with pytest.raises(TypeError, match="must load a zoo.ZooModel subclass"):
        zoo.list()


def test_hypermodel_builds_from_search_space():
    import keras_tuner as kt

    hp = kt.HyperParameters()
    hp.Fixed("latent_dim", 3)
    model = zoo.VAE.hypermodel(input_shape=(4, 4)).build(hp)
    assert model.latent_dim == 3 and model.input_shape == (4, 4)
    assert {"learning_rate", "hidden_units_width", "hidden_units_depth"} <= set(hp.values)
    with pytest.raises(ValueError, match=r"has no constructor argument\(s\) \['depth'\]"):
        zoo.VAE.hypermodel(depth=3)


def test_works_whatever_tf_use_legacy_keras_says(tmp_path):
    import subprocess
    import sys

    code = (
        "import numpy as np, zoo; v = zoo.VAE(input_shape=(4,), hidden_units=[4]);"
        "v.fit(np.random.rand(8, 4), epochs=1, verbose=0); print('ok')"
    )
    for value in ("0", "1"):
        env = {**os.environ, "TF_USE_LEGACY_KERAS": value, "TF_CPP_MIN_LOG_LEVEL": "3"}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
        assert out.stdout.strip().endswith("ok")


def test_distribution_strategy_fit():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = zoo.VAE(input_shape=(4, 4), latent_dim=2, hidden_units=[8])
    history = model.fit(X, epochs=2, batch_size=8, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
