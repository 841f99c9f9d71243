"""Tests of the P5 reference measurement (``solutions/p5_latent/measure.py``).

``activation_bytes`` against counts worked out by hand from what each operation saves for
backward; ``time_per_step`` with a fake clock, so the median and the calls are exact;
``measure_training_step`` against AdamW steps written out; ``compare`` on small U-Nets
(latent space cheaper) and against the documented draws replayed by hand.
"""

import importlib
import sys

import pytest
import torch

from tests.solutions.conftest import reference

p1, p2, p5 = reference("p1_forward"), reference("p2_training"), reference("p5_latent")


def _import_measure():
    """``p5_latent.measure`` imported by its plain name against the loaded reference packages, leaving
    ``sys.modules`` as it was (other tests import toy packages under the same names)."""
    names = {"p1_forward": p1, "p2_training": p2, "p5_latent": p5}
    saved = {k: v for k, v in sys.modules.items() if k in names or k == "p5_latent.measure"}
    sys.modules.update(names)
    sys.modules.pop("p5_latent.measure", None)
    try:
        return importlib.import_module("p5_latent.measure")
    finally:
        for name in (*names, "p5_latent.measure"):
            sys.modules.pop(name, None)
        sys.modules.update(saved)


measure = _import_measure()
ALPHA_BAR = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)


def _randn(*shape, seed=0, dtype=torch.float32, grad=True):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    return x.requires_grad_(grad)


def _unet(in_channels, image_size, seed, base=8):
    torch.manual_seed(seed)
    return p2.UNet(p2.UNetConfig(in_channels=in_channels, image_size=image_size, base_channels=base,
                                 channel_mults=(1, 2), attention_resolutions=()))


# -- activation_bytes -------------------------------------------------------------------------
A, B = _randn(6, 7, seed=1), _randn(6, 7, seed=2)
X64 = _randn(6, 7, seed=3, dtype=torch.float64)
LINEAR = torch.nn.Linear(5, 3)
CASES = {  # (closure, bytes by hand)
    "mul saves both factors": (lambda: (A * B).sum(), 2 * 42 * 4),
    "mul with one factor needing grad saves the other": (lambda: (A * B.detach()).sum(), 42 * 4),
    "x * x saves x twice": (lambda: (X64 * X64).sum(), 2 * 42 * 8),
    "exp saves its output": (lambda: X64.exp().sum(), 42 * 8),
    "tanh saves its output, silu its input": (lambda: torch.tanh(torch.nn.functional.silu(A)).sum(), 2 * 42 * 4),
    "Linear saves input and weight": (lambda: LINEAR(_randn(4, 5, seed=4)).sum(), (4 * 5 + 5 * 3) * 4),
    "Linear on an input without grad saves the input only": (lambda: LINEAR(_randn(4, 5, grad=False)).sum(), 4 * 5 * 4),
}


@pytest.mark.parametrize("case", list(CASES))
def test_activation_bytes_counts_each_saved_tensor(case):
    """Is the count the bytes of every tensor autograd saves, a tensor saved twice counted twice?"""
    fn, expected = CASES[case]
    got = measure.activation_bytes(fn)
    assert type(got) is int and got == expected


def test_activation_bytes_is_zero_without_a_graph():
    """Under no_grad, or with nothing requiring grad, does nothing count?"""
    with torch.no_grad():
        assert measure.activation_bytes(lambda: (A * B).sum()) == 0
    frozen = torch.nn.Linear(5, 3).requires_grad_(False)
    assert measure.activation_bytes(frozen, _randn(4, 5, grad=False)) == 0


def test_activation_bytes_passes_arguments_and_counts_a_conv():
    """Does activation_bytes(fn, *args, **kwargs) call fn with them; does a conv save its input and weight?"""
    conv = torch.nn.Conv2d(3, 4, 3, padding=1, bias=False)
    x = _randn(2, 3, 5, 5, seed=5)
    assert measure.activation_bytes(conv, x) == (2 * 3 * 5 * 5 + 4 * 3 * 3 * 3) * 4
    assert measure.activation_bytes(torch.mul, A, other=B) == 2 * 42 * 4


# -- time_per_step ----------------------------------------------------------------------------
class FakeClock:
    """``time.perf_counter`` stand-in: each call of ``step`` advances it by the next scripted duration."""

    def __init__(self, durations):
        self.durations, self.now, self.calls = list(durations), 0.0, 0

    def __call__(self) -> float:
        return self.now

    def step(self):
        self.now += self.durations[self.calls]
        self.calls += 1


@pytest.mark.parametrize("steps, warmup, durations, median", [
    (5, 2, [9.0, 9.0, 0.3, 0.6, 0.2, 1.5, 0.3], 0.3),
    (4, 0, [0.2, 3.0, 0.4, 0.7], 0.55),  # even: the mean of the two middle values
    (1, 1, [5.0, 0.25], 0.25),
])
def test_time_per_step_is_the_median_of_the_timed_calls(monkeypatch, steps, warmup, durations, median):
    """Is step called warmup + steps times, and the median of the timed calls only returned?"""
    clock = FakeClock(durations)
    monkeypatch.setattr(measure.time, "perf_counter", clock)
    assert measure.time_per_step(clock.step, steps, warmup) == pytest.approx(median, abs=1e-12)
    assert clock.calls == steps + warmup


@pytest.mark.parametrize("steps, warmup", [(0, 1), (3, -1)])
def test_time_per_step_rejects_bad_arguments(steps, warmup):
    """Are steps < 1 and warmup < 0 refused?"""
    with pytest.raises(ValueError):
        measure.time_per_step(lambda: None, steps, warmup)


# -- measure_training_step --------------------------------------------------------------------
def test_measure_training_step_is_adamw_steps_and_one_more_call():
    """Are the parameters trained by warmup + steps AdamW steps, and the bytes those of one more call?"""
    model, twin = _unet(3, 8, seed=6), _unet(3, 8, seed=6)
    x0, noise = _randn(4, 3, 8, 8, seed=7, grad=False), _randn(4, 3, 8, 8, seed=8, grad=False)
    t = torch.tensor([0, 10, 500, 999])
    calls = []

    def loss_fn():
        calls.append(1)
        return p2.diffusion_loss(model, x0, t, ALPHA_BAR, noise)

    cost = measure.measure_training_step(loss_fn, model.parameters(), steps=3, warmup=2, lr=1e-3)
    assert len(calls) == 2 + 3 + 1
    assert isinstance(cost, measure.StepCost) and cost.seconds > 0
    optimizer = torch.optim.AdamW(twin.parameters(), lr=1e-3)
    for _ in range(2 + 3):
        optimizer.zero_grad(set_to_none=True)
        p2.diffusion_loss(twin, x0, t, ALPHA_BAR, noise).backward()
        optimizer.step()
    for (name, got), expected in zip(model.state_dict().items(), twin.state_dict().values()):
        torch.testing.assert_close(got, expected, rtol=0, atol=0, msg=name)
    assert cost.activation_bytes == measure.activation_bytes(p2.diffusion_loss, twin, x0, t, ALPHA_BAR, noise) > 0


# -- compare ----------------------------------------------------------------------------------
def _setup(seed, size=32, batch=8):
    images = _randn(batch, 3, size, size, seed=seed, grad=False).clamp(-1, 1)
    pixel = _unet(3, size, seed + 1)
    vae = p5.VAE(p5.VAEConfig(base_channels=8))
    latent = p5.LatentDiffusion(vae, _unet(4, size // 4, seed + 2), 1.0, ALPHA_BAR)
    return images, pixel, latent


def test_compare_latent_space_is_cheaper():
    """On small U-Nets of equal width, is a latent step faster and lighter, with consistent ratios?"""
    images, pixel, latent = _setup(10)
    result = measure.compare(pixel, latent, images, ALPHA_BAR, steps=3, warmup=1, generator=torch.Generator())
    assert result.speedup == result.pixel.seconds / result.latent.seconds > 1
    assert result.memory_ratio == result.latent.activation_bytes / result.pixel.activation_bytes
    assert 0 < result.memory_ratio < 1


def test_compare_draws_t_then_noise_pixel_first():
    """Are both U-Nets trained exactly as the documented draws, losses and steps replayed by hand say?"""
    images, pixel, latent = _setup(20, size=16, batch=4)
    _, pixel_twin, latent_twin = _setup(20, size=16, batch=4)
    measure.compare(pixel, latent, images, ALPHA_BAR, steps=2, warmup=1, lr=1e-3,
                    generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    z_shape = latent_twin.encode(images).shape  # (4, 4, 4, 4)
    for model, loss, shape in ((pixel_twin, lambda t, n: p2.diffusion_loss(pixel_twin, images, t, ALPHA_BAR, n),
                                images.shape),
                               (latent_twin.unet, lambda t, n: latent_twin.loss(images, t, n), z_shape)):
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        for _ in range(1 + 2):
            t = torch.randint(0, 1000, (4,), generator=g)
            noise = torch.randn(shape, generator=g)
            optimizer.zero_grad(set_to_none=True)
            loss(t, noise).backward()
            optimizer.step()
        torch.randint(0, 1000, (4,), generator=g), torch.randn(shape, generator=g)  # the memory call's draws
    for got, expected in ((pixel, pixel_twin), (latent.unet, latent_twin.unet)):
        for (name, a), b in zip(got.state_dict().items(), expected.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
