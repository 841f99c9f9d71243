"""What the P3 hidden tests share: the schedule, the test models and the shipped U-Net.

Not a test file (its name starts with an underscore); each test file loads it
with ``autograder.grading.runner.load_module``. Everything here runs in the
grader, which is trusted; objects built in the sandbox are made through the
``provided`` fixture.

Symbols as in the handout: ``betas`` and ``alpha_bar`` are the ``(T,)`` float64
linear schedule with ``T = 1000`` that the shipped U-Net was trained with.
"""

import json
from dataclasses import fields
from pathlib import Path

import torch

ASSETS = Path(__file__).resolve().parents[2] / "assets"
CHECKPOINT = ASSETS / "unet_digits.safetensors"
META_KEY = "diffgrade_unet"
T = 1000
IMAGE_SHAPE = (1, 8, 8)


def linear_schedule(T: int = T) -> tuple[torch.Tensor, torch.Tensor]:
    """``(betas, alpha_bar)`` of the DDPM linear schedule, float64 on the CPU, written out here
    (not taken from P1) so that the tests depend on no student-facing code."""
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    return betas, torch.cumprod(1 - betas, dim=0)


def cosine_schedule(T: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(betas, alpha_bar)`` of the cosine schedule (Nichol & Dhariwal, Eq. 17), float64."""
    u = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((u / T + 0.008) / 1.008 * torch.pi / 2) ** 2
    betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
    return betas, torch.cumprod(1 - betas, dim=0)


def read_checkpoint(path: Path = CHECKPOINT) -> tuple[dict[str, torch.Tensor], dict]:
    """The state dict (CPU tensors) and the metadata of a U-Net written by
    ``scripts/train_reference_unet.py``. Only safetensors is ever read."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = json.loads((f.metadata() or {})[META_KEY])
        state = {k: f.get_tensor(k) for k in f.keys()}
    return state, meta


def unet_config_fields(meta: dict) -> dict:
    """Keyword arguments of ``UNetConfig`` from the checkpoint's metadata (lists back to tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in meta["unet"].items()}


def load_reference_unet(path: Path = CHECKPOINT):
    """``(UNet, meta)``: the shipped U-Net built with the reference ``p2_training``, in eval
    mode and without gradients, on the CPU. ``meta`` holds ``unet`` (the config fields),
    ``T``, ``schedule``, ``steps`` and ``seed``."""
    from p2_training import UNet, UNetConfig  # the reference, importable once ``ref`` is loaded

    state, meta = read_checkpoint(path)
    names = {f.name for f in fields(UNetConfig)}
    config = UNetConfig(**{k: v for k, v in unet_config_fields(meta).items() if k in names})
    model = UNet(config)
    model.load_state_dict(state)
    return model.eval().requires_grad_(False), meta


def unet_in_sandbox(provided, device):
    """The same U-Net built in the sandbox from the provided ``p2_training``, on ``device``.

    Gradients are switched off there, so a sampler that forgets ``torch.no_grad()``
    still cannot build a graph over hundreds of steps.
    """
    state, meta = read_checkpoint()
    config = provided("p2_training", "UNetConfig", **unet_config_fields(meta))
    model = provided("p2_training", "UNet", config)
    model.load_state_dict(state)
    model.eval()
    model.requires_grad_(False)
    model.to(device)
    return model


def local_unet(device):
    """The grader's own copy of the shipped U-Net on ``device``."""
    return load_reference_unet()[0].to(device)


def tiny_model(provided, device, T: int = T, seed: int = 0, channels: int = 1):
    """``(remote, local)``: the same ``TinyEpsModel`` (same seed, same weights) in the sandbox and here.

    With ``channels`` different from the batch size, a sampler that builds its ``t`` of the
    wrong length fails loudly: the model's per-sample factor no longer broadcasts."""
    from autograder.sandbox.runtime.testmodels import TinyEpsModel

    remote = provided("_diffgrade_testmodels", "TinyEpsModel", channels, T, seed)
    remote.requires_grad_(False)
    remote.to(device)
    return remote, TinyEpsModel(channels, T, seed).requires_grad_(False).to(device)


def gaussian_model(provided, device, alpha_bar: torch.Tensor, mu: float = 0.3, s: float = 0.5):
    """``(remote, local)``: the exact eps-predictor of ``N(mu, s^2 I)`` data, in the sandbox and here."""
    from autograder.sandbox.runtime.testmodels import GaussianEpsModel

    remote = provided("_diffgrade_testmodels", "GaussianEpsModel", alpha_bar, mu, s)
    remote.to(device)
    return remote, GaussianEpsModel(alpha_bar, mu, s).to(device)


def generator(seed: int) -> torch.Generator:
    """A CPU generator: samplers draw on the CPU and move the draws to the model's device."""
    return torch.Generator().manual_seed(seed)


def randn(shape, seed: int, device, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(shape, generator=generator(seed), dtype=torch.float64).to(device, dtype)


def per_sample(values: list[float], like: torch.Tensor) -> torch.Tensor:
    """One float64 value per sample as ``(B, 1, 1, 1)`` on the CPU."""
    return torch.tensor(values, dtype=torch.float64).reshape(-1, *([1] * (like.dim() - 1)))


def cpu64(x: torch.Tensor) -> torch.Tensor:
    return x.detach().to("cpu", torch.float64)
