"""Small, deterministic noise-prediction models for testing losses and samplers.

They live with the worker so the grader can build the same model on both sides
of the sandbox (same class, same weights) and compare a student's function with
the reference on identical inputs. Called as ``model(x_t, t)`` like any eps-model.
"""

import math

import torch
from torch import nn


class TinyEpsModel(nn.Module):
    """``eps = conv(x_t) * (1 + a * sin(t / T * pi)) + b(t)``: depends on both x_t and t.

    ``channels``: C of the images; ``T``: the number of diffusion steps.
    """

    def __init__(self, channels: int = 1, T: int = 1000, seed: int = 0):
        super().__init__()
        self.T = T
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.a = nn.Parameter(torch.tensor(0.5))
        self.b = nn.Parameter(torch.zeros(channels))
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.2)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        phase = torch.sin(t.to(x_t.dtype) / self.T * math.pi).reshape(-1, 1, 1, 1)  # (B, 1, 1, 1)
        return self.conv(x_t) * (1 + self.a * phase) + self.b.reshape(1, -1, 1, 1) * phase


class GaussianEpsModel(nn.Module):
    """The exact eps-predictor when the data is ``N(mu, s^2 I)``.

    Then ``x_t ~ N(sqrt(ab) mu, (ab s^2 + 1 - ab) I)`` and the optimal prediction is
    ``E[eps | x_t] = sqrt(1 - ab) (x_t - sqrt(ab) mu) / (ab s^2 + 1 - ab)``.
    ``alpha_bar``: ``(T,)`` float64.
    """

    def __init__(self, alpha_bar: torch.Tensor, mu: float = 0.3, s: float = 0.5):
        super().__init__()
        self.register_buffer("alpha_bar", alpha_bar.clone())
        self.mu, self.s = mu, s

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = self.alpha_bar.to(x_t.device)[t].to(x_t.dtype).reshape(-1, 1, 1, 1)  # (B, 1, 1, 1)
        return (1 - ab).sqrt() * (x_t - ab.sqrt() * self.mu) / (ab * self.s**2 + 1 - ab)
