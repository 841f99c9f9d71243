"""Public tests for ``p1_forward/schedules.py``: the beta schedules and ``alpha_bar``.

Run them from your bundle root with ``diffgrade check p1`` (or plain ``pytest``).
The hidden tests check the same functions more thoroughly: exact values against
the reference, other ``T`` and edge cases.
"""

import pytest
import torch

from p1_forward import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)

T = 1000
SCHEDULES = {
    "linear": linear_beta_schedule,
    "quadratic": quadratic_beta_schedule,
    "cosine": cosine_beta_schedule,
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("steps", [10, T])
def test_schedule_shape_and_dtype(name, steps):
    """Is every schedule a float64 tensor of shape (T,)?"""
    betas = SCHEDULES[name](steps)
    assert isinstance(betas, torch.Tensor)
    assert betas.shape == (steps,)
    assert betas.dtype == torch.float64


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_betas_strictly_between_zero_and_one(name):
    """Does every schedule keep 0 < beta_t < 1 at every step?"""
    betas = SCHEDULES[name](T)
    assert (betas > 0).all()
    assert (betas < 1).all()


def test_linear_schedule_endpoints_and_spacing():
    """Does the linear schedule run from 1e-4 to 0.02 in equal steps (DDPM defaults)?"""
    betas = linear_beta_schedule(T)
    assert betas[0].item() == pytest.approx(1e-4, rel=1e-9)
    assert betas[-1].item() == pytest.approx(0.02, rel=1e-9)
    steps = betas[1:] - betas[:-1]
    assert torch.allclose(steps, torch.full_like(steps, (0.02 - 1e-4) / (T - 1)), rtol=1e-6, atol=0)


def test_quadratic_schedule_is_linear_in_sqrt_beta():
    """Are the square roots of the quadratic schedule equally spaced, with the same endpoints?"""
    betas = quadratic_beta_schedule(T)
    assert betas[0].item() == pytest.approx(1e-4, rel=1e-9)
    assert betas[-1].item() == pytest.approx(0.02, rel=1e-9)
    steps = betas.sqrt()[1:] - betas.sqrt()[:-1]
    assert torch.allclose(steps, steps.mean().expand_as(steps), rtol=1e-6, atol=0)
    assert not torch.allclose(betas, linear_beta_schedule(T))


def test_cosine_schedule_starts_small_and_is_clipped():
    """Does the cosine schedule start near zero and end at max_beta = 0.999?"""
    betas = cosine_beta_schedule(T)
    assert 0 < betas[0].item() < 1e-3
    assert betas.max().item() == pytest.approx(0.999, rel=1e-12)
    assert betas[-1].item() == pytest.approx(0.999, rel=1e-12)
    assert (betas[1:] >= betas[:-1]).all()


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_get_schedule_by_name(name):
    """Does get_schedule(name, T) return the same betas as the named function?"""
    assert torch.equal(get_schedule(name, 100), SCHEDULES[name](100))


def test_get_schedule_unknown_name_raises_value_error():
    """Does an unknown schedule name raise ValueError?"""
    with pytest.raises(ValueError):
        get_schedule("sigmoid-ish", T)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_alpha_bar_starts_at_one_minus_beta_and_decreases(name):
    """Is alpha_bar[0] = 1 - betas[0], and does alpha_bar strictly decrease, in float64?"""
    betas = SCHEDULES[name](T)
    a = alpha_bar(betas)
    assert a.shape == (T,)
    assert a.dtype == torch.float64
    assert a[0].item() == pytest.approx(1 - betas[0].item(), rel=1e-12)
    assert (a[1:] < a[:-1]).all()
    assert 0 < a[-1].item() < 1e-2
