"""Compute precision of convolutional networks: ``"float32"``, ``"mixed_bfloat16"`` or ``"auto"``.

``"mixed_bfloat16"`` keeps float32 weights and computes convolutions and their
gradients in bfloat16 (8-bit mantissa, float32 range), about twice the
multiply-add rate of float32 on CPUs with bfloat16 matrix units (AMX), through
oneDNN. Elsewhere bfloat16 is slower than float32, AVX512-BF16 alone included
(measurements in ``benchmarks/README.md``). So ``"auto"`` picks bfloat16 only where
the CPU lists AMX-BF16 and no GPU is visible, much as TensorFlow turns on TF32
matmuls on Ampere GPUs.

>>> resolve_precision("float32")
'float32'
>>> resolve_precision("auto") in ("float32", "mixed_bfloat16")
True
"""

import functools

import tensorflow as tf

from kerasprob.validation import check_choice

__all__ = ["PRECISIONS", "cpu_has_bfloat16", "resolve_precision"]

PRECISIONS = ("auto", "float32", "mixed_bfloat16")

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


def resolve_precision(precision):
    """``"auto"`` -> ``"mixed_bfloat16"`` on a CPU with AMX-BF16 and no GPU, else
    ``"float32"``; other names are returned as they are.

    Raises:
      ValueError: ``precision`` is not one of :data:`PRECISIONS`.
    """
    precision = check_choice("precision", precision, PRECISIONS)
    return _auto_precision() if precision == "auto" else precision
