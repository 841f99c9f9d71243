"""Noise schedules: the variances ``beta_t`` of the forward process.

Every schedule returns a float64 tensor ``betas`` of shape ``(T,)`` with
``0 < betas[t] < 1``; index ``t`` is 0-based.
"""

import math

import torch


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """Betas spaced linearly from ``beta_start`` to ``beta_end`` (Ho et al. 2020, Sec. 4).

    Returns a float64 tensor of shape ``(T,)``.
    """
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)


def quadratic_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """Betas whose square roots are spaced linearly (the "quadratic" schedule).

    ``betas = linspace(sqrt(beta_start), sqrt(beta_end), T) ** 2``.
    Returns a float64 tensor of shape ``(T,)``.
    """
    return torch.linspace(beta_start**0.5, beta_end**0.5, T, dtype=torch.float64) ** 2


def cosine_beta_schedule(T: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """The cosine schedule of Nichol & Dhariwal (2021), Eq. 17.

    ``f(u) = cos(((u / T) + s) / (1 + s) * pi / 2) ** 2`` and
    ``alpha_bar(u) = f(u) / f(0)``; then ``betas[t] = 1 - alpha_bar(t + 1) / alpha_bar(t)``
    for ``t = 0 .. T-1``, clipped to at most ``max_beta``.
    Returns a float64 tensor of shape ``(T,)``.
    """
    u = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos(((u / T) + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar_u = f / f[0]
    betas = 1 - alpha_bar_u[1:] / alpha_bar_u[:-1]
    return betas.clamp(max=max_beta)


SCHEDULES = {
    "linear": linear_beta_schedule,
    "quadratic": quadratic_beta_schedule,
    "cosine": cosine_beta_schedule,
}


def get_schedule(name: str, T: int) -> torch.Tensor:
    """Betas of the schedule called ``name`` (``"linear"``, ``"quadratic"`` or ``"cosine"``).

    Raises ``ValueError`` naming the known schedules when ``name`` is unknown.
    """
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; expected one of {sorted(SCHEDULES)}")
    return SCHEDULES[name](T)


def alpha_bar(betas: torch.Tensor) -> torch.Tensor:
    """Cumulative products ``alpha_bar[t] = prod_{s<=t} (1 - betas[s])``.

    ``betas``: shape ``(T,)``. Returns a tensor of the same shape, dtype and device.
    """
    return torch.cumprod(1 - betas, dim=0)
