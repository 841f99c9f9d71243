"""Single steps and timestep sequences, with per-sample coefficients computed in float64."""

import torch

from p1_forward import q_posterior


def _column(values: list[float], like: torch.Tensor) -> torch.Tensor:
    """One float64 value per sample as ``(B, 1, ..., 1)`` on the device of ``like``."""
    out = torch.tensor(values, dtype=torch.float64, device=like.device)
    return out.view(-1, *([1] * (like.dim() - 1)))


def ddim_timesteps(T, num_steps, spacing="leading"):
    if spacing not in {"leading": 0, "trailing": 0, "linspace": 0}:
        raise ValueError(f"spacing must be 'leading', 'trailing' or 'linspace', not {spacing!r}")
    if num_steps < 1 or num_steps > T:
        raise ValueError(f"need 1 <= num_steps <= T, got num_steps={num_steps}, T={T}")
    if spacing == "leading":
        stride = T // num_steps
        steps = [k * stride for k in range(num_steps - 1, -1, -1)]
    elif spacing == "trailing":
        width = T / num_steps
        steps = [round(T - k * width) - 1 for k in range(num_steps)]
    else:
        grid = torch.linspace(0, T - 1, num_steps, dtype=torch.float64).tolist()
        steps = [round(v) for v in reversed(grid)]
    return torch.tensor(steps, dtype=torch.int64)


def ddpm_step(eps, x_t, t, betas, noise):
    betas64 = betas.detach().to("cpu", torch.float64)
    steps = t.detach().to("cpu").tolist()
    alpha_bar = torch.cumprod(1 - betas64, 0).tolist()
    x0_coef = [1 / alpha_bar[s] ** 0.5 for s in steps]
    eps_coef = [-((1 - alpha_bar[s]) / alpha_bar[s]) ** 0.5 for s in steps]
    # x0 predicted from eps (DDPM Eq. 15), then the posterior of one step back (Eqs. 6-7).
    x0_pred = (_column(x0_coef, x_t) * x_t + _column(eps_coef, x_t) * eps).to(x_t.dtype)
    mean, variance = q_posterior(x0_pred, x_t, t, betas)
    return mean + variance.sqrt() * noise  # the variance is exactly 0 at t = 0


def ddim_step(eps, x_t, t, t_prev, alpha_bar, eta=0.0, noise=None):
    if eta != 0 and noise is None:
        raise ValueError("a stochastic DDIM step (eta > 0) needs noise")
    table = alpha_bar.detach().to("cpu", torch.float64).tolist()
    c_x, c_eps, c_noise = [], [], []
    for s, p in zip(t.detach().to("cpu").tolist(), t_prev.detach().to("cpu").tolist()):
        a_t = table[s]
        a_p = table[p] if p >= 0 else 1.0
        sigma2 = eta**2 * (1 - a_p) / (1 - a_t) * (1 - a_t / a_p)
        c_x.append((a_p / a_t) ** 0.5)
        c_eps.append(max(1 - a_p - sigma2, 0.0) ** 0.5 - (a_p * (1 - a_t) / a_t) ** 0.5)
        c_noise.append(sigma2**0.5)
    out = _column(c_x, x_t) * x_t + _column(c_eps, x_t) * eps
    if eta != 0:
        out = out + _column(c_noise, x_t) * noise
    return out.to(x_t.dtype)
