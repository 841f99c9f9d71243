"""The training half: L_simple, EMA, the loop and safetensors checkpoints."""

import copy
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from p1_forward import get_schedule

META = "diffgrade"


def diffusion_loss(model, x0, t, alpha_bar, noise):
    """``mean((noise - model(x_t, t))^2)`` with ``x_t`` from the closed form, computed here."""
    ab = alpha_bar.to(x0.device)[t.to(x0.device)].to(x0.dtype).view(-1, *[1] * (x0.dim() - 1))
    x_t = torch.sqrt(ab) * x0 + torch.sqrt(1 - ab) * noise
    return ((model(x_t, t) - noise) ** 2).mean()


def ema_update(ema_model: nn.Module, model: nn.Module, decay: float) -> None:
    with torch.no_grad():
        for target, source in zip(ema_model.parameters(), model.parameters()):
            target.lerp_(source, 1.0 - decay)
        for target, source in zip(ema_model.buffers(), model.buffers()):
            target.copy_(source)


@dataclass(frozen=True)
class TrainConfig:
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
    ema_model: nn.Module
    loss_history: list = field(default_factory=list)
    steps_done: int = 0


def draw_batch(data, batch_size, T, generator):
    pick = torch.randint(len(data), (batch_size,), generator=generator)
    timesteps = torch.randint(T, (batch_size,), generator=generator)
    x0 = data.index_select(0, pick)
    return x0, timesteps, torch.randn(x0.shape, dtype=data.dtype, generator=generator)


def train_step(model, ema_model, optimizer, x0, t, noise, alpha_bar, config) -> float:
    for p in model.parameters():
        p.grad = None
    loss = diffusion_loss(model, x0, t, alpha_bar, noise)
    loss.backward()
    if config.grad_clip is not None:
        nn.utils.clip_grad_norm_(list(model.parameters()), max_norm=config.grad_clip)
    optimizer.step()
    ema_update(ema_model, model, config.ema_decay)
    return float(loss.detach())


@dataclass(frozen=True)
class Checkpoint:
    step: int
    model: dict
    ema: dict = field(default_factory=dict)
    optimizer: dict = field(default_factory=dict)
    rng: dict = field(default_factory=dict)
    loss_history: list = field(default_factory=list)
    config: dict = field(default_factory=dict)


def save_checkpoint(path, checkpoint: Checkpoint) -> Path:
    path = Path(path)
    if not path.name.endswith(".safetensors"):
        raise ValueError(f"{path}: a checkpoint must be a .safetensors file")
    flat = {}
    for section in ("model", "ema", "rng"):
        for key, value in getattr(checkpoint, section).items():
            flat[f"{section}/{key}"] = value.detach().cpu().clone().contiguous()
    plain_state = {}
    for index, state in checkpoint.optimizer.get("state", {}).items():
        for key, value in state.items():
            if torch.is_tensor(value):
                flat[f"optimizer/{index}/{key}"] = value.detach().cpu().clone().contiguous()
            else:
                plain_state[f"{index}/{key}"] = value
    flat["loss_history"] = torch.tensor(list(checkpoint.loss_history), dtype=torch.float64)
    meta = {"format": 1, "step": checkpoint.step, "config": checkpoint.config,
            "has_optimizer": bool(checkpoint.optimizer),
            "param_groups": checkpoint.optimizer.get("param_groups", []), "plain_state": plain_state}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.parent / (path.name + ".partial")
    save_file(flat, str(partial), metadata={META: json.dumps(meta)})
    os.replace(partial, path)
    return path


def load_checkpoint(path) -> Checkpoint:
    path = Path(path)
    if not path.name.endswith(".safetensors"):
        raise ValueError(f"{path}: refusing a file that is not .safetensors")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta_text = (f.metadata() or {}).get(META)
            flat = {key: f.get_tensor(key) for key in f.keys()}
    except Exception as e:  # noqa: BLE001 - any parse failure means: not a checkpoint
        raise ValueError(f"{path}: cannot be read as safetensors: {e}") from None
    if meta_text is None:
        raise ValueError(f"{path}: no checkpoint metadata")
    meta = json.loads(meta_text)
    sections = {"model": {}, "ema": {}, "rng": {}}
    state: dict[int, dict] = {}
    for key, value in flat.items():
        head, _, rest = key.partition("/")
        if head in sections:
            sections[head][rest] = value
        elif head == "optimizer":
            index, _, name = rest.partition("/")
            state.setdefault(int(index), {})[name] = value
    for key, value in meta["plain_state"].items():
        index, _, name = key.partition("/")
        state.setdefault(int(index), {})[name] = value
    optimizer = {}
    if meta["has_optimizer"]:
        groups = [{k: (tuple(v) if k != "params" and isinstance(v, list) else v) for k, v in g.items()}
                  for g in meta["param_groups"]]
        optimizer = {"state": {i: state[i] for i in sorted(state)}, "param_groups": groups}
    return Checkpoint(step=meta["step"], model=sections["model"], ema=sections["ema"], optimizer=optimizer,
                      rng=sections["rng"], loss_history=flat["loss_history"].tolist(), config=meta["config"])


def latest_checkpoint(directory):
    directory = Path(directory)
    found = sorted(directory.glob("step_*.safetensors")) if directory.is_dir() else []
    return found[-1] if found else None


def _alpha_bar(config: TrainConfig) -> torch.Tensor:
    return torch.cumprod(1 - get_schedule(config.schedule, config.T), dim=0)


def train(model, data, config: TrainConfig, *, checkpoint_dir=None, resume=False, device="cpu", on_log=None):
    device = torch.device(device)
    if data.dim() != 4 or len(data) == 0:
        raise ValueError(f"data must be a non-empty (N, C, H, W) tensor, got {tuple(data.shape)}")
    data = data.detach().cpu()
    mode = model.training
    model.to(device)
    ema_model = copy.deepcopy(model).requires_grad_(False).eval()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    alpha_bar = _alpha_bar(config).to(device)
    generator = torch.Generator()
    generator.manual_seed(config.seed)
    saved_cpu = torch.get_rng_state()
    on_cuda = device.type == "cuda"
    saved_cuda = torch.cuda.get_rng_state(device) if on_cuda else None
    torch.manual_seed(config.seed + 1)
    history, first = [], 1
    try:
        latest = latest_checkpoint(checkpoint_dir) if (resume and checkpoint_dir is not None) else None
        if latest is not None:
            ckpt = load_checkpoint(latest)
            model.load_state_dict(ckpt.model)
            ema_model.load_state_dict(ckpt.ema)
            optimizer.load_state_dict(ckpt.optimizer)
            generator.set_state(ckpt.rng["generator"])
            torch.set_rng_state(ckpt.rng["torch"])
            if on_cuda and "cuda" in ckpt.rng:
                torch.cuda.set_rng_state(ckpt.rng["cuda"], device)
            history, first = list(ckpt.loss_history), ckpt.step + 1
        model.train()
        for step in range(first, config.steps + 1):
            x0, t, noise = draw_batch(data, config.batch_size, config.T, generator)
            history.append(train_step(model, ema_model, optimizer, x0.to(device), t.to(device), noise.to(device),
                                      alpha_bar, config))
            if on_log and config.log_every and step % config.log_every == 0:
                window = history[-config.log_every:]
                on_log(step, sum(window) / len(window))
            due = config.checkpoint_every and step % config.checkpoint_every == 0
            if checkpoint_dir is not None and (due or step == config.steps):
                rng = {"generator": generator.get_state(), "torch": torch.get_rng_state()}
                if on_cuda:
                    rng["cuda"] = torch.cuda.get_rng_state(device)
                save_checkpoint(Path(checkpoint_dir) / f"step_{step:08d}.safetensors",
                                Checkpoint(step=step, model=model.state_dict(), ema=ema_model.state_dict(),
                                           optimizer=optimizer.state_dict(), rng=rng, loss_history=history,
                                           config=asdict(config)))
    finally:
        torch.set_rng_state(saved_cpu)
        if on_cuda:
            torch.cuda.set_rng_state(saved_cuda, device)
    model.train(mode)
    return TrainResult(ema_model=ema_model, loss_history=history, steps_done=config.steps)
