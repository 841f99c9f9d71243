"""Public tests for ``p1_forward/forward.py``: ``q_sample``, ``q_posterior``,
``predict_x0_from_eps``, ``snr`` and ``v_target``.

Timesteps are 0-indexed: ``t`` is a LongTensor of shape ``(B,)`` with values in
``[0, T)``, one per sample. The hidden tests check the same functions more
thoroughly: exact values against the reference, float16/float64 inputs and the
statistics of ``x_{T-1}`` for every schedule.
"""

import pytest
import torch

from p1_forward import (
    alpha_bar,
    get_schedule,
    linear_beta_schedule,
    predict_x0_from_eps,
    q_posterior,
    q_sample,
    snr,
    v_target,
)

T = 1000
SHAPE = (4, 3, 8, 8)  # (B, C, H, W)


@pytest.fixture
def data():
    """A batch ``x0`` in [-1, 1], matching noise, and one timestep per sample."""
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(SHAPE, generator=g) * 2 - 1
    noise = torch.randn(SHAPE, generator=g)
    t = torch.tensor([0, 10, 500, T - 1])
    return x0, noise, t


def test_q_sample_shape_and_dtype(data):
    """Does q_sample return x_t with the shape and dtype of x0 (float32 in, float32 out)?"""
    betas = linear_beta_schedule(T)
    x0, noise, t = data
    x_t = q_sample(x0, t, alpha_bar(betas), noise)
    assert x_t.shape == x0.shape
    assert x_t.dtype == torch.float32


def test_q_sample_uses_one_timestep_per_sample(data):
    """Does sample i of q_sample use alpha_bar[t[i]] (DDPM Eq. 4, reparameterised)?"""
    betas = linear_beta_schedule(T)
    x0, noise, t = data
    a = alpha_bar(betas)
    x_t = q_sample(x0, t, a, noise)
    for i in range(len(t)):
        a_i = a[t[i]].item()
        expected = a_i**0.5 * x0[i] + (1 - a_i) ** 0.5 * noise[i]
        torch.testing.assert_close(x_t[i], expected, rtol=1e-4, atol=1e-5)


def test_q_sample_at_t0_is_close_to_x0(data):
    """At t = 0 only beta_0 = 1e-4 of noise variance is added: is x_t still close to x0?"""
    betas = linear_beta_schedule(T)
    x0, noise, _ = data
    t = torch.zeros(SHAPE[0], dtype=torch.long)
    x_t = q_sample(x0, t, alpha_bar(betas), noise)
    assert (x_t - x0).abs().max().item() < 0.05
    assert not torch.equal(x_t, x0)


def test_q_sample_at_last_step_is_mostly_noise(data):
    """At t = T-1 alpha_bar is about 4e-5: is x_t almost exactly the noise?"""
    betas = linear_beta_schedule(T)
    x0, noise, _ = data
    t = torch.full((SHAPE[0],), T - 1, dtype=torch.long)
    x_t = q_sample(x0, t, alpha_bar(betas), noise)
    assert (x_t - noise).abs().max().item() < 0.02


def test_q_posterior_returns_mean_and_variance(data):
    """Does q_posterior return (mean shaped like x_t, variance of shape (B, 1, 1, 1))?"""
    betas = linear_beta_schedule(T)
    x0, noise, t = data
    x_t = q_sample(x0, t, alpha_bar(betas), noise)
    out = q_posterior(x0, x_t, t, betas)
    assert isinstance(out, tuple) and len(out) == 2
    mean, variance = out
    assert mean.shape == x_t.shape
    assert mean.dtype == x_t.dtype
    assert variance.shape == (SHAPE[0], 1, 1, 1)


def test_q_posterior_variance_edges(data):
    """Is the posterior variance 0 at t = 0 (alpha_bar_prev[0] = 1) and in (0, beta_t] after?"""
    betas = linear_beta_schedule(T)
    x0, noise, t = data
    x_t = q_sample(x0, t, alpha_bar(betas), noise)
    _, variance = q_posterior(x0, x_t, t, betas)
    variance = variance.flatten()
    assert variance[0].abs().item() < 1e-12
    beta_t = betas[t[1:]].float()
    assert (variance[1:] > 0).all()
    assert (variance[1:] <= beta_t * (1 + 1e-5)).all()


def test_q_posterior_mean_at_t0_is_x0(data):
    """At t = 0 the posterior mean puts all weight on x0: is the mean equal to x0?"""
    betas = linear_beta_schedule(T)
    x0, noise, _ = data
    x0, noise = x0.double(), noise.double()  # 1 - alpha_bar[0] = 1e-4 loses digits in float32
    t = torch.zeros(SHAPE[0], dtype=torch.long)
    x_t = q_sample(x0, t, alpha_bar(betas), noise)
    mean, _ = q_posterior(x0, x_t, t, betas)
    torch.testing.assert_close(mean, x0, rtol=1e-7, atol=1e-8)


def test_predict_x0_from_eps_inverts_q_sample(data):
    """Given the true noise, does predict_x0_from_eps recover x0 from q_sample's x_t?"""
    betas = linear_beta_schedule(T)
    x0, noise, t = data
    t = torch.tensor([0, 10, 500, 900])  # alpha_bar[T-1] is tiny; float64 keeps this exact enough
    a = alpha_bar(betas)
    x0, noise = x0.double(), noise.double()
    x_t = q_sample(x0, t, a, noise)
    x0_hat = predict_x0_from_eps(x_t, t, a, noise)
    assert x0_hat.shape == x0.shape
    assert x0_hat.dtype == torch.float64
    torch.testing.assert_close(x0_hat, x0, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", ["linear", "quadratic", "cosine"])
def test_snr_is_positive_and_decreasing(name):
    """Is SNR = alpha_bar / (1 - alpha_bar) positive and strictly decreasing in t?"""
    a = alpha_bar(get_schedule(name, T))
    s = snr(a)
    assert s.shape == (T,)
    assert s.dtype == torch.float64
    assert (s > 0).all()
    assert (s[1:] < s[:-1]).all()
    assert s[0].item() == pytest.approx(a[0].item() / (1 - a[0].item()), rel=1e-9)


def test_v_target_recovers_x0(data):
    """Is v shaped like x0, and does x0 = sqrt(alpha_bar) * x_t - sqrt(1 - alpha_bar) * v hold?"""
    betas = linear_beta_schedule(T)
    x0, noise, t = data
    a = alpha_bar(betas)
    x0, noise = x0.double(), noise.double()
    v = v_target(x0, t, a, noise)
    assert v.shape == x0.shape
    x_t = q_sample(x0, t, a, noise)
    a_t = a[t].reshape(-1, 1, 1, 1)
    torch.testing.assert_close(a_t.sqrt() * x_t - (1 - a_t).sqrt() * v, x0, rtol=1e-7, atol=1e-8)
