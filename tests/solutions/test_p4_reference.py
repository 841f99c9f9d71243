"""Tests of the P4 reference (``solutions/p4_guidance``): cross-attention, the conditioned
U-Net, condition dropout, classifier-free guidance, dynamic thresholding, guided DDIM and
the token text encoder.

Cross-attention is checked against ``torch.nn.functional.scaled_dot_product_attention``
and an einsum formula written here; guidance against its definition and P3's sampler
(``w = 1`` is plain conditional DDIM, ``w = 0`` unconditional); dynamic thresholding
against NumPy's quantile; condition dropout by replaying its draw and by a binomial bound.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.solutions.conftest import reference

p1, p3, p4 = reference("p1_forward"), reference("p3_sampling"), reference("p4_guidance")
T = 1000


def _randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _attention(seed=0, query_dim=12, context_dim=10, heads=3, dim_head=4):
    torch.manual_seed(seed)
    return p4.CrossAttention(query_dim, context_dim, heads, dim_head).double()


def _einsum_attention(att, x, context, mask):
    """Multi-head attention written from its definition, head by head."""
    nh, dh = att.heads, att.dim_head
    q = x @ att.to_q.weight.T
    k = context @ att.to_k.weight.T
    v = context @ att.to_v.weight.T
    heads = []
    for n in range(nh):
        sl = slice(n * dh, (n + 1) * dh)
        s = torch.einsum("bnd,bld->bnl", q[..., sl], k[..., sl]) / math.sqrt(dh)
        s = s.masked_fill(~mask[:, None, :], -math.inf)
        a = torch.exp(s - s.max(dim=-1, keepdim=True).values)
        a = a / a.sum(dim=-1, keepdim=True)
        heads.append(torch.einsum("bnl,bld->bnd", a, v[..., sl]))
    return torch.cat(heads, dim=-1) @ att.to_out.weight.T + att.to_out.bias


def _mask(lengths, L):
    return torch.arange(L)[None, :] < torch.tensor(lengths)[:, None]


# -- cross-attention -----------------------------------------------------------------------------

def test_cross_attention_matches_sdpa_and_einsum():
    att = _attention()
    x, ctx = _randn(3, 7, 12, seed=1), _randn(3, 5, 10, seed=2)
    mask = _mask([5, 2, 1], 5)
    got = att(x, ctx, mask)
    assert got.shape == (3, 7, 12) and got.dtype == torch.float64
    torch.testing.assert_close(got, _einsum_attention(att, x, ctx, mask), rtol=1e-12, atol=1e-12)
    q = att.to_q(x).reshape(3, 7, 3, 4).transpose(1, 2)
    k = att.to_k(ctx).reshape(3, 5, 3, 4).transpose(1, 2)
    v = att.to_v(ctx).reshape(3, 5, 3, 4).transpose(1, 2)
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
    torch.testing.assert_close(got, att.to_out(y.transpose(1, 2).reshape(3, 7, 12)), rtol=1e-12, atol=1e-12)


def test_padding_tokens_change_nothing():
    att = _attention(seed=3)
    x, ctx = _randn(2, 6, 12, seed=4), _randn(2, 5, 10, seed=5)
    mask = _mask([3, 1], 5)
    other = ctx.clone()
    other[~mask] = _randn(int((~mask).sum()), 10, seed=6) * 100
    torch.testing.assert_close(att(x, ctx, mask), att(x, other, mask), rtol=0, atol=0)
    # ... and without the mask the same change does matter
    assert not torch.allclose(att(x, ctx), att(x, other))
    # a context of length 1 is plain attention to one token: the output is to_out(to_v(c))
    one = ctx[:, :1]
    expected = att.to_out(att.to_v(one)).expand(2, 6, 12)
    torch.testing.assert_close(att(x, one, torch.ones(2, 1, dtype=torch.bool)), expected)


def test_cross_attention_refuses_bad_masks():
    att = _attention()
    x, ctx = _randn(2, 4, 12), _randn(2, 3, 10)
    with pytest.raises(ValueError, match="at least one token"):
        att(x, ctx, _mask([2, 0], 3))
    with pytest.raises(ValueError, match="shape"):
        att(x, ctx, torch.ones(2, 4, dtype=torch.bool))


def test_cross_attention_keeps_dtype():
    att = p4.CrossAttention(8, 6, 2, 4)
    x, ctx = torch.randn(1, 3, 8), torch.randn(1, 2, 6)
    assert att(x, ctx, torch.ones(1, 2, dtype=torch.bool)).dtype == torch.float32


# -- the conditioned U-Net -----------------------------------------------------------------------

def _unet(seed=0):
    torch.manual_seed(seed)
    cfg = p4.CondUNetConfig(base_channels=8, context_dim=6, cross_heads=2, cross_dim_head=4)
    return p4.CondUNet(cfg).double().eval()


def test_cross_attention_block_is_a_residual_over_pixels():
    torch.manual_seed(0)
    block = p4.CrossAttentionBlock(8, 6, 2, 4).double()
    x, ctx, mask = _randn(2, 8, 3, 3, seed=1), _randn(2, 4, 6, seed=2), _mask([4, 2], 4)
    tokens = block.norm(x).flatten(2).transpose(1, 2)  # (B, 9, 8), pixel (i, j) at i * 3 + j
    expected = x + _einsum_attention(block.attn, tokens, ctx, mask).transpose(1, 2).reshape(2, 8, 3, 3)
    torch.testing.assert_close(block(x, ctx, mask), expected)


def test_cond_unet_reads_the_caption_and_ignores_padding():
    model = _unet()
    crosses = [m for m in model.modules() if isinstance(m, p4.CrossAttentionBlock)]
    selfs = [m for m in model.modules() if isinstance(m, reference("p2_training").AttentionBlock)]
    assert len(crosses) == len(selfs) > 0
    x, t = _randn(2, 3, 16, 16, seed=1), torch.tensor([0, 999])
    ctx, mask = _randn(2, 5, 6, seed=2), _mask([5, 3], 5)
    eps = model(x, t, ctx, mask)
    assert eps.shape == x.shape and eps.dtype == torch.float64
    assert not torch.allclose(eps, model(x, t, _randn(2, 5, 6, seed=3), mask))
    padded = ctx.clone()
    padded[1, 3:] = 50.0
    torch.testing.assert_close(model(x, t, padded, mask), eps, rtol=0, atol=0)


def test_cond_unet_gradients_reach_every_parameter():
    model = _unet()
    model.train()
    eps = model(_randn(2, 3, 16, 16), torch.tensor([3, 400]), _randn(2, 4, 6, seed=1), _mask([4, 2], 4))
    eps.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    assert not missing


# -- condition dropout ---------------------------------------------------------------------------

def test_drop_condition_replays_its_draw():
    cond, null = _randn(6, 4, 3, seed=1), _randn(4, 3, seed=2)
    got, dropped = p4.drop_condition(cond, 0.5, null, torch.Generator().manual_seed(7))
    u = torch.rand(6, generator=torch.Generator().manual_seed(7))
    assert torch.equal(dropped, u < 0.5)
    for i in range(6):
        assert torch.equal(got[i], null if u[i] < 0.5 else cond[i])
    none, d0 = p4.drop_condition(cond, 0.0, null, torch.Generator().manual_seed(0))
    every, d1 = p4.drop_condition(cond, 1.0, null, torch.Generator().manual_seed(0))
    assert torch.equal(none, cond) and not d0.any()
    assert torch.equal(every, null.expand_as(cond)) and d1.all()
    with pytest.raises(ValueError):
        p4.drop_condition(cond, 1.5, null)


def test_drop_condition_rate_is_binomial():
    n, p = 20000, 0.1
    _, dropped = p4.drop_condition(torch.zeros(n, 1), p, torch.ones(1), torch.Generator().manual_seed(3))
    k = int(dropped.sum())
    sd = math.sqrt(n * p * (1 - p))
    assert abs(k - n * p) < 5 * sd  # a false alarm once in about 3.5 million runs


# -- guidance ------------------------------------------------------------------------------------

def test_guidance_formula_and_its_ends():
    u, c = _randn(2, 3, 4, 4, seed=1), _randn(2, 3, 4, 4, seed=2)
    assert torch.equal(p4.classifier_free_guidance(u, c, 0.0), u)
    assert torch.equal(p4.classifier_free_guidance(u, c, 1.0), c)
    torch.testing.assert_close(p4.classifier_free_guidance(u, c, 7.5), 7.5 * c - 6.5 * u)
    w = torch.tensor([0.0, 3.0]).double().reshape(2, 1, 1, 1)
    got = p4.classifier_free_guidance(u, c, w)
    torch.testing.assert_close(got[0], u[0])
    torch.testing.assert_close(got[1], 3 * c[1] - 2 * u[1])


class CountingModel(nn.Module):
    """``eps = x * (1 + mean of the real tokens)``, counting calls and batch sizes."""

    def __init__(self):
        super().__init__()
        self.calls: list[int] = []

    def forward(self, x, t, context, mask):
        self.calls.append(x.shape[0])
        m = mask.to(context.dtype)[..., None]
        mean = (context * m).sum(dim=(1, 2)) / m.sum(dim=(1, 2))  # (B,)
        return x * (1 + mean.reshape(-1, 1, 1, 1)) + 0.01 * t.reshape(-1, 1, 1, 1).to(x.dtype)


def test_guided_eps_is_one_forward_of_twice_the_batch():
    model = CountingModel()
    x, t = _randn(3, 1, 2, 2, seed=1), torch.tensor([5, 6, 7])
    ctx, mask = _randn(3, 4, 2, seed=2), _mask([4, 2, 1], 4)
    null, null_mask = torch.zeros(4, 2, dtype=torch.float64), _mask([1], 4)[0]
    got = p4.guided_eps(model, x, t, ctx, mask, null, null_mask, 4.0)
    assert model.calls == [6]
    cond = model(x, t, ctx, mask)
    uncond = model(x, t, null.expand(3, 4, 2), null_mask.expand(3, 4))
    torch.testing.assert_close(got, uncond + 4.0 * (cond - uncond))
    neg = _randn(4, 2, seed=9)
    with_negative = p4.guided_eps(model, x, t, ctx, mask, neg, null_mask, 4.0)
    negative = model(x, t, neg.expand(3, 4, 2), null_mask.expand(3, 4))
    torch.testing.assert_close(with_negative, negative + 4.0 * (cond - negative))


# -- dynamic thresholding ------------------------------------------------------------------------

def test_dynamic_threshold_matches_numpy():
    x0 = _randn(3, 2, 4, 4, seed=1) * torch.tensor([0.3, 2.0, 5.0], dtype=torch.float64).reshape(3, 1, 1, 1)
    got = p4.dynamic_threshold(x0, 0.9)
    for i in range(3):
        a = x0[i].numpy()
        s = max(1.0, float(np.quantile(np.abs(a), 0.9)))
        np.testing.assert_allclose(got[i].numpy(), np.clip(a, -s, s) / s, rtol=1e-12)
    inside = x0[:1].clamp(-1, 1)
    torch.testing.assert_close(p4.dynamic_threshold(inside, 0.995), inside, rtol=0, atol=0)
    assert float(got.abs().max()) <= 1.0


# -- guided DDIM ---------------------------------------------------------------------------------

def _schedule():
    return p1.alpha_bar(p1.get_schedule("linear", T))


def _prompts():
    ctx, mask = _randn(2, 4, 2, seed=2), _mask([4, 2], 4)
    null, null_mask = torch.zeros(4, 2, dtype=torch.float64), _mask([1], 4)[0]
    return ctx, mask, null, null_mask


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_guided_ddim_at_w_one_and_zero_is_plain_ddim(eta):
    model, ab = CountingModel(), _schedule()
    ctx, mask, null, null_mask = _prompts()
    shape = (2, 1, 2, 2)
    got = p4.guided_ddim_sample(model, shape, ab, 10, ctx, mask, null, null_mask, 1.0,
                                torch.Generator().manual_seed(0), eta)
    plain = p3.ddim_sample(lambda x, t: model(x, t, ctx, mask), shape, ab, 10, eta, torch.Generator().manual_seed(0))
    torch.testing.assert_close(got, plain)
    got0 = p4.guided_ddim_sample(model, shape, ab, 10, ctx, mask, null, null_mask, 0.0,
                                 torch.Generator().manual_seed(0), eta)
    uncond = p3.ddim_sample(lambda x, t: model(x, t, null.expand(2, 4, 2), null_mask.expand(2, 4)),
                            shape, ab, 10, eta, torch.Generator().manual_seed(0))
    torch.testing.assert_close(got0, uncond)
    assert set(model.calls) == {2, 4}  # the guided runs called with 2B only


def test_negative_prompt_replaces_the_null_condition():
    model, ab = CountingModel(), _schedule()
    ctx, mask, null, null_mask = _prompts()
    neg, neg_mask = _randn(4, 2, seed=5), _mask([3], 4)[0]
    got = p4.guided_ddim_sample(model, (2, 1, 2, 2), ab, 8, ctx, mask, null, null_mask, 3.0,
                                torch.Generator().manual_seed(1), negative_context=neg, negative_mask=neg_mask)
    same = p4.guided_ddim_sample(model, (2, 1, 2, 2), ab, 8, ctx, mask, neg, neg_mask, 3.0,
                                 torch.Generator().manual_seed(1))
    torch.testing.assert_close(got, same, rtol=0, atol=0)
    differs = p4.guided_ddim_sample(model, (2, 1, 2, 2), ab, 8, ctx, mask, null, null_mask, 3.0,
                                    torch.Generator().manual_seed(1))
    assert not torch.allclose(got, differs)


def test_thresholded_sampling_rederives_eps_from_the_clipped_x0():
    """One step from t to -1 is x0 itself: with thresholding, the result is the thresholded x0."""
    model, ab = CountingModel(), _schedule()
    ctx, mask, null, null_mask = _prompts()
    got = p4.guided_ddim_sample(model, (2, 1, 2, 2), ab, 1, ctx, mask, null, null_mask, 5.0,
                                torch.Generator().manual_seed(2), threshold=0.9)
    x = torch.randn((2, 1, 2, 2), generator=torch.Generator().manual_seed(2))  # float32, as the sampler draws
    t = torch.zeros(2, dtype=torch.long)  # one leading step of 1000: tau = [0]
    eps = p4.guided_eps(model, x, t, ctx, mask, null, null_mask, 5.0)
    x0 = p4.dynamic_threshold(p1.predict_x0_from_eps(x, t, ab, eps), 0.9)
    torch.testing.assert_close(got, x0)
    assert float(got.abs().max()) <= 1.0 + 1e-12


# -- the token text encoder ----------------------------------------------------------------------

def test_token_encoder_ignores_padding():
    torch.manual_seed(0)
    enc = p4.TokenTextEncoder(vocab_size=20, dim=16, layers=2, heads=4, max_len=8).double().eval()
    ids = torch.tensor([[2, 5, 6, 3, 0, 0], [2, 7, 3, 0, 0, 0]])
    mask = ids != 0
    tokens, out_mask = enc(ids, mask)
    assert tokens.shape == (2, 6, 16) and torch.equal(out_mask, mask)
    assert torch.equal(tokens[~mask], torch.zeros(int((~mask).sum()), 16, dtype=torch.float64))
    other = ids.clone()
    other[~mask] = 9
    torch.testing.assert_close(enc(other, mask)[0], tokens, rtol=1e-12, atol=1e-12)
    changed = ids.clone()
    changed[0, 1] = 8
    assert not torch.allclose(enc(changed, mask)[0][0], tokens[0])
    with pytest.raises(ValueError, match="max_len"):
        enc(torch.zeros(1, 9, dtype=torch.long), torch.ones(1, 9, dtype=torch.bool))


# -- the training loss with condition dropout ----------------------------------------------------

def test_conditional_loss_drops_captions_as_drop_condition_draws():
    """The loss equals a hand-written L_simple on the batch with the drawn samples' captions and masks
    replaced by the empty prompt's; p = 0 keeps every caption, and gradients reach the context."""
    model, ab = CountingModel(), _schedule()
    x0, noise = _randn(4, 1, 2, 2, seed=1), _randn(4, 1, 2, 2, seed=2)
    t = torch.tensor([0, 10, 500, 999])
    ctx = _randn(4, 3, 2, seed=3).requires_grad_()
    mask = _mask([3, 2, 1, 3], 3)
    null, null_mask = torch.zeros(3, 2, dtype=torch.float64), _mask([1], 3)[0]
    got = p4.conditional_loss(model, x0, t, ab, noise, ctx, mask, null, null_mask, 0.5, torch.Generator().manual_seed(4))
    dropped = torch.rand(4, generator=torch.Generator().manual_seed(4)) < 0.5
    assert 0 < int(dropped.sum()) < 4, "pick a seed that drops some captions and keeps others"
    c = torch.where(dropped[:, None, None], null.expand(4, 3, 2), ctx)
    m = torch.where(dropped[:, None], null_mask.expand(4, 3), mask)
    x_t = p1.q_sample(x0, t, ab, noise)
    expected = ((model(x_t, t, c, m) - noise) ** 2).mean()
    torch.testing.assert_close(got, expected)
    got.backward()
    assert ctx.grad is not None and bool(ctx.grad[~dropped].abs().sum() > 0) and bool((ctx.grad[dropped] == 0).all())
    kept = p4.conditional_loss(model, x0, t, ab, noise, ctx, mask, null, null_mask, 0.0, torch.Generator().manual_seed(4))
    torch.testing.assert_close(kept, ((model(x_t, t, ctx, mask) - noise) ** 2).mean())
