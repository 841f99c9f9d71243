"""Mutants of the P3 reference: each is one textual edit of ``solutions/p3_sampling``.

Every mutant is a plausible student mistake; the hidden tests must fail each of
them at least once. ``old`` must occur exactly once in ``file`` (the test that
applies them checks it), so a change to the reference cannot leave a mutant
silently unapplied.

Edits that cannot change any result are left out on purpose: the posterior
variance is exactly 0 at ``t = 0``, so dropping DDPM's ``t > 0`` mask changes
nothing, and the noise of DDIM's last step (``sigma = 0`` there) or any noise
drawn at ``eta = 0`` is never used.

``QUALITY_KILLERS`` names, for each quality test, mutants that must fail it
and make sampling cheap (a loop of one step, or a copy of the data), so the
framework tests can run those slow tests on them in seconds.
"""

from typing import NamedTuple


class Mutant(NamedTuple):
    id: str
    file: str  # relative to solutions/p3_sampling
    old: str
    new: str
    description: str


C, P, D = "common.py", "ddpm.py", "ddim.py"

MUTANTS: tuple[Mutant, ...] = (
    # -- the shared gather ------------------------------------------------------------------------
    Mutant("gather_keeps_float64", C,
           "out = coef.to(like.device)[t.to(like.device)].to(like.dtype)",
           "out = coef.to(like.device)[t.to(like.device)]",
           "coefficients stay float64, so float32 inputs give float64 results"),
    Mutant("gather_first_t_only", C,
           "out = coef.to(like.device)[t.to(like.device)].to(like.dtype)",
           "out = coef.to(like.device)[t.to(like.device)[:1]].to(like.dtype)",
           "the first sample's t used for the whole batch"),
    # -- ddpm_step ------------------------------------------------------------------------------
    Mutant("ddpm_variance_beta", P,
           "sigma_t = ((1 - a_bar_prev) / (1 - a_bar) * beta_t).sqrt()",
           "sigma_t = beta_t.sqrt()",
           "sigma_t^2 = beta_t (the other choice of the paper) instead of the posterior variance"),
    Mutant("ddpm_variance_not_sqrt", P,
           "sigma_t = ((1 - a_bar_prev) / (1 - a_bar) * beta_t).sqrt()",
           "sigma_t = (1 - a_bar_prev) / (1 - a_bar) * beta_t",
           "the noise is scaled by the variance instead of the standard deviation"),
    Mutant("ddpm_prev_off_by_one", P,
           "a_bar_prev = gather(alpha_bar_prev, t, x_t)",
           "a_bar_prev = gather(alpha_bar_prev, (t - 1).clamp(min=0), x_t)",
           "alpha_bar_prev taken two steps back"),
    Mutant("ddpm_mean_alpha_not_sqrt", P,
           "mean = (x_t - beta_t / (1 - a_bar).sqrt() * eps) / alpha_t.sqrt()",
           "mean = (x_t - beta_t / (1 - a_bar).sqrt() * eps) / alpha_t",
           "the mean divided by alpha_t instead of its square root"),
    Mutant("ddpm_mean_eps_coef_no_sqrt", P,
           "mean = (x_t - beta_t / (1 - a_bar).sqrt() * eps) / alpha_t.sqrt()",
           "mean = (x_t - beta_t / (1 - a_bar) * eps) / alpha_t.sqrt()",
           "eps coefficient beta_t / (1 - alpha_bar_t) instead of beta_t / sqrt(1 - alpha_bar_t)"),
    Mutant("ddpm_mean_alpha_bar", P,
           "mean = (x_t - beta_t / (1 - a_bar).sqrt() * eps) / alpha_t.sqrt()",
           "mean = (x_t - beta_t / (1 - a_bar).sqrt() * eps) / a_bar.sqrt()",
           "the mean divided by sqrt(alpha_bar_t) instead of sqrt(alpha_t)"),
    Mutant("ddpm_noise_ignored", P,
           "return mean + nonzero * sigma_t * noise",
           "return mean",
           "no noise added: the mean of Alg. 2 only"),
    # -- ddpm_sample ----------------------------------------------------------------------------
    Mutant("ddpm_sample_skips_t0", P,
           "for step in reversed(range(len(betas))):",
           "for step in reversed(range(1, len(betas))):",
           "the loop stops before t = 0"),
    Mutant("ddpm_sample_skips_first", P,
           "for step in reversed(range(len(betas))):",
           "for step in reversed(range(len(betas) - 1)):",
           "the loop starts at T - 2"),
    Mutant("ddpm_sample_only_last_step", P,
           "for step in reversed(range(len(betas))):",
           "for step in [0]:",
           "a single step at t = 0: the samples stay noise"),
    Mutant("ddpm_sample_global_rng", P,
           "noise = torch.randn(shape, generator=generator).to(device)",
           "noise = torch.randn(shape).to(device)",
           "the step noise drawn from the global RNG, not the generator"),
    Mutant("ddpm_sample_noise_before_start", P,
           "x = torch.randn(shape, generator=generator).to(device)\n    for step",
           "x = torch.randn(shape, generator=generator).to(device)\n"
           "    torch.randn(shape, generator=generator)\n    for step",
           "an extra draw before the loop: every later draw is shifted"),
    # -- ddim_timesteps -------------------------------------------------------------------------
    Mutant("leading_offset_one", D,
           "tau = (k * (T // num_steps)).flip(0)",
           "tau = (k * (T // num_steps) + 1).flip(0)",
           "leading spacing shifted by one (steps_offset = 1)"),
    Mutant("leading_float_stride", D,
           "tau = (k * (T // num_steps)).flip(0)",
           "tau = (k * (T / num_steps)).flip(0)",
           "leading stride T / num_steps (truncated later) instead of T // num_steps"),
    Mutant("leading_ascending", D,
           "tau = (k * (T // num_steps)).flip(0)",
           "tau = k * (T // num_steps)",
           "leading timesteps in ascending order"),
    Mutant("trailing_truncated", D,
           "tau = torch.round(T - k * (T / num_steps)) - 1",
           "tau = (T - k * (T / num_steps)) - 1",
           "trailing timesteps truncated instead of rounded"),
    Mutant("trailing_from_T", D,
           "tau = torch.round(T - k * (T / num_steps)) - 1",
           "tau = torch.round(T - 1 - k * ((T - 1) / num_steps))",
           "trailing spacing over T - 1 instead of T"),
    Mutant("linspace_truncated", D,
           "tau = torch.round(torch.linspace(0, T - 1, num_steps, dtype=torch.float64)).flip(0)",
           "tau = torch.linspace(0, T - 1, num_steps, dtype=torch.float64).flip(0)",
           "linspace timesteps truncated instead of rounded"),
    Mutant("linspace_to_T", D,
           "tau = torch.round(torch.linspace(0, T - 1, num_steps, dtype=torch.float64)).flip(0)",
           "tau = torch.round(torch.linspace(0, T, num_steps, dtype=torch.float64)).flip(0).clamp(max=T - 1)",
           "linspace over [0, T] (then clipped)"),
    Mutant("spacing_key_error", D,
           "raise ValueError(f\"unknown spacing",
           "raise KeyError(f\"unknown spacing",
           "an unknown spacing raises KeyError"),
    Mutant("spacing_unchecked", D,
           "    if spacing not in SPACINGS:\n",
           "    if spacing not in SPACINGS and False:\n",
           "an unknown spacing silently gives linspace"),
    # -- ddim_step ------------------------------------------------------------------------------
    Mutant("ddim_noise_check_missing", D,
           "    if eta > 0 and noise is None:\n",
           "    if eta > 0 and noise is None and False:\n",
           "eta > 0 without noise is not refused (a TypeError follows)"),
    Mutant("ddim_sigma_first_factor_no_sqrt", D,
           "sigma = eta * ((1 - a_prev) / (1 - a_t)).sqrt() * (1 - a_t / a_prev).sqrt()",
           "sigma = eta * ((1 - a_prev) / (1 - a_t)) * (1 - a_t / a_prev).sqrt()",
           "DDIM Eq. 16 without the square root of (1 - a_prev) / (1 - a_t)"),
    Mutant("ddim_sigma_no_eta", D,
           "sigma = eta * ((1 - a_prev) / (1 - a_t)).sqrt() * (1 - a_t / a_prev).sqrt()",
           "sigma = ((1 - a_prev) / (1 - a_t)).sqrt() * (1 - a_t / a_prev).sqrt()",
           "sigma without the factor eta"),
    Mutant("ddim_sigma_eta_squared", D,
           "sigma = eta * ((1 - a_prev) / (1 - a_t)).sqrt() * (1 - a_t / a_prev).sqrt()",
           "sigma = eta**2 * ((1 - a_prev) / (1 - a_t)).sqrt() * (1 - a_t / a_prev).sqrt()",
           "sigma scaled by eta squared"),
    Mutant("ddim_direction_ignores_sigma", D,
           "direction = (1 - a_prev - sigma**2).clamp(min=0).sqrt() * eps",
           "direction = (1 - a_prev).sqrt() * eps",
           "the direction to x_t keeps sqrt(1 - a_prev) whatever sigma is"),
    Mutant("ddim_direction_sigma_not_squared", D,
           "direction = (1 - a_prev - sigma**2).clamp(min=0).sqrt() * eps",
           "direction = (1 - a_prev - sigma).clamp(min=0).sqrt() * eps",
           "sigma instead of sigma^2 under the square root"),
    Mutant("ddim_prev_wraps", D,
           "a_prev = gather(alpha_bar_prev, t_prev.clamp(min=-1) + 1, x_t)",
           "a_prev = gather(alpha_bar, t_prev, x_t)",
           "alpha_bar[t_prev] read at t_prev = -1 wraps to alpha_bar[T - 1]"),
    Mutant("ddim_prev_off_by_one", D,
           "a_prev = gather(alpha_bar_prev, t_prev.clamp(min=-1) + 1, x_t)",
           "a_prev = gather(alpha_bar_prev, t_prev.clamp(min=-1), x_t)",
           "alpha_bar_prev read one step too early (alpha_bar[t_prev - 1])"),
    Mutant("ddim_x0_clipped", D,
           "x0_pred = predict_x0_from_eps(x_t, t, alpha_bar, eps)",
           "x0_pred = predict_x0_from_eps(x_t, t, alpha_bar, eps).clamp(-1, 1)",
           "x0_pred clipped to [-1, 1] (not part of Eq. 12)"),
    Mutant("ddim_noise_unused", D,
           "        x_prev = x_prev + sigma * noise\n",
           "        x_prev = x_prev + sigma * eps\n",
           "sigma times eps instead of sigma times fresh noise"),
    Mutant("ddim_noise_always_added", D,
           "    if eta > 0:\n        x_prev = x_prev + sigma * noise\n",
           "    x_prev = x_prev + sigma * noise\n",
           "noise added even at eta = 0, so noise=None fails"),
    # -- ddim_sample ----------------------------------------------------------------------------
    Mutant("ddim_sample_eps_at_t_prev", D,
           "        eps = model(x, t_batch)\n",
           "        eps = model(x, t_prev_batch.clamp(min=0))\n",
           "the model is asked for eps at the next timestep instead of the current one"),
    Mutant("ddim_sample_no_final_step", D,
           "for t, t_prev in zip(tau, tau[1:] + [-1]):",
           "for t, t_prev in zip(tau[:-1], tau[1:]):",
           "the last step (to the clean image, t_prev = -1) is skipped"),
    Mutant("ddim_sample_one_step", D,
           "for t, t_prev in zip(tau, tau[1:] + [-1]):",
           "for t, t_prev in list(zip(tau, tau[1:] + [-1]))[:1]:",
           "only the first DDIM step: the samples stay noise"),
    Mutant("ddim_sample_ignores_spacing", D,
           "tau = ddim_timesteps(len(alpha_bar), num_steps, spacing).tolist()\n    x = ",
           "tau = ddim_timesteps(len(alpha_bar), num_steps).tolist()\n    x = ",
           "ddim_sample always uses the leading spacing"),
    Mutant("ddim_sample_ignores_x_T", D,
           "x = torch.randn(shape, generator=generator).to(device) if x_T is None else x_T.to(device)",
           "x = torch.randn(shape, generator=generator).to(device)",
           "ddim_sample draws x_T even when one is given"),
    Mutant("ddim_sample_noise_global_rng", D,
           "noise = torch.randn(shape, generator=generator).to(device) if eta > 0 else None",
           "noise = torch.randn(shape).to(device) if eta > 0 else None",
           "the step noise drawn from the global RNG, not the generator"),
    Mutant("ddim_sample_returns_training_images", D,
           "    device = model_device(model)\n    tau = ddim_timesteps(len(alpha_bar), num_steps, spacing)",
           "    device = model_device(model)\n"
           "    from autograder.data import load_digits\n"
           "    return load_digits('train')[0][:shape[0]].to(device)\n"
           "    tau = ddim_timesteps(len(alpha_bar), num_steps, spacing)",
           "returns images of the training set instead of samples"),
    # -- ddim_invert ----------------------------------------------------------------------------
    Mutant("invert_descending", D,
           "tau = ddim_timesteps(len(alpha_bar), num_steps, spacing).flip(0).tolist()  # ascending",
           "tau = ddim_timesteps(len(alpha_bar), num_steps, spacing).tolist()",
           "inversion runs through the timesteps from the noisiest down"),
    Mutant("invert_eps_at_current", D,
           "eps = model(x, t_next_batch)",
           "eps = model(x, (t_cur_batch - 1).clamp(min=0))",
           "inversion asks the model for eps at the current timestep instead of the next"),
    Mutant("invert_cur_off_by_one", D,
           "a_cur = gather(alpha_bar_prev, t_cur_batch, x)",
           "a_cur = gather(alpha_bar, t_cur_batch.clamp(max=len(alpha_bar) - 1), x)",
           "alpha_bar of the current point read one step late"),
    Mutant("invert_skips_first_step", D,
           "for t_cur, t_next in zip([-1] + tau[:-1], tau):",
           "for t_cur, t_next in zip(tau[:-1], tau[1:]):",
           "x0 treated as x at tau[-1]: the first inversion step is skipped"),
)

QUALITY_KILLERS: dict[str, tuple[str, ...]] = {
    "test_ddim_fid": ("ddim_sample_one_step", "ddim_sample_returns_training_images"),
    "test_ddpm_fid": ("ddpm_sample_only_last_step",),
}
