"""``zoo.VAE``: variational autoencoders, from the concise Keras VAE to IWAE with flows.

``x -> encoder -> q(z | x) -> z_1..z_k (-> flow) -> decoder -> p(x | z)``. Training
maximizes the evidence lower bound (``num_samples=1``) or the importance-weighted
bound (``num_samples=k``), computed by :class:`kerasprob.layers.EvidenceBound`; the
``loss`` Keras logs is its negative per example, in nats, and the KL estimate is
logged as ``kl``. Every variant is a constructor argument:

===================  ===============================================================
``encoder``          ``"dense"`` (an MLP, the concise VAE) or ``"conv"`` (the TFP
                     course's convolutional network, ``kerasprob.layers.ConvEncoder`` /
                     ``ConvDecoder``); the decoder mirrors it.
``posterior``        ``"diag"`` (``N(mu, diag sigma^2)``) or ``"tril"`` (full covariance).
``posterior_flow``   ``None`` or ``"iaf"``: ``flow_depth`` inverse autoregressive
                     layers refine ``q(z | x)``.
``prior``            ``"normal"`` (``N(0, I)``, analytic KL) or ``"mixture"`` (learnable
                     ``num_components``-Gaussian mixture, Monte Carlo KL; the R TFP VAE's prior).
``likelihood``       ``"bernoulli"`` (of ``x / input_max``), ``"gaussian"`` (learned scale per
                     value, or fixed ``likelihood_scale``), ``"logistic"`` (discretized
                     logistic) or ``"categorical"`` (``num_bins``-way softmax) for
                     integer data ``0 .. num_bins - 1``, e.g. 8-bit images (the encoder
                     sees them as ``x / (num_bins - 1)``, in [0, 1]).
``num_samples``      ``k``: 1 for the ELBO, more for the IWAE bound.
``kl_weight``        ``beta`` (anneal it with ``kerasprob.callbacks.KLAnnealing``).
===================  ===============================================================

>>> import numpy as np, zoo
>>> vae = zoo.VAE(latent_dim=2, hidden_units=[32])   # input_shape (8, 8) read from fit
>>> history = vae.fit(np.random.rand(64, 8, 8), epochs=1, verbose=0)
>>> vae.encode(np.random.rand(3, 8, 8)).mean().shape
TensorShape([3, 2])
>>> vae.sample(4).shape
(4, 8, 8)
"""

import inspect

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from kerasprob.dtypes import resolve_precision
from kerasprob.layers import MLP, MixtureNormalPrior
from kerasprob.layers.flows import InverseAutoregressive, permuted_stack
from kerasprob.layers.networks import ConvDecoder, ConvEncoder, conv_architecture
from kerasprob.layers.variational import EvidenceBound, GaussianPosterior
from kerasprob.math.random import stateless_seed
from kerasprob.tuning import Float, Int, Units
from kerasprob.validation import (
    check_array,
    check_choice,
    check_int_at_least,
    check_positive_float,
    check_positive_int,
    check_units,
)
from zoo.base import ZooModel, as_numpy
from zoo.conditioning import DataSpec, check_context
from zoo.registry import register
from zoo.vae.importance import importance_log_likelihood
from zoo.vae.likelihoods import LIKELIHOODS

tfd = tfp.distributions

ENCODERS = ("dense", "conv")
POSTERIORS = {"diag": "diag", "tril": "full"}
PRIORS = ("normal", "mixture")
FLOWS = ("iaf",)



@register
class VAE(ZooModel):
    """Variational autoencoder (see the module docstring for the variants).

    Args:
      input_shape: shape of one example, e.g. ``(36, 36, 3)``, ``(8, 8)`` or ``(64,)``
        (``None``: read from the first ``fit``).
      latent_dim: dimension of ``z``.
      hidden_units: hidden sizes of the dense encoder (the decoder mirrors them);
        unused by the convolutional networks.
      likelihood: ``"bernoulli"``, ``"gaussian"``, ``"logistic"`` or ``"categorical"``.
      kl_weight: ``beta``, the weight of the KL term (1 gives the ELBO).
      learning_rate: Adam learning rate.
      encoder: ``"dense"`` or ``"conv"`` (images ``(H, W)`` or ``(H, W, C)``).
      posterior: ``"diag"`` or ``"tril"``.
      prior: ``"normal"`` or ``"mixture"``.
      num_components: components of the mixture prior (16 in the R TFP VAE).
      num_samples: ``k`` importance samples per example in training (1: ELBO).
      input_max: ``likelihood="bernoulli"`` only: the data's largest value; the model is of
        ``x / input_max`` (16 for the 8x8 digits' grey levels 0..16, 255 for 8-bit
        pixels), so raw data goes in and ``predict``, ``reconstruct`` and ``sample`` give
        raw units. ``None``: ``max(1, max x)`` of the first ``fit``'s arrays (1 for a
        dataset).
      likelihood_scale: ``None`` to learn the Gaussian scale of every value, or a
        fixed positive scale (``likelihood="gaussian"`` only).
      num_bins: values of the ``"logistic"`` and ``"categorical"`` likelihoods (256 for
        8-bit data; the categorical decoder outputs ``num_bins`` logits per value).
      posterior_flow: ``None`` or ``"iaf"``.
      flow_depth: number of IAF layers (reversed orders in between).
      flow_hidden_units: hidden sizes of each IAF layer's MADE.
      precision: ``"auto"``, ``"float32"`` or ``"mixed_bfloat16"``: with the latter the
        convolutional networks compute in bfloat16 (float32 weights; posterior,
        likelihood and bound in float32): faster than float32 at the same ELBO on CPUs
        with AMX, slower without (``benchmarks/bench_vae_conv.py``).
        ``"auto"`` chooses it on such CPUs when no GPU is visible, float32
        elsewhere (:func:`kerasprob.dtypes.resolve_precision`). Ignored by
        dense networks.
      context_dim: size of a context ``c`` given to the encoder and the decoder (0: none):
        the VAE is then a model of ``p(x | c)``, fitted by ``fit(x, c)`` (see
        :mod:`zoo.conditioning`; ``zoo.ConditionalVAE`` is the one with class labels).

    Input shape: ``[batch, *input_shape]``. Output: ``p(x | z_1)``, a distribution with
    batch shape ``[batch]`` and event shape ``input_shape`` (``predict`` gives its mean).

    References:
      Kingma & Welling (2014), Auto-Encoding Variational Bayes.
      Burda, Grosse & Salakhutdinov (2016), Importance Weighted Autoencoders.
      Kingma et al. (2016), Improved Variational Inference with Inverse Autoregressive Flow.
      Tomczak & Welling (2018), VAE with a VampPrior (mixture priors).
    """

    target_is_input = True
    data_kind = "unsupervised"
    data_arguments = ("input_shape",)
    input_rank = None
    plots = ("history", "reconstructions", "samples", "latent")
    # No kl_weight: the loss (and val_loss) is -log p(x | z) + beta KL, which a smaller
    # beta always lowers, so tuning beta on it would just pick the smallest one.
    search_space = {
        "latent_dim": Int(2, 32, sampling="log"),
        "hidden_units": Units(widths=(64, 128, 256, 512), depths=(1, 2)),
        "learning_rate": Float(1e-4, 1e-2, sampling="log"),
    }

    def __init__(
        self,
        input_shape=None,
        latent_dim=2,
        hidden_units=(256,),
        likelihood="bernoulli",
        kl_weight=1.0,
        learning_rate=1e-3,
        encoder="dense",
        posterior="diag",
        prior="normal",
        num_components=16,
        num_samples=1,
        likelihood_scale=None,
        num_bins=256,
        input_max=None,
        posterior_flow=None,
        flow_depth=2,
        flow_hidden_units=(32, 32),
        precision="auto",
        context_dim=0,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.input_shape = input_shape
        self.latent_dim = check_positive_int("latent_dim", latent_dim)
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.likelihood = check_choice("likelihood", likelihood, tuple(LIKELIHOODS))
        self.kl_weight = check_positive_float("kl_weight", kl_weight, allow_zero=True)
        self.encoder = check_choice("encoder", encoder, ENCODERS)
        self.posterior = check_choice("posterior", posterior, POSTERIORS)
        self.prior = check_choice("prior", prior, PRIORS)
        self.num_components = check_positive_int("num_components", num_components)
        self.num_samples = check_positive_int("num_samples", num_samples)
        likelihood_class = LIKELIHOODS[self.likelihood]
        if likelihood_scale is not None and "scale" not in likelihood_class.options:
            raise ValueError(
                "likelihood_scale is the fixed scale of likelihood='gaussian'; leave it None "
                f"for likelihood={self.likelihood!r}. Received: "
                f"likelihood_scale={likelihood_scale!r}"
            )
        self.likelihood_scale = (
            None if likelihood_scale is None
            else check_positive_float("likelihood_scale", likelihood_scale)
        )
        self.num_bins = check_int_at_least("num_bins", num_bins, 2)
        if input_max is not None and "data_max" not in likelihood_class.options:
            raise ValueError("input_max rescales the data of likelihood='bernoulli'; leave it "
                             f"None for likelihood={self.likelihood!r}. Received: "
                             f"input_max={input_max!r}")
        self.input_max = None if input_max is None else check_positive_float(
            "input_max", input_max)
        if posterior_flow is not None:
            check_choice("posterior_flow", posterior_flow, FLOWS)
        self.posterior_flow = posterior_flow
        self.flow_depth = check_positive_int("flow_depth", flow_depth)
        self.flow_hidden_units = check_units("flow_hidden_units", flow_hidden_units)
        self.precision = precision
        self.context_dim = check_int_at_least("context_dim", context_dim, 0)
        resolve_precision(precision)  # checks the name
        self._finish()

    def _check_data_arguments(self):
        super()._check_data_arguments()
        if self.encoder == "conv" and len(self.input_shape) not in (2, 3):
            raise ValueError(
                "encoder='conv' needs images: input_shape (H, W) or (H, W, C). "
                f"Received: input_shape={self.input_shape!r}"
            )

    def build_layers(self):
        """The encoder, posterior, optional flow, prior, bound and decoder, for ``input_shape``."""
        shape = self.input_shape
        likelihood_class = LIKELIHOODS[self.likelihood]
        compute_dtype = resolve_precision(self.precision)
        self.data_likelihood = likelihood_class(shape, num_bins=self.num_bins,
                                                scale=self.likelihood_scale,
                                                data_max=self.input_max)
        output_units = self.data_likelihood.params_size()
        posterior_units = GaussianPosterior.params_size(self.latent_dim, POSTERIORS[self.posterior])
        self.flatten = tf_keras.layers.Flatten(name="flatten")
        if self.encoder == "dense":
            self.encoder_network = MLP(self.hidden_units, posterior_units, name="encoder")
            self.decoder_network = MLP(self.hidden_units[::-1], output_units, name="decoder")
        else:
            arch = conv_architecture(shape)
            self.encoder_network = ConvEncoder(posterior_units, **arch["encoder"], name="encoder",
                                               dtype=compute_dtype)
            self.decoder_network = ConvDecoder(shape, output_units, **arch["decoder"],
                                               name="decoder", dtype=compute_dtype)
        self.posterior_layer = GaussianPosterior(
            self.latent_dim, POSTERIORS[self.posterior], self.num_samples, name="posterior"
        )
        self.flow_bijectors = self._flow_bijectors()
        prior_layer = (
            MixtureNormalPrior(self.latent_dim, self.num_components, name="prior")
            if self.prior == "mixture" else None
        )
        self.kl = EvidenceBound(prior=prior_layer, weight=self.kl_weight,
                                num_samples=self.num_samples, name="kl")
        self.likelihood_layer = self.data_likelihood.layer(convert_to_tensor_fn="mean",
                                                           name="likelihood")

    def _flow_bijectors(self):
        """The IAF layers refining ``q(z | x)``, reverse permutations between them."""
        if self.posterior_flow is None:
            return []
        return permuted_stack(
            lambda i: InverseAutoregressive(hidden_units=self.flow_hidden_units,
                                            name=f"flow_iaf_{i}"),
            self.flow_depth, name="flow")

    @classmethod
    def hypermodel(cls, **fixed):
        """A keras-tuner ``HyperModel`` over ``search_space`` (``fixed`` arguments not tuned;
        with ``encoder="conv"`` fixed, ``hidden_units``, unused, is held at its default)."""
        if fixed.get("encoder") == "conv":
            default = inspect.signature(VAE.__init__).parameters["hidden_units"].default
            fixed = {"hidden_units": default, **fixed}
        return super().hypermodel(**fixed)

    def build_inputs(self):
        x = tf.zeros((1, *self.input_shape))
        return [x, tf.zeros((1, self.context_dim))] if self.context_dim else x

    def dataset_structures(self):
        """``(x,)`` batches (or ``(x, x)``); ``(x, c)`` pairs with a context."""
        x = DataSpec("x", self.input_shape)
        if self.context_dim:
            return [(x, self._context_spec())]
        return [(x,), (x, DataSpec("y", self.input_shape))]

    def _context_spec(self):
        return DataSpec("c", (self.context_dim,))

    def input_feature_shape(self):
        return self.input_shape

    def default_loss(self):
        """None: the loss is the negative bound the model adds itself."""
        return None

    def validate_data(self, x, y=None, prefix=""):
        """``x`` (and a target ``y``), or ``x`` and its context (``fit(x, c)``, ``[x, c]``)."""
        if isinstance(x, tf.data.Dataset) or x is None or not self.context_dim:
            x, y = super().validate_data(x, y, prefix)
            if isinstance(x, np.ndarray):
                self._check_values(prefix + "x", x)
            return x, y
        if y is None and isinstance(x, (list, tuple)) and len(x) == 2:
            x, y = x  # already packed as [x, c]
        x = self._check_x(x, prefix + "x")
        return x, self._check_context(prefix, y, len(x))

    def _check_context(self, prefix, c, n, one_row=False):
        """The context of ``n`` examples, checked (``[n, context_dim]``); with ``one_row``, one
        context ``[context_dim]`` stands for all ``n``."""
        if one_row and self.context_dim and np.shape(c) == (self.context_dim,):
            c = np.repeat(np.asarray(c)[None], n, axis=0)
        return check_context(prefix + "c", c, self.context_dim, n, prefix + "x", model="VAE")

    def _context_tensor(self, c):
        """A checked context as the tensor the networks see."""
        return None if c is None else tf.constant(c, tf.float32)

    def _with_target(self, data):
        x, y, sample_weight = tf_keras.utils.unpack_x_y_sample_weight(data)
        if self.context_dim and y is not None and not isinstance(x, (list, tuple)):
            x, y = (x, y), None  # (x, c) pairs: c is the context, x the target
        return super()._with_target(tf_keras.utils.pack_x_y_sample_weight(x, y, sample_weight))

    def predict(self, x, **kwargs):
        """Mean of ``p(x | z)``, ``z ~ q(z | x)``; with a context, ``predict((x, c))`` or a
        dataset of ``(x, c)`` batches."""
        if not self.context_dim:
            return self.data_likelihood.to_data(super().predict(x, **kwargs))
        if isinstance(x, tf.data.Dataset):  # Keras would read the context as a target
            self.validate_data(x)
            return tf_keras.Model.predict(self, x.map(lambda *pair: (pair,)), **kwargs)
        if not (isinstance(x, (list, tuple)) and len(x) == 2):
            raise ValueError(
                f"{type(self).__name__}.predict takes (x, {self._context_spec().name}): the "
                f"data and its context. Received: x of type {type(x).__name__}"
            )
        images, context = self.validate_data(x[0], x[1])
        return self.data_likelihood.to_data(tf_keras.Model.predict(self, (images, context),
                                                                   **kwargs))

    def _check_values(self, name, x):
        self.data_likelihood.check_values(name, x)

    def fit(self, x=None, y=None, **kwargs):
        """As :meth:`zoo.ZooModel.fit`; a Bernoulli VAE without ``input_max`` reads it from
        the first fit's arrays before checking them (and forgets it if they are refused)."""
        read = self.input_max is None and self.likelihood == "bernoulli"
        if read:
            self._set_input_max(LIKELIHOODS["bernoulli"].read_data_max(self._features_of(x, y)))
        try:
            return super().fit(x, y, **kwargs)
        except (ValueError, TypeError):
            if read and (self.optimizer is None or not int(self.optimizer.iterations)):
                self._set_input_max(None)
            raise

    def _set_input_max(self, value):  # the traced functions read it: they are dropped
        self.input_max = value
        if hasattr(self, "data_likelihood"):
            self.data_likelihood.data_max = value
            self.train_function = self.test_function = self.predict_function = None
            self.__dict__.pop("_log_weight_fns", None)

    @classmethod
    def upgrade_config(cls, config):  # Bernoulli VAEs before input_max took data in [0, 1]
        config = super().upgrade_config(config)
        if config.get("likelihood", "bernoulli") == "bernoulli":
            config.setdefault("input_max", 1.0)
        return config

    # ---------------------------------------------------------------- pieces
    def _split_inputs(self, inputs):
        """``(x, context)``: the data and its context ``[batch, context_dim]`` (or ``None``)."""
        if not self.context_dim:
            return inputs, None
        x, c = inputs
        return x, tf.cast(c, x.dtype)

    def _posterior_params(self, x, context=None, training=None):
        """The encoder output, ``[batch, params_size]``, for data ``x`` on its own scale
        (the encoder sees ``likelihood.encoder_input(x)``)."""
        x = self.data_likelihood.encoder_input(x)
        if self.encoder == "conv":
            return self.encoder_network(x if context is None else [x, context],
                                        training=training)
        h = self.flatten(x)  # [batch, D]
        if context is not None:
            h = tf.concat([h, context], axis=-1)
        return self.encoder_network(h)

    def _decoder_params(self, z, context=None):
        """``z [n, d]`` (and context ``[n, c]``) -> likelihood parameters ``[n, P]``."""
        if context is not None:
            z = tf.concat([z, context], axis=-1)
        return self.decoder_network(z)

    def _bound_terms(self, x, context, num_samples, training=None, seed=None):
        """``log p(x | z_i) [b, k]``, ``z [b, k, d]``, ``log q(z_i | x) [b, k]``, the analytic
        KL ``[b]`` (or None) and the decoder output ``[b k, P]``."""
        k, d = num_samples, self.latent_dim
        params = self._posterior_params(x, context, training)
        z, log_q = self.posterior_layer.sample(params, k, seed=seed)  # [b, k, d], [b, k]
        kl = None
        if self.flow_bijectors:
            flat = tf.reshape(z, [-1, d])  # [b k, d]
            flow_context = tf.repeat(params, k, axis=0)
            log_det = 0.0
            for bijector in self.flow_bijectors:
                flat, ldj = bijector.forward_and_log_det(flat, flow_context, training=training)
                log_det += ldj
            z = tf.reshape(flat, [-1, k, d])
            log_q = log_q - tf.reshape(log_det, [-1, k])
        elif self.prior == "normal" and k == 1:
            kl = self.posterior_layer.kl_to_standard_normal(params)  # [b]
        repeat = (lambda t: t) if k == 1 else (lambda t: tf.repeat(t, k, axis=0))
        decoded = self._decoder_params(
            tf.reshape(z, [-1, d]), None if context is None else repeat(context)
        )  # [b k, P]
        log_px = self.likelihood_layer.make_distribution(decoded).log_prob(
            repeat(self.data_likelihood.target(x)))
        return tf.reshape(log_px, [-1, k]), z, log_q, kl, decoded

    def call(self, inputs, training=None):
        x, context = self._split_inputs(inputs)
        log_px, z, log_q, kl, decoded = self._bound_terms(x, context, self.num_samples,
                                                          training)
        self.kl([log_px, z, log_q] + ([] if kl is None else [kl]))
        if self.num_samples > 1:
            decoded = tf.reshape(decoded, [-1, self.num_samples, decoded.shape[-1]])[:, 0]
        return self.likelihood_layer(decoded)

    # ------------------------------------------------------------ public API
    def _check_x(self, x, name="x"):
        x = check_array(name, x, feature_shape=self.input_shape)
        self._check_values(name, x)
        return x

    def _context_for(self, c, n):
        """The checked context tensor of ``n`` examples (``None`` without a context)."""
        return self._context_tensor(self._check_context("", c, n, one_row=True))

    def encode(self, x, c=None):
        """``q(z | x)`` (``q(z | x, c)``) before any flow (a ``MultivariateNormalDiag`` or
        ``TriL``)."""
        x = self._check_x(x)
        context = self._context_for(c, len(x))
        return self.posterior_layer.distribution(self._posterior_params(x, context))

    def decode(self, z, c=None):
        """``p(x | z)`` (``p(x | z, c)``) for latent codes ``z`` ``[batch, latent_dim]``."""
        z = check_array("z", z, feature_shape=(self.latent_dim,))
        return self.likelihood_layer(self._decoder_params(z, self._context_for(c, len(z))))

    def reconstruct(self, x, c=None):
        """Mean of ``p(x | z = E[z | x], c)``, shape ``[batch, *input_shape]``."""
        return self.data_likelihood.to_data(as_numpy(self.decode(self.encode(x, c).mean(),
                                                                 c).mean()))

    def prior_distribution(self):
        """``p(z)``: ``N(0, I)`` or the learned mixture."""
        return self.kl.prior_distribution(tfd.MultivariateNormalDiag(tf.zeros(self.latent_dim)))

    def sample(self, n, c=None, seed=None, mean=True):
        """``n`` draws from the model: ``z ~ p(z)``, then the mean of ``p(x | z)`` (or a draw).

        Args:
          n: number of draws.
          c: with a context, one context ``[context_dim]`` for all or ``[n, context_dim]``.
          seed: ``None``, or an int: the same draws, from a reloaded model too.
          mean: if False, ``x ~ p(x | z)`` instead of its mean.

        Returns:
          ``np.ndarray`` ``[n, *input_shape]``, in the data's units (``input_max``).
        """
        n = check_positive_int("n", n)
        context = self._context_for(c, n)
        prior_seed = draw_seed = None
        if seed is not None:  # both draws stateless: z from [seed, 0], x from [seed, 1]
            seed = check_int_at_least("seed", seed, 0)
            prior_seed, draw_seed = stateless_seed(seed, 0), stateless_seed(seed, 1)
        z = self.prior_distribution().sample(n, seed=prior_seed)  # [n, d]
        decoded = self.likelihood_layer(self._decoder_params(z, context))
        return self.data_likelihood.to_data(
            as_numpy(decoded.mean() if mean else decoded.sample(seed=draw_seed)))

    def log_likelihood(self, x, num_samples=100, batch_size=64, seed=None, *, c=None):
        """Importance-sampling estimate of ``log p(x)`` per example, in nats.

        ``log (1/k) sum_i p(x, z_i) / q(z_i | x)``, ``z_i ~ q(z | x)``: the IWAE bound
        with ``k = num_samples`` (``beta = 1`` whatever ``kl_weight``). A lower bound in
        expectation that rises with ``k`` towards ``log p(x)``; ``k = 1`` gives the ELBO.

        Args:
          x: ``[batch, *input_shape]``.
          num_samples: ``k`` (``log_likelihood(x, k)``).
          batch_size: examples per pass (samples are drawn in chunks, so memory stays
            bounded for any ``k``).
          seed: ``None``, or an int for reproducible draws: the same ``x``, ``num_samples``,
            ``batch_size`` and seed give the same numbers, from a reloaded model too
            (the draws are split by batch, so another ``batch_size`` draws others).
          c: its contexts ``[batch, context_dim]`` (with a context; ``log p(x | c)``),
            by keyword.

        Returns:
          ``np.ndarray`` of shape ``[batch]``.
        """
        x = self._check_x(x)
        context = self._context_for(c, len(x))
        context = None if context is None else as_numpy(context)
        return importance_log_likelihood(self, x, context, num_samples, batch_size, seed)

    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        x = (rng.random((16, 4, 4)) > 0.5).astype("float32")
        return {"input_shape": (4, 4), "latent_dim": 2, "hidden_units": [8]}, x, None
