"""Small, deterministic noise-prediction models for testing losses and samplers.

They live with the worker so the grader can build the same model on both sides
of the sandbox (same class, same weights) and compare a student's function with
the reference on identical inputs. Called as ``model(x_t, t)`` like any eps-model.
"""

import math
import tempfile
from pathlib import Path

import torch
from torch import nn


def check_timesteps(x_t: torch.Tensor, t: torch.Tensor) -> None:
    """Refuse timesteps that break the eps-model contract: ``t`` is a LongTensor ``(B,)`` on
    ``x_t``'s device. A real U-Net may accept other dtypes silently; this one says so."""
    if not isinstance(t, torch.Tensor) or t.dtype != torch.int64:
        got = f"a {t.dtype} tensor" if isinstance(t, torch.Tensor) else type(t).__name__
        raise TypeError(f"model(x_t, t) was called with t as {got}; timesteps are a LongTensor (torch.int64)")
    if t.shape != (x_t.shape[0],):
        raise ValueError(f"model(x_t, t) was called with t of shape {tuple(t.shape)} for x_t of shape "
                         f"{tuple(x_t.shape)}; t must have shape (B,) = ({x_t.shape[0]},)")
    if t.device != x_t.device:
        raise ValueError(f"model(x_t, t) was called with t on {t.device} and x_t on {x_t.device}")


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
        check_timesteps(x_t, t)
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
        check_timesteps(x_t, t)
        ab = self.alpha_bar.to(x_t.device)[t].to(x_t.dtype).reshape(-1, 1, 1, 1)  # (B, 1, 1, 1)
        return (1 - ab).sqrt() * (x_t - ab.sqrt() * self.mu) / (ab * self.s**2 + 1 - ab)


# -- Helpers for tests that need work done next to the student's code --------------------------
# They run inside the worker, so they can reach objects that cannot travel (a model's
# gradients, an optimizer, a file the student's code wrote in the worker's private /tmp).
# Only plain values (tensors, numbers, strings, lists, dicts) come back.


def grad_norms(model: nn.Module, x_t: torch.Tensor, t: torch.Tensor) -> dict:
    """``{name: norm of its gradient}`` for every named parameter of ``model`` after one
    backward pass of ``model(x_t, t).square().mean()``; ``None`` where no gradient arrived."""
    model.zero_grad(set_to_none=True)
    model(x_t, t).square().mean().backward()
    return {name: (None if p.grad is None else float(p.grad.norm())) for name, p in model.named_parameters()}


def param_grads(model: nn.Module) -> dict:
    """``{name: gradient}`` of every named parameter of ``model`` as it is now (``None`` where unset)."""
    return {name: (None if p.grad is None else p.grad.detach().clone()) for name, p in model.named_parameters()}


def adamw(model: nn.Module, lr: float, weight_decay: float = 0.0) -> torch.optim.AdamW:
    """``torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)``."""
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


def scratch_dir() -> str:
    """A new, empty folder in the worker's temporary directory."""
    return tempfile.mkdtemp(prefix="diffgrade-scratch-")


def list_files(folder: str) -> list:
    """The names of the files directly in ``folder``, sorted; ``[]`` when it does not exist."""
    path = Path(folder)
    return sorted(p.name for p in path.iterdir() if p.is_file()) if path.is_dir() else []


def read_bytes(path: str) -> torch.Tensor:
    """The bytes of the file at ``path`` as a uint8 tensor (the grader parses them itself)."""
    data = Path(path).read_bytes()
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).clone() if data else torch.empty(0, dtype=torch.uint8)


def write_bytes(path: str, data: torch.Tensor) -> str:
    """Write the uint8 tensor ``data`` to ``path`` as raw bytes; returns ``path``."""
    Path(path).write_bytes(data.to(torch.uint8).numpy().tobytes())
    return path


def function_grads(package: str, function: str, args: list, wrt: list) -> dict:
    """Gradients of the student's ``package.function(*args)`` (a scalar) with respect to ``args[i]``
    for each ``i`` in ``wrt``: ``{"value": the output, "grads": [d out / d args[i], ...]}``,
    with ``None`` for an input that no gradient reached. A non-scalar output raises ``ValueError``."""
    import importlib

    fn = getattr(importlib.import_module(package), function)
    args = [a.detach().clone().requires_grad_(True) if i in wrt else a for i, a in enumerate(args)]
    out = fn(*args)
    if not isinstance(out, torch.Tensor) or out.numel() != 1:
        raise ValueError(f"{function} must return a scalar tensor, got "
                         f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
    if not out.requires_grad:
        return {"value": out.detach(), "grads": [None for _ in wrt]}
    grads = torch.autograd.grad(out, [args[i] for i in wrt], allow_unused=True)
    return {"value": out.detach(), "grads": [None if g is None else g.detach() for g in grads]}


class PoolVAE(nn.Module):
    """A VAE-shaped test model with known weights: ``encode`` averages ``factor x factor`` blocks and
    maps the channels with a 1x1 conv to ``(mu, logvar)``; ``decode`` maps back with a 1x1 conv and
    repeats each latent pixel ``factor x factor`` times. Latents: ``(B, latent_channels, H / f, W / f)``.

    Lets latent-diffusion code be checked on its own, whatever the student's VAE does."""

    def __init__(self, in_channels: int = 3, latent_channels: int = 4, factor: int = 4, seed: int = 0):
        super().__init__()
        self.factor = factor
        self.latent_channels = latent_channels
        self.to_moments = nn.Conv2d(in_channels, 2 * latent_channels, 1)
        self.from_latent = nn.Conv2d(latent_channels, in_channels, 1)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        moments = self.to_moments(nn.functional.avg_pool2d(x, self.factor))  # (B, 2 * latent_channels, h, w)
        return moments.chunk(2, dim=1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 4 or z.shape[1] != self.latent_channels:
            raise ValueError(f"latents must have shape (B, {self.latent_channels}, h, w), got {tuple(z.shape)}")
        return self.from_latent(z).repeat_interleave(self.factor, 2).repeat_interleave(self.factor, 3)

    def forward(self, x: torch.Tensor, noise: torch.Tensor):
        mu, logvar = self.encode(x)
        return self.decode(mu + (0.5 * logvar).exp() * noise), mu, logvar


def requires_grad_flags(model: nn.Module) -> dict:
    """``{name: p.requires_grad}`` for every named parameter of ``model``."""
    return {name: bool(p.requires_grad) for name, p in model.named_parameters()}


def latent_loss_grads(latent, unet: nn.Module, vae: nn.Module, x0: torch.Tensor, t: torch.Tensor,
                      noise: torch.Tensor) -> dict:
    """One backward pass of ``latent.loss(x0, t, noise)``: ``{"loss": value, "unet": {name: grad norm or
    None}, "vae": {name: grad norm or None}}``, gradients cleared first."""
    for model in (unet, vae):
        model.zero_grad(set_to_none=True)
    loss = latent.loss(x0, t, noise)
    if loss.requires_grad:
        loss.backward()

    def norms(model):
        return {name: (None if p.grad is None else float(p.grad.norm())) for name, p in model.named_parameters()}

    return {"loss": loss.detach(), "unet": norms(unet), "vae": norms(vae)}
