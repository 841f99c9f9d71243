"""P1: the forward (noising) process of DDPM.

Conventions (shared by every project): timesteps are 0-indexed, ``t`` in
``[0, T)``; ``alpha_bar[t] = prod_{s<=t} (1 - betas[s])``; images are
``(B, C, H, W)`` in ``[-1, 1]``; schedules are float64 tensors and every other
function keeps the dtype and device of its inputs.
"""

from .forward import predict_x0_from_eps, q_posterior, q_sample, snr, v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)

__all__ = [
    "linear_beta_schedule",
    "quadratic_beta_schedule",
    "cosine_beta_schedule",
    "get_schedule",
    "alpha_bar",
    "q_sample",
    "q_posterior",
    "predict_x0_from_eps",
    "snr",
    "v_target",
]
