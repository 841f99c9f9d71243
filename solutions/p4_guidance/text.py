"""Text encoders behind one interface: token ids ``(B, L)`` and a mask ``(B, L)`` in,
token embeddings ``(B, L, D)`` and the same mask out.

Captions become ids with ``autograder.data.tokenize`` (a word-level tokenizer built from
the shapes grammar's vocabulary: PAD = 0, UNK = 1, BOS = 2, EOS = 3; every caption is
``[BOS, words..., EOS]``, so even the empty prompt keeps two real tokens).
"""

import torch
from torch import nn


class TokenTextEncoder(nn.Module):
    """Learned word embeddings, learned positions, then a small transformer (pre-norm), trained with the U-Net.

    ``encoder(ids, mask) -> (tokens, mask)``: ``ids`` int64 ``(B, L)``, ``mask`` bool ``(B, L)``,
    ``tokens`` ``(B, L, dim)``. Padding positions take part in nothing: the transformer's
    attention ignores them, and their output vectors are zero.
    """

    def __init__(self, vocab_size: int, dim: int = 64, layers: int = 2, heads: int = 4, max_len: int = 48):
        super().__init__()
        self.dim, self.max_len = dim, max_len
        self.embed = nn.Embedding(vocab_size, dim)
        self.position = nn.Parameter(torch.zeros(max_len, dim))
        nn.init.normal_(self.position, std=0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=4 * dim, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, L = ids.shape
        if L > self.max_len:
            raise ValueError(f"{L} tokens are more than max_len={self.max_len}")
        if tuple(mask.shape) != (B, L):
            raise ValueError(f"mask must have shape {(B, L)}, got {tuple(mask.shape)}")
        mask = mask.bool()
        h = self.embed(ids) + self.position[:L]  # (B, L, dim)
        h = self.transformer(h, src_key_padding_mask=~mask)
        return self.norm(h) * mask[..., None], mask
