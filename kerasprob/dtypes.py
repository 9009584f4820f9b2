"""Dtypes: which dtype a layer computes in, and what a zoo model's ``precision`` means.

**Layers.** A Keras layer follows its ``dtype`` (a dtype policy: ``"float32"``,
``"float64"``, ``"mixed_float16"``, ``"mixed_bfloat16"``; the global policy when not given).
Layers whose outputs are log-densities, divergences, losses or random draws cannot compute
in 16 bits: ``exp(12)`` overflows float16 (a KL of ``log_var = 12`` becomes ``inf``), and
bfloat16's 8-bit mantissa biases uniform noise (Gumbel-softmax draws). Such a layer mixes
in :class:`FullPrecision`:

- its own computation dtype is the policy's *variable* dtype: float64 under
  ``"float64"``, float32 under ``"float32"`` and under both mixed policies;
- the networks it builds (a coupling layer's conditioner, an autoregressive layer's
  MADE) get the policy as it was requested (:attr:`FullPrecision.network_policy`), so
  they run in 16 bits under a mixed policy and hand their outputs back cast up;
- ``get_config()["dtype"]`` is the requested policy, so a saved model reloads with the
  same networks' precision.

>>> import tf_keras
>>> from kerasprob.layers import GumbelSoftmax
>>> layer = GumbelSoftmax(dtype="mixed_bfloat16")
>>> layer.compute_dtype, layer.network_policy.name
('float32', 'mixed_bfloat16')

**Zoo models.** Every zoo model's ``precision`` argument is one thing: the dtype policy
the model is built in, one of :data:`PRECISIONS`; each model accepts the subset its math
supports (GPs and the classical models ``"float64"``/``"float32"``; the VAE ``"auto"``,
``"float32"``, ``"mixed_bfloat16"``). ``"auto"`` is resolved by the hardware
(:func:`resolve_precision`): ``"mixed_bfloat16"`` keeps float32 weights and computes
convolutions and their gradients in bfloat16 (8-bit mantissa, float32 range), about twice
the multiply-add rate of float32 on CPUs with bfloat16 matrix units (AMX), through oneDNN.
Elsewhere bfloat16 is slower than float32, AVX512-BF16 alone included (measurements in
``benchmarks/README.md``). So ``"auto"`` picks bfloat16 only where the CPU lists AMX-BF16
and no GPU is visible, much as TensorFlow turns on TF32 matmuls on Ampere GPUs.

>>> resolve_precision("float64", allowed=("float64", "float32"))
'float64'
>>> resolve_precision("auto") in ("float32", "mixed_bfloat16")
True
"""

import functools

import tensorflow as tf
import tf_keras
from tf_keras.src.mixed_precision import policy as policy_lib

from kerasprob.validation import check_choice

__all__ = [
    "FLOAT_PRECISIONS",
    "PRECISIONS",
    "FullPrecision",
    "cpu_has_bfloat16",
    "full_precision_dtype",
    "resolve_policy",
    "resolve_precision",
]

#: Every value a zoo model's ``precision`` may take (each model accepts a subset).
PRECISIONS = ("auto", "float64", "float32", "mixed_float16", "mixed_bfloat16")

#: The ``precision`` of models whose math runs in one full-precision float throughout.
FLOAT_PRECISIONS = ("float64", "float32")

#: CPU flags (``/proc/cpuinfo``) of bfloat16 matrix units faster than float32 (see above).
_BF16_FLAGS = ("amx_bf16",)


def cpu_has_bfloat16(cpuinfo="/proc/cpuinfo"):
    """Whether the CPU lists bfloat16 matrix units (AMX-BF16), where bfloat16 beats float32.

    Args:
      cpuinfo: path of the Linux CPU description (elsewhere: ``False``).
    """
    try:
        with open(cpuinfo, encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return any(flag in line.split() for flag in _BF16_FLAGS)
    except OSError:
        pass
    return False


@functools.cache
def _auto_precision():
    if tf.config.list_physical_devices("GPU"):
        return "float32"
    return "mixed_bfloat16" if cpu_has_bfloat16() else "float32"


def resolve_precision(precision, allowed=("auto", "float32", "mixed_bfloat16")):
    """A zoo model's ``precision`` checked against the values it ``allowed`` and resolved:
    ``"auto"`` -> ``"mixed_bfloat16"`` on a CPU with AMX-BF16 and no GPU, else
    ``"float32"``; other names are returned as they are.

    Args:
      precision: one of ``allowed`` (a subset of :data:`PRECISIONS`).
      allowed: the values the model supports.

    Raises:
      ValueError: ``precision`` is not one of ``allowed``.
    """
    precision = check_choice("precision", precision, tuple(allowed))
    return _auto_precision() if precision == "auto" else precision


def resolve_policy(dtype):
    """A ``tf_keras.mixed_precision.Policy`` from a layer's ``dtype`` argument.

    Args:
      dtype: None (the global policy), a policy, a policy name or dtype (``"float64"``,
        ``tf.float64``, ``"mixed_bfloat16"``) or a serialized policy (a config's ``dtype``).

    Raises:
      ValueError: ``dtype`` names no dtype policy.
    """
    if dtype is None:
        return tf_keras.mixed_precision.global_policy()
    if isinstance(dtype, tf_keras.mixed_precision.Policy):
        return dtype
    if isinstance(dtype, dict):
        return policy_lib.deserialize(dtype)
    if isinstance(dtype, tf.DType):
        dtype = dtype.name
    try:
        return tf_keras.mixed_precision.Policy(dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(
            "dtype must be a dtype or a Keras dtype policy name ('float32', 'float64', "
            f"'mixed_float16', 'mixed_bfloat16'). Received: dtype={dtype!r}"
        ) from error


def full_precision_dtype(dtype):
    """The dtype a probabilistic layer of policy ``dtype`` computes in: the policy's
    variable dtype (float32 for the mixed policies), as a ``tf.DType``."""
    return tf.as_dtype(resolve_policy(dtype).variable_dtype)


class FullPrecision:
    """Mixin of layers whose math must stay in at least float32 (see the module docstring).

    Put it first among the bases (``class KLDivergenceLayer(FullPrecision, Layer)``).

    Raises:
      ValueError: the policy's variable dtype is not float32 or float64 (e.g. ``"int8"``,
        ``"float16"``: such a layer cannot keep its math in full precision).
    """

    def __init__(self, *args, **kwargs):
        requested = resolve_policy(kwargs.get("dtype"))
        if requested.variable_dtype not in ("float32", "float64"):
            raise ValueError(
                f"{type(self).__name__} computes log-densities, divergences or random draws: "
                "its dtype must be float32, float64 or a mixed policy (mixed_float16, "
                f"mixed_bfloat16). Received: dtype={requested.name!r}"
            )
        kwargs = {**kwargs, "dtype": tf_keras.mixed_precision.Policy(requested.variable_dtype)}
        super().__init__(*args, **kwargs)
        self._network_policy = requested

    @property
    def network_policy(self):
        """The dtype policy as requested: what the networks this layer builds use."""
        return self._network_policy

    def get_config(self):
        config = super().get_config()
        config["dtype"] = policy_lib.serialize(self._network_policy)
        return config
