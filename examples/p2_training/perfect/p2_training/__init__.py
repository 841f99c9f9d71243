"""P2: training a noise-prediction U-Net with the DDPM objective.

Conventions as in P1: 0-indexed ``t`` in ``[0, T)``, images ``(B, C, H, W)`` in
``[-1, 1]``, a model is called as ``model(x_t, t)`` with ``t`` a LongTensor
``(B,)`` and returns ``eps`` shaped like ``x_t``. The forward process comes from
P1 (``from p1_forward import q_sample``).
"""

from .checkpoint import Checkpoint, latest_checkpoint, load_checkpoint, save_checkpoint
from .ema import ema_update
from .embedding import timestep_embedding
from .loss import diffusion_loss
from .modules import AttentionBlock, Downsample, ResBlock, Upsample
from .train import TrainConfig, TrainResult, draw_batch, train, train_step
from .unet import UNet, UNetConfig

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
