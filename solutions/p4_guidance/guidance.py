"""Classifier-free guidance (Ho & Salimans 2022) and dynamic thresholding (Saharia et al. 2022).

The convention of this course, pinned: ``eps = eps_uncond + w * (eps_cond - eps_uncond)``,
so ``w = 0`` is unconditional sampling, ``w = 1`` plain conditional sampling and
``w > 1`` guidance. (Ho & Salimans write ``(1 + w) eps_cond - w eps_uncond``: their
``w`` is ours minus 1.) A negative prompt takes the place of the null condition.

Symbols: ``context`` ``(B, L, D)`` token embeddings, ``mask`` ``(B, L)`` bool
(``True`` for a real token); a null (or negative) condition is ``(L, D)`` with a
mask ``(L,)``, or already batched ``(B, L, D)`` and ``(B, L)``.
"""

import torch


def drop_condition(cond: torch.Tensor, p: float, null_cond: torch.Tensor,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace each sample's condition by ``null_cond`` with probability ``p`` (training with dropout).

    ``cond``: ``(B, ...)``; ``null_cond``: shaped like one sample (``cond.shape[1:]``) or like ``cond``.
    The draw is ``u = torch.rand(B, generator=generator)`` on the CPU, one number per sample,
    and sample ``i`` is dropped when ``u[i] < p``. Returns ``(cond_out, dropped)``: ``cond_out``
    shaped like ``cond`` (its dtype and device), ``dropped`` a bool tensor ``(B,)`` on ``cond``'s
    device, so the caller can replace the mask the same way. ``p`` must lie in ``[0, 1]``
    (``ValueError`` otherwise).
    """
    # BEGIN SOLUTION
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p={p} must lie in [0, 1]")
    B = cond.shape[0]
    dropped = (torch.rand(B, generator=generator) < p).to(cond.device)  # (B,)
    null = null_cond.to(cond.device, cond.dtype).expand_as(cond)
    where = dropped.reshape(B, *([1] * (cond.dim() - 1)))
    return torch.where(where, null, cond), dropped
    # END SOLUTION


def classifier_free_guidance(eps_uncond: torch.Tensor, eps_cond: torch.Tensor, w: float) -> torch.Tensor:
    """``eps_uncond + w * (eps_cond - eps_uncond)``, shaped like the inputs (their dtype and device).

    ``w`` is a number or a tensor that broadcasts against them (one scale per sample: ``(B, 1, 1, 1)``).
    """
    # BEGIN SOLUTION
    # lerp is this formula, computed so that w = 0 and w = 1 give the inputs bit for bit
    w = torch.as_tensor(w, dtype=eps_cond.dtype, device=eps_cond.device)
    return torch.lerp(eps_uncond, eps_cond, w)
    # END SOLUTION


def _batched(cond: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A condition for one sample (one fewer dimension than ``like``) repeated over the batch."""
    if cond.dim() == like.dim() - 1:
        cond = cond.unsqueeze(0).expand(like.shape[0], *cond.shape)
    if cond.shape != like.shape:
        raise ValueError(f"a null or negative condition must be shaped {tuple(like.shape[1:])} or "
                         f"{tuple(like.shape)}, got {tuple(cond.shape)}")
    return cond.to(like.device, like.dtype)


def guided_eps(model, x_t: torch.Tensor, t: torch.Tensor, context: torch.Tensor, mask: torch.Tensor,
               null_context: torch.Tensor, null_mask: torch.Tensor, w: float) -> torch.Tensor:
    """The guided noise prediction, from ONE call of ``model`` on a batch of ``2B``.

    ``model(x_in, t_in, context_in, mask_in)`` with ``x_in = cat([x_t, x_t])``, ``t_in = cat([t, t])``,
    ``context_in = cat([context, null])`` and ``mask_in = cat([mask, null_mask])``: the conditional
    half first. ``null_context``/``null_mask`` are the null condition (or a negative prompt's),
    for one sample or for the batch. Returns ``classifier_free_guidance(eps_uncond, eps_cond, w)``,
    shaped like ``x_t``.
    """
    # BEGIN SOLUTION
    B = x_t.shape[0]
    null = _batched(null_context, context)
    null_m = _batched(null_mask, mask)
    eps = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([context, null]), torch.cat([mask, null_m]))
    eps_cond, eps_uncond = eps[:B], eps[B:]
    return classifier_free_guidance(eps_uncond, eps_cond, w)
    # END SOLUTION


def dynamic_threshold(x0: torch.Tensor, percentile: float = 0.995) -> torch.Tensor:
    """Imagen's dynamic thresholding of a predicted ``x_0`` ``(B, C, H, W)``.

    Per sample, ``s`` is the ``percentile`` quantile of ``|x0|`` over all its pixels and channels
    (``torch.quantile``'s linear interpolation), raised to at least 1; the sample becomes
    ``clamp(x0, -s, s) / s``. So a sample already inside ``[-1, 1]`` is unchanged.
    """
    # BEGIN SOLUTION
    B = x0.shape[0]
    s = torch.quantile(x0.abs().reshape(B, -1).to(torch.float64), percentile, dim=1).to(x0.dtype)  # (B,)
    s = s.clamp(min=1.0).reshape(B, *([1] * (x0.dim() - 1)))
    return torch.maximum(torch.minimum(x0, s), -s) / s
    # END SOLUTION
