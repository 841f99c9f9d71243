"""Samplers: DDPM ancestral sampling, DDIM sampling and DDIM inversion."""

import torch

from .steps import ddim_step, ddim_timesteps, ddpm_step


def _device_of(model):
    try:
        return next(model.parameters()).device
    except (AttributeError, StopIteration):
        return torch.device("cpu")


def ddpm_sample(model, shape, betas, generator):
    with torch.inference_mode():
        device = _device_of(model)
        x = torch.randn(shape, generator=generator).to(device)
        t = len(betas)
        while t > 0:
            t -= 1
            steps = torch.full((shape[0],), t, dtype=torch.int64).to(device)
            eps = model(x, steps)
            x = ddpm_step(eps, x, steps, betas, torch.randn(shape, generator=generator).to(device))
    return x.clone()


def ddim_sample(model, shape, alpha_bar, num_steps, eta=0.0, generator=None, spacing="leading", *, x_T=None):
    with torch.inference_mode():
        device = _device_of(model)
        x = x_T.to(device) if x_T is not None else torch.randn(shape, generator=generator).to(device)
        tau = ddim_timesteps(alpha_bar.shape[0], num_steps, spacing).tolist() + [-1]
        n = x.shape[0]
        for i in range(num_steps):
            t = torch.full((n,), tau[i], dtype=torch.int64).to(device)
            t_prev = torch.full((n,), tau[i + 1], dtype=torch.int64).to(device)
            eps = model(x, t)
            noise = torch.randn(shape, generator=generator).to(device) if eta > 0 else None
            x = ddim_step(eps, x, t, t_prev, alpha_bar, eta, noise)
    return x.clone()


def ddim_invert(model, x0, alpha_bar, num_steps, spacing="leading"):
    """Each step ``t_cur -> t_next`` as a DDIM step written with the current point's eps."""
    table = alpha_bar.detach().to("cpu", torch.float64).tolist()
    ascending = ddim_timesteps(len(table), num_steps, spacing).tolist()[::-1]
    n = x0.shape[0]
    x = x0
    with torch.inference_mode():
        for t_cur, t_next in zip([-1] + ascending, ascending):
            a_cur = table[t_cur] if t_cur >= 0 else 1.0
            a_next = table[t_next]
            eps = model(x, torch.full((n,), t_next, dtype=torch.int64, device=x0.device))
            c_x = (a_next / a_cur) ** 0.5
            c_eps = (1 - a_next) ** 0.5 - (a_next * (1 - a_cur) / a_cur) ** 0.5
            x = (c_x * x.double() + c_eps * eps.double()).to(x0.dtype)
    return x.clone()
