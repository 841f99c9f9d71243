"""A second, independently written P2 package: the same contract as the reference
(names, signatures, layer names, draw order, checkpoint layout), other code."""

from .nets import AttentionBlock, Downsample, ResBlock, UNet, UNetConfig, Upsample, timestep_embedding
from .training import (
    Checkpoint,
    TrainConfig,
    TrainResult,
    diffusion_loss,
    draw_batch,
    ema_update,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
    train,
    train_step,
)

__all__ = [
    "timestep_embedding", "ResBlock", "AttentionBlock", "Downsample", "Upsample", "UNetConfig", "UNet",
    "diffusion_loss", "ema_update", "draw_batch", "train_step", "TrainConfig", "TrainResult", "train",
    "Checkpoint", "save_checkpoint", "load_checkpoint", "latest_checkpoint",
]
