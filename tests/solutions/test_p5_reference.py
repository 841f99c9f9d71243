"""Tests of the P5 reference (``solutions/p5_latent``): the VAE's formulas, its shapes, the
latent scale and latent diffusion.

``kl_divergence`` is checked against ``torch.distributions.kl_divergence`` and against the
Gaussian KL written here from its definition (an expectation of the log-ratio, by
quadrature); ``reparameterize`` exactly given ``noise`` and statistically; ``vae_loss`` and
its gradients against hand-written reductions; ``LatentDiffusion`` against P1's forward
process and P3's sampler run by hand.
"""

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from tests.solutions.conftest import reference

p1, p3, p5 = reference("p1_forward"), reference("p3_sampling"), reference("p5_latent")


def _randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_kl_matches_torch_distributions_and_a_quadrature():
    mu, logvar = _randn(3, 4, 2, 2, seed=1), _randn(3, 4, 2, 2, seed=2)
    got = p5.kl_divergence(mu, logvar)
    assert got.shape == (3,) and got.dtype == torch.float64
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).flatten(1).sum(1)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    # One element by its definition: E_q[log q(z) - log p(z)], integrated on a fine grid.
    m, s = float(mu[0, 0, 0, 0]), math.exp(0.5 * float(logvar[0, 0, 0, 0]))
    z = torch.linspace(m - 12 * s, m + 12 * s, 200001, dtype=torch.float64)
    q = torch.exp(-0.5 * ((z - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    log_ratio = (-0.5 * ((z - m) / s) ** 2 - math.log(s)) - (-0.5 * z ** 2)
    by_quadrature = float(torch.trapezoid(q * log_ratio, z))
    one = p5.kl_divergence(mu[:1, :1, :1, :1], logvar[:1, :1, :1, :1])
    assert float(one) == pytest.approx(by_quadrature, rel=1e-6)
    assert torch.equal(p5.kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2, dtype=torch.float32))


def test_reparameterize_is_exact_and_has_the_right_moments():
    mu, logvar, noise = _randn(2, 3, seed=1), _randn(2, 3, seed=2), _randn(2, 3, seed=3)
    torch.testing.assert_close(p5.reparameterize(mu, logvar, noise), mu + torch.sqrt(logvar.exp()) * noise)
    n = 200000
    z = p5.reparameterize(torch.full((n,), 1.5, dtype=torch.float64), torch.full((n,), math.log(0.25),
                          dtype=torch.float64), _randn(n, seed=4))
    assert float(z.mean()) == pytest.approx(1.5, abs=5 * 0.5 / math.sqrt(n))
    assert float(z.var()) == pytest.approx(0.25, rel=5 * math.sqrt(2 / n))


@pytest.mark.parametrize("beta", [0.0, 0.5, 4.0])
def test_vae_loss_values_and_gradients(beta):
    x, x_rec = _randn(4, 3, 2, 2, seed=1), _randn(4, 3, 2, 2, seed=2).requires_grad_()
    mu, logvar = _randn(4, 2, 1, 1, seed=3).requires_grad_(), _randn(4, 2, 1, 1, seed=4).requires_grad_()
    got = p5.vae_loss(x, x_rec, mu, logvar, beta)
    r, m, lv = x_rec.detach(), mu.detach(), logvar.detach()
    rec = sum(float(((r[i] - x[i]) ** 2).sum()) for i in range(4)) / 4
    kl = sum(0.5 * float((m[i] ** 2 + lv[i].exp() - 1 - lv[i]).sum()) for i in range(4)) / 4
    assert got.dim() == 0 and float(got.detach()) == pytest.approx(rec + beta * kl, rel=1e-12)
    got.backward()
    torch.testing.assert_close(x_rec.grad, 2 * (x_rec - x).detach() / 4)
    torch.testing.assert_close(mu.grad, beta * mu.detach() / 4)
    torch.testing.assert_close(logvar.grad, beta * 0.5 * (logvar.detach().exp() - 1) / 4)


@pytest.mark.parametrize("mults, size", [((1, 2, 2), 32), ((1, 2), 16), ((1, 2, 2, 2), 64)])
def test_vae_shapes(mults, size):
    torch.manual_seed(0)
    vae = p5.VAE(p5.VAEConfig(base_channels=8, channel_mults=mults, latent_channels=4))
    f = 2 ** (len(mults) - 1)
    x = torch.randn(2, 3, size, size)
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (2, 4, size // f, size // f) == vae.latent_shape(x.shape)
    moments = vae.encoder(x)  # mu is the first half of the moments' channels, logvar the second
    assert torch.equal(mu, moments[:, :4]) and torch.equal(logvar, moments[:, 4:])
    x_rec, mu2, _ = vae(x, torch.zeros_like(mu))
    assert x_rec.shape == x.shape
    torch.testing.assert_close(x_rec, vae.decode(mu2))  # zero noise decodes the mean
    with pytest.raises(ValueError, match=r"\(B, 4, h, w\)"):
        vae.decode(torch.zeros(2, 3, size // f, size // f))


def _latent_diffusion(scale=2.0):
    torch.manual_seed(0)
    vae = p5.VAE(p5.VAEConfig(base_channels=8, channel_mults=(1, 2), latent_channels=4)).eval()
    unet = reference("p2_training").UNet(reference("p2_training").UNetConfig(
        in_channels=4, base_channels=8, channel_mults=(1, 2), attention_resolutions=(4,), image_size=8))
    ab = p1.alpha_bar(p1.get_schedule("linear", 1000))
    return p5.LatentDiffusion(vae, unet, scale, ab), vae, unet, ab


def test_latent_scale_factor_gives_unit_variance():
    z = _randn(64, 4, 8, 8, seed=1) * 5.0 + 0.3
    s = p5.latent_scale_factor(z)
    assert isinstance(s, float)
    assert float((z * s).std()) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_latent_diffusion_refuses_a_bad_scale(bad):
    with pytest.raises(ValueError, match="scale"):
        _latent_diffusion(bad)


def test_latent_diffusion_encodes_diffuses_and_decodes():
    ld, vae, unet, ab = _latent_diffusion(scale=2.0)
    assert not any(p.requires_grad for p in vae.parameters())
    x = _randn(3, 3, 16, 16, seed=1, dtype=torch.float32)  # P3's samplers draw float32
    z = ld.encode(x)
    torch.testing.assert_close(z, 2.0 * vae.encode(x)[0])
    torch.testing.assert_close(ld.decode(z), vae.decode(z / 2.0))
    t, noise = torch.tensor([0, 500, 999]), _randn(3, 4, 8, 8, seed=2, dtype=torch.float32)
    loss = ld.loss(x, t, noise)
    z_t = p1.q_sample(z, t, ab, noise)
    torch.testing.assert_close(loss, ((unet(z_t, t) - noise) ** 2).mean())
    loss.backward()
    assert all(p.grad is not None for p in unet.parameters())
    with pytest.raises(ValueError, match=r"\(3, 4, 8, 8\)"):
        ld.loss(x, t, _randn(3, 4, 16, 16))
    got = ld.sample((2, 4, 8, 8), 5, torch.Generator().manual_seed(3))
    by_hand = vae.decode(p3.ddim_sample(unet, (2, 4, 8, 8), ab, 5, 0.0, torch.Generator().manual_seed(3)) / 2.0)
    torch.testing.assert_close(got, by_hand)
    assert got.shape == (2, 3, 16, 16)


# -- train_vae (given code) -----------------------------------------------------------------------
def _tiny_vae(seed=0):
    torch.manual_seed(seed)
    return p5.VAE(p5.VAEConfig(base_channels=8, channel_mults=(1, 2), latent_channels=2))


def test_train_vae_replays_its_documented_draws():
    """Is each step the documented draw (randint batch, then randn noise) followed by one Adam step?"""
    images = _randn(20, 3, 8, 8, seed=5, dtype=torch.float32).clamp(-1, 1)
    config = p5.VAETrainConfig(steps=3, batch_size=4, lr=1e-3, beta=0.5, seed=7)
    vae = _tiny_vae()
    result = p5.train_vae(vae, images, config)
    # The same three steps written out by hand.
    by_hand = _tiny_vae()
    optimizer = torch.optim.Adam(by_hand.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(7)
    losses = []
    for _ in range(3):
        index = torch.randint(0, 20, (4,), generator=generator)
        noise = torch.randn(4, 2, 4, 4, generator=generator)
        x = images[index]
        mu, logvar = by_hand.encoder(x).chunk(2, dim=1)
        x_rec = by_hand.decoder(mu + (0.5 * logvar).exp() * noise)
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).flatten(1).sum(1).mean()
        loss = (x_rec - x).pow(2).flatten(1).sum(1).mean() + 0.5 * kl
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert result.loss_history == pytest.approx(losses, rel=1e-6)
    for (name, a), b in zip(vae.state_dict().items(), by_hand.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)
    assert not vae.training


def test_train_vae_lowers_the_loss():
    """Does a short run on a fixed set of shapes reduce the loss?"""
    from autograder.data import make_shapes

    torch.manual_seed(0)
    vae = p5.VAE(p5.VAEConfig(base_channels=8))
    images = make_shapes(64, resolution=16, seed=0).images
    result = p5.train_vae(vae, images, p5.VAETrainConfig(steps=60, batch_size=16, lr=3e-3))
    first, last = sum(result.loss_history[:5]) / 5, sum(result.loss_history[-5:]) / 5
    assert last < 0.6 * first


def test_train_vae_stops_on_a_non_finite_loss():
    """Does a NaN loss stop training with an error naming the step?"""
    vae = _tiny_vae()
    images = torch.full((4, 3, 8, 8), float("nan"))
    with pytest.raises(FloatingPointError, match="step 1"):
        p5.train_vae(vae, images, p5.VAETrainConfig(steps=2, batch_size=2))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        p5.train_vae(vae, torch.zeros(4, 8, 8), p5.VAETrainConfig(steps=1))
