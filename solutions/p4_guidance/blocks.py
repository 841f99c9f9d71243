"""The conditioned U-Net: P2's U-Net with a cross-attention block after each self-attention.

Symbols as in P2 (``x`` a feature map ``(B, C, H, W)``, ``t`` a LongTensor ``(B,)``),
plus the text condition: ``context`` ``(B, L, D)`` token embeddings and ``mask``
``(B, L)`` bool (``True`` for a real token).
"""

from dataclasses import dataclass

import torch
from torch import nn

from p2_training import AttentionBlock, ResBlock, UNet, UNetConfig, timestep_embedding
from p2_training.modules import group_norm

from .attention import CrossAttention


class CrossAttentionBlock(nn.Module):
    """Every pixel of a feature map attends to the caption's tokens, with a residual connection.

    Layers (given): ``norm`` (GroupNorm over ``channels``) and ``attn``
    (``CrossAttention(channels, context_dim, heads, dim_head)``).
    """

    def __init__(self, channels: int, context_dim: int, heads: int = 4, dim_head: int = 16):
        super().__init__()
        self.norm = group_norm(channels)
        self.attn = CrossAttention(channels, context_dim, heads, dim_head)

    def forward(self, x: torch.Tensor, context: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """``x``: ``(B, C, H, W)``. Returns ``x + attn(tokens, context, mask)`` back in ``(B, C, H, W)``,
        where ``tokens = norm(x)`` as ``(B, H * W, C)`` with position ``l = i * W + j`` holding pixel ``(i, j)``."""
        # BEGIN SOLUTION
        B, C, H, W = x.shape
        tokens = self.norm(x).reshape(B, C, H * W).transpose(1, 2)  # (B, HW, C)
        y = self.attn(tokens, context, mask)  # (B, HW, C)
        return x + y.transpose(1, 2).reshape(B, C, H, W)
        # END SOLUTION


@dataclass(frozen=True)
class CondUNetConfig(UNetConfig):
    """P2's ``UNetConfig`` plus the text condition: ``context_dim`` (``D`` of the tokens) and the
    cross-attention's ``cross_heads`` and ``cross_dim_head``. RGB shapes at 16x16 by default."""

    in_channels: int = 3
    image_size: int = 16
    channel_mults: tuple[int, ...] = (1, 2)
    attention_resolutions: tuple[int, ...] = (8,)
    context_dim: int = 64
    cross_heads: int = 4
    cross_dim_head: int = 16


class CondUNet(UNet):
    """``eps = CondUNet(config)(x_t, t, context, mask)``.

    The layers of P2's ``UNet``, with a ``CrossAttentionBlock`` inserted right after
    every ``AttentionBlock`` (in ``down``, ``mid`` and ``up``). A ``ResBlock`` gets the
    time embedding; a ``CrossAttentionBlock`` gets ``context`` and ``mask``.
    """

    def __init__(self, config: CondUNetConfig = CondUNetConfig()):
        super().__init__(config)

        def with_cross(stage: nn.ModuleList) -> nn.ModuleList:
            out = []
            for layer in stage:
                out.append(layer)
                if isinstance(layer, AttentionBlock):
                    out.append(CrossAttentionBlock(layer.proj.in_features, config.context_dim,
                                                   config.cross_heads, config.cross_dim_head))
            return nn.ModuleList(out)

        self.down = nn.ModuleList(with_cross(s) for s in self.down)
        self.mid = with_cross(self.mid)
        self.up = nn.ModuleList(with_cross(s) for s in self.up)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, context: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        emb = timestep_embedding(t, self.config.base_channels).to(x_t.dtype)
        t_emb = self.time_embed(emb)
        context = context.to(x_t.dtype)

        def run(layers: nn.ModuleList, h: torch.Tensor) -> torch.Tensor:
            for layer in layers:
                if isinstance(layer, ResBlock):
                    h = layer(h, t_emb)
                elif isinstance(layer, CrossAttentionBlock):
                    h = layer(h, context, mask)
                else:
                    h = layer(h)
            return h

        h = self.conv_in(x_t)
        skips = [h]
        for stage in self.down:
            h = run(stage, h)
            skips.append(h)
        h = run(self.mid, h)
        for stage in self.up:
            h = run(stage, torch.cat([h, skips.pop()], dim=1))
        return self.out(h)
