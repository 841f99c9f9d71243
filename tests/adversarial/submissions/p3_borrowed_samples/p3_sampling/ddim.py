"""Denoising diffusion implicit models (Song et al. 2021): fewer, larger,
optionally deterministic steps with a model trained as for DDPM.

Symbols: ``alpha_bar`` the ``(T,)`` float64 cumulative products of P1 (DDIM's
paper writes them ``alpha``); ``tau`` the descending sub-sequence of timesteps
the sampler visits; ``t_prev`` the next one down, ``-1`` after the last, where
``alpha_bar_prev = 1`` (the clean image). ``eta`` interpolates between the
deterministic DDIM (``eta = 0``) and DDPM-like sampling (``eta = 1``).
"""

import torch

from p1_forward import predict_x0_from_eps

from .common import gather, model_device

SPACINGS = ("leading", "trailing", "linspace")


def ddim_timesteps(T: int, num_steps: int, spacing: str = "leading") -> torch.Tensor:
    """The ``num_steps`` timesteps ``tau`` of a DDIM run, descending, in ``[0, T)``.

    As ``timestep_spacing`` in diffusers' ``DDIMScheduler`` (with ``steps_offset=0``),
    all in float64 then rounded half to even where rounding is needed:

    - ``"leading"``: ``arange(0, num_steps) * (T // num_steps)``, reversed
      (T=1000, 10 steps: ``900, 800, ..., 0``);
    - ``"trailing"``: ``round(T - k * T / num_steps) - 1`` for ``k = 0 .. num_steps-1``,
      i.e. ``round(arange(T, 0, -T / num_steps)) - 1`` (``999, 899, ..., 99``);
    - ``"linspace"``: ``round(linspace(0, T - 1, num_steps))``, reversed
      (``999, 888, ..., 111, 0``).

    Returns a LongTensor ``(num_steps,)``. Raises ``ValueError`` for an unknown
    ``spacing`` or unless ``1 <= num_steps <= T``.
    """
    if spacing not in SPACINGS:
        raise ValueError(f"unknown spacing {spacing!r}; expected one of {list(SPACINGS)}")
    if not 1 <= num_steps <= T:
        raise ValueError(f"num_steps={num_steps} must be between 1 and T={T}")
    k = torch.arange(num_steps, dtype=torch.float64)
    if spacing == "leading":
        tau = (k * (T // num_steps)).flip(0)
    elif spacing == "trailing":
        tau = torch.round(T - k * (T / num_steps)) - 1
    else:
        tau = torch.round(torch.linspace(0, T - 1, num_steps, dtype=torch.float64)).flip(0)
    return tau.to(torch.long)


def ddim_step(eps: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, t_prev: torch.Tensor,
              alpha_bar: torch.Tensor, eta: float = 0.0, noise: torch.Tensor | None = None) -> torch.Tensor:
    """One DDIM step ``x_t -> x_{t_prev}`` (DDIM Eq. 12, with ``sigma`` from Eq. 16).

    With ``a_t = alpha_bar[t]``, ``a_prev = alpha_bar[t_prev]`` (``1`` where ``t_prev < 0``) and
    ``x0_pred = (x_t - sqrt(1 - a_t) * eps) / sqrt(a_t)`` (P1's ``predict_x0_from_eps``):

    ``sigma = eta * sqrt((1 - a_prev) / (1 - a_t)) * sqrt(1 - a_t / a_prev)``,
    ``x_prev = sqrt(a_prev) * x0_pred + sqrt(1 - a_prev - sigma ** 2) * eps + sigma * noise``.

    ``eta`` in ``[0, 1]``; ``noise`` (like ``x_t``) is required when ``eta > 0``
    (``ValueError`` otherwise) and ignored when ``eta == 0``. ``eps``, ``x_t``:
    ``(B, C, H, W)``; ``t``, ``t_prev``: LongTensors ``(B,)``, per sample;
    ``alpha_bar``: ``(T,)``. Returns ``x_prev`` like ``x_t``.
    """
    if eta > 0 and noise is None:
        raise ValueError("ddim_step: noise is required when eta > 0")
    alpha_bar_prev = torch.cat([alpha_bar.new_ones(1), alpha_bar])  # index t_prev + 1; [0] is t_prev = -1
    a_t = gather(alpha_bar, t, x_t)
    a_prev = gather(alpha_bar_prev, t_prev.clamp(min=-1) + 1, x_t)
    x0_pred = predict_x0_from_eps(x_t, t, alpha_bar, eps)
    sigma = eta * ((1 - a_prev) / (1 - a_t)).sqrt() * (1 - a_t / a_prev).sqrt()  # DDIM Eq. 16
    direction = (1 - a_prev - sigma**2).clamp(min=0).sqrt() * eps  # "direction pointing to x_t"
    x_prev = a_prev.sqrt() * x0_pred + direction  # DDIM Eq. 12
    if eta > 0:
        x_prev = x_prev + sigma * noise
    return x_prev


@torch.no_grad()
def ddim_sample(model, shape: tuple[int, ...], alpha_bar: torch.Tensor, num_steps: int, eta: float = 0.0,
                generator: torch.Generator | None = None, spacing: str = "leading", *,
                x_T: torch.Tensor | None = None) -> torch.Tensor:
    """Draw ``shape[0]`` samples with ``num_steps`` DDIM steps.

    ``tau = ddim_timesteps(len(alpha_bar), num_steps, spacing)``. The order of
    random draws is part of the contract (tests replay it):

    1. ``x = torch.randn(shape, generator=generator)``, unless ``x_T`` is given
       (then ``x = x_T`` and nothing is drawn; e.g. the output of ``ddim_invert``);
    2. for each consecutive pair ``(t, t_prev)`` of ``tau`` followed by ``-1``
       (``(tau[0], tau[1]), ..., (tau[-1], -1)``): ``eps = model(x, t_batch)``; then,
       only when ``eta > 0``, ``noise = torch.randn(shape, generator=generator)``
       (also at the last pair); then ``x = ddim_step(eps, x, t_batch, t_prev_batch,
       alpha_bar, eta, noise)``, with ``t_batch``, ``t_prev_batch`` LongTensors ``(B,)``.

    Draws are made on the CPU with ``generator`` (or the global RNG when None) and
    moved to the model's device (that of its parameters; the CPU for a model
    without any). Runs without gradients. Returns ``x_0`` on the model's device.
    """
    device = model_device(model)
    tau = ddim_timesteps(len(alpha_bar), num_steps, spacing).tolist()
    x = torch.randn(shape, generator=generator).to(device) if x_T is None else x_T.to(device)
    B = x.shape[0]
    for t, t_prev in zip(tau, tau[1:] + [-1]):
        t_batch = torch.full((B,), t, dtype=torch.long, device=device)
        t_prev_batch = torch.full((B,), t_prev, dtype=torch.long, device=device)
        eps = model(x, t_batch)
        noise = torch.randn(shape, generator=generator).to(device) if eta > 0 else None
        x = ddim_step(eps, x, t_batch, t_prev_batch, alpha_bar, eta, noise)
    return x


@torch.no_grad()
def ddim_invert(model, x0: torch.Tensor, alpha_bar: torch.Tensor, num_steps: int,
                spacing: str = "leading") -> torch.Tensor:
    """DDIM inversion: run the deterministic (``eta = 0``) DDIM update forwards,
    from the clean ``x0`` up to the noisiest timestep ``tau[0]``.

    The timesteps are those of ``ddim_sample``, ascending: ``tau[-1], ..., tau[0]``,
    starting from ``t_cur = -1`` (``alpha_bar = 1``, ``x = x0``). Each step
    ``t_cur -> t_next`` undoes the sampler's step ``t_next -> t_cur``, whose
    ``eps`` would be ``model(x_{t_next}, t_next)``; ``x_{t_next}`` is not known
    yet, so it uses the current point instead (the usual approximation, as in
    diffusers' ``DDIMInverseScheduler``):

    ``eps = model(x, t_next)``,
    ``x0_pred = (x - sqrt(1 - a_cur) * eps) / sqrt(a_cur)``,
    ``x = sqrt(a_next) * x0_pred + sqrt(1 - a_next) * eps``,

    with ``a_cur = alpha_bar[t_cur]`` (``1`` for ``t_cur = -1``) and ``a_next = alpha_bar[t_next]``.
    ``x0``: ``(B, C, H, W)``; the model is called on ``x0``'s device with LongTensors
    ``(B,)``. Returns the latent ``x_T`` like ``x0``; ``ddim_sample(..., eta=0,
    x_T=x_T)`` with the same ``num_steps`` and ``spacing`` maps it back to about ``x0``.
    """
    tau = ddim_timesteps(len(alpha_bar), num_steps, spacing).flip(0).tolist()  # ascending
    alpha_bar_prev = torch.cat([alpha_bar.new_ones(1), alpha_bar])  # index t + 1; [0] is t = -1
    B = x0.shape[0]
    x = x0
    for t_cur, t_next in zip([-1] + tau[:-1], tau):
        t_cur_batch = torch.full((B,), t_cur + 1, dtype=torch.long, device=x0.device)
        t_next_batch = torch.full((B,), t_next, dtype=torch.long, device=x0.device)
        a_cur = gather(alpha_bar_prev, t_cur_batch, x)
        a_next = gather(alpha_bar, t_next_batch, x)
        eps = model(x, t_next_batch)
        x0_pred = (x - (1 - a_cur).sqrt() * eps) / a_cur.sqrt()
        x = a_next.sqrt() * x0_pred + (1 - a_next).sqrt() * eps  # DDIM Eq. 12 with sigma = 0, run upwards
    return x
