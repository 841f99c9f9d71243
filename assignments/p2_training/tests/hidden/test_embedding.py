"""Hidden tests of ``timestep_embedding``: values against the formula, written here with
Python's ``math`` one entry at a time, for even and odd widths, integer and float ``t``
and several ``max_period``.

Column ``k`` is ``cos(t * f_k)`` and column ``half + k`` is ``sin(t * f_k)`` with
``half = dim // 2`` and ``f_k = max_period ** (-k / half)``; an odd ``dim`` gets one
column of zeros at the end. The result is float32 on the device of ``t``.
"""

import math

import torch

from autograder.testing import cases

# One timestep per sample, unsorted, with both ends of [0, T) for T = 1000.
TIMESTEPS = [0, 1, 17, 250, 999, 4]
# float32 rounding of t * f_k (up to about 1e3 * 6e-8) dominates the error.
ATOL = 2e-4
HINT = ("with half = dim // 2 and k = 0 .. half-1: f_k = exp(-log(max_period) * k / half); columns 0 .. half-1 "
        "hold cos(t * f_k), columns half .. 2*half-1 hold sin(t * f_k) (cosines first); an odd dim gets one "
        "column of zeros at the end; return float32 on the device of t")


def formula(timesteps: list[float], dim: int, max_period: float) -> torch.Tensor:
    """The embedding of each timestep, entry by entry, as a float64 ``(B, dim)`` tensor."""
    half = dim // 2
    rows = []
    for s in timesteps:
        row = [0.0] * dim
        for k in range(half):
            f = math.exp(-math.log(max_period) * k / half)
            row[k] = math.cos(s * f)
            row[half + k] = math.sin(s * f)
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float64)


def _check_embedding(student, check, device, t: torch.Tensor, dim: int, max_period: float | None) -> None:
    if max_period is None:
        got = student.timestep_embedding(t, dim)
        what = f"timestep_embedding(t, dim={dim}), t={t.tolist()}"
        max_period = 10000
    else:
        got = student.timestep_embedding(t, dim, max_period=max_period)
        what = f"timestep_embedding(t, dim={dim}, max_period={max_period}), t={t.tolist()}"
    check.shape(got, (len(t), dim), what, hint="one row of dim values per timestep")
    expected = formula(t.tolist(), dim, max_period).to(device, torch.float32)
    check.close(got, expected, what, atol=ATOL, rtol=0.0, hint=HINT)


@cases(dim=[2, 7, 16, 33, 128])
def test_embedding_values(student, check, device, dim):
    """Is column k cos(t f_k) and column half + k sin(t f_k), with a zero column for odd dim?"""
    t = torch.tensor(TIMESTEPS, dtype=torch.long).to(device)
    _check_embedding(student, check, device, t, dim, None)


@cases(max_period=[100, 1000.0, 50000])
def test_embedding_max_period(student, check, device, max_period):
    """Does max_period set the lowest frequency, for integer and for float timesteps?"""
    _check_embedding(student, check, device, torch.tensor(TIMESTEPS, dtype=torch.long).to(device), 10, max_period)
    floats = torch.tensor([0.5, 3.25, 998.75], dtype=torch.float32).to(device)
    _check_embedding(student, check, device, floats, 9, max_period)
