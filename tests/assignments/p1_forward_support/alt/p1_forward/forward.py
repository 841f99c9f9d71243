"""Forward-process quantities with per-sample coefficients computed in float64, then cast."""

import torch
import torch.nn.functional as F


def _per_sample(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values[t]`` (float64) as ``(B, 1, ..., 1)`` on the device of ``like``, still float64."""
    picked = values.to(like.device, torch.float64).index_select(0, t.to(like.device).long())
    return picked.view(picked.shape[0], *([1] * (like.dim() - 1)))


def q_sample(x0, t, alpha_bar, noise):
    ab = _per_sample(alpha_bar, t, x0)
    signal = torch.sqrt(ab).to(x0.dtype)
    sigma = torch.sqrt(1.0 - ab).to(x0.dtype)
    return torch.addcmul(signal * x0, sigma, noise)


def q_posterior(x0, x_t, t, betas):
    betas64 = betas.to(torch.float64)
    alpha_bar = torch.cumprod(1.0 - betas64, dim=0)
    alpha_bar_prev = F.pad(alpha_bar[:-1], (1, 0), value=1.0)
    beta_t = _per_sample(betas64, t, x_t)
    ab_t = _per_sample(alpha_bar, t, x_t)
    ab_prev = _per_sample(alpha_bar_prev, t, x_t)
    one_minus_ab = 1.0 - ab_t
    coef_x0 = (beta_t * torch.sqrt(ab_prev) / one_minus_ab).to(x_t.dtype)
    coef_xt = ((1.0 - ab_prev) * torch.sqrt(1.0 - beta_t) / one_minus_ab).to(x_t.dtype)
    variance = (beta_t * (1.0 - ab_prev) / one_minus_ab).to(x_t.dtype)
    return coef_x0 * x0 + coef_xt * x_t, variance


def predict_x0_from_eps(x_t, t, alpha_bar, eps):
    ab = _per_sample(alpha_bar, t, x_t)
    recip = torch.rsqrt(ab).to(x_t.dtype)
    recip_m1 = torch.sqrt(1.0 / ab - 1.0).to(x_t.dtype)
    return recip * x_t - recip_m1 * eps


def snr(alpha_bar):
    ab = alpha_bar.to(torch.float64)
    return torch.reciprocal(torch.reciprocal(ab) - 1.0).to(alpha_bar.dtype)


def v_target(x0, t, alpha_bar, noise):
    ab = _per_sample(alpha_bar, t, x0)
    return torch.sqrt(ab).to(x0.dtype) * noise - torch.sqrt(1.0 - ab).to(x0.dtype) * x0
