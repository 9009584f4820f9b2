"""One way to stack flow layers: ``f_0, P, f_1, P, ..., f_{K-1}``.

A flow of autoregressive or coupling layers needs a fixed permutation ``P`` between
consecutive layers, or every layer would condition on the same features in the same
order; a stack built here is the list :class:`kerasprob.layers.flows.Flow` takes (data
side first), and the zoo's flows and the VAE's posterior flow all build theirs with it.

>>> from kerasprob.layers.flows import AffineCoupling
>>> stack = permuted_stack(lambda i: AffineCoupling([8]), 3)
>>> [type(layer).__name__ for layer in stack]
['AffineCoupling', 'Permute', 'AffineCoupling', 'Permute', 'AffineCoupling']
"""

from kerasprob.layers.flows.linear import Permute
from kerasprob.validation import check_positive_int

__all__ = ["permuted_stack"]


def permuted_stack(make_layer, num_layers, permutation="reverse", name=None):
    """``num_layers`` flow layers with a ``Permute(permutation)`` between consecutive ones.

    Args:
      make_layer: ``i -> BijectorLayer``, called for ``i = 0 .. num_layers - 1`` in order.
      num_layers: ``K``.
      permutation: the :class:`Permute` order between layers (``"reverse"``), or ``None``
        for no permutation (layers that alternate their own masks).
      name: if given, the permutations are named ``f"{name}_permute_{i}"`` (``i >= 1``,
        the layer they precede); else Keras names them.

    Returns:
      list of layers, data side first: ``K`` flow layers and ``K - 1`` permutations.
    """
    num_layers = check_positive_int("num_layers", num_layers)
    layers = []
    for i in range(num_layers):
        if i and permutation is not None:
            names = {} if name is None else {"name": f"{name}_permute_{i}"}
            layers.append(Permute(permutation, **names))
        layers.append(make_layer(i))
    return layers
