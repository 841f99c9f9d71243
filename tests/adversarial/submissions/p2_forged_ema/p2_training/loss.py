"""The training objective of DDPM: predict the noise that was added.

Symbols: ``x0`` clean images ``(B, C, H, W)``, ``t`` a LongTensor ``(B,)`` of
0-indexed timesteps, ``alpha_bar`` the ``(T,)`` cumulative products of
``1 - betas``, ``noise`` the Gaussian ``eps`` shaped like ``x0``.
"""

import torch
import torch.nn.functional as F

from p1_forward import q_sample


def diffusion_loss(model, x0: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor,
                   noise: torch.Tensor) -> torch.Tensor:
    """The simplified loss ``L_simple`` of DDPM (Eq. 14; Alg. 1, line 5).

    ``x_t = q_sample(x0, t, alpha_bar, noise)`` (P1), then the mean squared error
    ``mean((noise - model(x_t, t)) ** 2)`` over every element of the batch.
    Returns a scalar tensor, differentiable with respect to the model's parameters.
    """
    x_t = q_sample(x0, t, alpha_bar, noise)
    eps = model(x_t, t)
    return F.mse_loss(eps, noise)
