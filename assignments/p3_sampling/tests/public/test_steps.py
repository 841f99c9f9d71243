"""Public tests for the single steps: ``ddpm_step`` (DDPM Alg. 2) and ``ddim_step`` (DDIM Eq. 12).

Run them from your bundle root with ``diffgrade check p3`` (or plain ``pytest``).
They check the steps against P1's posterior and forward process (the reference
``p1_forward`` in your bundle). The hidden tests check the same functions more
thoroughly: values for many ``(t, t_prev, eta)``, dtypes, and whole trajectories.
"""

import pytest
import torch

from p1_forward import alpha_bar, get_schedule, predict_x0_from_eps, q_posterior, q_sample
from p3_sampling import ddim_step, ddpm_step

T = 1000
SHAPE = (4, 1, 8, 8)  # (B, C, H, W)


@pytest.fixture
def data():
    """``x0`` in [-1, 1], two standard normal tensors, one timestep per sample, float64."""
    g = torch.Generator().manual_seed(0)
    x0 = (torch.rand(SHAPE, generator=g, dtype=torch.float64) * 2 - 1)
    eps = torch.randn(SHAPE, generator=g, dtype=torch.float64)
    noise = torch.randn(SHAPE, generator=g, dtype=torch.float64)
    t = torch.tensor([999, 500, 10, 1])
    return x0, eps, noise, t


def test_ddpm_step_shape_and_dtype(data):
    """Does ddpm_step return x_{t-1} shaped like x_t, float32 in and float32 out?"""
    betas = get_schedule("linear", T)
    _, eps, noise, t = data
    x_t = eps.float()
    out = ddpm_step(eps.float(), x_t, t, betas, noise.float())
    assert out.shape == x_t.shape
    assert out.dtype == torch.float32


def test_ddpm_step_is_posterior_of_predicted_x0(data):
    """Is the DDPM step the posterior q(x_{t-1} | x_t, x0_pred): its mean plus its standard deviation times noise?"""
    betas = get_schedule("cosine", T)
    _, eps, noise, t = data
    x_t = torch.randn(SHAPE, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    x0_pred = predict_x0_from_eps(x_t, t, alpha_bar(betas), eps)
    mean, variance = q_posterior(x0_pred, x_t, t, betas)
    torch.testing.assert_close(ddpm_step(eps, x_t, t, betas, noise), mean + variance.sqrt() * noise,
                               rtol=1e-7, atol=1e-7)


def test_ddpm_step_adds_no_noise_at_t0(data):
    """At t = 0 (the last step) is the noise ignored?"""
    betas = get_schedule("linear", T)
    _, eps, noise, _ = data
    t = torch.zeros(SHAPE[0], dtype=torch.long)
    x_t = eps.flip(0)
    assert torch.allclose(ddpm_step(eps, x_t, t, betas, noise), ddpm_step(eps, x_t, t, betas, 10 * noise))


def test_ddim_step_with_true_noise_follows_forward_process(data):
    """With the true noise as eps and eta = 0, does a DDIM step land on q_sample(x0, t_prev), and on x0 at -1?"""
    a = alpha_bar(get_schedule("linear", T))
    x0, noise, _, t = data
    x_t = q_sample(x0, t, a, noise)
    t_prev = torch.tensor([899, -1, 5, -1])
    out = ddim_step(noise, x_t, t, t_prev, a)
    expected = q_sample(x0, t_prev.clamp(min=0), a, noise)  # rows 0 and 2; rows 1 and 3 are x0
    torch.testing.assert_close(out[[0, 2]], expected[[0, 2]], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(out[[1, 3]], x0[[1, 3]], rtol=1e-6, atol=1e-6)


def test_ddim_step_eta_one_one_step_is_ddpm(data):
    """With eta = 1 and t_prev = t - 1, is the DDIM step the DDPM step?"""
    betas = get_schedule("linear", T)
    _, eps, noise, t = data
    x_t = torch.randn(SHAPE, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    got = ddim_step(eps, x_t, t, t - 1, alpha_bar(betas), eta=1.0, noise=noise)
    torch.testing.assert_close(got, ddpm_step(eps, x_t, t, betas, noise), rtol=1e-7, atol=1e-7)


def test_ddim_step_needs_noise_when_eta_positive(data):
    """Does eta > 0 without noise raise ValueError, while eta = 0 needs none?"""
    a = alpha_bar(get_schedule("linear", T))
    _, eps, _, t = data
    with pytest.raises(ValueError):
        ddim_step(eps, eps, t, t - 1, a, eta=0.5)
    assert ddim_step(eps, eps, t, t - 1, a, eta=0.0).shape == SHAPE
