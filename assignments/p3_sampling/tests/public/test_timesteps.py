"""Public tests for ``ddim_timesteps(T, num_steps, spacing)``.

The hidden tests check many more ``(T, num_steps)`` pairs, uneven counts and ties.
"""

import pytest
import torch

from p3_sampling import ddim_timesteps


@pytest.mark.parametrize("spacing, expected", [
    ("leading", [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]),
    ("trailing", [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]),
    ("linspace", [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]),
])
def test_ten_steps_of_a_thousand(spacing, expected):
    """Are the 10 timesteps of T = 1000 those of the handout's table, as a descending LongTensor?"""
    tau = ddim_timesteps(1000, 10, spacing)
    assert isinstance(tau, torch.Tensor) and tau.dtype == torch.long
    assert tau.tolist() == expected


def test_default_spacing_is_leading():
    """Does ddim_timesteps(T, num_steps) use the leading spacing?"""
    assert ddim_timesteps(1000, 4).tolist() == [750, 500, 250, 0]


@pytest.mark.parametrize("spacing", ["leading", "trailing", "linspace"])
@pytest.mark.parametrize("num_steps", [1, 3, 20])
def test_descending_and_in_range(spacing, num_steps):
    """Are the timesteps num_steps distinct values in [0, T), in descending order?"""
    tau = ddim_timesteps(20, num_steps, spacing).tolist()
    assert len(tau) == num_steps
    assert all(0 <= s < 20 for s in tau)
    assert all(a > b for a, b in zip(tau, tau[1:]))


def test_unknown_spacing_raises_value_error():
    """Does an unknown spacing raise ValueError?"""
    with pytest.raises(ValueError):
        ddim_timesteps(1000, 10, "uniform")
