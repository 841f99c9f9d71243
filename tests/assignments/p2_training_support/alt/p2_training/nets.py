"""The network half: time embedding, blocks and U-Net, written without the reference at hand."""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000) -> torch.Tensor:
    """``[cos(t f_k) | sin(t f_k) | 0 if dim is odd]`` with ``f_k = max_period ** (-k / half)``; float32."""
    half = dim // 2
    out = torch.zeros(t.shape[0], dim, dtype=torch.float32, device=t.device)
    if half == 0:
        return out
    exponents = torch.arange(half, dtype=torch.float64, device=t.device) / half
    freqs = torch.pow(torch.tensor(float(max_period), dtype=torch.float64, device=t.device), -exponents)
    angles = torch.outer(t.to(torch.float64), freqs)  # (B, half)
    out[:, :half] = torch.cos(angles).float()
    out[:, half:2 * half] = torch.sin(angles).float()
    return out


def _groups(channels: int) -> int:
    return math.gcd(8, channels)


class ResBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, time_dim: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(in_ch), in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.time_proj = nn.Linear(time_dim, out_ch)
        self.norm2 = nn.GroupNorm(_groups(out_ch), out_ch)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
        shift = self.time_proj(F.silu(t_emb)).unsqueeze(-1).unsqueeze(-1)  # (B, out_ch, 1, 1)
        h = self.conv1(F.silu(self.norm1(x))) + shift
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return h + self.skip(x)


class AttentionBlock(nn.Module):
    def __init__(self, channels: int, heads: int = 1):
        super().__init__()
        if heads < 1 or channels % heads:
            raise ValueError(f"heads={heads} must be at least 1 and divide channels={channels}")
        self.heads = heads
        self.norm = nn.GroupNorm(_groups(channels), channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        tokens = self.norm(x).flatten(2).permute(0, 2, 1)  # (B, L, C)
        q, k, v = self.qkv(tokens).chunk(3, dim=-1)

        def split(z):  # (B, L, C) -> (B, heads, L, C / heads)
            return z.unflatten(-1, (self.heads, C // self.heads)).permute(0, 2, 1, 3)

        y = F.scaled_dot_product_attention(split(q), split(k), split(v))  # (B, heads, L, hs)
        y = self.proj(y.permute(0, 2, 1, 3).flatten(2))  # (B, L, C)
        return x + y.permute(0, 2, 1).unflatten(-1, (H, W))


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3))


@dataclass(frozen=True)
class UNetConfig:
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
        if self.image_size % (1 << (len(self.channel_mults) - 1)):
            raise ValueError(f"image_size={self.image_size} is not divisible by 2**{len(self.channel_mults) - 1}")

    @property
    def time_embed_dim(self) -> int:
        return self.time_dim or 4 * self.base_channels


class UNet(nn.Module):
    def __init__(self, config: UNetConfig = UNetConfig()):
        super().__init__()
        self.config = c = config
        base, temb = c.base_channels, c.time_embed_dim
        widths = [m * base for m in c.channel_mults]
        levels = len(widths)

        def res(i, o):
            return ResBlock(i, o, temb, c.dropout)

        def attend(size, ch):
            return [AttentionBlock(ch, c.attention_heads)] if size in c.attention_resolutions else []

        self.time_embed = nn.Sequential(nn.Linear(base, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(c.in_channels, base, 3, padding=1)
        kept, ch, size, down = [base], base, c.image_size, []
        for level, width in enumerate(widths):
            for _ in range(c.num_res_blocks):
                down.append(nn.ModuleList([res(ch, width), *attend(size, width)]))
                ch = width
                kept.append(ch)
            if level < levels - 1:
                down.append(nn.ModuleList([Downsample(ch)]))
                kept.append(ch)
                size //= 2
        self.down = nn.ModuleList(down)
        self.mid = nn.ModuleList([res(ch, ch), AttentionBlock(ch, c.attention_heads), res(ch, ch)])
        up = []
        for level in range(levels - 1, -1, -1):
            width = widths[level]
            for i in range(c.num_res_blocks + 1):
                layers = [res(ch + kept.pop(), width), *attend(size, width)]
                ch = width
                if level > 0 and i == c.num_res_blocks:
                    layers.append(Upsample(ch))
                    size *= 2
                up.append(nn.ModuleList(layers))
        self.up = nn.ModuleList(up)
        self.out = nn.Sequential(nn.GroupNorm(_groups(ch), ch), nn.SiLU(), nn.Conv2d(ch, c.in_channels, 3, padding=1))

    @staticmethod
    def _stage(layers, h, t_emb):
        for layer in layers:
            h = layer(h, t_emb) if isinstance(layer, ResBlock) else layer(h)
        return h

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t_emb = self.time_embed(timestep_embedding(t, self.config.base_channels).type(x_t.dtype))
        h = self.conv_in(x_t)
        stack = [h]
        for layers in self.down:
            h = self._stage(layers, h, t_emb)
            stack.append(h)
        h = self._stage(self.mid, h, t_emb)
        for layers in self.up:
            h = self._stage(layers, torch.cat((h, stack.pop()), 1), t_emb)
        return self.out(h)
