"""P3: sampling from a trained noise predictor with DDPM and DDIM.

Conventions as in P1: 0-indexed ``t`` in ``[0, T)``, ``alpha_bar_prev[0] = 1``,
images ``(B, C, H, W)``; a model is called as ``model(x_t, t)`` with ``t`` a
LongTensor ``(B,)``. Samplers draw their starting noise as
``torch.randn(shape, generator=generator)``.
"""

from .ddim import ddim_invert, ddim_sample, ddim_step, ddim_timesteps
from .ddpm import ddpm_sample, ddpm_step

__all__ = [
    "ddpm_step",
    "ddpm_sample",
    "ddim_timesteps",
    "ddim_step",
    "ddim_sample",
    "ddim_invert",
]
