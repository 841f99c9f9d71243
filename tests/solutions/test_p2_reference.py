"""Tests of the P2 reference (``solutions/p2_training``): the time embedding, the
U-Net blocks, the loss, EMA, training and checkpoints.

Numerics are checked against implementations written here from the papers
(Python ``math`` loops, ``torch.nn.MultiheadAttention``), not against the
reference itself.
"""

import copy
import math
from dataclasses import replace

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from tests.solutions.conftest import reference

p1, p2 = reference("p1_forward"), reference("p2_training")
alpha_bar_of, get_schedule = p1.alpha_bar, p1.get_schedule
AttentionBlock, ResBlock, UNet, UNetConfig = p2.AttentionBlock, p2.ResBlock, p2.UNet, p2.UNetConfig
timestep_embedding, diffusion_loss, ema_update = p2.timestep_embedding, p2.diffusion_loss, p2.ema_update
TrainConfig, draw_batch, train = p2.TrainConfig, p2.draw_batch, p2.train
Checkpoint, save_checkpoint, load_checkpoint, latest_checkpoint = (
    p2.Checkpoint, p2.save_checkpoint, p2.load_checkpoint, p2.latest_checkpoint)

TINY = UNetConfig(base_channels=8, channel_mults=(1, 2), attention_resolutions=(4,))


def _randn(*shape, seed=0, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def digits_like(n: int, seed: int = 0) -> torch.Tensor:
    """``(n, 1, 8, 8)`` images in ``[-1, 1]``: one or two bright strokes (a row,
    a column or a diagonal) on a dark background, like crude 8x8 digits."""
    g = torch.Generator().manual_seed(seed)
    images = -torch.ones(n, 1, 8, 8)
    eye = torch.eye(8, dtype=torch.bool)
    for i in range(n):
        for _ in range(int(torch.randint(1, 3, (1,), generator=g))):
            kind, pos = torch.randint(0, 3, (1,), generator=g).item(), torch.randint(1, 7, (1,), generator=g).item()
            if kind == 0:
                images[i, 0, pos, 1:7] = 1.0
            elif kind == 1:
                images[i, 0, 1:7, pos] = 1.0
            else:
                images[i, 0][eye] = 1.0
    return images


# -- timestep_embedding -----------------------------------------------------------------------


@pytest.mark.parametrize("dim", [6, 7, 32])
@pytest.mark.parametrize("max_period", [10000, 100])
def test_timestep_embedding_matches_formula(dim, max_period):
    """Is column k cos(t * f_k), column half + k sin(t * f_k), f_k = max_period^(-k/half), odd dim padded?"""
    t = torch.tensor([0, 1, 17, 500, 999])
    got = timestep_embedding(t, dim, max_period)
    assert got.shape == (5, dim) and got.dtype == torch.float32 and got.device == t.device
    half = dim // 2
    for i, step in enumerate(t.tolist()):
        row = [0.0] * dim
        for k in range(half):
            freq = math.exp(-math.log(max_period) * k / half)
            row[k] = math.cos(step * freq)
            row[half + k] = math.sin(step * freq)
        # float32 rounding of t * freq (up to ~1e3 * 6e-8) dominates the error
        torch.testing.assert_close(got[i], torch.tensor(row, dtype=torch.float32), atol=2e-4, rtol=0)
    if dim % 2:
        assert torch.all(got[:, -1] == 0)


def test_timestep_embedding_cosines_first():
    """At t = 0 are the cosines (first half) 1 and the sines 0?"""
    got = timestep_embedding(torch.zeros(2, dtype=torch.long), 8)
    assert torch.equal(got, torch.tensor([[1.0] * 4 + [0.0] * 4] * 2))


# -- ResBlock and AttentionBlock --------------------------------------------------------------


def test_resblock_matches_layer_by_layer():
    """Is ResBlock skip(x) + conv2(dropout(silu(norm2(conv1(silu(norm1(x))) + proj(silu(emb))))))?"""
    torch.manual_seed(0)
    block = ResBlock(8, 16, time_dim=12).eval()
    x, t_emb = _randn(3, 8, 5, 5, seed=1), _randn(3, 12, seed=2)
    out = block(x, t_emb)
    assert out.shape == (3, 16, 5, 5)
    F = nn.functional
    h = F.conv2d(F.silu(F.group_norm(x, 8, block.norm1.weight, block.norm1.bias)), block.conv1.weight,
                 block.conv1.bias, padding=1)
    h = h + (F.silu(t_emb) @ block.time_proj.weight.T + block.time_proj.bias)[:, :, None, None]
    h = F.conv2d(F.silu(F.group_norm(h, 8, block.norm2.weight, block.norm2.bias)), block.conv2.weight,
                 block.conv2.bias, padding=1)
    expected = F.conv2d(x, block.skip.weight, block.skip.bias) + h
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)


def test_resblock_identity_skip_and_time_dependence():
    """With equal widths is the skip the identity, and does the time embedding change the output?"""
    block = ResBlock(16, 16, time_dim=8)
    assert isinstance(block.skip, nn.Identity)
    x = _randn(2, 16, 4, 4)
    a, b = block(x, _randn(2, 8, seed=1)), block(x, _randn(2, 8, seed=2))
    assert a.shape == x.shape and not torch.allclose(a, b)


@pytest.mark.parametrize("heads", [1, 2, 4])
def test_attention_matches_multihead_attention(heads):
    """Does AttentionBlock equal x + torch's MultiheadAttention (same weights) over the H*W positions?"""
    torch.manual_seed(0)
    C, H, W = 16, 3, 5
    block = AttentionBlock(C, heads).double()
    with torch.no_grad():  # non-trivial norm parameters, so a forgotten norm shows
        block.norm.weight.uniform_(0.5, 1.5)
        block.norm.bias.uniform_(-0.5, 0.5)
    x = _randn(2, C, H, W, dtype=torch.float64)
    mha = nn.MultiheadAttention(C, heads, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(block.qkv.weight)
        mha.in_proj_bias.copy_(block.qkv.bias)
        mha.out_proj.weight.copy_(block.proj.weight)
        mha.out_proj.bias.copy_(block.proj.bias)
    tokens = block.norm(x).flatten(2).transpose(1, 2)  # (B, L, C), position l = i * W + j
    y, _ = mha(tokens, tokens, tokens, need_weights=False)
    expected = x + y.transpose(1, 2).reshape(x.shape)
    torch.testing.assert_close(block(x), expected, atol=1e-12, rtol=1e-10)


def test_attention_rejects_heads_not_dividing_channels():
    """Are heads that do not divide the channels refused with a clear error?"""
    with pytest.raises(ValueError, match="divide"):
        AttentionBlock(12, heads=5)


# -- UNet -------------------------------------------------------------------------------------

CONFIGS = [
    UNetConfig(),
    UNetConfig(in_channels=3, image_size=16, channel_mults=(1, 2, 2), attention_resolutions=(8,),
               num_res_blocks=2, attention_heads=2, base_channels=16),
    UNetConfig(image_size=16, channel_mults=(1,), attention_resolutions=(), base_channels=24, time_dim=40),
    UNetConfig(in_channels=3, image_size=12, channel_mults=(1, 1, 2), attention_resolutions=(6, 3),
               base_channels=8, dropout=0.1),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.in_channels}x{c.image_size}{list(c.channel_mults)}")
def test_unet_output_shape(config):
    """Does the U-Net return eps shaped like x_t for several widths, depths and resolutions?"""
    model = UNet(config)
    x = _randn(3, config.in_channels, config.image_size, config.image_size)
    eps = model(x, torch.tensor([0, 10, 999]))
    assert eps.shape == x.shape and eps.dtype == x.dtype
    assert model.double()(x.double(), torch.tensor([0, 10, 999])).dtype == torch.float64


def test_unet_default_is_small():
    """Is the default U-Net well under a million parameters, with attention at 4x4 and in the middle?"""
    model = UNet()
    assert sum(p.numel() for p in model.parameters()) < 800_000
    assert sum(isinstance(m, AttentionBlock) for m in model.modules()) >= 3


def test_unet_rejects_bad_image_size():
    """Is an image size that the down path cannot halve refused?"""
    with pytest.raises(ValueError, match="divisible"):
        UNetConfig(image_size=6, channel_mults=(1, 2, 2))


def test_unet_time_embedding_changes_output_at_init():
    """At initialisation already, does the timestep change the prediction?"""
    torch.manual_seed(0)
    model = UNet()
    x = _randn(2, 1, 8, 8).repeat(2, 1, 1, 1)  # the same two images twice
    eps = model(x, torch.tensor([0, 0, 999, 999]))
    assert (eps[:2] - eps[2:]).abs().max() > 1e-3


def test_unet_gradients_reach_every_parameter():
    """Does the loss send a non-zero gradient to every parameter of the default U-Net?"""
    torch.manual_seed(0)
    model = UNet()
    alpha_bar = alpha_bar_of(get_schedule("linear", 1000))
    x0 = digits_like(8)
    loss = diffusion_loss(model, x0, torch.randint(0, 1000, (8,)), alpha_bar, _randn(8, 1, 8, 8))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, f"no gradient reaches {name}"


# -- diffusion_loss ---------------------------------------------------------------------------


class AffineEps(nn.Module):
    """A toy noise predictor ``eps = w * x_t + b * t / 1000``."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(0.7, dtype=torch.float64))
        self.b = nn.Parameter(torch.tensor(-0.3, dtype=torch.float64))

    def forward(self, x_t, t):
        return self.w * x_t + self.b * (t.to(x_t.dtype) / 1000).reshape(-1, 1, 1, 1)


def test_diffusion_loss_matches_manual_computation():
    """Is the loss mean((noise - model(sqrt(ab_t) x0 + sqrt(1 - ab_t) noise, t))^2), t per sample?"""
    alpha_bar = alpha_bar_of(get_schedule("cosine", 1000))
    t = torch.tensor([999, 0, 500])
    x0 = _randn(3, 2, 4, 4, seed=1, dtype=torch.float64).clamp(-1, 1)
    noise = _randn(3, 2, 4, 4, seed=2, dtype=torch.float64)
    model = AffineEps()
    loss = diffusion_loss(model, x0, t, alpha_bar, noise)
    total, count = 0.0, 0
    for i, step in enumerate(t.tolist()):
        a = alpha_bar[step].item()
        for x, n in zip(x0[i].flatten().tolist(), noise[i].flatten().tolist()):
            x_t = math.sqrt(a) * x + math.sqrt(1 - a) * n
            total += (n - (0.7 * x_t - 0.3 * step / 1000)) ** 2
            count += 1
    assert loss.dim() == 0
    assert loss.item() == pytest.approx(total / count, rel=1e-12)
    loss.backward()
    assert model.w.grad is not None and model.b.grad is not None


# -- EMA --------------------------------------------------------------------------------------


def test_ema_update_math():
    """Is ema = decay * ema + (1 - decay) * p for parameters, with buffers copied, and no graph?"""
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema = copy.deepcopy(model)
    with torch.no_grad():
        for p in ema.parameters():
            p.fill_(1.0)
        for p in model.parameters():
            p.fill_(3.0)
        model[1].running_mean.fill_(5.0)
    ema_update(ema, model, 0.9)
    for p in ema.parameters():
        torch.testing.assert_close(p, torch.full_like(p, 0.9 * 1.0 + 0.1 * 3.0))
        assert p.grad_fn is None
    assert torch.equal(ema[1].running_mean, torch.full((2,), 5.0))
    before = [p.clone() for p in ema.parameters()]
    ema_update(ema, model, 1.0)
    assert all(torch.equal(a, b) for a, b in zip(before, ema.parameters()))
    ema_update(ema, model, 0.0)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), ema.parameters()))


# -- draw_batch and train ---------------------------------------------------------------------


def test_draw_batch_order_of_draws():
    """Does draw_batch draw the indices, then t, then the noise, from the generator, in that order?"""
    data = digits_like(20)
    x0, t, noise = draw_batch(data, 6, 1000, torch.Generator().manual_seed(4))
    g = torch.Generator().manual_seed(4)
    index = torch.randint(0, 20, (6,), generator=g)
    assert torch.equal(x0, data[index])
    assert torch.equal(t, torch.randint(0, 1000, (6,), generator=g)) and t.dtype == torch.long
    assert torch.equal(noise, torch.randn(6, 1, 8, 8, generator=g))


def test_train_lowers_the_loss_on_digits_like_data():
    """Does a short run lower L_simple clearly, keep a per-step history and log means?"""
    torch.manual_seed(0)
    model = UNet(UNetConfig(base_channels=16))
    logs = []
    config = TrainConfig(steps=60, batch_size=32, log_every=20)
    result = train(model, digits_like(256), config, on_log=lambda step, loss: logs.append((step, loss)))
    history = result.loss_history
    assert result.steps_done == 60 and len(history) == 60
    assert all(isinstance(v, float) and math.isfinite(v) for v in history)
    first, last = sum(history[:10]) / 10, sum(history[-10:]) / 10
    assert last < 0.5 * first and last < 0.3, (first, last)
    assert [s for s, _ in logs] == [20, 40, 60]
    assert logs[-1][1] == pytest.approx(sum(history[40:]) / 20)
    assert result.ema_model is not model and not result.ema_model.training
    assert all(not p.requires_grad for p in result.ema_model.parameters())


def test_train_leaves_global_rng_alone():
    """Does training (with dropout) leave the caller's global random state as it found it?"""
    torch.manual_seed(123)
    model = UNet(replace(TINY, dropout=0.2))
    state = torch.get_rng_state()
    train(model, digits_like(16), TrainConfig(steps=2, batch_size=4))
    assert torch.equal(torch.get_rng_state(), state)


# -- checkpoints and resume -------------------------------------------------------------------


def _states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)


def test_checkpoint_roundtrip(tmp_path):
    """Does save_checkpoint then load_checkpoint give back every tensor, the optimizer and the metadata?"""
    torch.manual_seed(0)
    model = UNet(TINY)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    diffusion_loss(model, digits_like(4), torch.tensor([1, 2, 3, 4]), alpha_bar_of(get_schedule("linear", 10)),
                   _randn(4, 1, 8, 8)).backward()
    optimizer.step()
    g = torch.Generator().manual_seed(9)
    ckpt = Checkpoint(step=7, model=model.state_dict(), ema={k: v * 2 for k, v in model.state_dict().items()},
                      optimizer=optimizer.state_dict(), rng={"generator": g.get_state()},
                      loss_history=[1.5, 0.25, 1 / 3], config={"steps": 7, "schedule": "cosine"})
    path = save_checkpoint(tmp_path / "ckpt.safetensors", ckpt)
    back = load_checkpoint(path)
    assert back.step == 7 and back.config == ckpt.config and back.loss_history == ckpt.loss_history
    assert _states_equal(back.model, ckpt.model) and _states_equal(back.ema, ckpt.ema)
    assert _states_equal(back.rng, ckpt.rng)
    assert back.optimizer["param_groups"] == ckpt.optimizer["param_groups"]
    assert back.optimizer["state"].keys() == ckpt.optimizer["state"].keys()
    for index, state in ckpt.optimizer["state"].items():
        assert _states_equal(back.optimizer["state"][index], state)
    torch.optim.AdamW(UNet(TINY).parameters()).load_state_dict(back.optimizer)


def test_checkpoint_refuses_other_formats(tmp_path):
    """Are .pt files, malformed files and foreign safetensors refused with a ValueError?"""
    torch.save({"w": torch.ones(1)}, tmp_path / "model.pt")
    with pytest.raises(ValueError, match="safetensors"):
        load_checkpoint(tmp_path / "model.pt")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00not a safetensors file")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        load_checkpoint(tmp_path / "junk.safetensors")
    save_file({"w": torch.ones(1)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(ValueError, match="not a training checkpoint"):
        load_checkpoint(tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="safetensors"):
        save_checkpoint(tmp_path / "out.pt", Checkpoint(step=0, model={}))


def test_resume_equals_uninterrupted_training(tmp_path):
    """Does a run stopped at step 4 and resumed to step 7 end bit for bit as a run of 7 steps, dropout included?"""
    config = TrainConfig(steps=7, batch_size=8, checkpoint_every=2, lr=1e-2)
    data = digits_like(32)
    unet = replace(TINY, dropout=0.1)

    torch.manual_seed(0)
    straight_model = UNet(unet)
    initial = copy.deepcopy(straight_model.state_dict())
    straight = train(straight_model, data, config)

    first_model = UNet(unet)
    first_model.load_state_dict(initial)
    train(first_model, data, replace(config, steps=4), checkpoint_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "step_00000002.safetensors", "step_00000004.safetensors"]

    torch.manual_seed(1)
    resumed_model = UNet(unet)  # different weights: the checkpoint must overwrite them
    resumed = train(resumed_model, data, config, checkpoint_dir=tmp_path, resume=True)
    assert latest_checkpoint(tmp_path).name == "step_00000007.safetensors"
    assert resumed.loss_history == straight.loss_history and resumed.steps_done == 7
    assert _states_equal(resumed_model.state_dict(), straight_model.state_dict())
    assert _states_equal(resumed.ema_model.state_dict(), straight.ema_model.state_dict())


def test_resume_checks_the_config(tmp_path):
    """Does resuming with a different learning rate fail, and resuming with no checkpoint start afresh?"""
    data = digits_like(16)
    config = TrainConfig(steps=2, batch_size=4)
    torch.manual_seed(0)
    fresh = train(UNet(TINY), data, config, checkpoint_dir=tmp_path / "empty", resume=True)
    assert len(fresh.loss_history) == 2
    with pytest.raises(ValueError, match="lr"):
        train(UNet(TINY), data, replace(config, steps=3, lr=1e-4), checkpoint_dir=tmp_path / "empty", resume=True)
