"""Public tests for ``p2_training/unet.py``: the U-Net's output shape and its use of ``t``."""

import torch

from p2_training import UNet, UNetConfig


def test_unet_output_shape_default():
    """Does the default U-Net (8x8 grey digits) return eps shaped and typed like x_t?"""
    torch.manual_seed(0)
    model = UNet(UNetConfig())
    x = torch.randn(4, 1, 8, 8)
    eps = model(x, torch.tensor([0, 1, 500, 999]))
    assert eps.shape == x.shape
    assert eps.dtype == x.dtype
    assert torch.isfinite(eps).all()


def test_unet_output_shape_rgb_three_levels():
    """Does a 16x16 RGB U-Net with three levels, two blocks per level and two heads keep the shape?"""
    torch.manual_seed(0)
    config = UNetConfig(in_channels=3, image_size=16, base_channels=8, channel_mults=(1, 2, 2),
                        num_res_blocks=2, attention_resolutions=(8,), attention_heads=2)
    x = torch.randn(2, 3, 16, 16)
    assert UNet(config)(x, torch.tensor([3, 700])).shape == x.shape


def test_unet_depends_on_t():
    """For the same x_t, do t = 0 and t = 999 give different predictions?"""
    torch.manual_seed(0)
    model = UNet(UNetConfig(base_channels=16))
    x = torch.randn(2, 1, 8, 8).repeat(2, 1, 1, 1)  # the same two images twice
    eps = model(x, torch.tensor([0, 0, 999, 999]))
    assert (eps[:2] - eps[2:]).abs().max() > 1e-4
