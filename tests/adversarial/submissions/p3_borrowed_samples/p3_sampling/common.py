"""Helpers shared by the samplers: per-sample coefficients and the model's device."""

import torch


def gather(coef: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``coef[t]`` reshaped to ``(B, 1, ..., 1)`` to broadcast against ``like``,
    in the dtype and on the device of ``like``. ``coef``: ``(T,)``; ``t``: ``(B,)``."""
    out = coef.to(like.device)[t.to(like.device)].to(like.dtype)
    return out.reshape(-1, *([1] * (like.dim() - 1)))  # (B, 1, 1, 1)


def model_device(model) -> torch.device:
    """The device of the model's first parameter; the CPU for a model without
    parameters (or a plain function)."""
    parameters = getattr(model, "parameters", None)
    first = next(iter(parameters()), None) if callable(parameters) else None
    return first.device if first is not None else torch.device("cpu")
