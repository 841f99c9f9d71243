"""Public tests for ``p2_training/train.py`` (``draw_batch``, ``train_step``, ``train``) and
the checkpoints it writes.

The data are small synthetic "digits" (a stroke or two on a dark 8x8 background), so
these tests need nothing but your package and ``p1_forward``.
"""

import copy

import pytest
import torch

from p1_forward import alpha_bar, get_schedule
from p2_training import (
    TrainConfig,
    UNet,
    UNetConfig,
    draw_batch,
    latest_checkpoint,
    load_checkpoint,
    train,
    train_step,
)

TINY = UNetConfig(base_channels=8, channel_mults=(1, 2), attention_resolutions=(4,))


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread for these small models (two threads that wait for each other are slower
    on a busy laptop), restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def strokes(n: int, seed: int = 0) -> torch.Tensor:
    """``(n, 1, 8, 8)`` images in [-1, 1]: one bright row or column on a dark background."""
    g = torch.Generator().manual_seed(seed)
    images = -torch.ones(n, 1, 8, 8)
    for i in range(n):
        pos = int(torch.randint(1, 7, (1,), generator=g))
        if torch.rand(1, generator=g) < 0.5:
            images[i, 0, pos, 1:7] = 1.0
        else:
            images[i, 0, 1:7, pos] = 1.0
    return images


def test_draw_batch_order_of_draws():
    """Does draw_batch draw the indices, then t, then the noise, from the generator, in that order?"""
    data = strokes(20)
    x0, t, noise = draw_batch(data, 6, 1000, torch.Generator().manual_seed(4))
    g = torch.Generator().manual_seed(4)
    index = torch.randint(0, 20, (6,), generator=g)
    assert torch.equal(x0, data[index])
    assert torch.equal(t, torch.randint(0, 1000, (6,), generator=g)) and t.dtype == torch.long
    assert torch.equal(noise, torch.randn(6, 1, 8, 8, generator=g))


def test_train_step_updates_model_and_ema():
    """Does train_step return a float loss, move the weights and move the EMA a little towards them?"""
    torch.manual_seed(0)
    model = UNet(TINY)
    ema = copy.deepcopy(model).requires_grad_(False)
    before = copy.deepcopy(model.state_dict())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x0, t, noise = draw_batch(strokes(16), 8, 1000, torch.Generator().manual_seed(0))
    ab = alpha_bar(get_schedule("linear", 1000))
    loss = train_step(model, ema, optimizer, x0, t, noise, ab, TrainConfig(steps=1, ema_decay=0.9))
    assert isinstance(loss, float) and loss > 0
    moved = [k for k in before if not torch.equal(before[k], model.state_dict()[k])]
    assert moved, "the optimizer step changed no weight"
    key = moved[0]
    expected = 0.9 * before[key] + 0.1 * model.state_dict()[key]
    torch.testing.assert_close(ema.state_dict()[key], expected)


def test_short_training_lowers_the_loss():
    """Do 60 steps of train() lower L_simple clearly, with one float per step in the history?"""
    torch.manual_seed(0)
    model = UNet(UNetConfig(base_channels=16))
    result = train(model, strokes(256), TrainConfig(steps=60, batch_size=32, log_every=20))
    history = result.loss_history
    assert len(history) == 60 and all(isinstance(v, float) for v in history)
    first, last = sum(history[:10]) / 10, sum(history[-10:]) / 10
    assert last < 0.6 * first, (first, last)
    assert result.ema_model is not model


def test_checkpoints_resume_exactly(tmp_path):
    """Are checkpoints .safetensors files that resume exactly, and is a .pt file refused with ValueError?"""
    data = strokes(32)
    config = TrainConfig(steps=4, batch_size=8, lr=1e-2)
    torch.manual_seed(0)
    straight_model = UNet(TINY)
    initial = copy.deepcopy(straight_model.state_dict())
    straight = train(straight_model, data, config)

    first = UNet(TINY)
    first.load_state_dict(initial)
    train(first, data, TrainConfig(steps=2, batch_size=8, lr=1e-2), checkpoint_dir=tmp_path)
    path = latest_checkpoint(tmp_path)
    assert path is not None and path.suffix == ".safetensors"
    assert load_checkpoint(path).step == 2

    resumed_model = UNet(TINY)
    resumed = train(resumed_model, data, config, checkpoint_dir=tmp_path, resume=True)
    assert resumed.loss_history == straight.loss_history
    for key, value in straight_model.state_dict().items():
        assert torch.equal(resumed_model.state_dict()[key], value), key

    torch.save({"w": torch.ones(1)}, tmp_path / "model.pt")
    with pytest.raises(ValueError):
        load_checkpoint(tmp_path / "model.pt")
