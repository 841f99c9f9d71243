"""Public tests for ``p2_training/loss.py`` and ``p2_training/ema.py``."""

import copy
import math

import torch
from torch import nn

from p1_forward import alpha_bar, get_schedule
from p2_training import diffusion_loss, ema_update


class AffineEps(nn.Module):
    """A toy noise predictor: ``eps = w * x_t + b * t / 1000``."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(0.7, dtype=torch.float64))
        self.b = nn.Parameter(torch.tensor(-0.3, dtype=torch.float64))

    def forward(self, x_t, t):
        return self.w * x_t + self.b * (t.to(x_t.dtype) / 1000).reshape(-1, 1, 1, 1)


def test_diffusion_loss_matches_a_hand_computation():
    """Is the loss the mean over all pixels of (noise - model(x_t, t))^2, with x_t from q_sample?"""
    ab = alpha_bar(get_schedule("linear", 1000))
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(3, 1, 2, 2, generator=g, dtype=torch.float64) * 2 - 1
    noise = torch.randn(3, 1, 2, 2, generator=g, dtype=torch.float64)
    t = torch.tensor([0, 500, 999])
    loss = diffusion_loss(AffineEps(), x0, t, ab, noise)
    total, count = 0.0, 0
    for i, s in enumerate(t.tolist()):
        a = ab[s].item()
        for x, n in zip(x0[i].flatten().tolist(), noise[i].flatten().tolist()):
            x_t = math.sqrt(a) * x + math.sqrt(1 - a) * n
            total += (n - (0.7 * x_t - 0.3 * s / 1000)) ** 2
            count += 1
    assert loss.dim() == 0
    assert math.isclose(loss.item(), total / count, rel_tol=1e-9)


def test_diffusion_loss_is_differentiable():
    """Does backward() on the loss give the model's parameters a gradient?"""
    model = AffineEps()
    ab = alpha_bar(get_schedule("cosine", 1000))
    x0 = torch.zeros(2, 1, 4, 4, dtype=torch.float64)
    noise = torch.ones(2, 1, 4, 4, dtype=torch.float64)
    diffusion_loss(model, x0, torch.tensor([10, 900]), ab, noise).backward()
    assert model.w.grad is not None and model.b.grad is not None
    assert model.w.grad.abs() > 0


def test_ema_update_math():
    """Is ema = decay * ema + (1 - decay) * model, in place, with the model unchanged?"""
    model = nn.Linear(3, 2)
    ema = copy.deepcopy(model)
    with torch.no_grad():
        for p in ema.parameters():
            p.fill_(1.0)
        for p in model.parameters():
            p.fill_(3.0)
    ema_update(ema, model, 0.9)
    for p in ema.parameters():
        torch.testing.assert_close(p, torch.full_like(p, 0.9 * 1.0 + 0.1 * 3.0))
    for p in model.parameters():
        assert torch.all(p == 3.0)
    ema_update(ema, model, 0.0)
    for p in ema.parameters():
        assert torch.all(p == 3.0)
