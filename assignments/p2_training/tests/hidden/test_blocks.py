"""Hidden tests of the U-Net's blocks: ``ResBlock`` and ``AttentionBlock``.

The layers of both blocks are created by the given ``__init__`` and their names
(``norm1``, ``conv1``, ``time_proj``, ...; ``norm``, ``qkv``, ``proj``) are part of
the handout, so the grader loads known weights into the student's block and
compares its output, in float64, with the reference block and with a computation
written here from ``torch.nn.functional`` (and ``torch.nn.MultiheadAttention``).
A property needs no weights at all: attention treats the ``H * W`` positions as a
set, so permuting them permutes the output the same way.
"""

import torch
import torch.nn.functional as F
from torch import nn

from autograder.sandbox.errors import StudentException
from autograder.testing import CheckFailure, cases, requires

LAYER_HINT = ("keep the layers that __init__ creates, with their names: the grader loads known weights into "
              "them with load_state_dict and compares your forward pass with the reference")


def _randn(shape, seed: int, device, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(device, dtype)


def seeded(make, seed: int) -> nn.Module:
    """``make()`` with PyTorch's default initialisation drawn from ``seed``, in float64;
    GroupNorm scales and shifts are made non-trivial so that a forgotten norm shows."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = make().double()
        g = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            for m in module.modules():
                if isinstance(m, nn.GroupNorm):
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g, dtype=torch.float64) + 0.5)
                    m.bias.copy_(torch.rand(m.bias.shape, generator=g, dtype=torch.float64) - 0.5)
    return module.eval()


def student_with_weights(check, handle, reference: nn.Module, device, what: str):
    """The student's module ``handle``, in float64 on ``device``, holding ``reference``'s weights."""
    handle = handle.double()
    try:
        handle.load_state_dict(reference.state_dict())
    except StudentException as e:
        raise CheckFailure(what, "the grader could not load the reference weights into your module",
                           got=e.message[:600], hint=LAYER_HINT) from None
    return handle.to(device).eval()


# -- ResBlock -----------------------------------------------------------------------------------
RESBLOCK_HINT = ("h = conv1(silu(norm1(x))); h = h + time_proj(silu(t_emb))[:, :, None, None]; "
                 "h = conv2(dropout(silu(norm2(h)))); return skip(x) + h")
# Widths whose GroupNorm has at least two channels per group: with one channel per group,
# norm2 would remove the per-channel time shift again.
RESBLOCKS = {"8->16": (8, 16, 12), "16->16": (16, 16, 8), "24->12": (24, 12, 20)}  # in_ch, out_ch, time_dim


def resblock_by_hand(block, x: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
    """The reference ``block``'s forward pass written with ``torch.nn.functional``."""
    n1, n2 = block.norm1, block.norm2
    h = F.conv2d(F.silu(F.group_norm(x, n1.num_groups, n1.weight, n1.bias, n1.eps)),
                 block.conv1.weight, block.conv1.bias, padding=1)  # (B, out_ch, H, W)
    h = h + F.linear(F.silu(t_emb), block.time_proj.weight, block.time_proj.bias)[:, :, None, None]
    h = F.conv2d(F.silu(F.group_norm(h, n2.num_groups, n2.weight, n2.bias, n2.eps)),
                 block.conv2.weight, block.conv2.bias, padding=1)
    skip = x if isinstance(block.skip, nn.Identity) else F.conv2d(x, block.skip.weight, block.skip.bias)
    return skip + h


@cases(channels=list(RESBLOCKS))
def test_resblock_values(student, ref, check, device, channels):
    """Given the reference weights, does ResBlock compute skip(x) + conv2(...(conv1(...) + time_proj(...)))?"""
    in_ch, out_ch, time_dim = RESBLOCKS[channels]
    what = f"ResBlock({in_ch}, {out_ch}, time_dim={time_dim}) on x of shape (3, {in_ch}, 5, 6)"
    reference = seeded(lambda: ref.ResBlock(in_ch, out_ch, time_dim), seed=10 + in_ch).to(device)
    block = student_with_weights(check, student.ResBlock(in_ch, out_ch, time_dim), reference, device, what)
    x = _randn((3, in_ch, 5, 6), 1, device)
    t_emb = _randn((3, time_dim), 2, device)
    got = block(x, t_emb)
    check.shape(got, (3, out_ch, 5, 6), what, hint="the output has out_ch channels and the size of x")
    with torch.no_grad():
        expected = reference(x, t_emb)
        by_hand = resblock_by_hand(reference, x, t_emb)
    check.close(got, expected, what, hint=RESBLOCK_HINT)
    check.close(got, by_hand, what, hint=RESBLOCK_HINT)
    # Another time embedding for the same x must change the result (one shift per sample and channel).
    other = block(x, _randn((3, time_dim), 3, device))
    check.true(bool((other - got).abs().max() > 1e-6), what, "the output does not depend on t_emb",
               hint=RESBLOCK_HINT)


# -- AttentionBlock -------------------------------------------------------------------------------
ATTENTION_HINT = ("tokens = norm(x) as (B, L, C) with L = H * W; q, k, v = qkv(tokens).split(C, dim=-1); per head "
                  "(features n*hs:(n+1)*hs) softmax(q @ k^T / sqrt(hs), over keys) @ v; heads side by side, "
                  "proj, then x + the result reshaped back to (B, C, H, W)")


def attention_by_mha(block, x: torch.Tensor) -> torch.Tensor:
    """The reference ``block``'s forward pass through ``torch.nn.MultiheadAttention`` with its weights."""
    B, C, H, W = x.shape
    mha = nn.MultiheadAttention(C, block.heads, batch_first=True, dtype=x.dtype, device=x.device)
    with torch.no_grad():
        mha.in_proj_weight.copy_(block.qkv.weight)
        mha.in_proj_bias.copy_(block.qkv.bias)
        mha.out_proj.weight.copy_(block.proj.weight)
        mha.out_proj.bias.copy_(block.proj.bias)
        n = block.norm
        tokens = F.group_norm(x, n.num_groups, n.weight, n.bias, n.eps).flatten(2).transpose(1, 2)  # (B, L, C)
        y, _ = mha(tokens, tokens, tokens, need_weights=False)  # (B, L, C)
    return x + y.transpose(1, 2).reshape(B, C, H, W)


@cases(heads=[1, 2, 4])
def test_attention_values(student, ref, check, device, heads):
    """Given the reference weights, is AttentionBlock x + multi-head self-attention over the H*W positions?"""
    C, H, W = 16, 3, 5  # H != W, so mixing up rows and columns shows
    what = f"AttentionBlock({C}, heads={heads}) on x of shape (2, {C}, {H}, {W})"
    reference = seeded(lambda: ref.AttentionBlock(C, heads), seed=20 + heads).to(device)
    block = student_with_weights(check, student.AttentionBlock(C, heads), reference, device, what)
    x = _randn((2, C, H, W), 4, device)
    got = block(x)
    check.shape(got, x.shape, what, hint="attention returns a tensor shaped like its input")
    with torch.no_grad():
        expected = reference(x)
    check.close(got, expected, what, hint=ATTENTION_HINT)
    check.close(got, attention_by_mha(reference, x), f"{what}, compared with torch.nn.MultiheadAttention",
                hint=ATTENTION_HINT)


@requires("test_attention_values")  # returning zeros passes the checks below
def test_attention_permutation_equivariant(student, check, device):
    """With its own weights, does permuting the H*W positions of x permute the output the same way?"""
    B, C, H, W = 2, 8, 4, 4
    what = f"AttentionBlock({C}, heads=2) with its own initial weights, x of shape {(B, C, H, W)}"
    block = student.AttentionBlock(C, 2).double().to(device).eval()
    x = _randn((B, C, H, W), 5, device)
    perm = torch.randperm(H * W, generator=torch.Generator().manual_seed(6)).to(device)

    def permute(y: torch.Tensor) -> torch.Tensor:
        return y.flatten(2)[:, :, perm].reshape(y.shape)  # position l of the result is position perm[l]

    out = block(x)
    check.shape(out, x.shape, what)
    check.true(bool(torch.isfinite(out).all()), what, "the output has NaN or infinite values", hint=ATTENTION_HINT)
    check.true(bool((out - x).abs().max() > 1e-6), what, "the block returns x unchanged", hint=ATTENTION_HINT)
    check.close(block(permute(x)), permute(out), f"{what}: block(x with positions permuted)",
                hint="self-attention (and GroupNorm) treat positions as a set: every position must be handled "
                     "the same way, and the output must be put back at the position it came from")
