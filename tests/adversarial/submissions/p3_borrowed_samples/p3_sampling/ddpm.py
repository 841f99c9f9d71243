"""Ancestral sampling of DDPM (Ho et al. 2020, Alg. 2).

Symbols: ``betas`` the ``(T,)`` float64 variances of the forward process,
``alpha_t = 1 - beta_t``, ``alpha_bar_t = prod_{s<=t} alpha_s`` and
``alpha_bar_prev_t = alpha_bar_{t-1}`` with ``alpha_bar_prev_0 = 1``; ``t`` is
0-indexed, so the paper's ``t = 1`` (the last step, no noise) is our ``t = 0``.
"""

import torch

from .common import gather, model_device


def ddpm_step(eps: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, betas: torch.Tensor,
              noise: torch.Tensor) -> torch.Tensor:
    """One reverse step ``x_t -> x_{t-1}`` (DDPM Alg. 2, line 4; Eq. 11 for the mean).

    ``x_{t-1} = 1 / sqrt(alpha_t) * (x_t - beta_t / sqrt(1 - alpha_bar_t) * eps) + sigma_t * noise``
    with ``sigma_t ** 2 = beta_tilde_t = (1 - alpha_bar_prev_t) / (1 - alpha_bar_t) * beta_t``
    (the posterior variance, DDPM Eq. 7). Samples whose ``t == 0`` get no noise.

    ``eps``, ``x_t``, ``noise``: ``(B, C, H, W)``; ``t``: LongTensor ``(B,)``, one
    timestep per sample; ``betas``: ``(T,)``. Returns ``x_{t-1}`` like ``x_t``.
    """
    alphas = 1 - betas
    alpha_bar = torch.cumprod(alphas, dim=0)
    alpha_bar_prev = torch.cat([alpha_bar.new_ones(1), alpha_bar[:-1]])
    beta_t = gather(betas, t, x_t)
    alpha_t = gather(alphas, t, x_t)
    a_bar = gather(alpha_bar, t, x_t)
    a_bar_prev = gather(alpha_bar_prev, t, x_t)
    mean = (x_t - beta_t / (1 - a_bar).sqrt() * eps) / alpha_t.sqrt()  # DDPM Eq. 11
    sigma_t = ((1 - a_bar_prev) / (1 - a_bar) * beta_t).sqrt()  # DDPM Eq. 7, beta_tilde
    nonzero = (t.to(x_t.device) > 0).to(x_t.dtype).reshape(-1, *([1] * (x_t.dim() - 1)))  # (B, 1, 1, 1)
    return mean + nonzero * sigma_t * noise


@torch.no_grad()
def ddpm_sample(model, shape: tuple[int, ...], betas: torch.Tensor,
                generator: torch.Generator | None) -> torch.Tensor:
    """Draw ``shape[0]`` samples by running all ``T = len(betas)`` reverse steps (DDPM Alg. 2).

    The order of random draws is part of the contract (tests replay it):

    1. ``x = torch.randn(shape, generator=generator)``  (``x_{T-1}``, the start);
    2. for ``t = T-1, T-2, ..., 0``: ``eps = model(x, t_batch)`` with ``t_batch`` a
       LongTensor ``(B,)`` filled with ``t``; then
       ``noise = torch.randn(shape, generator=generator)`` is drawn at every step,
       including ``t = 0`` where it is not used; then ``x = ddpm_step(eps, x, t_batch, betas, noise)``.

    Every draw is made on the CPU with ``generator`` (a CPU generator, or None
    for the global RNG) and then moved to the model's device (the device of its
    parameters; the CPU for a model without any), so the same seed gives the same
    samples on every device. Runs without gradients. Returns ``x_0`` (float32,
    on the model's device).
    """
    device = model_device(model)
    x = torch.randn(shape, generator=generator).to(device)
    for step in reversed(range(len(betas))):
        t = torch.full((shape[0],), step, dtype=torch.long, device=device)
        eps = model(x, t)
        noise = torch.randn(shape, generator=generator).to(device)
        x = ddpm_step(eps, x, t, betas, noise)
    return x
