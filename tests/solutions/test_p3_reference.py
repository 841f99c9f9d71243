"""Tests of the P3 reference (``solutions/p3_sampling``): DDPM and DDIM steps,
timestep sequences, samplers and DDIM inversion.

Each step is checked by a second derivation (P1's posterior with ``x0``
predicted from ``eps``, ``q_sample`` trajectories, Python ``math``); the
samplers by replaying their documented order of random draws, and by sampling
from an analytic noise predictor: for Gaussian data ``x0 ~ N(mu, s^2)`` the
optimal ``eps(x_t, t)`` is known in closed form.
"""

import math

import pytest
import torch
from torch import nn

from tests.solutions.conftest import reference

p1, p3 = reference("p1_forward"), reference("p3_sampling")
alpha_bar_of, get_schedule, q_sample = p1.alpha_bar, p1.get_schedule, p1.q_sample
q_posterior, predict_x0_from_eps = p1.q_posterior, p1.predict_x0_from_eps
ddpm_step, ddpm_sample = p3.ddpm_step, p3.ddpm_sample
ddim_timesteps, ddim_step, ddim_sample, ddim_invert = p3.ddim_timesteps, p3.ddim_step, p3.ddim_sample, p3.ddim_invert

T = 1000
TIMESTEPS = [T - 1, 0, 500, 1, 17]  # per sample, unsorted, both ends


def _randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _setup(schedule: str, dtype=torch.float64):
    """``(betas, alpha_bar, t, a, b, c)``: a schedule, one timestep per sample, three random tensors."""
    betas = get_schedule(schedule, T)
    shape = (len(TIMESTEPS), 2, 4, 4)
    a, b, c = (_randn(*shape, seed=seed, dtype=dtype) for seed in (1, 2, 3))
    return betas, alpha_bar_of(betas), torch.tensor(TIMESTEPS), a, b, c


# -- ddim_timesteps ---------------------------------------------------------------------------

EXPECTED_TIMESTEPS = {
    ("leading", 10): [900, 800, 700, 600, 500, 400, 300, 200, 100, 0],
    ("trailing", 10): [999, 899, 799, 699, 599, 499, 399, 299, 199, 99],
    ("linspace", 10): [999, 888, 777, 666, 555, 444, 333, 222, 111, 0],
    ("leading", 50): [980, 960, 940, 920, 900, 880, 860, 840, 820, 800, 780, 760, 740, 720, 700, 680, 660,
                      640, 620, 600, 580, 560, 540, 520, 500, 480, 460, 440, 420, 400, 380, 360, 340, 320,
                      300, 280, 260, 240, 220, 200, 180, 160, 140, 120, 100, 80, 60, 40, 20, 0],
    ("trailing", 50): [999, 979, 959, 939, 919, 899, 879, 859, 839, 819, 799, 779, 759, 739, 719, 699, 679,
                       659, 639, 619, 599, 579, 559, 539, 519, 499, 479, 459, 439, 419, 399, 379, 359, 339,
                       319, 299, 279, 259, 239, 219, 199, 179, 159, 139, 119, 99, 79, 59, 39, 19],
    # round(i * 999 / 49), i = 49 .. 0
    ("linspace", 50): [999, 979, 958, 938, 917, 897, 877, 856, 836, 816, 795, 775, 754, 734, 714, 693, 673,
                       652, 632, 612, 591, 571, 550, 530, 510, 489, 469, 449, 428, 408, 387, 367, 347, 326,
                       306, 285, 265, 245, 224, 204, 183, 163, 143, 122, 102, 82, 61, 41, 20, 0],
}


@pytest.mark.parametrize("spacing, num_steps", sorted(EXPECTED_TIMESTEPS))
def test_ddim_timesteps_match_diffusers_spacings(spacing, num_steps):
    """For T = 1000, are the timesteps those of diffusers' leading / trailing / linspace spacing?"""
    got = ddim_timesteps(T, num_steps, spacing)
    assert got.dtype == torch.long and got.shape == (num_steps,)
    assert got.tolist() == EXPECTED_TIMESTEPS[spacing, num_steps]


@pytest.mark.parametrize("spacing", ["leading", "trailing", "linspace"])
def test_ddim_timesteps_all_steps_and_uneven_counts(spacing):
    """With num_steps = T is every step visited, and with uneven counts are steps distinct, descending, in range?"""
    assert ddim_timesteps(20, 20, spacing).tolist() == list(range(19, -1, -1))
    for num_steps in (1, 3, 7, 13):
        got = ddim_timesteps(20, num_steps, spacing).tolist()
        assert len(got) == num_steps and all(0 <= t < 20 for t in got)
        assert all(a > b for a, b in zip(got, got[1:]))
    assert ddim_timesteps(1000, 3, "trailing").tolist() == [999, 666, 332]  # round(1000 - k * 333.33) - 1
    assert ddim_timesteps(1000, 3, "leading").tolist() == [666, 333, 0]


def test_ddim_timesteps_rejects_bad_arguments():
    """Are an unknown spacing and a step count outside [1, T] refused?"""
    with pytest.raises(ValueError, match="spacing"):
        ddim_timesteps(T, 10, "uniform")
    for bad in (0, -1, T + 1):
        with pytest.raises(ValueError):
            ddim_timesteps(T, bad)


# -- ddpm_step --------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_ddpm_step_is_the_posterior_with_predicted_x0(schedule):
    """Is Alg. 2's update the mean of q(x_{t-1} | x_t, x0_pred) plus its standard deviation times noise?"""
    betas, alpha_bar, t, x_t, eps, noise = _setup(schedule)
    x0_pred = predict_x0_from_eps(x_t, t, alpha_bar, eps)
    mean, variance = q_posterior(x0_pred, x_t, t, betas)
    expected = mean + variance.sqrt() * noise
    got = ddpm_step(eps, x_t, t, betas, noise)
    assert got.shape == x_t.shape and got.dtype == torch.float64
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)


def test_ddpm_step_with_python_floats():
    """Does the step match Alg. 2 line 4 written out with math, sample by sample?"""
    betas, _, t, x_t, eps, noise = _setup("linear")
    got = ddpm_step(eps, x_t, t, betas, noise)
    b = betas.tolist()
    for i, step in enumerate(t.tolist()):
        a_bar = math.prod(1 - v for v in b[: step + 1])
        a_bar_prev = math.prod(1 - v for v in b[:step])
        sigma = math.sqrt((1 - a_bar_prev) / (1 - a_bar) * b[step]) if step > 0 else 0.0
        expected = (x_t[i] - b[step] / math.sqrt(1 - a_bar) * eps[i]) / math.sqrt(1 - b[step]) + sigma * noise[i]
        torch.testing.assert_close(got[i], expected, rtol=1e-9, atol=1e-9)


def test_ddpm_step_adds_no_noise_at_t0_and_keeps_dtype():
    """At t = 0 is the noise ignored, and does a float32 input give a float32 output?"""
    betas, _, _, x_t, eps, noise = _setup("cosine", dtype=torch.float32)
    t = torch.zeros(x_t.shape[0], dtype=torch.long)
    a, b = ddpm_step(eps, x_t, t, betas, noise), ddpm_step(eps, x_t, t, betas, 5 * noise)
    assert torch.equal(a, b) and a.dtype == torch.float32


# -- ddim_step --------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_ddim_step_eta1_adjacent_is_ddpm(schedule):
    """With eta = 1 and t_prev = t - 1, is the DDIM step the DDPM step (mean and posterior variance)?"""
    betas, alpha_bar, t, x_t, eps, noise = _setup(schedule)
    got = ddim_step(eps, x_t, t, t - 1, alpha_bar, eta=1.0, noise=noise)
    torch.testing.assert_close(got, ddpm_step(eps, x_t, t, betas, noise), rtol=1e-8, atol=1e-8)
    # the noise enters with sigma^2 = beta_tilde_t, the posterior variance
    _, variance = q_posterior(x_t, x_t, t, betas)
    spread = (ddim_step(eps, x_t, t, t - 1, alpha_bar, eta=1.0, noise=noise)
              - ddim_step(eps, x_t, t, t - 1, alpha_bar, eta=1.0, noise=torch.zeros_like(noise)))
    torch.testing.assert_close(spread, variance.sqrt() * noise, rtol=1e-9, atol=1e-12)


def test_ddim_step_sigma_scales_with_eta():
    """Is sigma = eta * sqrt((1 - a_prev) / (1 - a_t)) * sqrt(1 - a_t / a_prev) for a jump of many steps?"""
    _, alpha_bar, t, x_t, eps, noise = _setup("linear")
    t_prev = (t - 100).clamp(min=-1)
    for eta in (0.3, 1.0):
        spread = (ddim_step(eps, x_t, t, t_prev, alpha_bar, eta, noise)
                  - ddim_step(eps, x_t, t, t_prev, alpha_bar, eta, torch.zeros_like(noise)))
        for i, (step, prev) in enumerate(zip(t.tolist(), t_prev.tolist())):
            a_t, a_prev = alpha_bar[step].item(), (alpha_bar[prev].item() if prev >= 0 else 1.0)
            sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t)) * math.sqrt(1 - a_t / a_prev)
            torch.testing.assert_close(spread[i], sigma * noise[i], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_ddim_step_eta0_with_exact_eps_follows_q_sample(schedule):
    """With the true noise as eps, does eta = 0 land exactly on q_sample(x0, t_prev, noise), and on x0 at t_prev = -1?"""
    _, alpha_bar, t, x0, noise, _ = _setup(schedule)
    x_t = q_sample(x0, t, alpha_bar, noise)
    t_prev = torch.tensor([700, -1, 3, 0, -1])
    got = ddim_step(noise, x_t, t, t_prev, alpha_bar)
    expected = torch.where((t_prev >= 0).reshape(-1, 1, 1, 1),
                           q_sample(x0, t_prev.clamp(min=0), alpha_bar, noise), x0)
    torch.testing.assert_close(got, expected, rtol=1e-7, atol=1e-7)


def test_ddim_step_needs_noise_when_stochastic():
    """Is eta > 0 without noise refused, and is noise ignored at eta = 0?"""
    _, alpha_bar, t, x_t, eps, noise = _setup("linear")
    with pytest.raises(ValueError, match="noise"):
        ddim_step(eps, x_t, t, t - 1, alpha_bar, eta=0.5)
    assert torch.equal(ddim_step(eps, x_t, t, t - 1, alpha_bar, 0.0, noise), ddim_step(eps, x_t, t, t - 1, alpha_bar))


# -- samplers: replaying the order of random draws --------------------------------------------


class RecordingEps(nn.Module):
    """A toy predictor ``eps = 0.5 * tanh(x_t) + t / T`` that records the timesteps it is called with."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(0.5))  # a parameter, so the sampler finds a device
        self.calls: list[list[int]] = []

    def forward(self, x_t, t):
        assert t.dtype == torch.long and t.shape == (x_t.shape[0],)
        self.calls.append(t.tolist())
        return self.scale * torch.tanh(x_t) + (t.to(x_t.dtype) / 50).reshape(-1, 1, 1, 1)


def test_ddpm_sample_replays_its_documented_draws():
    """Is ddpm_sample: x = randn; for t = T-1..0, eps = model(x, t), noise = randn (every step), step?"""
    steps, shape = 50, (3, 1, 4, 4)
    betas = get_schedule("linear", steps)
    model = RecordingEps()
    generator = torch.Generator().manual_seed(5)
    got = ddpm_sample(model, shape, betas, generator)
    assert [c[0] for c in model.calls] == list(range(steps - 1, -1, -1))
    assert all(len(set(c)) == 1 for c in model.calls)

    g = torch.Generator().manual_seed(5)
    x = torch.randn(shape, generator=g)
    alpha_bar = alpha_bar_of(betas)
    for step in reversed(range(steps)):
        t = torch.full((3,), step)
        eps = model(x, t).detach()
        noise = torch.randn(shape, generator=g)
        mean, variance = q_posterior(predict_x0_from_eps(x, t, alpha_bar, eps), x, t, betas)
        x = mean + variance.sqrt() * noise
    # float32 throughout, two formulas: rounding differs slightly; another order of draws would differ by O(1)
    torch.testing.assert_close(got, x, rtol=1e-3, atol=1e-4)
    assert torch.equal(generator.get_state(), g.get_state())  # T + 1 draws, no more
    assert not got.requires_grad and got.dtype == torch.float32


@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_ddim_sample_replays_its_documented_draws(eta):
    """Is ddim_sample: x = randn; per pair (t, t_prev): eps = model(x, t), noise = randn only if eta > 0, step?"""
    steps, shape = 100, (2, 1, 3, 3)
    alpha_bar = alpha_bar_of(get_schedule("cosine", steps))
    model = RecordingEps()
    generator = torch.Generator().manual_seed(6)
    got = ddim_sample(model, shape, alpha_bar, 10, eta, generator, spacing="trailing")
    tau = ddim_timesteps(steps, 10, "trailing").tolist()
    assert [c[0] for c in model.calls] == tau

    g = torch.Generator().manual_seed(6)
    x = torch.randn(shape, generator=g)
    for t, t_prev in zip(tau, tau[1:] + [-1]):
        eps = model(x, torch.full((2,), t)).detach()
        a_t, a_prev = alpha_bar[t].item(), (alpha_bar[t_prev].item() if t_prev >= 0 else 1.0)
        sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev))
        x0_pred = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
        x = math.sqrt(a_prev) * x0_pred + math.sqrt(1 - a_prev - sigma**2) * eps  # DDIM Eq. 12
        if eta > 0:
            x = x + sigma * torch.randn(shape, generator=g)
    torch.testing.assert_close(got, x, rtol=1e-4, atol=1e-5)
    assert torch.equal(generator.get_state(), g.get_state())


def test_ddim_sample_from_given_latent_draws_nothing():
    """Given x_T, does ddim_sample start there and leave the generator untouched when eta = 0?"""
    alpha_bar = alpha_bar_of(get_schedule("linear", 100))
    x_T = _randn(2, 1, 3, 3, dtype=torch.float32)
    generator = torch.Generator().manual_seed(0)
    state = generator.get_state()
    a = ddim_sample(RecordingEps(), x_T.shape, alpha_bar, 5, generator=generator, x_T=x_T)
    b = ddim_sample(RecordingEps(), x_T.shape, alpha_bar, 5, generator=None, x_T=x_T)
    assert torch.equal(generator.get_state(), state) and torch.equal(a, b)


# -- samplers and inversion with the exact eps of Gaussian data ------------------------------


class GaussianEps(nn.Module):
    """The optimal noise predictor for data ``x0 ~ N(mu, s^2 I)``.

    ``x_t ~ N(sqrt(a) mu, (a s^2 + 1 - a) I)`` with ``a = alpha_bar[t]``, and
    ``E[eps | x_t] = sqrt(1 - a) (x_t - sqrt(a) mu) / (a s^2 + 1 - a)``.
    """

    def __init__(self, alpha_bar, mu=0.3, s=0.5):
        super().__init__()
        self.alpha_bar, self.mu, self.s = alpha_bar, mu, s

    def forward(self, x_t, t):
        a = self.alpha_bar[t].to(x_t.dtype).reshape(-1, 1, 1, 1)
        return (1 - a).sqrt() * (x_t - a.sqrt() * self.mu) / (a * self.s**2 + 1 - a)


@pytest.mark.parametrize("sampler, eta, num_steps", [("ddpm", None, T), ("ddim", 0.0, 50), ("ddim", 1.0, 250)])
def test_samplers_reproduce_gaussian_data(sampler, eta, num_steps):
    """With the exact eps of N(0.3, 0.5^2), do the samples have mean 0.3 and std 0.5?

    (Stochastic DDIM with few large steps shrinks the spread, so eta = 1 gets more steps.)
    """
    betas = get_schedule("cosine", T)
    alpha_bar = alpha_bar_of(betas)
    model, shape, generator = GaussianEps(alpha_bar), (4096, 1, 1, 1), torch.Generator().manual_seed(7)
    if sampler == "ddpm":
        x = ddpm_sample(model, shape, betas, generator)
    else:
        x = ddim_sample(model, shape, alpha_bar, num_steps, eta, generator)
    assert abs(x.mean().item() - 0.3) < 0.03  # standard error 0.5 / 64
    assert abs(x.std().item() - 0.5) < 0.03


class ConstantEps(RecordingEps):
    """A predictor that always returns the same ``eps``, whatever ``x_t`` (and records ``t``)."""

    def __init__(self, eps):
        super().__init__()
        self.eps = eps

    def forward(self, x_t, t):
        super().forward(x_t, t)
        return self.eps


def test_ddim_invert_with_constant_eps_is_exact():
    """When eps does not depend on x_t, is inversion exact: x_T = q_sample(x0, tau[0], eps)?"""
    alpha_bar = alpha_bar_of(get_schedule("linear", T))
    x0, eps = _randn(3, 1, 4, 4, seed=1), _randn(3, 1, 4, 4, seed=2)
    model = ConstantEps(eps)
    x_T = ddim_invert(model, x0, alpha_bar, 20, spacing="trailing")
    tau = ddim_timesteps(T, 20, "trailing")
    assert [c[0] for c in model.calls] == tau.flip(0).tolist()  # ascending
    expected = q_sample(x0, torch.full((3,), tau[0].item()), alpha_bar, eps)
    torch.testing.assert_close(x_T, expected, rtol=1e-10, atol=1e-10)
    back = ddim_sample(model, x0.shape, alpha_bar, 20, spacing="trailing", x_T=x_T)
    torch.testing.assert_close(back, x0, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("spacing", ["leading", "trailing"])
def test_ddim_invert_then_sample_reconstructs(spacing):
    """With the exact eps of Gaussian data, does inverting then sampling give x0 back, closer with more steps?"""
    alpha_bar = alpha_bar_of(get_schedule("cosine", T))
    model = GaussianEps(alpha_bar)
    x0 = 0.3 + 0.5 * _randn(16, 1, 8, 8, seed=8)
    errors = {}
    for steps in (50, 100):
        x_T = ddim_invert(model, x0, alpha_bar, steps, spacing)
        assert x_T.shape == x0.shape and x_T.dtype == x0.dtype
        assert abs(x_T.std().item() - 1.0) < 0.1  # the latent looks like unit Gaussian noise
        back = ddim_sample(model, x0.shape, alpha_bar, steps, spacing=spacing, x_T=x_T)
        errors[steps] = (back - x0).abs()
    assert errors[100].max() < 0.08 and errors[100].mean() < 0.02
    assert errors[100].mean() < 0.6 * errors[50].mean()  # first order: halving the step halves the error
