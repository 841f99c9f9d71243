"""Sinusoidal timestep embedding (Vaswani et al. 2017, Sec. 3.5; used by DDPM, Sec. 4).

A timestep ``t`` becomes a vector of cosines and sines of ``t`` at
geometrically spaced frequencies, so that the network can tell nearby and
distant steps apart with smooth features.
"""

import math

import torch


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000) -> torch.Tensor:
    """Embed each timestep of ``t`` as ``[cos(t * freqs), sin(t * freqs)]``.

    With ``half = dim // 2`` and ``k = 0 .. half-1``:
    ``freqs[k] = exp(-log(max_period) * k / half)``; column ``k`` of the result is
    ``cos(t * freqs[k])`` and column ``half + k`` is ``sin(t * freqs[k])`` (cosines
    first). When ``dim`` is odd, one column of zeros is appended at the end.

    ``t``: ``(B,)``, integer or float timesteps. Returns a float32 tensor of shape
    ``(B, dim)`` on the device of ``t``.
    """
    half = dim // 2
    k = torch.arange(half, dtype=torch.float32, device=t.device)
    freqs = torch.exp(-math.log(max_period) * k / half)  # (half,)
    args = t.to(torch.float32)[:, None] * freqs[None, :]  # (B, half)
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)  # (B, 2 * half)
    if dim % 2 == 1:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=1)  # (B, dim)
    return emb
