"""Hidden tests of the samplers: ``ddpm_sample``, ``ddim_sample`` and ``ddim_invert``.

The same model is built on both sides of the sandbox (a small test model, or the
shipped U-Net from its safetensors file), and the student's sampler and the
reference get identically seeded generators: with the documented order of
random draws, their outputs must agree to float32 rounding. A last test drives
the student's own ``ddim_step`` from here, one step at a time, and checks that
``ddim_sample`` is exactly that loop.
"""

import math
from pathlib import Path

import torch

from autograder.grading.runner import load_module
from autograder.testing import cases, requires

shared = load_module(Path(__file__).with_name("_shared.py"), prefix="p3_hidden")

# Whole trajectories in float32: a step's rounding is amplified by 1 / sqrt(alpha_bar) near t = T - 1.
TRAJECTORY = {"atol": 2e-4, "rtol": 2e-4}
DRAW_ORDER = ("the order of random draws is part of the contract: x = torch.randn(shape, generator=generator) "
              "first, then for each step eps = model(x, t) and (DDPM always, DDIM only when eta > 0) "
              "noise = torch.randn(shape, generator=generator), drawn on the CPU and moved to the model's device")


def _sample_checks(check, got, shape, what: str) -> None:
    check.shape(got, shape, what, hint="return x_0 with the shape given")
    check.true(bool(torch.isfinite(got).all()), what, "contains NaN or infinite values",
               hint="look for a division by sqrt(alpha_bar) of 0 or a negative value under a square root")


# -- ddpm_sample ------------------------------------------------------------------------------
# The exact eps of Gaussian data keeps trajectories tame (an arbitrary network can make DDPM grow
# without bound, and float32 rounding with it).
DDPM_SETTINGS = {  # schedule, T, shape, seed
    "linear-1000": ("linear", 1000, (3, 2, 8, 8), 11),  # C != B: t must have B entries
    "cosine-100": ("cosine", 100, (4, 1, 5, 5), 12),
}


@cases(setting=list(DDPM_SETTINGS))
def test_ddpm_sample_trajectory(student, ref, provided, check, device, setting):
    """Given the same model and generator seed, does ddpm_sample end where the reference does?"""
    schedule, T, shape, seed = DDPM_SETTINGS[setting]
    betas, alpha_bar = (shared.linear_schedule if schedule == "linear" else shared.cosine_schedule)(T)
    remote, local = shared.gaussian_model(provided, device, alpha_bar)
    got = student.ddpm_sample(remote, shape, betas, shared.generator(seed))
    what = f"ddpm_sample(model, {shape}, betas, generator), {schedule} schedule, T={T}"
    _sample_checks(check, got, shape, what)
    expected = ref.ddpm_sample(local, shape, betas, shared.generator(seed))
    check.close(got, expected, what, **TRAJECTORY,
                hint=f"run t = T-1 down to 0, one ddpm_step each; {DRAW_ORDER}")


# -- ddim_sample ------------------------------------------------------------------------------
DDIM_SETTINGS = {
    "eta0-leading-50": (0.0, 50, "leading", 21),
    "eta0.5-trailing-20": (0.5, 20, "trailing", 22),
    "eta1-linspace-10": (1.0, 10, "linspace", 23),
}


@cases(setting=list(DDIM_SETTINGS))
def test_ddim_sample_trajectory(student, ref, provided, check, device, setting):
    """Given the same model, steps, eta, spacing and generator seed, does ddim_sample end where the reference does?"""
    eta, steps, spacing, seed = DDIM_SETTINGS[setting]
    _, alpha_bar = shared.linear_schedule()
    remote, local = shared.gaussian_model(provided, device, alpha_bar)
    shape = (4, 1, 6, 6)
    kwargs = {} if spacing == "leading" else {"spacing": spacing}
    got = student.ddim_sample(remote, shape, alpha_bar, steps, eta, shared.generator(seed), **kwargs)
    what = f"ddim_sample(model, {shape}, alpha_bar, {steps}, eta={eta}, generator, spacing={spacing!r})"
    _sample_checks(check, got, shape, what)
    expected = ref.ddim_sample(local, shape, alpha_bar, steps, eta, shared.generator(seed), spacing)
    check.close(got, expected, what, **TRAJECTORY,
                hint="visit ddim_timesteps(T, num_steps, spacing) in order, each followed by the next one and "
                     f"finally -1; {DRAW_ORDER}")


def test_ddim_sample_on_shipped_unet(student, ref, provided, check, device):
    """With the shipped U-Net, 50 steps and eta = 0, is the deterministic DDIM trajectory the reference's?"""
    _, alpha_bar = shared.linear_schedule()
    remote, local = shared.unet_in_sandbox(provided, device), shared.local_unet(device)
    shape, seed = (16, 1, 8, 8), 31
    got = student.ddim_sample(remote, shape, alpha_bar, 50, 0.0, shared.generator(seed))
    what = f"ddim_sample(unet, {shape}, alpha_bar, 50, eta=0.0, generator) with the shipped U-Net"
    _sample_checks(check, got, shape, what)
    expected = ref.ddim_sample(local, shape, alpha_bar, 50, 0.0, shared.generator(seed))
    check.close(got, expected, what, atol=1e-3, rtol=1e-3,
                hint=f"with eta = 0 the only randomness is x_T: {DRAW_ORDER}")


@cases(eta=[0.0, 0.7])
# Steps that return x_t and a sampler that returns its first draw agree with each other: the
# consistency earns its points once the steps and timesteps it replays are right.
@requires("test_ddim_step_values", "test_ddim_timesteps_values[leading]")
def test_ddim_sample_matches_own_steps(student, provided, check, device, eta):
    """Is ddim_sample exactly the loop of the student's own ddim_timesteps and ddim_step, driven from here?"""
    _, alpha_bar = shared.linear_schedule()
    remote, _ = shared.gaussian_model(provided, device, alpha_bar)
    shape, steps, seed = (3, 2, 6, 6), 20, 41  # C != B: t must have B entries
    got = student.ddim_sample(remote, shape, alpha_bar, steps, eta, shared.generator(seed))
    what = f"ddim_sample(model, {shape}, alpha_bar, {steps}, eta={eta}, generator)"
    _sample_checks(check, got, shape, what)
    g = shared.generator(seed)
    tau = student.ddim_timesteps(len(alpha_bar), steps, "leading").tolist()
    x = torch.randn(shape, generator=g).to(device)
    for t, t_prev in zip(tau, tau[1:] + [-1]):
        t_batch = torch.full((shape[0],), t, dtype=torch.long, device=device)
        t_prev_batch = torch.full((shape[0],), t_prev, dtype=torch.long, device=device)
        eps = remote(x, t_batch)
        noise = torch.randn(shape, generator=g).to(device) if eta > 0 else None
        x = student.ddim_step(eps, x, t_batch, t_prev_batch, alpha_bar, eta, noise)
    check.close(got, x, f"{what} vs your ddim_step applied along your ddim_timesteps", atol=1e-5, rtol=1e-5,
                hint=f"for (t, t_prev) in zip(tau, tau[1:] + [-1]): eps = model(x, t) then one ddim_step; "
                     f"{DRAW_ORDER}")


# -- ddim_invert ------------------------------------------------------------------------------
def _invert_derived(local, x0: torch.Tensor, alpha_bar: torch.Tensor, tau_ascending: list[int]) -> torch.Tensor:
    """DDIM Eq. 12 with sigma = 0 run upwards, the coefficients as Python floats."""
    ab = alpha_bar.tolist()
    x = x0
    for t_cur, t_next in zip([-1] + tau_ascending[:-1], tau_ascending):
        a_cur, a_next = (ab[t_cur] if t_cur >= 0 else 1.0), ab[t_next]
        eps = local(x, torch.full((x.shape[0],), t_next, dtype=torch.long, device=x.device))
        c_x = math.sqrt(a_next / a_cur)
        c_eps = math.sqrt(1 - a_next) - math.sqrt(a_next * (1 - a_cur) / a_cur)
        x = (c_x * x.double() + c_eps * eps.double()).to(x0.dtype)
    return x


@cases(spacing=["leading", "trailing"])
def test_ddim_invert_values(student, ref, provided, check, device, spacing):
    """Does ddim_invert run the deterministic DDIM update upwards, t = -1 to tau[0], with eps at the next step?"""
    _, alpha_bar = shared.linear_schedule()
    remote, local = shared.tiny_model(provided, device, seed=5, channels=2)
    x0 = shared.randn((3, 2, 6, 6), 51, device, torch.float32).clamp(-1, 1)  # C != B: t must have B entries
    steps = 20
    kwargs = {} if spacing == "leading" else {"spacing": spacing}
    got = student.ddim_invert(remote, x0, alpha_bar, steps, **kwargs)
    what = f"ddim_invert(model, x0, alpha_bar, {steps}, spacing={spacing!r})"
    _sample_checks(check, got, x0.shape, what)
    hint = ("start at x0 (t_cur = -1, alpha_bar = 1); for t_next in the timesteps in ascending order: "
            "eps = model(x, t_next), x0_pred = (x - sqrt(1 - a_cur) eps) / sqrt(a_cur), "
            "x = sqrt(a_next) x0_pred + sqrt(1 - a_next) eps")
    with torch.no_grad():
        tau = ref.ddim_timesteps(len(alpha_bar), steps, spacing).flip(0).tolist()
        derived = _invert_derived(local, x0, alpha_bar, tau)
    check.close(got, ref.ddim_invert(local, x0, alpha_bar, steps, spacing), what, **TRAJECTORY, hint=hint)
    check.close(got, derived, what, **TRAJECTORY, hint=hint)


def test_ddim_invert_round_trip(student, ref, provided, check, device):
    """With the shipped U-Net, does DDIM sampling from ddim_invert(x0) give back x0, and does ddim_sample use x_T?"""
    from autograder.data import load_digits

    _, alpha_bar = shared.linear_schedule()
    remote, local = shared.unet_in_sandbox(provided, device), shared.local_unet(device)
    x0 = load_digits("test")[0][:8].to(device)  # (8, 1, 8, 8)
    steps = 50
    latent = student.ddim_invert(remote, x0, alpha_bar, steps)
    what = f"ddim_invert(unet, x0, alpha_bar, {steps}) on 8 test digits"
    _sample_checks(check, latent, x0.shape, what)
    check.close(latent, ref.ddim_invert(local, x0, alpha_bar, steps), what, atol=1e-3, rtol=1e-3,
                hint="the inverse of ddim_sample with eta = 0: the same timesteps, ascending, from t = -1")
    decoded = ref.ddim_sample(local, x0.shape, alpha_bar, steps, 0.0, None, x_T=latent)
    error = float((decoded - x0).abs().mean())
    check.true(error < 0.05, "the reference's ddim_sample(..., x_T=your latent) vs x0",
               f"mean absolute error {error:.3f} (pixels in [-1, 1]); a correct inversion gives about 0.02",
               hint="each inversion step must undo one sampler step t_next -> t_cur")
    got = student.ddim_sample(remote, x0.shape, alpha_bar, steps, 0.0, shared.generator(0), x_T=latent)
    check.close(got, decoded, f"ddim_sample(unet, shape, alpha_bar, {steps}, 0.0, generator, x_T=latent)",
                atol=1e-3, rtol=1e-3, hint="when x_T is given, start from it and draw nothing for the start")
