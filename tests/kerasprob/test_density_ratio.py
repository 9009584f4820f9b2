"""kerasprob.math.density_ratio and kerasprob.layers.density_ratio against closed forms and
numerical integration."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

import kerasprob as kp
from kerasprob.layers.cross_fitting import CrossFittedLogRatio, fold_ids
from kerasprob.layers.density_ratio import adversarial_kl
from kerasprob.layers.stacked import StackedMLP, StackedQuadratic
from kerasprob.math import density_ratio as dr

GRID = np.linspace(-12.0, 12.0, 200_001)


class Normal:
    """numpy N(loc, scale^2): logpdf, pdf, rvs."""

    def __init__(self, loc, scale):
        self.loc, self.scale = np.asarray(loc, float), float(scale)

    def logpdf(self, x):
        z = (x - self.loc) / self.scale
        return -0.5 * z**2 - math.log(self.scale * math.sqrt(2 * math.pi))

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def rvs(self, n, random_state):
        return self.loc + self.scale * random_state.normal(size=n)


def integrate(values):
    return float(np.trapezoid(values, GRID))


def gaussians(mu_p=0.5, s_p=1.0, mu_q=0.0, s_q=1.0):
    p, q = Normal(mu_p, s_p), Normal(mu_q, s_q)
    return p, q, (lambda x: p.logpdf(x) - q.logpdf(x))


def exact_f_divergence(f, p, q):
    """``int q f(p / q) dx`` by the trapezoidal rule, with TFP's f(log u)."""
    log_u = p.logpdf(GRID) - q.logpdf(GRID)
    values = np.asarray(dr.csiszar_function(f)(tf.constant(log_u, tf.float64)))
    return integrate(q.pdf(GRID) * values)


@pytest.mark.parametrize("f", dr.CSISZAR_FUNCTIONS)
def test_bound_and_plug_in_equal_the_integral_at_the_true_ratio(f):
    p, q, log_ratio = gaussians()  # equal variances: every moment of r is finite
    rng = np.random.default_rng(0)
    x_p, x_q = p.rvs(200_000, random_state=rng), q.rvs(200_000, random_state=rng)
    lr_p, lr_q = tf.constant(log_ratio(x_p)), tf.constant(log_ratio(x_q))
    exact = exact_f_divergence(f, p, q)
    bound = dr.f_divergence_lower_bound_estimate(lr_p, lr_q, f)
    plug_in = dr.f_divergence_estimate(lr_q, f)
    for estimate in (bound, plug_in):
        assert abs(float(estimate) - exact) < 5 * float(estimate.standard_error) + 1e-3
    assert float(bound.standard_error) > 0


@pytest.mark.parametrize("f", ["kl_forward", "jensen_shannon", "squared_hellinger", "pearson"])
def test_bound_is_below_the_divergence_at_a_wrong_ratio(f):
    """The variational bound, integrated exactly, is maximal at the true ratio."""
    p, q, log_ratio = gaussians()
    exact = exact_f_divergence(f, p, q)
    for wrong in (lambda x: 0.5 * log_ratio(x), lambda x: log_ratio(x) + 0.3):
        lr = tf.constant(wrong(GRID))
        derivative, conjugate = dr.f_divergence_lower_bound_terms(lr, lr, f)
        bound = integrate(p.pdf(GRID) * derivative) - integrate(q.pdf(GRID) * conjugate)
        assert bound < exact - 1e-4
    lr = tf.constant(log_ratio(GRID))
    derivative, conjugate = dr.f_divergence_lower_bound_terms(lr, lr, f)
    bound = integrate(p.pdf(GRID) * derivative) - integrate(q.pdf(GRID) * conjugate)
    assert bound == pytest.approx(exact, abs=1e-6)


def test_special_cases_of_the_f_bound():
    rng = np.random.default_rng(1)
    lr_p, lr_q = tf.constant(rng.normal(size=50)), tf.constant(rng.normal(size=40))
    np.testing.assert_allclose(dr.f_divergence_lower_bound(lr_p, lr_q, "kl_forward"),
                               dr.kl_lower_bound(lr_p, lr_q), rtol=1e-12)
    np.testing.assert_allclose(dr.f_divergence_lower_bound(lr_p, lr_q, "jensen_shannon"),
                               -dr.binary_cross_entropy(lr_p, lr_q), rtol=1e-12)
    expected = np.mean(lr_p) - np.mean(np.exp(lr_q) - 1)
    np.testing.assert_allclose(dr.kl_lower_bound(lr_p, lr_q), expected, rtol=1e-12)
    # A callable f is used as it is.
    np.testing.assert_allclose(dr.f_divergence_lower_bound(lr_p, lr_q, tfp.vi.pearson),
                               dr.f_divergence_lower_bound(lr_p, lr_q, "pearson"), rtol=1e-12)


def test_js_identity_of_the_cross_entropy_at_the_optimum():
    """BCE at the true ratio = log 4 - 2 JS (the seed's identity), JS by integration."""
    p, q, log_ratio = gaussians(1.0, 1.0, 0.0, 2.0)
    m = 0.5 * (p.pdf(GRID) + q.pdf(GRID))
    js = 0.5 * integrate(p.pdf(GRID) * (p.logpdf(GRID) - np.log(m)))
    js += 0.5 * integrate(q.pdf(GRID) * (q.logpdf(GRID) - np.log(m)))
    # The cross-entropy's expectation by integration, exactly at the optimum:
    lr = log_ratio(GRID)
    bce = (integrate(p.pdf(GRID) * np.logaddexp(0, -lr))
           + integrate(q.pdf(GRID) * np.logaddexp(0, lr)))
    assert bce == pytest.approx(math.log(4) - 2 * js, abs=1e-8)
    assert dr.js_divergence_from_cross_entropy(bce) == pytest.approx(js, abs=1e-8)
    rng = np.random.default_rng(2)
    x_p, x_q = p.rvs(100_000, random_state=rng), q.rvs(100_000, random_state=rng)
    estimate = dr.js_divergence_estimate(log_ratio(x_p), log_ratio(x_q))
    assert abs(float(estimate) - js) < 4 * float(estimate.standard_error)
    mc = dr.binary_cross_entropy(log_ratio(x_p), log_ratio(x_q))
    assert float(mc) == pytest.approx(math.log(4) - 2 * float(estimate.value), abs=1e-10)


def test_kl_estimate_and_standard_error():
    values = np.random.default_rng(3).normal(size=1000)
    estimate = dr.kl_divergence_estimate(values)
    assert float(estimate.value) == pytest.approx(values.mean(), abs=1e-12)
    assert float(estimate.standard_error) == pytest.approx(
        values.std(ddof=1) / math.sqrt(1000), rel=1e-10)
    two = dr.kl_lower_bound_estimate(values[:400], values[400:])
    expected_se = math.sqrt(values[:400].var(ddof=1) / 400
                            + np.expm1(values[400:]).var(ddof=1) / 600)
    assert float(two.standard_error) == pytest.approx(expected_se, rel=1e-10)


def test_class_prior_correction():
    assert dr.class_log_prior_odds(400, 100) == pytest.approx(math.log(4))
    np.testing.assert_allclose(dr.log_ratio_from_logits([1.0, 2.0], 400, 100),
                               np.array([1.0, 2.0]) - math.log(4), rtol=1e-6)


@pytest.mark.parametrize("objective", ["bce", "kl", "jensen_shannon", "squared_hellinger",
                                       "pearson", "kl_reverse"])
@pytest.mark.parametrize("odds", [1.0, 4.0, 0.25])
def test_pointwise_risk_is_minimal_at_the_log_ratio(objective, odds):
    """For pooled data in odds N_p / N_q, the expected per-example loss at x,
    pi_p p(x) l(1, s) + pi_q q(x) l(0, s), is minimal at s = log p(x) / q(x)."""
    c = math.log(odds)
    pi_p = odds / (1 + odds)
    s = tf.constant(np.linspace(-4.0, 4.0, 80_001))
    loss_p = dr.per_example_loss(tf.ones_like(s), s, objective, c).numpy()
    loss_q = dr.per_example_loss(tf.zeros_like(s), s, objective, c).numpy()
    for density_p, density_q in [(0.3, 0.1), (0.05, 0.2), (0.2, 0.2)]:
        risk = pi_p * density_p * loss_p + (1 - pi_p) * density_q * loss_q
        best = float(s[np.argmin(risk)])
        assert best == pytest.approx(math.log(density_p / density_q), abs=2e-4)


@pytest.mark.parametrize("objective", ["kl", "jensen_shannon", "chi_square"])
def test_pooled_loss_mean_is_minus_the_bound(objective):
    rng = np.random.default_rng(4)
    lr_p, lr_q = rng.normal(size=80), rng.normal(size=20)
    labels = np.r_[np.ones(80), np.zeros(20)]
    losses = dr.per_example_loss(labels, np.r_[lr_p, lr_q], objective, math.log(80 / 20))
    f = "kl_forward" if objective == "kl" else objective
    np.testing.assert_allclose(np.mean(losses), -dr.f_divergence_lower_bound(lr_p, lr_q, f),
                               rtol=1e-8)


def test_pooled_bce_is_keras_cross_entropy_on_corrected_logits():
    rng = np.random.default_rng(5)
    lr, labels = rng.normal(size=30).astype("float32"), rng.integers(0, 2, 30)
    ours = dr.per_example_loss(labels, lr, "bce", 0.7)
    keras = tf_keras.losses.BinaryCrossentropy(from_logits=True, reduction="none")(
        labels[:, None].astype("float32"), (lr + 0.7)[:, None])
    np.testing.assert_allclose(ours, keras, rtol=1e-5, atol=1e-6)


def test_dtypes_and_bad_names():
    assert dr.kl_lower_bound(tf.zeros(3, tf.float64), tf.zeros(3, tf.float64)).dtype == tf.float64
    assert dr.per_example_loss([1.0], tf.zeros(1, tf.bfloat16), "kl").dtype == tf.float32
    assert dr.kl_divergence_estimate(tf.zeros(4, tf.float16)).value.dtype == tf.float32
    with pytest.raises(ValueError, match="objective must be one of .*Received: objective='nwj'"):
        dr.per_example_loss([1.0], [0.0], "nwj")
    with pytest.raises(ValueError, match="f must be one of .*Received: f='total_variation'"):
        dr.f_divergence_estimate([0.0], "total_variation")


# ------------------------------------------------------------------------------- layers
def test_quadratic_log_ratio_formula():
    layer = kp.layers.QuadraticLogRatio()
    x = np.random.default_rng(6).normal(size=(7, 3)).astype("float32")
    layer(x)
    a = np.arange(9.0).reshape(3, 3) / 10
    w, b = np.array([[1.0], [-2.0], [0.5]]), np.array([0.3])
    layer.set_weights([a, w, b])
    expected = np.einsum("bi,ij,bj->b", x, a, x) + x @ w[:, 0] + b
    np.testing.assert_allclose(layer(x)[:, 0], expected, rtol=1e-5, atol=1e-5)


def test_classifier_adds_its_objective_and_estimates():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(10, 2)).astype("float32")
    labels = np.r_[np.ones(6), np.zeros(4)].astype("float32")
    layer = kp.layers.DensityRatioClassifier(hidden_units=[8], objective="kl",
                                             log_prior_odds=math.log(1.5))
    log_ratio = layer([x, labels])
    assert log_ratio.shape == (10,)
    expected = -dr.kl_lower_bound(log_ratio[:6], log_ratio[6:])
    np.testing.assert_allclose(layer.losses[0], expected, rtol=1e-5)
    np.testing.assert_allclose(layer.ratio(x), np.exp(log_ratio), rtol=1e-5)
    np.testing.assert_allclose(layer.classifier_probability(x), tf.sigmoid(log_ratio), rtol=1e-6)
    np.testing.assert_allclose(layer.kl_divergence(x[:6]).value, np.mean(log_ratio[:6]),
                               rtol=1e-5)
    js = layer.js_divergence(x[:6], x[6:]).value
    np.testing.assert_allclose(js, dr.js_divergence_estimate(log_ratio[:6], log_ratio[6:]).value)
    hellinger = layer.f_divergence("squared_hellinger", x[6:]).value
    np.testing.assert_allclose(hellinger, np.mean((np.exp(log_ratio[6:] / 2) - 1) ** 2),
                               rtol=1e-5)
    layer.set_sample_sizes(4, 1)
    assert layer.log_prior_odds == pytest.approx(math.log(4))


def test_classifier_dtypes():
    x = np.random.default_rng(8).normal(size=(4, 2))
    layer64 = kp.layers.DensityRatioClassifier(hidden_units=[4], dtype="float64")
    out = layer64([x, np.ones(4)])
    assert out.dtype == tf.float64 and layer64.losses[0].dtype == tf.float64
    policy = tf_keras.mixed_precision.Policy("mixed_bfloat16")
    mixed = kp.layers.DensityRatioClassifier(hidden_units=[4], dtype=policy)
    out = mixed([x.astype("float32"), np.ones(4, "float32")])
    assert mixed.network.compute_dtype == "bfloat16"
    assert out.dtype == tf.float32 and mixed.losses[0].dtype == tf.float32


def test_classifier_bad_arguments():
    with pytest.raises(ValueError, match="network must be one of .*Received: network='rbf'"):
        kp.layers.DensityRatioClassifier(network="rbf")
    with pytest.raises(TypeError, match="Received: network=3"):
        kp.layers.DensityRatioClassifier(network=3)
    with pytest.raises(ValueError, match="Received: objective='gan'"):
        kp.layers.DensityRatioClassifier(objective="gan")
    with pytest.raises(TypeError, match="Received: log_prior_odds='1'"):
        kp.layers.DensityRatioClassifier(log_prior_odds="1")


def test_adversarial_kl_gradients_go_to_the_right_player():
    classifier = kp.layers.DensityRatioClassifier(hidden_units=[8])
    rng = np.random.default_rng(9)
    samples = tf.Variable(rng.normal(size=(16, 2)).astype("float32"))
    reference = tf.constant(rng.normal(size=(12, 2)).astype("float32"))
    classifier(samples)
    with tf.GradientTape(persistent=True) as tape:
        kl, ratio_loss = adversarial_kl(classifier, samples, reference)
        kl_mean = tf.reduce_mean(kl)
        direct = tf.reduce_mean(classifier.log_ratio(samples))
    np.testing.assert_allclose(kl, classifier.log_ratio(samples), rtol=1e-5, atol=1e-6)
    for grad in tape.gradient(kl_mean, classifier.trainable_weights):
        np.testing.assert_allclose(grad, 0.0, atol=1e-6)
    np.testing.assert_allclose(tape.gradient(kl_mean, samples), tape.gradient(direct, samples),
                               rtol=1e-5, atol=1e-7)
    assert tape.gradient(ratio_loss, samples) is None
    assert all(g is not None for g in tape.gradient(ratio_loss, classifier.trainable_weights))
    lr = classifier.log_ratio(tf.concat([samples, reference], 0))
    labels = np.r_[np.ones(16), np.zeros(12)]
    expected = tf.reduce_mean(dr.per_example_loss(labels, lr, "bce", math.log(16 / 12)))
    np.testing.assert_allclose(ratio_loss, expected, rtol=1e-5)


def test_adversarial_kl_layer_value_and_drop_in():
    layer = kp.layers.AdversarialKLDivergenceLayer(weight=0.5, hidden_units=[8])
    assert isinstance(layer, kp.layers.KLDivergenceLayer)  # KLAnnealing finds it
    z = np.random.default_rng(10).normal(size=(6, 3)).astype("float32")
    out = layer(z)
    assert out is z or np.array_equal(out, z)
    np.testing.assert_allclose(layer.losses[0], 0.5 * np.mean(layer.kl_divergence(z)),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="reference='samples' needs inputs"):
        kp.layers.AdversarialKLDivergenceLayer(reference="samples")(z)
    with pytest.raises(ValueError, match="Received: reference='data'"):
        kp.layers.AdversarialKLDivergenceLayer(reference="data")


def test_adversarial_kl_layer_trains_a_learnable_prior():
    prior = kp.layers.NormalPrior(2, learnable=True)
    layer = kp.layers.AdversarialKLDivergenceLayer(prior=prior, hidden_units=[4])
    z = tf.constant(np.random.default_rng(11).normal(3.0, 1.0, (64, 2)).astype("float32"))
    with tf.GradientTape() as tape:
        layer(z)
        loss = tf.add_n(layer.losses)
    grads = tape.gradient(loss, prior.trainable_weights)
    # d/d loc of -E_q[log N(z; loc, 1)] at loc = 0 is -mean(z): the prior moves towards z.
    loc_grad = next(g for w, g in zip(prior.trainable_weights, grads) if "loc" in w.name)
    np.testing.assert_allclose(loc_grad, -np.mean(z, 0), rtol=1e-4)


def test_adversarial_kl_layer_learns_the_kl_of_a_known_posterior():
    """q(z | x) = N(x, 0.5^2), p(z) = N(0, 1): the ratio network T(z, x) learns the KL,
    E_x KL = log 2 + (0.25 + E x^2) / 2 - 1/2 = log 2 + 0.125 for x ~ N(0, 1)."""
    tf_keras.utils.set_random_seed(0)
    z_in, x_in = tf_keras.Input((1,)), tf_keras.Input((1,))
    layer = kp.layers.AdversarialKLDivergenceLayer(network="quadratic")
    model = tf_keras.Model([z_in, x_in], layer([z_in, x_in]))
    model.compile(tf_keras.optimizers.Adam(
        tf_keras.optimizers.schedules.CosineDecay(0.05, 320, alpha=0.05)))
    rng = np.random.default_rng(12)
    x = rng.normal(size=(8192, 1)).astype("float32")
    z = (x + 0.5 * rng.normal(size=x.shape)).astype("float32")
    model.fit([z, x], epochs=40, batch_size=1024, verbose=0)
    estimate = float(np.mean(layer.kl_divergence([z, x])))
    assert estimate == pytest.approx(math.log(2) + 0.125, abs=0.05)
    exact = Normal(x[:, 0], 0.5).logpdf(z[:, 0]) - Normal(0, 1).logpdf(z[:, 0])
    learnt = np.asarray(layer.kl_divergence([z, x]))
    assert np.median(np.abs(learnt - exact)) < 0.1  # T(z, x) = log q(z | x) / p(z)


# ---------------------------------------------------------------- stacked members
def test_stacked_mlp_members_are_independent_mlps():
    """Member m's output is its own MLP in numpy; its gradient reaches its weights only."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 3)).astype("float32")
    net = StackedMLP(members=4, hidden_units=[5, 6], activation="tanh")
    out = np.asarray(net(x))  # [batch, members]
    assert out.shape == (7, 4)
    kernels = [k.numpy() for k in net.kernels]
    biases = [b.numpy() for b in net.biases]
    for m in range(4):
        h = x
        for i, (k, b) in enumerate(zip(kernels, biases)):
            h = h @ k[m] + b[m]
            h = np.tanh(h) if i < len(kernels) - 1 else h
        np.testing.assert_allclose(out[:, m], h[:, 0], rtol=1e-5, atol=1e-5)
    with tf.GradientTape() as tape:
        member_two = tf.reduce_sum(net(x)[:, 2])
    for grad in tape.gradient(member_two, net.trainable_weights):
        grad = np.asarray(grad)
        assert np.all(grad[[0, 1, 3]] == 0) and np.any(grad[2] != 0)
    np.testing.assert_allclose(np.asarray(net.squared_norm()),
                               [sum((k[m] ** 2).sum() for k in kernels) for m in range(4)],
                               rtol=1e-5)


def test_stacked_quadratic_matches_the_formula():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 3))
    net = StackedQuadratic(members=2, dtype="float64")
    net.build(x.shape)
    a, w, b = rng.normal(size=(2, 3, 3)), rng.normal(size=(2, 3, 1)), rng.normal(size=(2, 1))
    net.set_weights([a, w, b])
    expected = np.stack([np.einsum("bi,ij,bj->b", x, a[m], x) + x @ w[m, :, 0] + b[m, 0]
                         for m in range(2)], 1)
    np.testing.assert_allclose(np.asarray(net(x)), expected, rtol=1e-12)


# ------------------------------------------------------------------ cross-fitting
def test_fold_ids_are_balanced():
    ids = fold_ids(103, 5, seed=3)
    assert sorted(np.bincount(ids).tolist()) == [20, 20, 21, 21, 21]
    np.testing.assert_array_equal(ids, fold_ids(103, 5, seed=3))


def test_cross_fitted_loss_is_the_masked_objective_per_member():
    """L_cm = mean over examples outside fold m of BCE(y, log r_cm + c_m), plus the residual's
    weight decay; the all-data member sees every example."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 2))
    labels = (rng.uniform(size=40) < 0.4).astype("float64")
    fold = fold_ids(40, 3, seed=0)
    layer = CrossFittedLogRatio(folds=3, hidden_units=[4], weight_decay=0.01,
                                standardize=False, dtype="float64")
    layer.build(x.shape)
    for w in layer.trainable_weights:  # move off the zero start
        w.assign(rng.normal(scale=0.3, size=w.shape))
    layer.set_fold_sizes(fold[labels == 1], fold[labels == 0])
    total, _, _ = layer.training_loss(x, labels, fold)
    ratios = np.asarray(layer.member_log_ratios(x))  # [C, M, n]
    odds = layer._log_prior_odds.numpy()
    expected = []
    for c, name in enumerate(layer.candidates):
        for m in range(4):
            keep = fold != m
            logits = ratios[c, m, keep] + odds[m]
            bce = np.mean(np.logaddexp(0, logits) - labels[keep] * logits)
            if name == "quadratic+mlp":
                bce += 0.01 * float(layer.networks[c][-1].squared_norm()[m])
            expected.append(bce)
    assert float(total) == pytest.approx(np.mean(expected), rel=1e-10)
    # Member 1 gets no gradient from the examples of fold 1: flip their labels.
    flipped = np.where(fold == 1, 1 - labels, labels)

    def member_grads(y):
        with tf.GradientTape() as tape:
            loss = layer.training_loss(x, y, fold)[0]
        return [np.asarray(g)[1] for g in tape.gradient(loss, layer.trainable_weights)]

    for g, g_flipped in zip(member_grads(labels), member_grads(flipped)):
        np.testing.assert_allclose(g, g_flipped, rtol=1e-10, atol=1e-14)


def test_out_of_fold_log_ratios_pick_the_unseen_member():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(9, 2)).astype("float32")
    fold = np.array([0, 1, 2, -1, 0, 1, 2, -1, 0], "int32")
    layer = CrossFittedLogRatio(folds=3, hidden_units=[4], standardize=False)
    layer.build(x.shape)
    ratios = np.asarray(layer.member_log_ratios(x))
    member = np.where(fold < 0, 3, fold)
    np.testing.assert_array_equal(np.asarray(layer.out_of_fold_log_ratios(x, fold)),
                                  ratios[:, member, np.arange(9)])


def test_selection_takes_capacity_only_beyond_noise():
    """One-standard-error rule: a richer candidate wins only if its held-out loss is lower
    by more than the standard error of the paired difference."""
    rng = np.random.default_rng(4)
    base = rng.exponential(size=2000)
    layer = CrossFittedLogRatio(hidden_units=[2])
    layer.build((None, 1))
    noise = rng.normal(scale=0.05, size=2000)
    layer.select([base, base - 0.001 + noise, base + 0.01])  # within noise: keep the first
    assert layer.selected_network == "quadratic"
    layer.select([base, base - 0.05 + noise, base + 0.01])  # clearly better
    assert layer.selected_network == "quadratic+mlp"
    np.testing.assert_allclose(layer.held_out_loss, [base.mean(), (base - 0.05 + noise).mean(),
                                                     base.mean() + 0.01], rtol=1e-6)
