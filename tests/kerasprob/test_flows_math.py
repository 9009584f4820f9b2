"""Flow math against closed forms, and bad input caught before training."""

import numpy as np
import pytest
import tensorflow as tf

import zoo
from kerasprob.layers import flows as F

RNG = np.random.default_rng(0)


# ---------------------------------------------------------------- spline math
def _spline_params(shape, bins, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    w = (scale * rng.normal(size=(*shape, bins))).astype("float32")
    h = (scale * rng.normal(size=(*shape, bins))).astype("float32")
    d = (scale * rng.normal(size=(*shape, bins - 1))).astype("float32")
    return w, h, d


def test_spline_interpolates_its_knots_and_derivatives():
    """At the knots, y equals the height knots and dy/dx the knot derivatives (closed form)."""
    bins, bound = 5, 3.0
    w, h, d = _spline_params((1,), bins)
    limit = -np.log(F.spline.MIN_SLOPE)  # raw parameters are soft-clipped: u / (1 + |u| / c)

    def sizes(u, floor):
        u = u / (1 + np.abs(u) / (limit / 2))
        p = np.exp(u - u.max()) / np.exp(u - u.max()).sum()
        return floor + (1 - floor * bins) * p

    widths = sizes(w[0].astype("float64"), F.spline.MIN_BIN_WIDTH)
    heights = sizes(h[0].astype("float64"), F.spline.MIN_BIN_HEIGHT)
    x_knots = -bound + 2 * bound * np.concatenate([[0.0], np.cumsum(widths)])[1:-1]
    y_knots = -bound + 2 * bound * np.concatenate([[0.0], np.cumsum(heights)])[1:-1]
    inner = np.exp(d[0] / (1 + np.abs(d[0]) / limit))
    x = tf.constant(x_knots.astype("float32"))
    tile = lambda a: np.repeat(a, len(x_knots), axis=0)  # noqa: E731
    with tf.GradientTape() as tape:
        tape.watch(x)
        y, log_det = F.rational_quadratic_spline(x, tile(w), tile(h), tile(d), bound)
    np.testing.assert_allclose(y, y_knots, atol=1e-4)
    np.testing.assert_allclose(tape.gradient(y, x), inner, rtol=1e-3)
    np.testing.assert_allclose(np.exp(log_det), inner, rtol=1e-3)


def test_spline_slopes_stay_within_the_slope_bound():
    """However large the raw parameters, bin slopes h_k / w_k and knot derivatives stay
    within about [MIN_SLOPE, 1 / MIN_SLOPE], so dy/dx inside a bin (at worst about
    2 s^2 / d, s and d at opposite ends of that range) stays within [e^-3c, e^3c],
    c = log(1 / MIN_SLOPE): no needle-sharp bins (unclipped, 1e4 gives slopes of e^+-1e4)."""
    bins, bound = 8, 5.0
    x = np.linspace(-4.99, 4.99, 2001).astype("float32")
    rng = np.random.default_rng(3)
    w, h, d = (1e4 * rng.normal(size=(len(x), n)).astype("float32")
               for n in (bins, bins, bins - 1))
    w, h, d = (np.repeat(a[:1], len(x), axis=0) for a in (w, h, d))
    _, log_det = F.rational_quadratic_spline(x, w, h, d, bound)
    log_det = np.asarray(log_det)
    assert np.all(np.isfinite(log_det))
    limit = -np.log(F.spline.MIN_SLOPE)
    assert np.abs(log_det).max() < 3 * limit, (log_det.min(), log_det.max())


def test_spline_linear_tails_and_inverse():
    bins, bound = 8, 2.0
    x = np.array([-1e4, -50.0, -2.0, -1.999, -0.3, 0.0, 1.2, 1.9999, 2.0, 7.0, 1e4], "float32")
    w, h, d = _spline_params(x.shape, bins, scale=1.0, seed=1)
    y, log_det = F.rational_quadratic_spline(x, w, h, d, bound)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(log_det))
    outside = np.abs(x) >= bound
    np.testing.assert_array_equal(np.asarray(y)[outside], x[outside])
    np.testing.assert_array_equal(np.asarray(log_det)[outside], 0.0)
    assert np.all(np.diff(np.asarray(y)) > 0)  # monotonic
    x_back, inv_log_det = F.rational_quadratic_spline(y, w, h, d, bound, inverse=True)
    np.testing.assert_allclose(x_back, x, atol=1e-4)
    np.testing.assert_allclose(inv_log_det, -np.asarray(log_det), atol=1e-4)
    # Extreme parameters (slopes near 1e-5) are ill-conditioned in float32 but exact in float64.
    w, h, d = (a.astype("float64") for a in _spline_params(x.shape, bins, scale=2.0, seed=1))
    y, _ = F.rational_quadratic_spline(x.astype("float64"), w, h, d, bound)
    x_back, _ = F.rational_quadratic_spline(y, w, h, d, bound, inverse=True)
    np.testing.assert_allclose(x_back, x, atol=1e-6)


def test_spline_gradients_finite_far_outside_bound():
    x = tf.constant([[-1e3, 0.5, 1e3]], tf.float32)
    flow = F.Flow([F.SplineCoupling([8], mask="alternating", bound=1.0)])
    with tf.GradientTape() as tape:
        loss = -tf.reduce_sum(flow.log_prob(x))
    grads = tape.gradient(loss, flow.trainable_weights)
    assert np.isfinite(float(loss))
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_zero_parameters_start_at_identity():
    x = RNG.normal(size=(10, 4)).astype("float32")
    for layer in [F.AffineCoupling([8]), F.SplineCoupling([8]), F.MaskedAutoregressive([8]),
                  F.MaskedAutoregressive([8], transformer="spline"), F.LULinear(permute=False)]:
        y, log_det = layer.forward_and_log_det(x)
        np.testing.assert_allclose(y, x, atol=1e-5, err_msg=layer.name)
        np.testing.assert_allclose(log_det, 0.0, atol=1e-5, err_msg=layer.name)


@pytest.mark.parametrize("d, context_dim", [(1, 1), (2, 1), (3, 2), (5, 2), (5, 0)])
def test_made_masks_are_autoregressive(d, context_dim):
    """Output ``i`` reaches exactly the inputs ``< i``, and every output reaches the context."""
    params = 3
    masks = F.made_masks(d, [16, 16], params, context_dim=context_dim)
    reach = masks[0]
    for m in masks[1:]:
        reach = (reach @ m) > 0
    reach = reach.reshape(d + context_dim, params, d).transpose(0, 2, 1)  # [input, feature, param]
    for i in range(d):
        for j in range(d):
            assert reach[i, j].all() == reach[i, j].any() == (i < j), (i, j)
    assert reach[d:].all()  # the context reaches every output, feature 0's included


@pytest.mark.parametrize("d", [1, 2, 3])
def test_made_outputs_depend_on_earlier_features_and_the_context(d):
    """At random weights, ``d out_(p, i) / d x_k`` is zero for ``k >= i`` and nonzero for
    ``k < i``, and every output column has a nonzero gradient with respect to the context."""
    context_dim, params = 2, 2
    made = F.MADE(params, [16, 16], activation="tanh", context_dim=context_dim)
    made.build((None, d + context_dim))
    rng = np.random.default_rng(d)
    for w in made.weights:
        w.assign(0.5 * rng.normal(size=w.shape).astype("float32"))
    inputs = tf.constant(rng.normal(size=(8, d + context_dim)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        out = made(inputs)  # [8, p, d]
    jacobian = np.abs(tape.batch_jacobian(out, inputs)).sum(0)  # [p, d, d + context_dim]
    for i in range(d):
        for k in range(d):
            if k >= i:
                assert np.all(jacobian[:, i, k] == 0), (i, k)
            else:
                assert np.all(jacobian[:, i, k] > 0), (i, k)
    assert np.all(jacobian[:, :, d:] > 0)


def test_iaf_context_gradients_compile_with_xla():
    """IAF's density direction loops ``d`` times over its MADE; with a context (which needs a
    gradient when an encoder computes it), the gradient of that loop compiles with XLA for a
    dynamic batch size and equals the eager one."""
    flow = F.Flow([F.InverseAutoregressive([8])])
    flow.build([tf.TensorShape([None, 2]), tf.TensorShape([None, 1])])
    rng = np.random.default_rng(0)
    for w in flow.trainable_weights:
        w.assign(w + 0.3 * rng.normal(size=w.shape).astype("float32"))
    x = rng.normal(size=(7, 2)).astype("float32")
    c = rng.normal(size=(7, 1)).astype("float32")

    def gradients(x, c):
        with tf.GradientTape() as tape:
            tape.watch(c)
            loss = -tf.reduce_mean(flow.log_prob(x, c))
        return tape.gradient(loss, [c, *flow.trainable_weights])

    xla = tf.function(gradients, jit_compile=True, input_signature=[
        tf.TensorSpec([None, 2], tf.float32), tf.TensorSpec([None, 1], tf.float32)])
    for ours, eager in zip(xla(x, c), gradients(tf.constant(x), tf.constant(c))):
        assert np.all(np.isfinite(ours))
        np.testing.assert_allclose(ours, eager, rtol=1e-4, atol=1e-5)


def test_sample_with_a_seed_is_reproducible():
    """An int seed ``s`` draws the base noise statelessly (keyed ``[s, 0]``): equal seeds give
    equal samples in eager mode, where an op-level seed would advance from call to call."""
    flow = F.Flow([F.Shift([1.0, -2.0])], event_dim=2)
    expected = tf.random.stateless_normal([3, 2], seed=[42, 0]) + np.array([1.0, -2.0], "float32")
    np.testing.assert_allclose(flow.sample(3, seed=42), expected, atol=1e-6)
    np.testing.assert_allclose(flow.sample(3, seed=42), expected, atol=1e-6)
    np.testing.assert_allclose(flow.sample(3, seed=tf.constant([42, 0])), expected, atol=1e-6)
    assert not np.allclose(flow.sample(3, seed=43), expected)
    with pytest.raises(ValueError, match=r"seed.*Received: seed with dtype float32 and shape"):
        flow.sample(3, seed=np.array([1.0, 2.0], "float32"))


def test_built_flow_rejects_another_event_size():
    flow = F.Flow([F.AffineCoupling([8])], event_dim=2)
    flow.sample(2)
    x3 = np.zeros((1, 3), "float32")
    for method in (flow.log_prob, flow.normalize, flow.initialize):
        with pytest.raises(ValueError, match=r"x must have 2 features.*Received: x with shape "
                                             r"\(1, 3\)"):
            method(x3)
    with pytest.raises(ValueError, match=r"built for events of size 2.*\(1, 3\)"):
        flow.bijector_layers[0].forward(x3)
    assert flow.log_prob(np.zeros((1, 2), "float32")).shape == (1,)


def test_coupling_conditioner_hidden_kernels_start_like_made():
    """Hidden kernels start in ``U(+-1 / sqrt(fan_in))`` (as MADE's), not Glorot's
    ``U(+-sqrt(6 / (fan_in + fan_out)))``: ``max |w|`` just under the limit, variance
    ``limit^2 / 3``."""
    layer = F.AffineCoupling([64, 64, 64], mask="alternating")
    layer.forward(np.zeros((1, 6), "float32"), np.zeros((1, 2), "float32"))  # fan_in 3 + 2
    kernels = [dense.kernel.numpy() for dense in layer.conditioner.hidden]
    for kernel in kernels:
        limit = 1 / np.sqrt(kernel.shape[0])
        assert 0.95 * limit < np.abs(kernel).max() <= limit, (kernel.shape, limit)
        np.testing.assert_allclose(kernel.var(), limit**2 / 3, rtol=0.2)
    assert not np.allclose(kernels[1], kernels[2])  # not one shared initializer's values


def test_flow_log_prob_matches_tfp_transformed_distribution():
    # Seed 001's flow: x = tanh(scale(shift(z))); the data side (tanh) comes first.
    flow = F.Flow([F.Tanh(), F.Scale([1.0, 0.5]), F.Shift([0.0, -2.0])])
    x = np.array([[0.1, -0.4], [0.7, -0.9]], "float32")
    import tensorflow_probability as tfp

    tfb, tfd = tfp.bijectors, tfp.distributions
    # Flow lists the data side first; a Chain also applies its last element first.
    reference = tfd.TransformedDistribution(
        tfd.MultivariateNormalDiag(tf.zeros(2)),
        tfb.Chain([tfb.Tanh(), tfb.Scale([1.0, 0.5]), tfb.Shift([0.0, -2.0])]),
    )
    np.testing.assert_allclose(flow.log_prob(x), reference.log_prob(x), rtol=1e-5, atol=1e-5)


def test_actnorm_initialize_standardizes():
    x = (3.0 + 2.0 * RNG.normal(size=(500, 3))).astype("float32")
    flow = F.Flow([F.ActNorm(), F.AffineCoupling([4], mask="alternating")])
    assert flow.initialize(x) == 1
    z = np.asarray(flow.normalize(x))
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(0), 1.0, atol=1e-3)
    assert flow.initialize(x) == 0  # already initialized


def test_shrink_only_actnorm_centres_and_never_magnifies():
    scales = np.array([3.0, 0.05, 1.0], "float32")
    x = (2.0 + scales * RNG.normal(size=(2000, 3))).astype("float32")
    layer = F.ActNorm(shrink_only=True)
    F.Flow([layer]).initialize(x)
    expected = np.maximum(0.5 * np.log(x.var(0) + layer.epsilon), 0.0)
    np.testing.assert_allclose(layer.log_scale.numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(layer.loc.numpy(), x.mean(0), atol=1e-5)
    assert layer.log_scale.numpy()[1] == 0.0  # the narrow feature is not magnified
    assert F.ActNorm.from_config(layer.get_config()).shrink_only is True
    with pytest.raises(TypeError, match="shrink_only.*Received: shrink_only=1"):
        F.ActNorm(shrink_only=1)


def test_actnorm_bound_leaves_features_inside_the_interval_alone():
    x = np.stack([RNG.uniform(size=2000), 2.0 + 3.0 * RNG.normal(size=2000),
                  4.0 + 0.5 * RNG.uniform(size=2000)], axis=1).astype("float32")
    layer = F.ActNorm(shrink_only=True, bound=4.5)
    F.Flow([layer]).initialize(x)
    outside = np.abs(x).max(0) > 4.5  # only the wide middle feature leaves [-4.5, 4.5]
    np.testing.assert_array_equal(outside, [False, True, False])
    log_std = np.maximum(0.5 * np.log(x.var(0) + layer.epsilon), 0.0)
    np.testing.assert_allclose(layer.loc.numpy(), np.where(outside, x.mean(0), 0.0), atol=1e-5)
    np.testing.assert_allclose(layer.log_scale.numpy(), np.where(outside, log_std, 0.0),
                               atol=1e-5)
    assert F.ActNorm.from_config(layer.get_config()).bound == 4.5
    with pytest.raises(ValueError, match="bound.*Received: bound=-1"):
        F.ActNorm(bound=-1)


def test_batch_norm_bijector_uses_batch_stats_in_training():
    x = (1.0 + 3.0 * RNG.normal(size=(256, 2))).astype("float32")
    layer = F.BatchNormBijector(momentum=0.5)
    z, _ = layer.inverse_and_log_det(x, training=True)
    np.testing.assert_allclose(np.mean(z, 0), 0.0, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.5 * x.mean(0), rtol=1e-4)


# ---------------------------------------------------------------- bad input
def test_half_mask_with_odd_features():
    with pytest.raises(ValueError, match=r"mask='half'.*event_dim=3"):
        F.AffineCoupling([4]).forward(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"mask='half'.*input_shape=\(3,\)"):
        zoo.RealNVP(input_shape=3)
    zoo.RealNVP(input_shape=3, mask="alternating", num_layers=2, hidden_units=[4])
    with pytest.raises(TypeError, match="event_dim is now input_shape"):  # 0.1's name
        zoo.RealNVP(event_dim=3)


@pytest.mark.parametrize("bins", [1, 0, 2.5, "8"])
def test_bins_below_two(bins):
    with pytest.raises(ValueError, match=rf"bins.*Received: bins={bins!r}"):
        F.SplineCoupling(bins=bins)
    with pytest.raises(ValueError, match=r"Received: bins="):
        zoo.NeuralSplineFlow(input_shape=2, bins=bins)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="transformer"):
        F.MaskedAutoregressive(transformer="cubic")
    with pytest.raises(ValueError, match="bound"):
        F.SplineCoupling(bound=-1.0)
    with pytest.raises(ValueError, match="permutation"):
        F.Permute([0, 0, 1])
    with pytest.raises(TypeError, match=r"bijectors\[1\]"):
        F.Flow([F.Tanh(), "tanh"])
    with pytest.raises(ValueError, match="mask"):
        F.AffineCoupling(mask=[0, 2])
    with pytest.raises(ValueError, match=r"only 0 and 1. Received: mask=\[0.5, 0\]"):
        F.AffineCoupling(mask=[0.5, 0])  # int() would have made it [0, 0]
    # A layer's list attribute (a ListWrapper) shows as a plain list.
    with pytest.raises(ValueError, match=r"Received: mask=\[1, 1, 1\], flip=False"):
        F.AffineCoupling([4], mask=[1, 1, 1]).forward(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"Received: shift=\[0.0, 1.0, 2.0\]$"):
        F.Shift([0.0, 1.0, 2.0]).forward(np.zeros((2, 2), "float32"))
    with pytest.raises(ValueError, match="input_shape"):
        zoo.MAF(input_shape=0)


def test_context_errors():
    x = RNG.normal(size=(20, 2)).astype("float32")
    flow = zoo.MAF(input_shape=2, context_dim=2, num_layers=1, hidden_units=[4])
    with pytest.raises(ValueError, match=r"c must have shape \[batch, 2\].*\(20, 3\)"):
        flow.fit(x, np.zeros((20, 3)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="Received: c=None"):
        flow.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="same number of examples"):
        flow.log_prob(x, np.zeros((19, 2)))
    with pytest.raises(ValueError, match=r"validation_x and validation_c.*20 and 10"):
        flow.fit(x, np.zeros((20, 2)), validation_data=(x, np.zeros((10, 2))), verbose=0)
    with pytest.raises(ValueError, match="context_dim=0"):
        zoo.MAF(input_shape=2, num_layers=1, hidden_units=[4]).log_prob(x, np.zeros((20, 2)))
    with pytest.raises(ValueError, match=r"context_dim=0.*Received: c with shape \(1,\)$"):
        zoo.MAF(input_shape=2, num_layers=1, hidden_units=[4]).sample(3, c=[0.0])
    layer = F.Flow([F.AffineCoupling([4])])
    layer.log_prob(x, np.zeros((20, 2), "float32"))
    with pytest.raises(ValueError, match=r"context must have 2 features.*\(20, 5\)"):
        layer.log_prob(x, np.zeros((20, 5), "float32"))


def test_log_prob_with_one_context_row():
    """One context (``[context_dim]`` or ``[1, context_dim]``) serves every row of ``x``."""
    x = RNG.normal(size=(20, 2)).astype("float32")
    flow = zoo.MAF(input_shape=2, context_dim=2, num_layers=1, hidden_units=[4])
    for w in flow.trainable_weights:
        w.assign(w + 0.3)
    repeated = np.tile([[0.5, -1.0]], (20, 1)).astype("float32")
    for c in ([0.5, -1.0], [[0.5, -1.0]]):
        np.testing.assert_allclose(flow.log_prob(x, c), flow.log_prob(x, repeated), rtol=1e-6)
        np.testing.assert_allclose(flow.normalize(x, c), flow.normalize(x, repeated), rtol=1e-6)


def test_nan_data_rejected_before_training():
    x = RNG.normal(size=(20, 2)).astype("float32")
    x[3, 1] = np.nan
    flow = zoo.NeuralSplineFlow(input_shape=2, num_layers=1, hidden_units=[4])
    weights = [w.copy() for w in flow.get_weights()]
    with pytest.raises(ValueError, match=r"x must be finite.*1 NaN"):
        flow.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"x must have shape \[batch, 2\]"):
        flow.fit(np.zeros((5, 3)), epochs=1, verbose=0)
    for a, b in zip(weights, flow.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_data_outside_spline_bound_is_finite():
    flow = zoo.NeuralSplineFlow(input_shape=2, num_layers=2, hidden_units=[8], bound=1.0,
                                actnorm=False)
    _perturb = [w.assign(w + 0.3) for w in flow.trainable_weights]
    x = np.array([[0.2, -0.1], [50.0, -80.0], [1e4, 3.0]], "float32")
    log_p = flow.log_prob(x)
    assert np.all(np.isfinite(log_p))
    z = flow.normalize(x)
    np.testing.assert_allclose(np.abs(z[2]).max(), 1e4, rtol=1e-6)  # identity tails all the way
