"""Exponential moving average of the weights (Polyak averaging; DDPM, Appendix B
samples from the EMA model with decay 0.9999)."""

import torch
from torch import nn


@torch.no_grad()
def ema_update(ema_model: nn.Module, model: nn.Module, decay: float) -> None:
    """Move ``ema_model`` towards ``model``, in place.

    The two models have the same architecture; for every pair of parameters,
    taken in ``parameters()`` order: ``ema_p = decay * ema_p + (1 - decay) * p``.
    Buffers (if any), in ``buffers()`` order, are copied from ``model`` unchanged. ``decay = 1`` leaves ``ema_model`` as it is;
    ``decay = 0`` makes it a copy of ``model``. No gradients are recorded.
    """
    for ema_p, p in zip(ema_model.parameters(), model.parameters()):
        ema_p.mul_(decay).add_(p.detach(), alpha=1 - decay)
    for ema_b, b in zip(ema_model.buffers(), model.buffers()):
        ema_b.copy_(b)
