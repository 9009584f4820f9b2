"""The VAE family: ``zoo.VAE`` (every variant a constructor argument), ``zoo.ConditionalVAE``
(the VAE given a label), and the decoder likelihoods they read from one table."""

from zoo.vae.conditional import ConditionalVAE
from zoo.vae.likelihoods import LIKELIHOODS
from zoo.vae.model import VAE

__all__ = ["LIKELIHOODS", "VAE", "ConditionalVAE"]
