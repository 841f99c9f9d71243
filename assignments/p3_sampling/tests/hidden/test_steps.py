"""Hidden tests of the single steps: ``ddpm_step`` (DDPM Alg. 2) and ``ddim_step`` (DDIM Eqs. 12, 16).

Each step is compared with the reference and with the formulas written out here
sample by sample with Python floats (``math``), for a different ``(t, t_prev)``
per sample, both ends of ``[0, T)`` and the last DDIM step ``t_prev = -1``
(where ``alpha_bar_prev = 1``). Inputs are float64 unless a test is about dtypes.
"""

import math
from pathlib import Path

import torch

from autograder.grading.runner import load_module
from autograder.testing import cases

shared = load_module(Path(__file__).with_name("_shared.py"), prefix="p3_hidden")

T = 1000
# One timestep per sample, unsorted, with both ends of [0, T).
TIMESTEPS = [T - 1, 0, 500, 1, T - 2, 17]
# (t, t_prev) per sample: big and small jumps, the last step (t_prev = -1) from several t.
PAIRS = [(999, 979), (999, -1), (500, 400), (1, 0), (0, -1), (17, 3), (980, 960), (250, -1)]
SCHEDULES = {"linear": shared.linear_schedule, "cosine": shared.cosine_schedule}

DDPM_HINT = ("x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) * eps) / sqrt(alpha_t) + sigma_t * noise with "
             "sigma_t^2 = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta_t (the posterior variance), "
             "alpha_bar_prev = 1 at t = 0, one t per sample")
DDIM_HINT = ("x0_pred = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t); sigma = eta * sqrt((1 - a_prev) / (1 - a_t)) * "
             "sqrt(1 - a_t / a_prev); x_prev = sqrt(a_prev) x0_pred + sqrt(1 - a_prev - sigma^2) eps + sigma noise, "
             "with a_prev = alpha_bar[t_prev] and a_prev = 1 where t_prev = -1")


def _inputs(shape, device, dtype=torch.float64):
    """``(x_t, eps, noise)``: standard normal, from fixed seeds."""
    return tuple(shared.randn(shape, seed, device, dtype) for seed in (1, 2, 3))


def _combine(coefs: list[tuple[float, ...]], *tensors: torch.Tensor) -> torch.Tensor:
    """``sum_k coefs[i][k] * tensors[k][i]`` for each sample ``i``, float64 on the CPU."""
    return torch.stack([sum(c * shared.cpu64(x[i]) for c, x in zip(row, tensors)) for i, row in enumerate(coefs)])


def _like(expected: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return expected.to(like.device, like.dtype)


def ddpm_step_derived(eps, x_t, t, betas, noise) -> torch.Tensor:
    """DDPM Alg. 2, line 4, with Python floats per sample."""
    b = betas.tolist()
    coefs = []
    for s in (int(v) for v in t):
        a_bar = math.prod(1 - v for v in b[: s + 1])
        a_bar_prev = math.prod(1 - v for v in b[:s])  # the empty product is 1 at t = 0
        sigma = math.sqrt((1 - a_bar_prev) / (1 - a_bar) * b[s])
        coefs.append((1 / math.sqrt(1 - b[s]), -b[s] / math.sqrt(1 - a_bar) / math.sqrt(1 - b[s]), sigma))
    return _like(_combine(coefs, x_t, eps, noise), x_t)


def ddim_step_derived(eps, x_t, t, t_prev, alpha_bar, eta, noise) -> torch.Tensor:
    """DDIM Eq. 12 with sigma from Eq. 16, with Python floats per sample."""
    ab = alpha_bar.tolist()
    coefs = []
    for s, p in zip((int(v) for v in t), (int(v) for v in t_prev)):
        a_t, a_prev = ab[s], (ab[p] if p >= 0 else 1.0)
        sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t)) * math.sqrt(1 - a_t / a_prev)
        direction = math.sqrt(max(1 - a_prev - sigma**2, 0.0))
        # x_prev = sqrt(a_prev) / sqrt(a_t) * x_t + (direction - sqrt(a_prev (1 - a_t) / a_t)) * eps + sigma * noise
        coefs.append((math.sqrt(a_prev / a_t), direction - math.sqrt(a_prev * (1 - a_t) / a_t), sigma))
    return _like(_combine(coefs, x_t, eps, noise), x_t)


def _long(values, device) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long).to(device)


# -- ddpm_step --------------------------------------------------------------------------------
@cases(schedule=["linear", "cosine"])
def test_ddpm_step_values(student, ref, check, device, schedule):
    """Is ddpm_step DDPM Alg. 2 with the posterior variance, with a different t per sample?"""
    betas, _ = SCHEDULES[schedule](T)
    betas = betas.to(device)
    t = _long(TIMESTEPS, device)
    x_t, eps, noise = _inputs((len(TIMESTEPS), 2, 4, 4), device)
    got = student.ddpm_step(eps, x_t, t, betas, noise)
    what = f"ddpm_step(eps, x_t, t, betas, noise), {schedule} schedule, T={T}, t={TIMESTEPS}"
    check.close(got, ref.ddpm_step(eps, x_t, t, betas, noise), what, hint=DDPM_HINT)
    check.close(got, ddpm_step_derived(eps, x_t, t, betas, noise), what, hint=DDPM_HINT)


def test_ddpm_step_last_step_adds_no_noise(student, check, device):
    """At t = 0 (the paper's t = 1) is x_0 the mean alone, whatever the noise?"""
    betas, _ = shared.linear_schedule(T)
    betas = betas.to(device)
    t = _long([0, 0, 0], device)
    x_t, eps, noise = _inputs((3, 1, 4, 4), device)
    expected = ddpm_step_derived(eps, x_t, t, betas, noise)
    for scale in (1.0, 100.0):
        got = student.ddpm_step(eps, x_t, t, betas, scale * noise)
        check.close(got, expected, f"ddpm_step at t=0 with noise scaled by {scale:g}",
                    hint="at t = 0 the posterior variance is 0 (alpha_bar_prev = 1): no noise is added, "
                         "the result is (x_t - beta_0 / sqrt(1 - alpha_bar_0) * eps) / sqrt(alpha_0)")


def test_ddpm_step_keeps_dtype(student, ref, check, device):
    """Do float32 inputs give a float32 result on the same device, correct to float32 precision?"""
    betas, _ = shared.cosine_schedule(T)
    betas = betas.to(device)
    # Not the first steps: there, rounding alpha_bar and beta_t apart breaks 1 - alpha_bar_0 = beta_0 and
    # correct float32 formulas differ by more than the rounding of their inputs explains.
    steps = [600, 300, 100, 999]
    t = _long(steps, device)
    x_t, eps, noise = _inputs((len(steps), 2, 4, 4), device, torch.float32)
    got = student.ddpm_step(eps, x_t, t, betas, noise)
    check.close_to_truth(got, ref.ddpm_step, (eps, x_t, t, betas, noise),
                         f"ddpm_step with float32 inputs on {device.type}, t={steps}",
                         hint="keep the dtype and device of x_t: cast the float64 schedule coefficients with .to(x_t.dtype)")


# -- ddim_step --------------------------------------------------------------------------------
@cases(eta=[0.0, 0.5, 1.0])
def test_ddim_step_values(student, ref, check, device, eta):
    """Is ddim_step DDIM Eq. 12 with sigma of Eq. 16, per sample, including t_prev = -1?"""
    _, alpha_bar = shared.linear_schedule(T)
    alpha_bar = alpha_bar.to(device)
    t, t_prev = _long([p[0] for p in PAIRS], device), _long([p[1] for p in PAIRS], device)
    x_t, eps, noise = _inputs((len(PAIRS), 2, 4, 4), device)
    got = student.ddim_step(eps, x_t, t, t_prev, alpha_bar, eta, noise)
    what = f"ddim_step(eps, x_t, t, t_prev, alpha_bar, eta={eta}, noise), (t, t_prev) per sample = {PAIRS}"
    check.close(got, ref.ddim_step(eps, x_t, t, t_prev, alpha_bar, eta, noise), what, hint=DDIM_HINT)
    check.close(got, ddim_step_derived(eps, x_t, t, t_prev, alpha_bar, eta, noise), what, hint=DDIM_HINT)


def test_ddim_step_eta_one_matches_ddpm(student, check, device):
    """With eta = 1 and t_prev = t - 1, is the DDIM step exactly the DDPM step (Song et al., Sec. 4.1)?"""
    betas, alpha_bar = shared.cosine_schedule(T)
    betas, alpha_bar = betas.to(device), alpha_bar.to(device)
    steps = [999, 500, 1, 17, 250]
    t, t_prev = _long(steps, device), _long([s - 1 for s in steps], device)
    x_t, eps, noise = _inputs((len(steps), 1, 4, 4), device)
    got = student.ddim_step(eps, x_t, t, t_prev, alpha_bar, 1.0, noise)
    check.close(got, ddpm_step_derived(eps, x_t, t, betas, noise),
                f"ddim_step(..., t, t_prev=t-1, eta=1) vs the DDPM step, t={steps}",
                hint="with eta = 1, sigma^2 = (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev), the DDPM posterior "
                     "variance for one step; check both square roots of Eq. 16 and the sigma^2 in the direction term")


def test_ddim_step_last_step(student, check, device):
    """At t_prev = -1 (alpha_bar_prev = 1) is the result x0_pred, with no noise, for any eta?"""
    _, alpha_bar = shared.linear_schedule(T)
    alpha_bar = alpha_bar.to(device)
    steps = [0, 20, 999, 400]
    t, t_prev = _long(steps, device), _long([-1] * len(steps), device)
    x_t, eps, noise = _inputs((len(steps), 1, 4, 4), device)
    ab = [float(alpha_bar[s]) for s in steps]
    x0_pred = _like(_combine([(1 / math.sqrt(a), -math.sqrt((1 - a) / a)) for a in ab], x_t, eps), x_t)
    for eta in (0.0, 0.6, 1.0):
        got = student.ddim_step(eps, x_t, t, t_prev, alpha_bar, eta, noise)
        check.close(got, x0_pred, f"ddim_step with t={steps}, t_prev=-1, eta={eta}",
                    hint="t_prev = -1 means alpha_bar_prev = 1 (the clean image): sigma = 0 and x_prev = x0_pred; "
                         "do not index alpha_bar[-1] (that is the last entry, alpha_bar[T-1]) and do not clip x0_pred")


def test_ddim_step_noise_argument(student, check, device):
    """Does eta > 0 without noise raise ValueError, and does eta = 0 work with noise=None and ignore any noise?"""
    _, alpha_bar = shared.linear_schedule(T)
    alpha_bar = alpha_bar.to(device)
    t, t_prev = _long([700, 30], device), _long([650, -1], device)
    x_t, eps, noise = _inputs((2, 1, 4, 4), device)
    check.raises("ValueError", lambda: student.ddim_step(eps, x_t, t, t_prev, alpha_bar, 0.5, None),
                 "ddim_step(..., eta=0.5, noise=None)",
                 hint="a stochastic step needs noise: raise ValueError when eta > 0 and noise is None")
    check.raises("ValueError", lambda: student.ddim_step(eps, x_t, t, t_prev, alpha_bar, eta=1.0),
                 "ddim_step(..., eta=1.0) with noise left out",
                 hint="a stochastic step needs noise: raise ValueError when eta > 0 and noise is None")
    expected = ddim_step_derived(eps, x_t, t, t_prev, alpha_bar, 0.0, noise)
    hint = "eta = 0 is deterministic: noise may be None and is ignored when given"
    check.close(student.ddim_step(eps, x_t, t, t_prev, alpha_bar, 0.0, None), expected,
                "ddim_step(..., eta=0.0, noise=None)", hint=hint)
    check.close(student.ddim_step(eps, x_t, t, t_prev, alpha_bar), expected,
                "ddim_step(eps, x_t, t, t_prev, alpha_bar) with the default eta and noise", hint=hint)
    check.close(student.ddim_step(eps, x_t, t, t_prev, alpha_bar, 0.0, 100 * noise), expected,
                "ddim_step(..., eta=0.0, noise=100 * noise)", hint=hint)


def test_ddim_step_keeps_dtype(student, ref, check, device):
    """Do float32 inputs give a float32 result on the same device, for eta = 0 and eta > 0, and no NaN
    where float32 rounding makes 1 - a_prev - sigma^2 slightly negative?"""
    _, alpha_bar = shared.cosine_schedule(T)
    alpha_bar = alpha_bar.to(device)
    t, t_prev = _long([600, 300, 100], device), _long([500, -1, 50], device)
    x_t, eps, noise = _inputs((3, 2, 4, 4), device, torch.float32)
    for eta in (0.0, 0.8):
        got = student.ddim_step(eps, x_t, t, t_prev, alpha_bar, eta, noise)
        check.close_to_truth(got, ref.ddim_step, (eps, x_t, t, t_prev, alpha_bar, eta, noise),
                             f"ddim_step with float32 inputs on {device.type}, eta={eta}",
                             hint="keep the dtype and device of x_t: cast the float64 coefficients with .to(x_t.dtype)")
    # With eta = 1 and a jump to t_prev = 0, 1 - a_prev - sigma^2 is about 1e-12 and float32 gives it a sign.
    _, alpha_bar = shared.linear_schedule(T)
    alpha_bar = alpha_bar.to(device)
    t, t_prev = _long([870, 920, 931], device), _long([0, 0, 0], device)
    got = student.ddim_step(eps, x_t, t, t_prev, alpha_bar, 1.0, noise)
    check.close_to_truth(got, ref.ddim_step, (eps, x_t, t, t_prev, alpha_bar, 1.0, noise),
                         f"ddim_step with float32 inputs, eta=1.0, t={t.tolist()}, t_prev=0",
                         hint="1 - a_prev - sigma^2 is 0 up to rounding here and can come out slightly negative: "
                              "clamp it at 0 before the square root")
