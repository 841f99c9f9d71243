"""The building blocks of the U-Net: a residual block that takes the time
embedding, self-attention over pixels, and the resampling layers.

Symbols: ``x`` a feature map ``(B, C, H, W)``; ``t_emb`` the time embedding
``(B, time_dim)`` made by the U-Net's time MLP; ``L = H * W`` the number of
positions attention runs over; ``nh`` heads of size ``hs = C // nh``.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with ``gcd(8, channels)`` groups: 8 groups for the usual widths
    (multiples of 8), fewer when ``channels`` is not divisible by 8."""
    return nn.GroupNorm(math.gcd(8, channels), channels)


class ResBlock(nn.Module):
    """A residual block conditioned on the time embedding (DDPM, Appendix B).

    Layers (given): ``norm1``, ``conv1`` (3x3, ``in_ch -> out_ch``),
    ``time_proj`` (Linear ``time_dim -> out_ch``), ``norm2``, ``dropout``,
    ``conv2`` (3x3, ``out_ch -> out_ch``) and ``skip`` (a 1x1 conv when
    ``in_ch != out_ch``, the identity otherwise).
    """

    def __init__(self, in_ch: int, out_ch: int, time_dim: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = group_norm(in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.time_proj = nn.Linear(time_dim, out_ch)
        self.norm2 = group_norm(out_ch)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, in_ch, H, W)``; ``t_emb``: ``(B, time_dim)``. Returns ``(B, out_ch, H, W)``.

        ``h = conv1(silu(norm1(x)))``; add ``time_proj(silu(t_emb))`` to every
        pixel of ``h`` (one value per sample and channel);
        ``h = conv2(dropout(silu(norm2(h))))``; return ``skip(x) + h``.
        """
        h = self.conv1(F.silu(self.norm1(x)))  # (B, out_ch, H, W)
        h = h + self.time_proj(F.silu(t_emb))[:, :, None, None]  # (B, out_ch, 1, 1) broadcast over H, W
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class AttentionBlock(nn.Module):
    """Multi-head self-attention over the ``H * W`` positions of a feature map,
    with a residual connection (Vaswani et al. 2017, Eq. 1; DDPM uses it at 16x16).

    Layers (given): ``norm`` (GroupNorm), ``qkv`` (Linear ``C -> 3C``) and
    ``proj`` (Linear ``C -> C``), both applied to each position's ``C`` features.
    """

    def __init__(self, channels: int, heads: int = 1):
        super().__init__()
        if heads < 1 or channels % heads != 0:
            raise ValueError(f"heads={heads} must be at least 1 and divide channels={channels}")
        self.heads = heads
        self.norm = group_norm(channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, C, H, W)``. Returns a tensor of the same shape.

        1. ``tokens = norm(x)`` as ``(B, L, C)``: position ``l = i * W + j`` holds pixel ``(i, j)``.
        2. ``q, k, v = qkv(tokens).split(C, dim=-1)``, each ``(B, L, C)``; head ``n``
           uses features ``n * hs : (n + 1) * hs`` of each, ``hs = C // heads``.
        3. Per head: ``softmax(q @ k^T / sqrt(hs)) @ v`` with the softmax over keys.
        4. Put the heads back side by side in order (``(B, L, C)``), apply ``proj``,
           return ``x + `` that, reshaped to ``(B, C, H, W)``.
        """
        B, C, H, W = x.shape
        nh, hs = self.heads, C // self.heads
        tokens = self.norm(x).reshape(B, C, H * W).transpose(1, 2)  # (B, L, C)
        q, k, v = self.qkv(tokens).split(C, dim=2)  # 3 x (B, L, C)
        q = q.reshape(B, H * W, nh, hs).transpose(1, 2)  # (B, nh, L, hs)
        k = k.reshape(B, H * W, nh, hs).transpose(1, 2)  # (B, nh, L, hs)
        v = v.reshape(B, H * W, nh, hs).transpose(1, 2)  # (B, nh, L, hs)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)  # (B, nh, L, L)
        att = att.softmax(dim=-1)
        y = att @ v  # (B, nh, L, hs)
        y = y.transpose(1, 2).reshape(B, H * W, C)  # (B, L, C)
        y = self.proj(y).transpose(1, 2).reshape(B, C, H, W)  # (B, C, H, W)
        return x + y


class Downsample(nn.Module):
    """Halve ``H`` and ``W`` with a 3x3 convolution of stride 2: ``(B, C, H, W) -> (B, C, H/2, W/2)``."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    """Double ``H`` and ``W`` (nearest neighbour), then a 3x3 convolution:
    ``(B, C, H, W) -> (B, C, 2H, 2W)``."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))
