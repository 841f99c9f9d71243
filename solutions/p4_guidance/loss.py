"""L_simple with condition dropout: one network learns both eps(x_t, t, c) and eps(x_t, t, null)."""

import torch
import torch.nn.functional as F

from p1_forward import q_sample

from .guidance import drop_condition


def conditional_loss(model, x0: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor, noise: torch.Tensor,
                     context: torch.Tensor, mask: torch.Tensor, null_context: torch.Tensor,
                     null_mask: torch.Tensor, p_uncond: float,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """DDPM's L_simple where each sample's caption is dropped with probability ``p_uncond``.

    ``context`` ``(B, L, D)`` and ``mask`` ``(B, L)``: the batch's captions, encoded;
    ``null_context`` ``(L, D)`` and ``null_mask`` ``(L,)``: the empty prompt's. Exactly one
    draw: ``drop_condition(context, p_uncond, null_context, generator)``; a dropped sample
    gets ``null_mask`` too. Then ``x_t = q_sample(x0, t, alpha_bar, noise)`` and the loss is
    the mean over every element of ``(model(x_t, t, context, mask) - noise) ** 2``: a scalar,
    differentiable through the model and the text encoder that made ``context``.
    """
    # BEGIN SOLUTION
    context, dropped = drop_condition(context, p_uncond, null_context, generator)
    mask = torch.where(dropped[:, None], null_mask.to(mask.device).expand_as(mask), mask)
    x_t = q_sample(x0, t, alpha_bar, noise)
    return F.mse_loss(model(x_t, t, context, mask), noise)
    # END SOLUTION
