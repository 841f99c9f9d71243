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
    raise NotImplementedError("complete q_sample in p1_forward/forward.py")


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
    raise NotImplementedError("complete q_posterior in p1_forward/forward.py")


def predict_x0_from_eps(x_t: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Invert ``q_sample`` for ``x0`` given the noise (DDPM Eq. 15).

    ``x0 = (x_t - sqrt(1 - alpha_bar[t]) * eps) / sqrt(alpha_bar[t])``.
    Shapes as in ``q_sample``; returns a tensor like ``x_t``.
    """
    raise NotImplementedError("complete predict_x0_from_eps in p1_forward/forward.py")


def snr(alpha_bar: torch.Tensor) -> torch.Tensor:
    """Signal-to-noise ratio ``alpha_bar / (1 - alpha_bar)`` (Kingma et al. 2021), per step.

    ``alpha_bar``: ``(T,)``. Returns the same shape and dtype.
    """
    raise NotImplementedError("complete snr in p1_forward/forward.py")


def v_target(x0: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The v-prediction target ``v = sqrt(alpha_bar) * noise - sqrt(1 - alpha_bar) * x0``
    (Salimans & Ho 2022, Sec. 4). Shapes as in ``q_sample``; returns a tensor like ``x0``.
    """
    raise NotImplementedError("complete v_target in p1_forward/forward.py")
