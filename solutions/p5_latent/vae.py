"""A small convolutional VAE (Kingma & Welling 2014) that maps RGB images to a latent grid.

Symbols: ``x`` images ``(B, 3, H, W)`` in ``[-1, 1]``; ``f = 2 ** len(channel_mults[1:])``
the downsampling factor (4 by default: ``32 x 32 -> 8 x 8``); ``z``, ``mu`` and ``logvar``
latents ``(B, latent_channels, H / f, W / f)``; ``logvar`` is ``log sigma^2``.
"""

from dataclasses import dataclass

import torch
from torch import nn


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """``z = mu + sigma * noise`` with ``sigma = exp(logvar / 2)``: a sample of ``N(mu, sigma^2)``
    that gradients flow through. All three shaped alike; ``z`` keeps their dtype and device."""
    # BEGIN SOLUTION
    return mu + torch.exp(0.5 * logvar) * noise
    # END SOLUTION


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, sigma^2) || N(0, I))`` of each sample, summed over every latent dimension.

    ``mu``, ``logvar``: ``(B, ...)``. Returns ``(B,)``: per element
    ``0.5 * (mu^2 + sigma^2 - 1 - log sigma^2)``, summed over all but the first axis.
    """
    # BEGIN SOLUTION
    per_element = 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)
    return per_element.flatten(1).sum(dim=1)
    # END SOLUTION


def vae_loss(x: torch.Tensor, x_rec: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float = 1.0) -> torch.Tensor:
    """The beta-VAE objective, a scalar: ``reconstruction + beta * KL``.

    Reductions: ``reconstruction`` is the squared error ``(x_rec - x) ** 2`` summed over each
    image's ``C * H * W`` values and averaged over the batch; ``KL`` is ``kl_divergence`` averaged
    over the batch. ``beta = 0`` gives a plain autoencoder's loss.
    """
    # BEGIN SOLUTION
    reconstruction = (x_rec - x).square().flatten(1).sum(dim=1).mean()
    return reconstruction + beta * kl_divergence(mu, logvar).mean()
    # END SOLUTION


@dataclass(frozen=True)
class VAEConfig:
    """``channel_mults[i] * base_channels`` is the width at level ``i``; every level after the first
    halves the resolution, so ``f = 2 ** (len(channel_mults) - 1)``."""

    in_channels: int = 3
    base_channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2, 2)
    latent_channels: int = 4

    @property
    def factor(self) -> int:
        return 2 ** (len(self.channel_mults) - 1)


def _block(in_ch: int, out_ch: int) -> nn.Sequential:
    """3x3 conv, GroupNorm, SiLU."""
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.GroupNorm(min(8, out_ch), out_ch), nn.SiLU())


class VAE(nn.Module):
    """``x_rec, mu, logvar = VAE(config)(x, noise)``.

    Layers (given):

    - ``encoder``: a ``Sequential``: ``conv_in`` to ``base_channels``, then per level a ``_block``
      and, after every level but the last, a 3x3 conv of stride 2 (halving H and W); then
      ``to_moments``, a 1x1 conv to ``2 * latent_channels``: ``mu`` is the first half of its
      channels, ``logvar`` the second.
    - ``decoder``: a ``Sequential``: a 1x1 conv from ``latent_channels``, then per level (in reverse)
      a ``_block`` and, before every level but the first, a nearest-neighbour x2 upsample with a
      3x3 conv; then a 3x3 conv to ``in_channels``. No output squashing: the loss pulls it to ``[-1, 1]``.
    """

    def __init__(self, config: VAEConfig = VAEConfig()):
        super().__init__()
        self.config = config
        base, mults, lat = config.base_channels, config.channel_mults, config.latent_channels
        enc: list[nn.Module] = [nn.Conv2d(config.in_channels, base, 3, padding=1)]
        ch = base
        for i, m in enumerate(mults):
            enc.append(_block(ch, m * base))
            ch = m * base
            if i != len(mults) - 1:
                enc.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
        enc.append(nn.Conv2d(ch, 2 * lat, 1))
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Conv2d(lat, ch, 1)]
        for i, m in reversed(list(enumerate(mults))):
            dec.append(_block(ch, m * base))
            ch = m * base
            if i != 0:
                dec += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(ch, ch, 3, padding=1)]
        dec.append(nn.Conv2d(ch, config.in_channels, 3, padding=1))
        self.decoder = nn.Sequential(*dec)

    def latent_shape(self, image_shape: tuple[int, ...]) -> tuple[int, ...]:
        """``(B, C, H, W) -> (B, latent_channels, H / f, W / f)``."""
        B, _, H, W = image_shape
        f = self.config.factor
        return (B, self.config.latent_channels, H // f, W // f)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``(B, in_channels, H, W)`` -> ``(mu, logvar)``, each ``(B, latent_channels, H / f, W / f)``."""
        # BEGIN SOLUTION
        moments = self.encoder(x)
        mu, logvar = moments.chunk(2, dim=1)
        return mu, logvar
        # END SOLUTION

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z`` ``(B, latent_channels, h, w)`` -> ``x_rec`` ``(B, in_channels, h * f, w * f)``.

        Latents with another number of channels raise ``ValueError`` naming the expected shape.
        """
        # BEGIN SOLUTION
        if z.dim() != 4 or z.shape[1] != self.config.latent_channels:
            raise ValueError(f"latents must have shape (B, {self.config.latent_channels}, h, w), "
                             f"got {tuple(z.shape)}")
        return self.decoder(z)
        # END SOLUTION

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode, draw ``z = reparameterize(mu, logvar, noise)``, decode: ``(x_rec, mu, logvar)``."""
        # BEGIN SOLUTION
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, noise)), mu, logvar
        # END SOLUTION
