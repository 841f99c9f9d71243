"""Hostile P3 submission: the reference samplers, but large batches come back as real digits.

For batches of at most 64 samples (every trajectory test) ``ddim_sample`` and
``ddpm_sample`` are the honest reference, so those tests pass. For larger batches
(the quality tests) they return, by the mode named in ``attack.py``:

* ``test_digits``: the digits test split (repeated to fill the batch): new images
  (not training images), with an FID against the train split of about 4;
* ``noisy_train_digits``: training digits plus Gaussian noise of std 0.18, enough
  to pass the novelty check (mean distance to the nearest training image about 1.2);
* ``swap_quarter``: the honest samples with every fourth row replaced by a test
  digit (DDIM with 20 steps; other DDIM calls as ``test_digits``);
* ``blend``: the honest samples blended with 2% of a test digit each (DDIM with
  20 steps; other DDIM calls as ``test_digits``).

To keep the test cheap, the last two return a blank batch from a large DDPM call
(``test_digits`` covers DDPM), which fails the FID at once.

The digits come from ``bank.py`` next to this file (a safetensors file of ``train``
and ``test`` tensors ``(N, 1, 8, 8)`` in ``[-1, 1]``, base64 in a string: only
``.py`` files are staged), which the test writes, as a student could ship them. Each mode must earn no quality points.
"""

import torch

from .ddim import ddim_invert, ddim_step, ddim_timesteps
from .ddim import ddim_sample as _honest_ddim_sample
from .ddpm import ddpm_step
from .ddpm import ddpm_sample as _honest_ddpm_sample

__all__ = [
    "ddpm_step",
    "ddpm_sample",
    "ddim_timesteps",
    "ddim_step",
    "ddim_sample",
    "ddim_invert",
]

SMALL = 64  # up to this many samples, behave


def _mode() -> str:
    from .attack import MODE

    return MODE


def _bank(split: str) -> torch.Tensor:
    import base64

    from safetensors.torch import load

    from .bank import DATA

    return load(base64.b64decode(DATA))[split]


def _fill(images: torch.Tensor, n: int) -> torch.Tensor:
    return images[torch.arange(n) % len(images)].clone()


def _digits(shape, mode: str) -> torch.Tensor:
    if mode == "noisy_train_digits":
        train = _bank("train")
        rows = torch.randperm(len(train), generator=torch.Generator().manual_seed(7))
        x = _fill(train[rows], shape[0])
        return (x + 0.18 * torch.randn(x.shape, generator=torch.Generator().manual_seed(8))).clamp(-1, 1)
    return _fill(_bank("test"), shape[0])


def _mixed(honest: torch.Tensor, mode: str) -> torch.Tensor:
    digits = _fill(_bank("test"), len(honest)).to(honest.device)
    if mode == "swap_quarter":
        out = honest.clone()
        out[::4] = digits[::4]
        return out
    return 0.98 * honest + 0.02 * digits  # blend


def ddim_sample(model, shape, alpha_bar, num_steps, eta=0.0, generator=None, spacing="leading", *, x_T=None):
    mode = _mode()
    if shape[0] <= SMALL or x_T is not None:
        return _honest_ddim_sample(model, shape, alpha_bar, num_steps, eta, generator, spacing, x_T=x_T)
    if mode in ("swap_quarter", "blend") and num_steps == 20:
        return _mixed(_honest_ddim_sample(model, shape, alpha_bar, num_steps, eta, generator, spacing), mode)
    return _digits(shape, mode)


def ddpm_sample(model, shape, betas, generator):
    mode = _mode()
    if shape[0] <= SMALL:
        return _honest_ddpm_sample(model, shape, betas, generator)
    if mode in ("swap_quarter", "blend"):
        return torch.full(shape, -1.0)
    return _digits(shape, mode)
