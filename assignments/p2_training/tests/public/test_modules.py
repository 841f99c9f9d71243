"""Public tests for ``p2_training/modules.py``: ``ResBlock`` and ``AttentionBlock``.

Only shapes and simple properties here; the hidden tests load known weights into
your blocks and compare the outputs with the reference.
"""

import torch

from p2_training import AttentionBlock, ResBlock


def _randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_resblock_shapes():
    """Does ResBlock map (B, in_ch, H, W) to (B, out_ch, H, W), with or without a change of width?"""
    torch.manual_seed(0)
    x, t_emb = _randn(3, 8, 5, 6), _randn(3, 12, seed=1)
    assert ResBlock(8, 16, time_dim=12)(x, t_emb).shape == (3, 16, 5, 6)
    assert ResBlock(8, 8, time_dim=12)(x, t_emb).shape == (3, 8, 5, 6)


def test_resblock_uses_the_time_embedding():
    """For the same x, do two time embeddings give two different outputs?"""
    torch.manual_seed(0)
    block = ResBlock(16, 32, time_dim=8)
    x = _randn(2, 16, 4, 4)
    a, b = block(x, _randn(2, 8, seed=1)), block(x, _randn(2, 8, seed=2))
    assert (a - b).abs().max() > 1e-4


def test_attention_is_residual():
    """With the output projection set to zero, does AttentionBlock return x unchanged (x + 0)?"""
    torch.manual_seed(0)
    block = AttentionBlock(16, heads=2)
    with torch.no_grad():
        block.proj.weight.zero_()
        block.proj.bias.zero_()
    x = _randn(2, 16, 3, 5)
    out = block(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, x)


def test_attention_treats_positions_as_a_set():
    """Does permuting the H*W positions of x permute the output in the same way?"""
    torch.manual_seed(0)
    block = AttentionBlock(8, heads=2).double()
    x = _randn(2, 8, 4, 4).double()
    perm = torch.randperm(16, generator=torch.Generator().manual_seed(3))

    def permute(y):
        return y.flatten(2)[:, :, perm].reshape(y.shape)

    out = block(x)
    assert (out - x).abs().max() > 1e-6, "the block returns x unchanged"
    torch.testing.assert_close(block(permute(x)), permute(out))
