"""Training the VAE: Adam on ``vae_loss``, one seeded batch and one noise draw per step.

Given code, not an exercise: it calls your ``VAE`` forward and your ``vae_loss``, so it
trains well only when they are right. The grader trains your VAE with it for a fixed
budget and measures the reconstructions and the KL of the result (see the handout).

Randomness: a CPU ``torch.Generator`` seeded with ``config.seed`` draws, per step, the
batch indices ``randint(0, N, (batch_size,))`` and then the reparameterisation noise
``randn(latent_shape)``, in that order; nothing else draws.
"""

import math
from dataclasses import dataclass, field

import torch

from .vae import VAE, vae_loss


@dataclass(frozen=True)
class VAETrainConfig:
    """Hyperparameters of ``train_vae``. ``beta`` weighs the KL term of ``vae_loss``."""

    steps: int
    batch_size: int = 64
    lr: float = 2e-3
    beta: float = 1.0
    seed: int = 0
    log_every: int = 0  # print the mean loss every this many steps; 0: silent


@dataclass
class VAETrainResult:
    """What ``train_vae`` returns; the ``vae`` itself is trained in place."""

    loss_history: list[float] = field(default_factory=list)  # the loss of every step, in order


def train_vae(vae: VAE, images: torch.Tensor, config: VAETrainConfig,
              device: str | torch.device | None = None) -> VAETrainResult:
    """Train ``vae`` in place on ``images`` ``(N, 3, H, W)`` in ``[-1, 1]`` for ``config.steps`` steps.

    ``device`` defaults to that of the VAE's parameters. Stops with ``FloatingPointError``
    at the first loss that is NaN or infinite, naming the step."""
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}")
    device = torch.device(device) if device is not None else next(vae.parameters()).device
    vae.to(device).train()
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.Adam(vae.parameters(), lr=config.lr)
    latent_shape = vae.latent_shape((config.batch_size, *images.shape[1:]))
    result = VAETrainResult()
    for step in range(1, config.steps + 1):
        index = torch.randint(0, len(images), (config.batch_size,), generator=generator)
        noise = torch.randn(latent_shape, generator=generator)
        x = images[index].to(device)
        x_rec, mu, logvar = vae(x, noise.to(device))
        loss = vae_loss(x, x_rec, mu, logvar, config.beta)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise FloatingPointError(f"the VAE loss is {value} at step {step}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        result.loss_history.append(value)
        if config.log_every and step % config.log_every == 0:
            recent = result.loss_history[-config.log_every:]
            print(f"step {step}/{config.steps}: loss {sum(recent) / len(recent):.4f}", flush=True)
    vae.eval()
    return result
