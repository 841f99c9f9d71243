"""Hidden statistical test: after T = 1000 steps the forward process has forgotten the image.

``x_T = q_sample(x0, T-1, alpha_bar, noise)`` of a batch of fixed, non-zero
images should look like draws from N(0, I): mean near 0, variance near 1, a
Kolmogorov-Smirnov test against N(0, 1) that does not reject, and almost no
correlation left with ``x0``. The noise comes from a fixed seed, so the outcome
is deterministic; the bounds are several standard errors wide
(n = 24576 values: the standard error of the mean is 1/sqrt(n) = 0.0064).
"""

import math

import torch
from scipy import stats

from autograder.testing import cases, requires

T = 1000
SHAPE = (8, 3, 32, 32)  # (B, C, H, W); below torch's parallel grain size, so single-threaded
SEED = 0
N = math.prod(SHAPE)
MEAN_BOUND = 5 / math.sqrt(N)               # 5 standard errors of the mean
VAR_BOUND = 5 * math.sqrt(2 / N)            # 5 standard errors of the variance of N(0, 1) samples
KS_MIN_P = 0.01
CORRELATION_BOUND = 0.1                     # sqrt(alpha_bar[T-1]) is at most 0.03 for these schedules


def _checkerboard(device) -> torch.Tensor:
    """A batch of +-1 checkerboards: non-zero pixels, image mean 0, pixel variance 1."""
    i = torch.arange(SHAPE[-2]).reshape(-1, 1)
    j = torch.arange(SHAPE[-1]).reshape(1, -1)
    board = ((i + j) % 2 * 2 - 1).to(torch.float32)  # (H, W)
    return board.expand(SHAPE).contiguous().to(device)


@cases(schedule=["linear", "quadratic", "cosine"])
@requires("test_q_sample_values[{schedule}]")  # returning the noise passes the checks below
def test_x_T_is_standard_normal(student, ref, check, device, schedule):
    """Is x_T at t = T-1 close to N(0, I) for every schedule, whatever x0 was?"""
    alpha_bar = ref.alpha_bar(ref.get_schedule(schedule, T)).to(device)
    x0 = _checkerboard(device)
    g = torch.Generator().manual_seed(SEED)
    noise = torch.randn(SHAPE, generator=g).to(device)
    t = torch.full((SHAPE[0],), T - 1, dtype=torch.long).to(device)
    what = f"x_T = q_sample(x0, t=T-1, alpha_bar, noise), {schedule} schedule, T={T}, x0 a +-1 checkerboard"
    hint = ("at t = T-1, alpha_bar is nearly 0, so x_T = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) noise "
            "is nearly pure standard Gaussian noise; check which coefficient multiplies x0 and which the noise")
    x_T = student.q_sample(x0, t, alpha_bar, noise)
    check.shape(x_T, SHAPE, what)
    values = x_T.detach().to("cpu", torch.float64).flatten()
    check.true(bool(torch.isfinite(values).all()), what, "contains NaN or infinite values", hint=hint)

    mean = float(values.mean())
    var = float(values.var())
    check.true(abs(mean) < MEAN_BOUND, what, f"mean {mean:.4f} is not within {MEAN_BOUND:.4f} of 0", hint=hint)
    check.true(abs(var - 1) < VAR_BOUND, what, f"variance {var:.4f} is not within {VAR_BOUND:.4f} of 1", hint=hint)
    ks = stats.kstest(values.numpy(), "norm")
    check.true(ks.pvalue > KS_MIN_P, what,
               f"the values do not look N(0, 1): Kolmogorov-Smirnov statistic {ks.statistic:.4f}, "
               f"p-value {ks.pvalue:.2g} <= {KS_MIN_P}", hint=hint)
    flat_x0 = x0.to("cpu", torch.float64).flatten()
    corr = float(torch.corrcoef(torch.stack([values, flat_x0]))[0, 1])
    check.true(abs(corr) < CORRELATION_BOUND, what,
               f"x_T still correlates with x0 (correlation {corr:.3f}, expected below {CORRELATION_BOUND})",
               hint=hint)
