"""Cross-attention: image features attend to text tokens (Rombach et al. 2022, Sec. 3.3).

Symbols: ``x`` the queries ``(B, N, query_dim)`` (``N = H * W`` pixels of a feature
map); ``context`` the keys and values ``(B, L, context_dim)`` (``L`` tokens of a
caption); ``mask`` ``(B, L)`` bool, ``True`` for a real token and ``False`` for
padding; ``nh`` heads of size ``dh``, ``inner = nh * dh``.
"""

import math

import torch
from torch import nn


class CrossAttention(nn.Module):
    """Multi-head attention with queries from ``x`` and keys and values from ``context``.

    Layers (given): ``to_q`` (Linear ``query_dim -> inner``, no bias), ``to_k`` and
    ``to_v`` (Linear ``context_dim -> inner``, no bias), ``to_out`` (Linear
    ``inner -> query_dim``).
    """

    def __init__(self, query_dim: int, context_dim: int, heads: int = 4, dim_head: int = 16):
        super().__init__()
        if heads < 1 or dim_head < 1:
            raise ValueError(f"heads={heads} and dim_head={dim_head} must be at least 1")
        self.heads, self.dim_head = heads, dim_head
        inner = heads * dim_head
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        self.to_out = nn.Linear(inner, query_dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x``: ``(B, N, query_dim)``; ``context``: ``(B, L, context_dim)``; ``mask``: ``(B, L)`` bool or None
        (every token real). Returns ``(B, N, query_dim)``.

        Head ``n`` uses features ``n * dh : (n + 1) * dh`` of ``to_q(x)``, ``to_k(context)`` and
        ``to_v(context)``; per head, ``softmax(q k^T / sqrt(dh)) v`` with the softmax over the ``L``
        tokens, where a padding token gets weight exactly 0. The heads are put back side by side in
        order, then ``to_out``. Every sample must keep at least one token: a ``mask`` with a row of
        only ``False`` raises ``ValueError``, as does a ``mask`` that is not ``(B, L)``.
        """
        # BEGIN SOLUTION
        B, N, _ = x.shape
        L = context.shape[1]
        if mask is not None:
            if tuple(mask.shape) != (B, L):
                raise ValueError(f"mask must have shape {(B, L)} (batch, tokens), got {tuple(mask.shape)}")
            if not bool(mask.any(dim=1).all()):
                raise ValueError("every sample's mask must keep at least one token")
        nh, dh = self.heads, self.dim_head
        q = self.to_q(x).reshape(B, N, nh, dh).transpose(1, 2)  # (B, nh, N, dh)
        k = self.to_k(context).reshape(B, L, nh, dh).transpose(1, 2)  # (B, nh, L, dh)
        v = self.to_v(context).reshape(B, L, nh, dh).transpose(1, 2)  # (B, nh, L, dh)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(dh)  # (B, nh, N, L)
        if mask is not None:
            scores = scores.masked_fill(~mask.bool()[:, None, None, :], float("-inf"))
        y = scores.softmax(dim=-1) @ v  # (B, nh, N, dh)
        return self.to_out(y.transpose(1, 2).reshape(B, N, nh * dh))
        # END SOLUTION
