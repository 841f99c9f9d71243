"""Hidden tests of ``ddim_timesteps(T, num_steps, spacing)``: the sub-sequence DDIM visits.

Expected values are written out by hand for a few cases (including uneven
counts and ties that round half to even) and derived with Python integers and
floats for many more; the three spacings are those of diffusers'
``DDIMScheduler`` with ``steps_offset = 0``:

* leading: ``k * (T // num_steps)`` for ``k = num_steps-1, ..., 0``;
* trailing: ``round(T - k * T / num_steps) - 1`` for ``k = 0, ..., num_steps-1``;
* linspace: ``round(i * (T - 1) / (num_steps - 1))`` for ``i = num_steps-1, ..., 0``.
"""

import torch

from autograder.testing import cases, requires

SPACINGS = ("leading", "trailing", "linspace")
# (T, num_steps) -> timesteps, by hand.
EXPECTED = {
    "leading": {
        (1000, 10): [900, 800, 700, 600, 500, 400, 300, 200, 100, 0],
        (1000, 7): [852, 710, 568, 426, 284, 142, 0],
        (1000, 1): [0],
        (50, 3): [32, 16, 0],
        (20, 20): list(range(19, -1, -1)),
    },
    "trailing": {
        (1000, 10): [999, 899, 799, 699, 599, 499, 399, 299, 199, 99],
        (1000, 7): [999, 856, 713, 570, 428, 285, 142],
        (1000, 1): [999],
        (50, 3): [49, 32, 16],
        (20, 20): list(range(19, -1, -1)),
    },
    "linspace": {
        (1000, 10): [999, 888, 777, 666, 555, 444, 333, 222, 111, 0],
        (1000, 7): [999, 832, 666, 500, 333, 166, 0],  # 832.5 -> 832 and 166.5 -> 166: half to even
        (1000, 1): [0],
        (50, 3): [49, 24, 0],  # 24.5 -> 24
        (20, 20): list(range(19, -1, -1)),
    },
}
# More (T, num_steps) pairs, checked against a derivation and the reference. A huge T tells
# float64 from float32, which is not exact above 2**24.
GRID = [(1000, n) for n in (2, 3, 4, 5, 6, 8, 13, 20, 25, 33, 50, 64, 100, 250, 999, 1000)] + \
       [(T, n) for T in (10, 37, 100) for n in (1, 2, 3, 7, 9, 10)] + [(10**8 + 7, n) for n in (3, 7, 1000)]

HINTS = {
    "leading": "leading: k * (T // num_steps) for k = num_steps-1 down to 0 (integer division, so the last is 0), "
               "exact integers (float64 or int64, not float32)",
    "trailing": "trailing: round(T - k * T / num_steps) - 1 for k = 0 .. num_steps-1 (the first is T - 1), "
                "computed in float64 and rounded half to even (torch.round)",
    "linspace": "linspace: round(linspace(0, T - 1, num_steps)) in float64, rounded half to even (torch.round), "
                "then reversed (the first is T - 1, the last 0)",
}


def derived(T: int, n: int, spacing: str) -> list[int]:
    """The timesteps by the formulas above, with Python numbers (``round`` is half to even)."""
    if spacing == "leading":
        return [k * (T // n) for k in range(n - 1, -1, -1)]
    if spacing == "trailing":
        return [round(T - k * (T / n)) - 1 for k in range(n)]
    if n == 1:
        return [0]
    return [round(i * (T - 1) / (n - 1)) for i in range(n - 1, -1, -1)]


def _as_list(check, got, what: str, n: int, hint: str) -> list[int]:
    check.shape(got, (n,), what, hint=hint)
    check.true(got.dtype == torch.long, what, f"dtype {got.dtype}, expected torch.int64 (a LongTensor)",
               hint="timesteps index the schedule: return a LongTensor (.long() or dtype=torch.long)")
    return got.tolist()


@cases(spacing=SPACINGS)
def test_ddim_timesteps_values(student, ref, check, spacing):
    """Are the timesteps of each spacing those written out by hand and derived, for even and uneven counts?"""
    hint = HINTS[spacing]
    for (T, n), expected in EXPECTED[spacing].items():
        what = f"ddim_timesteps({T}, {n}, {spacing!r})"
        check.equal(_as_list(check, student.ddim_timesteps(T, n, spacing), what, n, hint), expected, what, hint=hint)
    for T, n in GRID:
        what = f"ddim_timesteps({T}, {n}, {spacing!r})"
        got = _as_list(check, student.ddim_timesteps(T, n, spacing), what, n, hint)
        check.equal(got, ref.ddim_timesteps(T, n, spacing).tolist(), what, hint=hint)
        check.equal(got, derived(T, n, spacing), what, hint=hint)
    if spacing == "leading":
        what = "ddim_timesteps(1000, 10) with the default spacing"
        check.equal(_as_list(check, student.ddim_timesteps(1000, 10), what, 10, hint),
                    EXPECTED["leading"][1000, 10], what, hint="the default spacing is 'leading'")


@requires("test_ddim_timesteps_values")  # arange(num_steps - 1, -1, -1) passes the checks below
def test_ddim_timesteps_are_a_valid_path(student, check):
    """For every spacing and many (T, num_steps): num_steps distinct LongTensor steps, descending, in [0, T)?"""
    for spacing in SPACINGS:
        for T in (10, 50, 1000):
            for n in sorted({1, 2, 3, 7, T // 3, T // 2, T - 1, T}):
                what = f"ddim_timesteps({T}, {n}, {spacing!r})"
                got = _as_list(check, student.ddim_timesteps(T, n, spacing), what, n, HINTS[spacing])
                check.true(all(0 <= s < T for s in got), what, f"steps outside [0, {T}): {got}",
                           hint="timesteps are 0-indexed: 0 <= t <= T - 1")
                check.true(all(a > b for a, b in zip(got, got[1:])), what,
                           f"not strictly decreasing: {got}", hint="the sampler goes from noisy to clean: "
                                                                   "return the timesteps in descending order")


@requires("test_ddim_timesteps_values")  # a function that always raises passes the checks below
def test_ddim_timesteps_bad_arguments(student, check):
    """Do an unknown spacing and a step count outside [1, T] raise ValueError?"""
    for spacing in ("uniform", "Leading", "quadratic", ""):
        check.raises("ValueError", lambda s=spacing: student.ddim_timesteps(1000, 10, s),
                     f"ddim_timesteps(1000, 10, {spacing!r})",
                     hint="raise ValueError naming the known spacings (leading, trailing, linspace)")
    for n in (0, -3, 1001):
        check.raises("ValueError", lambda n=n: student.ddim_timesteps(1000, n, "leading"),
                     f"ddim_timesteps(1000, {n}, 'leading')", hint="num_steps must be between 1 and T")
