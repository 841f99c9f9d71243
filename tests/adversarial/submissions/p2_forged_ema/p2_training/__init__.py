"""Hostile P2 submission: the reference, but a long ``train`` returns a forged EMA model at once.

Short runs (the training tests) are honest. A run of 1000 steps or more (the
quality test) trains nothing, reports a made-up loss per step and returns as
``ema_model``, by the mode named in ``attack.py``:

* ``digit_bank``: a module of another class holding a bank of training digits,
  whose ``eps`` steers any sampler onto its nearest stored digit;
* ``bank_in_unet``: a subclass named ``UNet`` with the given weights and the bank as
  an extra buffer;
* ``renamed_keys``: a ``UNet`` whose ``state_dict`` prefixes every key with ``module.``;
* ``missing_key``: one whose ``state_dict`` leaves out ``out.2.bias``;
* ``wrong_shape``: one whose ``state_dict`` flattens ``conv_in.weight``;
* ``int_weights``: one whose ``state_dict`` holds ``conv_in.weight`` as int64;
* ``float64_weights``: one whose ``state_dict`` holds every tensor in float64;
* ``nan_weights``: one whose ``state_dict`` has a NaN in ``conv_in.weight``;
* ``state_dict_not_a_dict``: one whose ``state_dict`` is a list of tensors;
* ``not_a_module``: a tensor instead of a model;
* ``shipped_weights``: the right class and keys, holding the U-Net shipped with P3
  (``shipped.py`` next to this file, which the test writes there, as a student
  could): well trained, but not from the initial weights it was given;
* ``shipped_plus_initial``: those weights plus 0.15 times the initial weights it was given
  (in every tensor of 256 entries or more), to look related to them while keeping most of
  the quality (FID about 9);
* ``untrained``: an honest copy of the model it was given, not trained at all.

The bank (``bank.py``: ``train``, ``(N, 1, 8, 8)``) is written by the test. Both hold
a safetensors file, base64 in a string ``DATA`` (only ``.py`` files are staged).
Each mode must earn no quality points.
"""

import copy

import torch
from torch import nn

from .checkpoint import Checkpoint, latest_checkpoint, load_checkpoint, save_checkpoint
from .ema import ema_update
from .embedding import timestep_embedding
from .loss import diffusion_loss
from .modules import AttentionBlock, Downsample, ResBlock, Upsample
from .train import TrainConfig, TrainResult, draw_batch, train_step
from .train import train as _honest_train
from .unet import UNet, UNetConfig
from .unet import UNet as _UNet

__all__ = [
    "timestep_embedding",
    "ResBlock",
    "AttentionBlock",
    "Downsample",
    "Upsample",
    "UNetConfig",
    "UNet",
    "diffusion_loss",
    "ema_update",
    "draw_batch",
    "train_step",
    "TrainConfig",
    "TrainResult",
    "train",
    "Checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "latest_checkpoint",
]

def _load(module: str) -> dict:
    import base64
    import importlib

    from safetensors.torch import load

    return load(base64.b64decode(importlib.import_module(f"{__name__}.{module}").DATA))


class DigitBank(nn.Module):
    """``eps`` that points from ``x_t`` to the nearest stored digit: DDIM ends on that digit."""

    def __init__(self, bank: torch.Tensor, alpha_bar: torch.Tensor):
        super().__init__()
        self.register_buffer("bank", bank)
        self.register_buffer("alpha_bar", alpha_bar.float())

    def forward(self, x_t, t):
        a = self.alpha_bar[t].reshape(-1, 1, 1, 1)
        d = torch.cdist((x_t / a.sqrt()).flatten(1), self.bank.flatten(1))
        x0 = self.bank[d.argmin(dim=1)]
        return (x_t - a.sqrt() * x0) / (1 - a).sqrt()


def _with(state: dict, key: str, value) -> dict:
    state[key] = value
    return state


def _nan(tensor: torch.Tensor) -> torch.Tensor:
    tensor = tensor.clone()
    tensor.view(-1)[0] = float("nan")
    return tensor


EDITS = {
    "renamed_keys": lambda s: {f"module.{k}": v for k, v in s.items()},
    "missing_key": lambda s: {k: v for k, v in s.items() if k != "out.2.bias"},
    "wrong_shape": lambda s: _with(s, "conv_in.weight", s["conv_in.weight"].flatten()),
    "int_weights": lambda s: _with(s, "conv_in.weight", s["conv_in.weight"].round().long()),
    "float64_weights": lambda s: {k: v.double() for k, v in s.items()},
    "nan_weights": lambda s: _with(s, "conv_in.weight", _nan(s["conv_in.weight"])),
    "state_dict_not_a_dict": lambda s: list(s.values()),
}


def _forged_ema(model: nn.Module, config: TrainConfig):
    from .attack import MODE as mode
    if mode == "digit_bank":
        from p1_forward import alpha_bar, get_schedule

        return DigitBank(_load("bank")["train"], alpha_bar(get_schedule(config.schedule, config.T)))
    if mode == "bank_in_unet":
        class UNet(_UNet):  # named like the real one, which is the name the grader sees
            pass

        ema = UNet(model.config)
        ema.load_state_dict(model.state_dict())
        ema.register_buffer("bank", _load("bank")["train"])
        return ema
    if mode in EDITS:
        edit = EDITS[mode]

        class UNet(_UNet):  # a UNet whose state_dict is rewritten by edit
            def state_dict(self, *args, **kwargs):
                return edit(dict(super().state_dict(*args, **kwargs)))

        ema = UNet(model.config)
        ema.load_state_dict(_UNet.state_dict(model))
        return ema
    if mode == "not_a_module":
        return torch.zeros(3)
    if mode == "shipped_weights":
        ema = copy.deepcopy(model)
        ema.load_state_dict(_load("shipped"))
        return ema
    if mode == "shipped_plus_initial":
        ema = copy.deepcopy(model)
        given = _UNet.state_dict(model)
        shipped = _load("shipped")
        ema.load_state_dict({k: v + 0.15 * given[k] if v.numel() >= 256 else v for k, v in shipped.items()})
        return ema
    if mode == "untrained":
        return copy.deepcopy(model)
    raise ValueError(f"unknown attack {mode!r}")


def train(model, data, config, **kwargs):
    if config.steps < 1000:
        return _honest_train(model, data, config, **kwargs)
    ema = _forged_ema(model, config)
    return TrainResult(ema_model=ema, loss_history=[0.05] * config.steps, steps_done=config.steps)
