"""A small U-Net that predicts the noise ``eps`` of ``x_t`` (DDPM, Sec. 4 and Appendix B).

Encoder and decoder at ``len(channel_mults)`` resolutions, joined by skip
connections, with the timestep fed to every residual block through a learned
embedding, and self-attention at the resolutions listed in the config.
"""

from dataclasses import dataclass

import torch
from torch import nn

from .embedding import timestep_embedding
from .modules import AttentionBlock, Downsample, ResBlock, Upsample, group_norm


@dataclass(frozen=True)
class UNetConfig:
    """Shape of the U-Net; the defaults suit 8x8 grey digits.

    ``channel_mults[i] * base_channels`` is the width at level ``i``; level ``i``
    has resolution ``image_size / 2**i``. ``attention_resolutions`` lists the
    resolutions (in pixels, e.g. ``4`` for 4x4) that get an ``AttentionBlock``
    after each ``ResBlock``. ``time_dim=None`` means ``4 * base_channels``.
    """

    in_channels: int = 1
    base_channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2)
    num_res_blocks: int = 1
    attention_resolutions: tuple[int, ...] = (4,)
    time_dim: int | None = None
    dropout: float = 0.0
    image_size: int = 8
    attention_heads: int = 1

    def __post_init__(self):
        if not self.channel_mults or self.num_res_blocks < 1:
            raise ValueError("channel_mults must be non-empty and num_res_blocks at least 1")
        if self.image_size % 2 ** (len(self.channel_mults) - 1) != 0:
            raise ValueError(f"image_size={self.image_size} must be divisible by "
                             f"2**{len(self.channel_mults) - 1} for channel_mults={self.channel_mults}")

    @property
    def time_embed_dim(self) -> int:
        """Width of the time embedding given to every ``ResBlock``."""
        return self.time_dim if self.time_dim is not None else 4 * self.base_channels


def _run(layers: nn.ModuleList, h: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
    """Apply ``layers`` in order; a ``ResBlock`` also gets ``t_emb``."""
    for layer in layers:
        h = layer(h, t_emb) if isinstance(layer, ResBlock) else layer(h)
    return h


class UNet(nn.Module):
    """``eps = UNet(config)(x_t, t)``.

    Layers (given), in the order ``forward`` uses them:

    - ``time_embed``: ``Linear(base, time_dim) -> SiLU -> Linear(time_dim, time_dim)``,
      applied to ``timestep_embedding(t, base_channels)``; its output ``t_emb``
      goes to every ``ResBlock``.
    - ``conv_in``: 3x3 conv ``in_channels -> base_channels``.
    - ``down``: a list of stages, each a ``ModuleList`` (a ``ResBlock``, maybe
      followed by an ``AttentionBlock``; or a single ``Downsample``). The output
      of ``conv_in`` and of every down stage is kept as a skip connection.
    - ``mid``: ``ResBlock, AttentionBlock, ResBlock``.
    - ``up``: a list of stages; each takes ``cat([h, skip], dim=1)`` with the most
      recently kept skip (last in, first out), then runs its layers (a ``ResBlock``,
      maybe an ``AttentionBlock``, maybe an ``Upsample``). There are exactly as
      many up stages as kept skips.
    - ``out``: ``GroupNorm -> SiLU -> 3x3 conv base_channels -> in_channels``.
    """

    def __init__(self, config: UNetConfig = UNetConfig()):
        super().__init__()
        self.config = config
        base, temb = config.base_channels, config.time_embed_dim
        heads, dropout = config.attention_heads, config.dropout
        last = len(config.channel_mults) - 1

        self.time_embed = nn.Sequential(nn.Linear(base, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(config.in_channels, base, 3, padding=1)

        self.down = nn.ModuleList()
        skip_channels = [base]  # channels of each kept skip, in the order kept
        ch, res = base, config.image_size
        for level, mult in enumerate(config.channel_mults):
            for _ in range(config.num_res_blocks):
                stage = [ResBlock(ch, mult * base, temb, dropout)]
                ch = mult * base
                if res in config.attention_resolutions:
                    stage.append(AttentionBlock(ch, heads))
                self.down.append(nn.ModuleList(stage))
                skip_channels.append(ch)
            if level != last:
                self.down.append(nn.ModuleList([Downsample(ch)]))
                res //= 2
                skip_channels.append(ch)

        self.mid = nn.ModuleList([
            ResBlock(ch, ch, temb, dropout),
            AttentionBlock(ch, heads),
            ResBlock(ch, ch, temb, dropout),
        ])

        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(config.channel_mults))):
            for i in range(config.num_res_blocks + 1):
                stage = [ResBlock(ch + skip_channels.pop(), mult * base, temb, dropout)]
                ch = mult * base
                if res in config.attention_resolutions:
                    stage.append(AttentionBlock(ch, heads))
                if level != 0 and i == config.num_res_blocks:
                    stage.append(Upsample(ch))
                    res *= 2
                self.up.append(nn.ModuleList(stage))

        self.out = nn.Sequential(group_norm(ch), nn.SiLU(), nn.Conv2d(ch, config.in_channels, 3, padding=1))

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``x_t``: ``(B, in_channels, image_size, image_size)``; ``t``: LongTensor ``(B,)``.

        Returns the predicted noise ``eps``, shaped like ``x_t``. The time
        embedding is cast to the dtype of ``x_t`` before ``time_embed``.
        """
        emb = timestep_embedding(t, self.config.base_channels).to(x_t.dtype)  # (B, base)
        t_emb = self.time_embed(emb)  # (B, time_dim)
        h = self.conv_in(x_t)  # (B, base, H, W)
        skips = [h]
        for stage in self.down:
            h = _run(stage, h, t_emb)
            skips.append(h)
        h = _run(self.mid, h, t_emb)
        for stage in self.up:
            h = torch.cat([h, skips.pop()], dim=1)  # (B, ch + skip_ch, h, w)
            h = _run(stage, h, t_emb)
        return self.out(h)
