"""Schedules as float64 tensors ``(T,)``; ``alpha_bar`` through logarithms in the dtype of ``betas``."""

import math

import torch


class UnknownSchedule(ValueError):
    """A schedule name that is not linear, quadratic or cosine."""


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    k = torch.arange(T, dtype=torch.float64)
    return beta_start + (beta_end - beta_start) * k / max(T - 1, 1)


def quadratic_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    return linear_beta_schedule(T, math.sqrt(beta_start), math.sqrt(beta_end)).square()


def cosine_beta_schedule(T: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    u = torch.arange(T + 1, dtype=torch.float64)
    log_f = 2 * torch.log(torch.cos((u / T + s) / (1 + s) * (math.pi / 2)))
    return (-torch.expm1(log_f[1:] - log_f[:-1])).clamp(max=max_beta)  # 1 - f(t + 1) / f(t)


def get_schedule(name: str, T: int) -> torch.Tensor:
    makers = {"linear": linear_beta_schedule, "quadratic": quadratic_beta_schedule, "cosine": cosine_beta_schedule}
    if name not in makers:
        raise UnknownSchedule(f"{name!r} is not one of {sorted(makers)}")
    return makers[name](T)


def alpha_bar(betas: torch.Tensor) -> torch.Tensor:
    """``exp(cumsum(log(1 - betas)))``, in the dtype of ``betas``."""
    return torch.exp(torch.cumsum(torch.log(1 - betas), dim=0))
