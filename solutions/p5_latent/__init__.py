"""P5: latent diffusion. A VAE compresses images by ``f = 4`` (``(B, 3, 32, 32) -> (B, 4, 8, 8)``),
and P2's U-Net with P3's samplers run on its scaled latents.

Conventions as in P1 to P3; latents are ``(B, latent_channels, H / f, W / f)``.
"""

from .latent import LatentDiffusion, latent_scale_factor
from .train import VAETrainConfig, VAETrainResult, train_vae
from .vae import VAE, VAEConfig, kl_divergence, reparameterize, vae_loss

__all__ = [
    "reparameterize",
    "kl_divergence",
    "vae_loss",
    "VAEConfig",
    "VAE",
    "latent_scale_factor",
    "LatentDiffusion",
    "VAETrainConfig",
    "VAETrainResult",
    "train_vae",
]
