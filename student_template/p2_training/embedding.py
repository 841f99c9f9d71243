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
    raise NotImplementedError("complete timestep_embedding in p2_training/embedding.py")
