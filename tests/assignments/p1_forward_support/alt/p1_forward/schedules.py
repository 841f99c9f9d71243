"""Schedules built from Python floats and numpy, returned as float64 tensors of shape ``(T,)``."""

import math

import numpy as np
import torch


def _evenly_spaced(lo: float, hi: float, T: int) -> list[float]:
    if T == 1:
        return [lo]
    step = (hi - lo) / (T - 1)
    return [lo + k * step for k in range(T)]


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    return torch.tensor(_evenly_spaced(beta_start, beta_end, T), dtype=torch.float64)


def quadratic_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    roots = np.linspace(math.sqrt(beta_start), math.sqrt(beta_end), T)
    return torch.from_numpy(np.square(roots))


def cosine_beta_schedule(T: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    def alpha_bar_of(u: float) -> float:  # Nichol & Dhariwal Eq. 17
        return math.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2 / math.cos(s / (1 + s) * math.pi / 2) ** 2

    betas = []
    for t in range(T):
        betas.append(min(1.0 - alpha_bar_of(t + 1) / alpha_bar_of(t), max_beta))
    return torch.tensor(betas, dtype=torch.float64)


def get_schedule(name: str, T: int) -> torch.Tensor:
    if name == "linear":
        return linear_beta_schedule(T)
    if name == "quadratic":
        return quadratic_beta_schedule(T)
    if name == "cosine":
        return cosine_beta_schedule(T)
    raise ValueError(f"no schedule called {name!r} (known: linear, quadratic, cosine)")


def alpha_bar(betas: torch.Tensor) -> torch.Tensor:
    """``exp(sum_{s<=t} log(1 - betas[s]))``, accumulated in float64."""
    log_alphas = torch.log1p(-betas.to(torch.float64))
    return torch.exp(torch.cumsum(log_alphas, dim=0)).to(betas.dtype)
