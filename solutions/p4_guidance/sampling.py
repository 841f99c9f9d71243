"""Guided DDIM sampling: P3's DDIM steps, each with a classifier-free guided ``eps``."""

import torch

from p1_forward import predict_x0_from_eps
from p3_sampling import ddim_step, ddim_timesteps

from .guidance import dynamic_threshold, guided_eps


def _model_device(model) -> torch.device:
    params = getattr(model, "parameters", None)
    first = next(iter(params()), None) if callable(params) else None
    return first.device if first is not None else torch.device("cpu")


@torch.no_grad()
def guided_ddim_sample(model, shape: tuple[int, ...], alpha_bar: torch.Tensor, num_steps: int,
                       context: torch.Tensor, mask: torch.Tensor, null_context: torch.Tensor,
                       null_mask: torch.Tensor, w: float, generator: torch.Generator | None = None,
                       eta: float = 0.0, *, negative_context: torch.Tensor | None = None,
                       negative_mask: torch.Tensor | None = None,
                       threshold: float | None = None) -> torch.Tensor:
    """Draw ``shape[0]`` samples of the prompts ``context``/``mask`` with guidance scale ``w``.

    As P3's ``ddim_sample`` (leading spacing, the same order of random draws: ``x = randn(shape)``,
    then per step a ``randn(shape)`` only when ``eta > 0``, on the CPU, moved to the model's device),
    with ``eps = guided_eps(model, x, t, context, mask, null, null_mask, w)`` at every step, where
    ``null`` is ``negative_context`` (with ``negative_mask``) when given, else ``null_context``.

    ``threshold``: when given (e.g. ``0.995``), every step predicts ``x0 = predict_x0_from_eps``,
    applies ``dynamic_threshold(x0, threshold)`` and re-derives ``eps`` from that ``x0`` before
    the DDIM step. Returns ``x_0`` on the model's device.
    """
    # BEGIN SOLUTION
    if (negative_context is None) != (negative_mask is None):
        raise ValueError("give negative_context and negative_mask together")
    null, null_m = (negative_context, negative_mask) if negative_context is not None else (null_context, null_mask)
    device = _model_device(model)
    tau = ddim_timesteps(len(alpha_bar), num_steps).tolist()
    x = torch.randn(shape, generator=generator).to(device)
    context, mask = context.to(device), mask.to(device)
    B = x.shape[0]
    for t, t_prev in zip(tau, tau[1:] + [-1]):
        t_batch = torch.full((B,), t, dtype=torch.long, device=device)
        t_prev_batch = torch.full((B,), t_prev, dtype=torch.long, device=device)
        eps = guided_eps(model, x, t_batch, context, mask, null, null_m, w)
        if threshold is not None:
            ab = alpha_bar.to(device, x.dtype)[t_batch].reshape(B, *([1] * (x.dim() - 1)))
            x0 = dynamic_threshold(predict_x0_from_eps(x, t_batch, alpha_bar, eps), threshold)
            eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
        noise = torch.randn(shape, generator=generator).to(device) if eta > 0 else None
        x = ddim_step(eps, x, t_batch, t_prev_batch, alpha_bar, eta, noise)
    return x
    # END SOLUTION
