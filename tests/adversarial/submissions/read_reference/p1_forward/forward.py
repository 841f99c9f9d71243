"""Sampling from the forward process and the quantities derived from it.

Symbols (Ho et al. 2020): ``x0`` a clean image, ``x_t`` its noised version at
step ``t``, ``eps`` standard Gaussian noise, ``alpha_bar`` the cumulative
product of ``1 - betas``. ``t`` is a LongTensor of shape ``(B,)``, one
timestep per sample; per-sample coefficients broadcast over ``(C, H, W)``.
"""

import torch


def _gather(coef: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``coef[t]`` reshaped to ``(B, 1, ..., 1)`` to broadcast against ``like``,
    in the dtype and on the device of ``like``."""
    out = coef.to(like.device)[t.to(like.device)].to(like.dtype)
    return out.reshape(-1, *([1] * (like.dim() - 1)))  # (B, 1, 1, 1)


def q_sample(x0: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Draw ``x_t ~ q(x_t | x0)`` by reparameterisation (DDPM Eq. 4).

    ``x_t = sqrt(alpha_bar[t]) * x0 + sqrt(1 - alpha_bar[t]) * noise``.
    ``x0``, ``noise``: ``(B, C, H, W)``; ``t``: ``(B,)``; ``alpha_bar``: ``(T,)``.
    Returns ``x_t`` shaped, typed and placed like ``x0``.
    """
    a = _gather(alpha_bar, t, x0)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def q_posterior(x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, betas: torch.Tensor):
    """Mean and variance of the posterior ``q(x_{t-1} | x_t, x0)`` (DDPM Eqs. 6-7).

    ``mean = sqrt(alpha_bar_prev) * beta_t / (1 - alpha_bar_t) * x0
           + sqrt(alpha_t) * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x_t``,
    ``variance = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta_t``,
    with ``alpha_bar_prev[0] = 1`` (so the variance at ``t = 0`` is 0).
    ``x0``, ``x_t``: ``(B, C, H, W)``; ``t``: ``(B,)``; ``betas``: ``(T,)``.
    Returns ``(mean, variance)``: ``mean`` like ``x_t``, ``variance`` of shape
    ``(B, 1, 1, 1)`` in the dtype of ``x_t``.
    """
    alphas = 1 - betas
    alpha_bar = torch.cumprod(alphas, dim=0)
    alpha_bar_prev = torch.cat([alpha_bar.new_ones(1), alpha_bar[:-1]])
    beta_t = _gather(betas, t, x_t)
    a_bar = _gather(alpha_bar, t, x_t)
    a_bar_prev = _gather(alpha_bar_prev, t, x_t)
    a_t = _gather(alphas, t, x_t)
    coef_x0 = a_bar_prev.sqrt() * beta_t / (1 - a_bar)
    coef_xt = a_t.sqrt() * (1 - a_bar_prev) / (1 - a_bar)
    mean = coef_x0 * x0 + coef_xt * x_t
    variance = (1 - a_bar_prev) / (1 - a_bar) * beta_t
    return mean, variance


def predict_x0_from_eps(x_t: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Invert ``q_sample`` for ``x0`` given the noise (DDPM Eq. 15).

    ``x0 = (x_t - sqrt(1 - alpha_bar[t]) * eps) / sqrt(alpha_bar[t])``.
    Shapes as in ``q_sample``; returns a tensor like ``x_t``.
    """
    a = _gather(alpha_bar, t, x_t)
    return (x_t - (1 - a).sqrt() * eps) / a.sqrt()


def snr(alpha_bar: torch.Tensor) -> torch.Tensor:
    """Signal-to-noise ratio ``alpha_bar / (1 - alpha_bar)`` (Kingma et al. 2021), per step.

    ``alpha_bar``: ``(T,)``. Returns the same shape and dtype.
    """
    return alpha_bar / (1 - alpha_bar)


def v_target(x0: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The v-prediction target ``v = sqrt(alpha_bar) * noise - sqrt(1 - alpha_bar) * x0``
    (Salimans & Ho 2022, Sec. 4). Shapes as in ``q_sample``; returns a tensor like ``x0``.
    """
    a = _gather(alpha_bar, t, x0)
    return a.sqrt() * noise - (1 - a).sqrt() * x0
