"""Public tests for the samplers: ``ddpm_sample``, ``ddim_sample`` and ``ddim_invert``.

They use a model whose answer is known: for data ``x0 ~ N(mu, s^2)`` (every
pixel independent) the best noise prediction is
``eps(x_t, t) = sqrt(1 - a) (x_t - sqrt(a) mu) / (a s^2 + 1 - a)`` with
``a = alpha_bar[t]``, so a correct sampler must produce samples with mean
``mu`` and standard deviation ``s``. The hidden tests also run your samplers on
a trained U-Net and compare whole trajectories with the reference.
"""

import torch
from torch import nn

from p1_forward import alpha_bar, get_schedule
from p3_sampling import ddim_invert, ddim_sample, ddim_timesteps, ddpm_sample, ddpm_step

T = 1000
MU, S = 0.3, 0.5


class GaussianEps(nn.Module):
    """The exact eps-predictor for pixels drawn from N(MU, S^2); records the timesteps it is called with."""

    def __init__(self, alpha_bar: torch.Tensor):
        super().__init__()
        self.register_buffer("alpha_bar", alpha_bar)
        self.calls = []

    def forward(self, x_t, t):
        assert t.dtype == torch.long and t.shape == (x_t.shape[0],), "t must be a LongTensor of shape (B,)"
        self.calls.append(int(t[0]))
        a = self.alpha_bar[t].to(x_t.dtype).reshape(-1, 1, 1, 1)  # (B, 1, 1, 1)
        return (1 - a).sqrt() * (x_t - a.sqrt() * MU) / (a * S**2 + 1 - a)


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_ddpm_sample_visits_every_step_and_replays_its_draws():
    """Does ddpm_sample call the model at t = T-1, ..., 0 and follow the documented order of random draws?"""
    betas = get_schedule("linear", 50)
    model = GaussianEps(alpha_bar(betas))
    shape = (3, 1, 4, 4)
    got = ddpm_sample(model, shape, betas, _generator(0))
    assert got.shape == shape
    assert model.calls == list(range(49, -1, -1))
    g = _generator(0)  # replay: x_T first, then one noise draw per step (also at t = 0)
    x = torch.randn(shape, generator=g)
    for step in range(49, -1, -1):
        t = torch.full((shape[0],), step, dtype=torch.long)
        x = ddpm_step(model(x, t), x, t, betas, torch.randn(shape, generator=g))
    torch.testing.assert_close(got, x)


def test_ddpm_sample_gaussian_data():
    """Do 1000 DDPM steps with the exact model produce pixels with mean MU and standard deviation S?"""
    betas = get_schedule("linear", T)
    x = ddpm_sample(GaussianEps(alpha_bar(betas)), (500, 1, 4, 4), betas, _generator(1))
    assert abs(x.mean().item() - MU) < 0.03
    assert abs(x.std().item() - S) < 0.03


def test_ddim_sample_is_deterministic_with_eta_zero():
    """With eta = 0, is the only randomness the starting noise (same seed, same samples; a model call per step)?"""
    a = alpha_bar(get_schedule("linear", T))
    model = GaussianEps(a)
    shape = (2, 1, 4, 4)
    first = ddim_sample(model, shape, a, 20, 0.0, _generator(3))
    assert model.calls == ddim_timesteps(T, 20).tolist()
    assert torch.equal(first, ddim_sample(model, shape, a, 20, 0.0, _generator(3)))
    assert not torch.equal(first, ddim_sample(model, shape, a, 20, 0.0, _generator(4)))


def test_ddim_sample_gaussian_data():
    """Do 250 deterministic DDIM steps with the exact model produce pixels with mean MU and standard deviation S?

    (With fewer steps the deterministic sampler shrinks the spread a little: about 0.47
    instead of 0.5 at 50 steps. The notebook shows it.)"""
    a = alpha_bar(get_schedule("linear", T))
    x = ddim_sample(GaussianEps(a), (500, 1, 4, 4), a, 250, 0.0, _generator(5))
    assert abs(x.mean().item() - MU) < 0.03
    assert abs(x.std().item() - S) < 0.03


def test_ddim_sample_stochastic_gaussian_data():
    """With eta = 1 and 100 steps, are the samples still N(MU, S^2), and different from the eta = 0 ones?"""
    a = alpha_bar(get_schedule("cosine", T))
    model = GaussianEps(a)
    x = ddim_sample(model, (500, 1, 4, 4), a, 100, 1.0, _generator(6))
    assert abs(x.mean().item() - MU) < 0.03
    assert abs(x.std().item() - S) < 0.03
    assert not torch.allclose(x, ddim_sample(model, (500, 1, 4, 4), a, 100, 0.0, _generator(6)))


def test_ddim_invert_round_trip():
    """Does ddim_sample(..., eta=0, x_T=ddim_invert(x0)) give back x0 with the exact model?"""
    a = alpha_bar(get_schedule("linear", T))
    model = GaussianEps(a)
    x0 = MU + S * torch.randn((8, 1, 4, 4), generator=_generator(7))
    x_T = ddim_invert(model, x0, a, 100)
    assert x_T.shape == x0.shape
    assert x_T.std().item() > 0.5  # noise-like, not x0 itself
    back = ddim_sample(model, x0.shape, a, 100, 0.0, None, x_T=x_T)
    assert (back - x0).abs().max().item() < 0.05
