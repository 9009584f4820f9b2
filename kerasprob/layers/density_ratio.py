"""Density-ratio layers: a classifier whose logit is ``log p(x) / q(x)``, and the adversarial
KL layer that estimates ``KL(q(z|x) || p(z))`` with one, for implicit (sampling-only) models.

:class:`DensityRatioClassifier` wraps a network ``x -> log r(x)`` and trains it from pooled
samples of ``p`` (label 1) and ``q`` (label 0) with a proper objective (the classifier's
cross-entropy with the class-prior correction, the KL lower bound or any f-divergence
bound of :mod:`kerasprob.math.density_ratio`); its methods turn the learnt ratio into
divergence estimates with standard errors. :func:`adversarial_kl` is the AffGAN /
adversarial-VB step as one loss: the ratio network maximizes the classification
objective while the sampler minimizes ``E[log r]``, the current KL estimate.
:class:`AdversarialKLDivergenceLayer` is the drop-in for
:class:`kerasprob.layers.KLDivergenceLayer` built on it.

References:
  Sugiyama, Suzuki & Kanamori (2012), Density Ratio Estimation in Machine Learning.
  Sønderby, Caballero, Theis, Shi & Huszár (2017), Amortised MAP Inference for Image
  Super-resolution (AffGAN). ICLR.
  Mescheder, Nowozin & Geiger (2017), Adversarial Variational Bayes. ICML.
  Tiao (2018), Density Ratio Estimation for KL Divergence Minimization between Implicit
  Distributions.
"""

import numpy as np
import tensorflow as tf
import tf_keras

from kerasprob.layers.kl import KLDivergenceLayer
from kerasprob.layers.mlp import MLP
from kerasprob.math import density_ratio as dr
from kerasprob.serialization import deserialize, register, serialize
from kerasprob.validation import check_bool, check_choice, check_positive_float, check_units

NETWORKS = ("mlp", "quadratic")


def _float32_or_wider(x):
    return x if x.dtype in (tf.float32, tf.float64) else tf.cast(x, tf.float32)


@register
class QuadraticLogRatio(tf_keras.layers.Layer):
    """``log r(x) = b + w^T x + x^T A x``: the log ratio of any two Gaussians.

    The exact family when ``p`` and ``q`` are Gaussian (logistic regression on quadratic
    features); a strong baseline elsewhere. Weights start at zero (``r = 1``); only the
    symmetric part of ``A`` matters.

    Input shape: ``[batch, d]``. Output shape: ``[batch, 1]``.
    """

    def build(self, input_shape):
        d = int(input_shape[-1])
        zeros = tf_keras.initializers.Zeros()
        self.quadratic = self.add_weight("quadratic", shape=(d, d), initializer=zeros)
        self.linear = self.add_weight("linear", shape=(d, 1), initializer=zeros)
        self.bias = self.add_weight("bias", shape=(1,), initializer=zeros)
        super().build(input_shape)

    def call(self, inputs):
        quadratic = tf.reduce_sum(tf.matmul(inputs, self.quadratic) * inputs, -1, keepdims=True)
        return quadratic + tf.matmul(inputs, self.linear) + self.bias  # [batch, 1]

    def compute_output_shape(self, input_shape):
        return tf.TensorShape([*tf.TensorShape(input_shape)[:-1], 1])



def x_shape(input_shape):
    """The shape of ``x`` from the input shape of ``x`` or of ``[x, labels, ...]``."""
    if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(
            input_shape[0], (list, tuple, tf.TensorShape)):
        input_shape = input_shape[0]
    return tf.TensorShape(input_shape)


def adapt_once(normalization, x):
    """Set a built ``tf_keras.layers.Normalization``'s mean and variance from ``x`` ``[n, d]``
    unless already set (in numpy: ``adapt()`` costs seconds)."""
    if int(normalization.count.numpy()) == 0:
        x = np.asarray(x, np.float64)
        normalization.adapt_mean.assign(x.mean(0))
        normalization.adapt_variance.assign(np.maximum(x.var(0), 1e-12))
        normalization.count.assign(len(x))
        normalization.finalize_state()


@register
class DensityRatioClassifier(tf_keras.layers.Layer):
    """A network ``x -> log r(x)``, ``r = p / q``, trained as a probabilistic classifier.

    ``sigmoid(log r(x) + c)`` is the probability that ``x`` came from ``p``, for pooled
    data holding samples of ``p`` and ``q`` in the odds ``exp(c) = N_p / N_q``
    (``log_prior_odds``); at the optimum ``log r`` is the log density ratio whatever the
    counts (the class-prior correction ``log(N_q / N_p)`` of the classifier's logit is
    built in). ``objective``:

    * ``"bce"``: the cross-entropy of that classifier; at ``c = 0`` its minimum over the
      seed's two-sample loss is ``log 4 - 2 JS[p || q]``.
    * ``"kl"``: maximizes ``E_p[log r] - E_q[r - 1]`` (NWJ / KLIEP), a bound on ``KL[p || q]``.
    * a Csiszar function of ``tfp.vi`` (``"jensen_shannon"``, ``"pearson"``, ...):
      maximizes ``E_p[f'(r)] - E_q[f*(f'(r))]``, a bound on ``D_f[p || q]``.

    Called on ``x`` it returns ``log r(x)``; called on ``[x, labels]`` (1 for ``p``, 0
    for ``q``) it also adds the objective (the mean per-example loss) to the layer's losses
    and logs it as ``name + "_loss"``.

    Args:
      network: ``"mlp"`` (``MLP(hidden_units, 1, activation)``), ``"quadratic"``
        (:class:`QuadraticLogRatio`) or any Keras layer with output ``[batch, 1]`` or
        ``[batch]`` (saved with its config; it must be serializable).
      hidden_units: hidden sizes of the ``"mlp"`` network.
      activation: activation of the ``"mlp"`` network.
      objective: one of :data:`kerasprob.math.density_ratio.OBJECTIVES`.
      log_prior_odds: ``c = log(N_p / N_q)`` at construction; a non-trainable weight
        (saved with the model) that :meth:`set_sample_sizes` changes.
      standardize: the network sees ``(x - mean) / std`` (a ``Normalization`` layer that
        :meth:`adapt_standardization` sets from pooled samples, saved with the layer):
        ``log r(x)`` and every estimate stay functions of the raw ``x``.

    Input shape: ``[batch, d]`` (or ``[[batch, d], [batch]]``). Output shape: ``[batch]``,
    in float32 at least (float64 for a float64 layer; mixed precision computes the
    network in 16 bits and the log ratio and loss in float32).

    References:
      Sugiyama, Suzuki & Kanamori (2012), Density Ratio Estimation in Machine Learning, ch. 4.
      Nguyen, Wainwright & Jordan (2010), IEEE Trans. Inf. Theory 56(11).
    """

    def __init__(self, network="mlp", hidden_units=(64, 64), activation="relu",
                 objective="bce", log_prior_odds=0.0, standardize=False, **kwargs):
        super().__init__(**kwargs)
        self.standardize = check_bool("standardize", standardize)
        self.standardization = (
            # In the variable dtype: statistics kept in at least float32 under a mixed policy.
            tf_keras.layers.Normalization(axis=-1, dtype=self.dtype_policy.variable_dtype,
                                          name="standardization") if self.standardize else None)
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.activation = activation
        self.objective = check_choice("objective", objective, dr.OBJECTIVES)
        if isinstance(log_prior_odds, bool) or not isinstance(log_prior_odds, (int, float)):
            raise TypeError(f"log_prior_odds must be a real number. Received: "
                            f"log_prior_odds={log_prior_odds!r}")
        self._initial_log_prior_odds = float(log_prior_odds)
        network = deserialize(network)
        if isinstance(network, str):
            check_choice("network", network, NETWORKS)
            self._network_name = network
            if network == "mlp":
                network = MLP(self.hidden_units, 1, activation=activation,
                              dtype=self.dtype_policy, name="network")
            else:
                network = QuadraticLogRatio(dtype=self.dtype_policy, name="network")
        elif isinstance(network, tf_keras.layers.Layer):
            self._network_name = None
        else:
            raise TypeError(
                f"network must be one of {list(NETWORKS)} or a tf_keras layer whose output is "
                f"the log ratio. Received: network={network!r}"
            )
        self.network = network
        self._log_prior_odds = None

    def build(self, input_shape):
        input_shape = x_shape(input_shape)
        if self.standardization is not None:
            self.standardization.build(input_shape)
        self.network.build(input_shape)
        self._log_prior_odds = self.add_weight(
            "log_prior_odds", shape=(), trainable=False, dtype=self._loss_dtype(),
            initializer=tf_keras.initializers.Constant(self._initial_log_prior_odds),
        )
        super().build(input_shape)

    def _loss_dtype(self):
        return tf.float64 if self.compute_dtype == "float64" else tf.float32

    # ------------------------------------------------------------------ state
    @property
    def log_prior_odds(self):
        """``c = log(N_p / N_q)``, as a float."""
        if self._log_prior_odds is None:
            return self._initial_log_prior_odds
        return float(self._log_prior_odds.numpy())

    def adapt_standardization(self, x):
        """Set the standardization's mean and variance from pooled samples ``x`` ``[n, d]``
        of both classes, unless set already (a no-op without ``standardize``)."""
        if self.standardization is not None:
            adapt_once(self.standardization, x)

    def set_sample_sizes(self, num_p, num_q):
        """Set ``c = log(N_p / N_q)`` for training on ``num_p`` samples of ``p`` and
        ``num_q`` of ``q`` (call before ``fit``; the layer must be built)."""
        value = dr.class_log_prior_odds(check_positive_float("num_p", num_p),
                                        check_positive_float("num_q", num_q))
        if self._log_prior_odds is None:
            self._initial_log_prior_odds = value
        else:
            self._log_prior_odds.assign(value)

    # ------------------------------------------------------------------- keras
    def call(self, inputs):
        labels = None
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 2:
                raise ValueError("DensityRatioClassifier takes x or [x, labels]. Received: "
                                 f"a list of {len(inputs)} inputs")
            inputs, labels = inputs
        log_ratio = self.log_ratio(inputs)
        if labels is not None:
            loss = tf.reduce_mean(self.per_example_loss(labels, log_ratio))
            self.add_loss(loss)
            self.add_metric(loss, name=self.name + "_loss")
        return log_ratio

    def compute_output_shape(self, input_shape):
        return x_shape(input_shape)[:1]

    # ---------------------------------------------------------------- the math
    def log_ratio(self, x):
        """``log r(x) = log p(x) / q(x)``: ``[batch, d] -> [batch]``."""
        if self.standardization is not None:
            x = self.standardization(x)
        out = self.network(x)
        out = tf.reshape(out, tf.shape(out)[:1])  # [batch, 1] or [batch] -> [batch]
        return tf.cast(out, self._loss_dtype())

    def ratio(self, x):
        """``r(x) = p(x) / q(x)``: ``[batch, d] -> [batch]``."""
        return tf.exp(self.log_ratio(x))

    def classifier_probability(self, x):
        """``P(x from p) = sigmoid(log r(x)) = p / (p + q)`` for equal priors: ``[batch]``."""
        return tf.sigmoid(self.log_ratio(x))

    def per_example_loss(self, labels, log_ratio):
        """The objective's per-example losses ``[batch]`` of a pooled batch (see
        :func:`kerasprob.math.density_ratio.per_example_loss`)."""
        c = self._initial_log_prior_odds if self._log_prior_odds is None else self._log_prior_odds
        return dr.per_example_loss(labels, log_ratio, self.objective, c)

    def kl_divergence(self, x_p):
        """``KL[p || q] ~ mean log r(x_p)``: an :class:`~kerasprob.math.density_ratio.Estimate`
        with its standard error, from samples ``x_p`` ``[n_p, d]`` of ``p``."""
        return dr.kl_divergence_estimate(self.log_ratio(x_p))

    def kl_lower_bound(self, x_p, x_q):
        """``E_p[log r] - E_q[r - 1]`` with its standard error (a lower bound on the KL)."""
        return dr.kl_lower_bound_estimate(self.log_ratio(x_p), self.log_ratio(x_q))

    def js_divergence(self, x_p, x_q):
        """``JS[p || q]`` (plug-in, ``m = (p + q) / 2``) with its standard error."""
        return dr.js_divergence_estimate(self.log_ratio(x_p), self.log_ratio(x_q))

    def f_divergence(self, f, x_q, x_p=None):
        """``D_f[p || q]``: ``mean f(r(x_q))`` from samples of ``q``, or, given ``x_p`` too,
        the variational lower bound ``E_p[f'(r)] - E_q[f*(f'(r))]``; with its standard error.

        Args:
          f: a name in :data:`kerasprob.math.density_ratio.CSISZAR_FUNCTIONS` or a callable
            ``f(log u)`` (TFP's convention, e.g. ``tfp.vi.kl_reverse``).
          x_q: ``[n_q, d]`` samples of ``q``.
          x_p: ``None``, or ``[n_p, d]`` samples of ``p`` for the lower bound.
        """
        if x_p is None:
            return dr.f_divergence_estimate(self.log_ratio(x_q), f)
        return dr.f_divergence_lower_bound_estimate(self.log_ratio(x_p), self.log_ratio(x_q), f)

    def get_config(self):
        return {
            **super().get_config(),
            "network": self._network_name or serialize(self.network),
            "hidden_units": list(self.hidden_units),
            "activation": self.activation,
            "objective": self.objective,
            "log_prior_odds": self._initial_log_prior_odds,
            "standardize": self.standardize,
        }


def adversarial_kl(classifier, samples, reference):
    """The adversarial KL step as one differentiable pair ``(kl, ratio_loss)``.

    ``classifier`` estimates ``log r = log m(x) / p(x)`` between the model's samples
    ``x ~ m`` (label 1) and the reference samples (label 0). Returned:

    * ``kl`` ``[batch]``: ``log r(samples)``, the per-sample estimate of ``KL[m || p]``
      whose gradient reaches ``samples`` (so the sampler minimizes ``E_m[log r]``, the
      seed's ``E[-log r(G(z))]`` with the ratio inverted) but not the classifier's weights;
    * ``ratio_loss`` (scalar): the classifier's pooled cross-entropy on stopped samples,
      whose gradient reaches only the classifier.

    Adding ``mean(kl) + ratio_loss - stop_gradient(ratio_loss)`` to a model's loss trains
    both players with one optimizer, and the loss's value stays the KL estimate.

    Args:
      classifier: a built :class:`DensityRatioClassifier`.
      samples: ``[batch, d]`` model samples (differentiable).
      reference: ``[batch_ref, d]`` samples of the reference distribution.

    References:
      Sønderby et al. (2017), AffGAN; Mescheder, Nowozin & Geiger (2017), AVB, eq. (3)-(4).
    """
    stopped = tf.stop_gradient(samples)
    reference = tf.stop_gradient(reference)
    n_model, n_ref = tf.shape(stopped)[0], tf.shape(reference)[0]
    pooled = classifier.log_ratio(tf.concat([stopped, tf.cast(reference, stopped.dtype)], 0))
    log_ratio = classifier.log_ratio(samples)
    stopped_log_ratio = pooled[:n_model]
    # Value log r(samples); weight gradients cancel, sample gradients remain.
    kl = log_ratio - stopped_log_ratio + tf.stop_gradient(stopped_log_ratio)
    labels = tf.concat([tf.ones([n_model], pooled.dtype), tf.zeros([n_ref], pooled.dtype)], 0)
    log_odds = tf.math.log(tf.cast(n_model, pooled.dtype) / tf.cast(n_ref, pooled.dtype))
    ratio_loss = tf.reduce_mean(dr.per_example_loss(labels, pooled, "bce", log_odds))
    return kl, ratio_loss


@register
class AdversarialKLDivergenceLayer(KLDivergenceLayer):
    """Identity layer that adds ``weight * KL(q(z|x) || p(z))`` estimated by a ratio network.

    The drop-in for :class:`KLDivergenceLayer` when ``q(z | x)`` is implicit: the encoder
    outputs samples ``z`` (e.g. from a network fed noise), not a density. A
    :class:`DensityRatioClassifier` ``T(z, x)`` learns ``log q(z | x) / p(z)`` from ``z``
    (label 1) against prior draws ``z' ~ p(z)`` paired with the same ``x`` (label 0);
    ``mean T(z, x)`` is the KL term, and the ratio network's cross-entropy is added with
    zero value and gradients to the network only (:func:`adversarial_kl`), so
    ``model.fit`` trains the ratio network and the encoder together and the logged loss
    stays the negative ELBO. A learnable prior receives ``-E_q[grad log p(z)]``.

    With ``reference="samples"`` the second input holds the reference samples instead of
    a context: ``[x_model, x_reference]``, estimating ``KL(model || reference)`` between
    two implicit distributions (the implicit generator's step).

    Args:
      prior: ``None`` for ``N(0, I)``, or a :class:`kerasprob.layers.Prior` layer.
      weight: multiplier of the KL in the loss (``beta``; ``KLAnnealing`` changes it).
      network, hidden_units, activation: the ratio network (see
        :class:`DensityRatioClassifier`).
      reference: ``"prior"`` or ``"samples"``.

    Input: ``z`` ``[batch, d]``, or ``[z, context]`` (``context`` ``[batch, c]``, e.g. the
    encoder's input ``x`` flattened: needed for the per-``x`` KL of a VAE), or with
    ``reference="samples"`` ``[z, z_reference]``.
    Output: ``z``, unchanged (the first input).

    References:
      Mescheder, Nowozin & Geiger (2017), Adversarial Variational Bayes. ICML.
      Huszár (2017), Variational inference using implicit distributions. arXiv:1702.08235.
    """

    def __init__(self, prior=None, weight=1.0, network="mlp", hidden_units=(64, 64),
                 activation="relu", reference="prior", **kwargs):
        kwargs.setdefault("name", "kl")
        super().__init__(prior=prior, weight=weight, **kwargs)
        self.reference = check_choice("reference", reference, ("prior", "samples"))
        if reference == "samples" and self.prior is not None:
            raise ValueError("reference='samples' takes the reference samples as its second "
                             f"input; a prior is not used. Received: prior={self.prior!r}")
        self.classifier = DensityRatioClassifier(
            network=network, hidden_units=hidden_units, activation=activation,
            dtype=self.dtype_policy, name="ratio",
        )

    def _split(self, inputs):
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 2:
                raise ValueError("AdversarialKLDivergenceLayer takes z or [z, second input]. "
                                 f"Received: a list of {len(inputs)} inputs")
            return inputs[0], inputs[1]
        if self.reference == "samples":
            raise ValueError("reference='samples' needs inputs [z, z_reference]. Received: "
                             "one tensor")
        return inputs, None

    def build(self, input_shape):
        shapes = input_shape if isinstance(input_shape, (list, tuple)) and isinstance(
            input_shape[0], (list, tuple, tf.TensorShape)) else [input_shape]
        d = int(tf.TensorShape(shapes[0])[-1])
        if self.reference == "prior" and len(shapes) == 2:
            d += int(tf.TensorShape(shapes[1])[-1])
        self.classifier.build(tf.TensorShape([None, d]))
        super().build(input_shape)

    def _reference_and_pairs(self, z, second):
        """``(samples, reference)``: ``[z, context]`` and ``[z', context]`` rows."""
        if self.reference == "samples":
            return z, second
        if self.prior is None:
            z_ref = tf.random.normal(tf.shape(z), dtype=z.dtype)
        else:
            z_ref = tf.cast(self.prior.distribution().sample(tf.shape(z)[0]), z.dtype)
        if second is None:
            return z, z_ref
        context = tf.cast(second, z.dtype)
        return tf.concat([z, context], -1), tf.concat([z_ref, tf.stop_gradient(context)], -1)

    def kl_divergence(self, inputs):
        """The per-example estimate ``log q(z | x) / p(z) = T(z, x)``, shape ``[batch]``."""
        z, second = self._split(inputs)
        if self.reference == "prior" and second is not None:
            z = tf.concat([z, tf.cast(second, z.dtype)], -1)
        return self.classifier.log_ratio(z)

    def call(self, inputs):
        z, second = self._split(inputs)
        samples, reference = self._reference_and_pairs(z, second)
        kl, ratio_loss = adversarial_kl(self.classifier, samples, reference)
        kl = tf.reduce_mean(kl)
        loss = tf.cast(self._weight, kl.dtype) * kl + ratio_loss - tf.stop_gradient(ratio_loss)
        if self.prior is not None and self.prior.trainable_weights:
            # -E_q[log p(z)] is the prior's part of the KL: zero value, gradient to the prior.
            log_prior = tf.reduce_mean(tf.cast(
                self.prior.distribution().log_prob(tf.stop_gradient(z)), kl.dtype))
            loss -= tf.cast(self._weight, kl.dtype) * (log_prior - tf.stop_gradient(log_prior))
        self.add_loss(loss)
        self.add_metric(kl, name=self.name)
        self.add_metric(ratio_loss, name=self.name + "_ratio_loss")
        return z

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and isinstance(
                input_shape[0], (list, tuple, tf.TensorShape)):
            return tf.TensorShape(input_shape[0])
        return tf.TensorShape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("method")
        config.pop("num_samples")
        classifier = self.classifier.get_config()
        return {
            **config,
            "network": classifier["network"],
            "hidden_units": classifier["hidden_units"],
            "activation": classifier["activation"],
            "reference": self.reference,
        }


__all__ = ["AdversarialKLDivergenceLayer", "DensityRatioClassifier", "QuadraticLogRatio",
           "adversarial_kl"]
