"""Forward-process quantities computed in the dtype of the images, coefficients cast first."""

import torch


def _at(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values[t]`` in the dtype and on the device of ``like``, as ``(B, 1, ..., 1)``."""
    picked = values.to(like.device, like.dtype)[t.to(like.device)]
    return picked.reshape(len(t), *([1] * (like.dim() - 1)))


def q_sample(x0, t, alpha_bar, noise):
    a = _at(alpha_bar, t, x0)
    return a.sqrt() * (x0 + (1 / a - 1).sqrt() * noise)


def q_posterior(x0, x_t, t, betas):
    b = betas.to(x_t.dtype)
    log_ab = torch.cumsum(torch.log1p(-b), dim=0)
    ab = torch.exp(log_ab)
    ab_prev = torch.exp(torch.cat([log_ab.new_zeros(1), log_ab[:-1]]))
    one_minus = -torch.expm1(log_ab)  # 1 - alpha_bar without cancellation
    one_minus_prev = -torch.expm1(torch.cat([log_ab.new_zeros(1), log_ab[:-1]]))
    beta_t, ab_prev_t = _at(b, t, x_t), _at(ab_prev, t, x_t)
    om_t, om_prev_t = _at(one_minus, t, x_t), _at(one_minus_prev, t, x_t)
    mean = (beta_t * ab_prev_t.sqrt() * x0 + (1 - beta_t).sqrt() * om_prev_t * x_t) / om_t
    return mean, beta_t * om_prev_t / om_t


def predict_x0_from_eps(x_t, t, alpha_bar, eps):
    a = _at(alpha_bar, t, x_t)
    return torch.rsqrt(a) * x_t - (1 / a - 1).sqrt() * eps


def snr(alpha_bar):
    return 1 / (1 / alpha_bar - 1)


def v_target(x0, t, alpha_bar, noise):
    a = _at(alpha_bar, t, x0)
    return a.sqrt() * noise - (1 - a).sqrt() * x0
