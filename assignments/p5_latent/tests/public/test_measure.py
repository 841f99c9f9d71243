"""Public tests for the pixel-versus-latent measurement (``p5_latent/measure.py``).

Run them from your bundle root with ``diffgrade check p5`` (or plain ``pytest``). They check
counts you can work out by hand and the shape of the results. The hidden tests compare your
measurements with the grader's own, made in the same run on the same models: the bytes must
agree exactly, the times within a margin; and they check that latent space is cheaper.
"""

import pytest
import torch

from p2_training import UNet, UNetConfig
from p5_latent import VAE, LatentDiffusion, VAEConfig
from p5_latent.measure import Comparison, StepCost, activation_bytes, compare, time_per_step


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread for these small models (two threads that wait for each other are slower
    on a busy laptop), restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _randn(*shape, seed=0, grad=True):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).requires_grad_(grad)


def test_activation_bytes_by_hand():
    """Does a * b save both factors (2 x 12 float32 values), and exp its output?"""
    a, b = _randn(3, 4, seed=1), _randn(3, 4, seed=2)
    assert activation_bytes(lambda: (a * b).sum()) == 2 * 12 * 4
    assert activation_bytes(torch.exp, a.double()) == 12 * 8
    with torch.no_grad():
        assert activation_bytes(lambda: (a * b).sum()) == 0


def test_time_per_step_calls_and_result():
    """Is step called warmup + steps times, and a positive number of seconds returned?"""
    calls = []
    seconds = time_per_step(lambda: calls.append(sum(range(1000))), steps=5, warmup=2)
    assert len(calls) == 7
    assert isinstance(seconds, float) and seconds > 0


def test_compare_result():
    """On two small U-Nets of equal width, does compare return two StepCosts, with less memory in latent space?

    (Whether it is faster too shows at the sizes of the hidden test: batch 32 at 32x32.)"""
    torch.manual_seed(0)
    alpha_bar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), dim=0)
    unet = dict(base_channels=8, channel_mults=(1, 2), attention_resolutions=())
    pixel = UNet(UNetConfig(in_channels=3, image_size=16, **unet))
    latent = LatentDiffusion(VAE(VAEConfig(base_channels=8)), UNet(UNetConfig(in_channels=4, image_size=4, **unet)),
                             1.0, alpha_bar)
    images = torch.rand(4, 3, 16, 16) * 2 - 1  # (B, 3, H, W): latents (4, 4, 4, 4)
    result = compare(pixel, latent, images, alpha_bar, steps=3, warmup=1, generator=torch.Generator().manual_seed(0))
    assert isinstance(result, Comparison)
    for cost in (result.pixel, result.latent):
        assert isinstance(cost, StepCost) and cost.seconds > 0
        assert isinstance(cost.activation_bytes, int) and cost.activation_bytes > 0
    assert result.speedup == result.pixel.seconds / result.latent.seconds
    assert result.memory_ratio == result.latent.activation_bytes / result.pixel.activation_bytes < 1
