"""The grader's test models keep samplers to the eps-model contract: t is a LongTensor (B,)."""

import pytest
import torch

from autograder.sandbox.runtime.testmodels import GaussianEpsModel, check_timesteps


def _model() -> GaussianEpsModel:
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    return GaussianEpsModel(torch.cumprod(1 - betas, dim=0))


def test_long_timesteps_of_shape_b_are_accepted():
    x = torch.randn(3, 1, 4, 4)
    eps = _model()(x, torch.tensor([0, 500, 999]))
    assert eps.shape == x.shape and torch.isfinite(eps).all()


@pytest.mark.parametrize("t, message", [
    (torch.tensor([1, 2, 3], dtype=torch.int32), "torch.int32"),
    (torch.tensor([1.0, 2.0, 3.0]), "torch.float32"),
    ([1, 2, 3], "list"),
    (torch.tensor([1, 2]), r"shape \(2,\)"),
    (torch.tensor(5), r"shape \(\)"),
])
def test_other_timesteps_are_refused_with_what_was_wrong(t, message):
    with pytest.raises((TypeError, ValueError), match=message):
        _model()(torch.randn(3, 1, 4, 4), t)


def test_check_timesteps_compares_devices():
    x = torch.randn(2, 1, 4, 4, device="meta")
    with pytest.raises(ValueError, match="on cpu and x_t on meta"):
        check_timesteps(x, torch.tensor([1, 2]))
