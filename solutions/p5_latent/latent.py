"""Latent diffusion (Rombach et al. 2022): P2's U-Net and P3's samplers on a frozen VAE's latents.

``z = scale * mu(x)``: the encoder's mean, scaled so that latents have unit variance (the role
0.18215 plays in Stable Diffusion), so the forward process's ``x_T ~ N(0, I)`` fits them.
"""

import math

import torch
import torch.nn.functional as F

from p1_forward import q_sample
from p3_sampling import ddim_sample


def latent_scale_factor(latents: torch.Tensor) -> float:
    """``1 / std`` of a batch of encoded latents ``(B, C, h, w)``, over every element
    (``torch.std``, unbiased), as a Python float: ``std(latents * scale)`` is then 1."""
    # BEGIN SOLUTION
    return float(1.0 / latents.detach().to(torch.float64).std())
    # END SOLUTION


class LatentDiffusion:
    """Encode, scale, diffuse in latent space, unscale, decode.

    ``vae`` is frozen (its parameters get ``requires_grad = False``); ``unet`` is a noise
    predictor ``unet(z_t, t)`` on latents ``(B, latent_channels, h, w)``; ``scale`` must be a
    finite number above 0 (``ValueError`` otherwise).
    """

    def __init__(self, vae, unet, scale: float, alpha_bar: torch.Tensor):
        # BEGIN SOLUTION
        if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a finite number above 0, got {scale!r}")
        self.vae, self.unet, self.scale, self.alpha_bar = vae, unet, float(scale), alpha_bar
        for p in vae.parameters():
            p.requires_grad_(False)
        # END SOLUTION

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``(B, 3, H, W)`` -> scaled latents ``scale * mu`` ``(B, latent_channels, H / f, W / f)``."""
        # BEGIN SOLUTION
        mu, _ = self.vae.encode(x)
        return mu * self.scale
        # END SOLUTION

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Scaled latents -> images: ``vae.decode(z / scale)``."""
        # BEGIN SOLUTION
        return self.vae.decode(z / self.scale)
        # END SOLUTION

    def loss(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """L_simple in latent space: ``z0 = encode(x0)``, ``z_t = q_sample(z0, t, alpha_bar, noise)``,
        the mean of ``(unet(z_t, t) - noise) ** 2``. ``noise`` is shaped like the latents; another
        shape raises ``ValueError`` naming the expected one. Gradients reach the U-Net only."""
        # BEGIN SOLUTION
        z0 = self.encode(x0)
        if noise.shape != z0.shape:
            raise ValueError(f"noise must be shaped like the latents {tuple(z0.shape)}, got {tuple(noise.shape)}")
        z_t = q_sample(z0, t, self.alpha_bar, noise)
        return F.mse_loss(self.unet(z_t, t), noise)
        # END SOLUTION

    @torch.no_grad()
    def sample(self, latent_shape: tuple[int, ...], num_steps: int, generator: torch.Generator | None = None,
               eta: float = 0.0) -> torch.Tensor:
        """P3's ``ddim_sample`` of ``latent_shape`` with the U-Net (the same draws), then ``decode``."""
        # BEGIN SOLUTION
        z = ddim_sample(self.unet, latent_shape, self.alpha_bar, num_steps, eta, generator)
        return self.decode(z)
        # END SOLUTION
