"""Contract cases for the VAE family's layers (see tests/test_contract.py).

Each case: ``(factory, inputs, readout_or_None, expected_output_shape_or_None)``.
"""

import numpy as np

import kerasprob as kp
from kerasprob.layers.networks import FewChannelConv2D, UpsampleConv2D

rng = np.random.default_rng(1)
D = kp.distributions
L = kp.layers


def normal(*shape):
    return rng.normal(size=shape).astype("float32")


IMAGES = rng.random((5, 8, 8, 3)).astype("float32")
Z = normal(5, 2)
K = 3  # importance samples

CASES = [
    (lambda: L.ConvEncoder(5, filters=[4, 8], kernel_size=3, strides=[2, 2]), IMAGES, None,
     (5, 5)),
    (lambda: L.ConvDecoder((8, 8, 3), 2 * 192, initial_shape=[2, 2, 8], upsampling=[2, 2],
                           filters=[8, 4], kernel_size=[3, 2]), Z, None, (5, 384)),
    (lambda: L.ConvDecoder((6, 6), 36, initial_shape=[2, 2, 4], upsampling=[3],
                           filters=[4], kernel_size=[3], fused_upsampling=False), Z, None,
     (5, 36)),
    (lambda: UpsampleConv2D(4, 3, factor=2, activation="relu"), normal(5, 3, 3, 2), None,
     (5, 6, 6, 4)),
    (lambda: FewChannelConv2D(2, 2), normal(5, 4, 4, 6), None, (5, 4, 4, 2)),
    (lambda: L.GaussianPosterior(3, "diag", num_samples=2), normal(5, 6), None, (5, 2, 3)),
    (lambda: L.GaussianPosterior(2, "full"), normal(5, 5), None, (5, 1, 2)),
    (lambda: L.EvidenceBound(weight=0.5), [normal(5, K), normal(5, K, 2), normal(5, K)],
     None, (5,)),
    (lambda: L.EvidenceBound(prior=L.MixtureNormalPrior(2, num_components=3)),
     [normal(5, K), normal(5, K, 2), normal(5, K)], None, (5,)),
    (lambda: L.EvidenceBound(), [normal(5, 1), normal(5, 1, 2), normal(5, 1),
                                 np.abs(normal(5))], None, (5,)),
    (lambda: D.DiscretizedLogistic((2, 3), num_bins=5, convert_to_tensor_fn="mean"),
     normal(5, 12), None, (5, 2, 3)),
    (lambda: D.IndependentNormalFixedScale((2, 3), scale=0.5, convert_to_tensor_fn="mean"),
     normal(5, 6), None, (5, 2, 3)),
    (lambda: D.PixelCategorical((2, 3), num_bins=4, convert_to_tensor_fn="mean"),
     normal(5, 24), None, (5, 2, 3)),
]
