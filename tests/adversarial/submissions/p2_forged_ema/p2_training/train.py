"""The DDPM training loop (Alg. 1) with AdamW, gradient clipping, an EMA of
the weights, and safetensors checkpoints that resume bit for bit.

Randomness: a ``torch.Generator`` seeded with ``config.seed`` draws, on the
CPU, every batch, timestep and noise (see ``draw_batch``); the global RNG,
which dropout uses, is seeded with ``config.seed + 1`` for the run and
restored afterwards. Both states go into each checkpoint, so a resumed run
repeats exactly what the uninterrupted run would have done.
"""

import copy
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from p1_forward import alpha_bar as alpha_bar_of
from p1_forward import get_schedule

from .checkpoint import Checkpoint, checkpoint_path, latest_checkpoint, load_checkpoint, save_checkpoint
from .ema import ema_update
from .loss import diffusion_loss

# Fields that may differ between a run and the run it resumes.
_RESUMABLE_CHANGES = {"steps", "log_every", "checkpoint_every"}


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of ``train``. ``grad_clip=None`` turns clipping off;
    ``checkpoint_every=0`` saves only at the end (when a checkpoint folder is given)."""

    steps: int
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.0
    ema_decay: float = 0.999
    grad_clip: float | None = 1.0
    T: int = 1000
    schedule: str = "linear"
    seed: int = 0
    log_every: int = 50
    checkpoint_every: int = 0


@dataclass
class TrainResult:
    """What ``train`` returns; the trained ``model`` itself is updated in place."""

    ema_model: nn.Module
    loss_history: list[float] = field(default_factory=list)  # the loss of every step, in order
    steps_done: int = 0


def draw_batch(data: torch.Tensor, batch_size: int, T: int, generator: torch.Generator):
    """Draw one training batch (Alg. 1, lines 2-4), on the CPU, with ``generator``.

    Exactly three draws, in this order:

    1. ``index = torch.randint(0, N, (batch_size,), generator=generator)``, with
       ``N = len(data)`` (images are drawn with replacement), and ``x0 = data[index]``;
    2. ``t = torch.randint(0, T, (batch_size,), generator=generator)`` (uniform over ``[0, T)``);
    3. ``noise = torch.randn(x0.shape, generator=generator, dtype=data.dtype)``.

    ``data``: ``(N, C, H, W)`` on the CPU. Returns ``(x0, t, noise)`` on the CPU:
    ``(batch_size, C, H, W)``, LongTensor ``(batch_size,)``, ``(batch_size, C, H, W)``.
    """
    index = torch.randint(0, len(data), (batch_size,), generator=generator)
    x0 = data[index]
    t = torch.randint(0, T, (batch_size,), generator=generator)
    noise = torch.randn(x0.shape, generator=generator, dtype=data.dtype)
    return x0, t, noise


def train_step(model: nn.Module, ema_model: nn.Module, optimizer: torch.optim.Optimizer,
               x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, alpha_bar: torch.Tensor,
               config: TrainConfig) -> float:
    """One optimisation step (Alg. 1, lines 5-6) followed by the EMA update.

    1. ``loss = diffusion_loss(model, x0, t, alpha_bar, noise)``;
    2. clear the old gradients, back-propagate ``loss``;
    3. when ``config.grad_clip`` is not None, rescale the gradients so that their
       global norm is at most ``config.grad_clip`` (``torch.nn.utils.clip_grad_norm_``);
    4. ``optimizer.step()``;
    5. ``ema_update(ema_model, model, config.ema_decay)``.

    Returns the loss as a Python float.
    """
    loss = diffusion_loss(model, x0, t, alpha_bar, noise)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if config.grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
    optimizer.step()
    ema_update(ema_model, model, config.ema_decay)
    return loss.item()


def _cuda_index(device: torch.device) -> int | None:
    if device.type != "cuda":
        return None
    return device.index if device.index is not None else torch.cuda.current_device()


def _rng_states(generator: torch.Generator, device: torch.device) -> dict[str, torch.Tensor]:
    states = {"generator": generator.get_state(), "torch": torch.get_rng_state()}
    if (index := _cuda_index(device)) is not None:
        states["cuda"] = torch.cuda.get_rng_state(index)
    return states


def _set_rng_states(states: dict[str, torch.Tensor], generator: torch.Generator, device: torch.device) -> None:
    generator.set_state(states["generator"])
    torch.set_rng_state(states["torch"])
    if (index := _cuda_index(device)) is not None and "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"], index)


def _check_resumable(saved: dict, config: TrainConfig, step: int, path) -> None:
    current = asdict(config)
    differ = sorted(k for k in current if k not in _RESUMABLE_CHANGES and saved.get(k) != current[k])
    if differ:
        raise ValueError(f"{path}: cannot resume, the config differs in {differ} "
                         f"(saved {[saved.get(k) for k in differ]}, now {[current[k] for k in differ]})")
    if step > config.steps:
        raise ValueError(f"{path}: the checkpoint is at step {step}, past config.steps={config.steps}")


def train(model: nn.Module, data: torch.Tensor, config: TrainConfig, *,
          checkpoint_dir: str | os.PathLike | None = None, resume: bool = False,
          device: str | torch.device = "cpu",
          on_log: Callable[[int, float], None] | None = None) -> TrainResult:
    """Train ``model`` (in place, moved to ``device``) as a noise predictor on ``data``.

    ``data``: ``(N, C, H, W)`` images in ``[-1, 1]``. Each step draws a batch with
    ``draw_batch`` and calls ``train_step``; the EMA model starts as a copy of
    ``model``. Every ``config.log_every`` steps, ``on_log(step, mean_loss)`` gets
    the mean loss of the steps since the previous call. With ``checkpoint_dir``,
    a checkpoint is written every ``config.checkpoint_every`` steps and after the
    last step; with ``resume=True`` as well, training continues from the latest
    checkpoint there (if any) and ends exactly as an uninterrupted run would.
    ``config.steps`` may grow between runs; other fields (but ``log_every`` and
    ``checkpoint_every``) must match the checkpoint, else ``ValueError``.
    """
    device = torch.device(device)
    if data.dim() != 4 or len(data) == 0:
        raise ValueError(f"data must be a non-empty (N, C, H, W) tensor, got shape {tuple(data.shape)}")
    data = data.detach().cpu()
    model.to(device)
    was_training = model.training
    ema_model = copy.deepcopy(model).eval().requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    alpha_bar = alpha_bar_of(get_schedule(config.schedule, config.T)).to(device)
    generator = torch.Generator().manual_seed(config.seed)
    cuda = [] if (index := _cuda_index(device)) is None else [index]

    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(config.seed + 1)
        if cuda:
            torch.cuda.default_generators[cuda[0]].manual_seed(config.seed + 1)
        history: list[float] = []
        start = 0
        if resume and checkpoint_dir is not None and (path := latest_checkpoint(checkpoint_dir)):
            ckpt = load_checkpoint(path)
            _check_resumable(ckpt.config, config, ckpt.step, path)
            model.load_state_dict(ckpt.model)
            ema_model.load_state_dict(ckpt.ema)
            optimizer.load_state_dict(ckpt.optimizer)
            _set_rng_states(ckpt.rng, generator, device)
            history, start = list(ckpt.loss_history), ckpt.step

        model.train()
        for step in range(start + 1, config.steps + 1):
            x0, t, noise = draw_batch(data, config.batch_size, config.T, generator)
            loss = train_step(model, ema_model, optimizer, x0.to(device), t.to(device), noise.to(device),
                              alpha_bar, config)
            history.append(loss)
            if on_log is not None and config.log_every > 0 and step % config.log_every == 0:
                recent = history[-config.log_every:]
                on_log(step, sum(recent) / len(recent))
            periodic = config.checkpoint_every > 0 and step % config.checkpoint_every == 0
            if checkpoint_dir is not None and (periodic or step == config.steps):
                save_checkpoint(checkpoint_path(checkpoint_dir, step), Checkpoint(
                    step=step,
                    model=model.state_dict(),
                    ema=ema_model.state_dict(),
                    optimizer=optimizer.state_dict(),
                    rng=_rng_states(generator, device),
                    loss_history=history,
                    config=asdict(config),
                ))
    model.train(was_training)
    return TrainResult(ema_model=ema_model, loss_history=history, steps_done=config.steps)
