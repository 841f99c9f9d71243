"""The checker hidden tests are written with: float32 results against the float64 truth, and
exceptions recognised by class or by base class."""

import types

import pytest
import torch

from autograder.sandbox.errors import StudentException
from autograder.sandbox.local import InProcessStudent
from autograder.testing import TRUTH_FACTOR, Checker, CheckFailure


class Config:
    """The part of ``AssignmentConfig`` a ``Checker`` reads."""

    def tolerance(self, dtype):
        if dtype == torch.float32:
            return types.SimpleNamespace(atol=1e-5, rtol=1e-4)
        return types.SimpleNamespace(atol=1e-10, rtol=1e-8)


check = Checker(Config())


def snr(alpha_bar):
    return alpha_bar / (1 - alpha_bar)


def alpha_bar_linear(T=1000):
    return torch.cumprod(1 - torch.linspace(1e-4, 0.02, T, dtype=torch.float64), 0)


def test_other_correct_float32_formula_passes():
    """Does snr as 1 / (1 / alpha_bar - 1) in float32 pass against the float64 truth, though it is
    further from the reference's own float32 rounding than the configured tolerance?"""
    ab = alpha_bar_linear().float()
    other = 1 / (1 / ab - 1)
    with pytest.raises(CheckFailure):  # the comparison this replaces
        check.close(other, snr(ab), "snr")
    check.close_to_truth(other, snr, (ab,), "snr")
    check.close_to_truth(snr(ab), snr, (ab,), "snr")  # the reference's float32 always passes


def test_truth_check_still_catches_mistakes():
    """Do a formula off by one step, a missing square, a float64 result and a NaN still fail?"""
    ab = alpha_bar_linear().float()
    with pytest.raises(CheckFailure, match="values differ"):
        check.close_to_truth(torch.cat([ab[:1], ab[:-1]]) / (1 - torch.cat([ab[:1], ab[:-1]])), snr, (ab,), "snr")
    with pytest.raises(CheckFailure, match="values differ"):
        check.close_to_truth(ab.sqrt() / (1 - ab), snr, (ab,), "snr")
    with pytest.raises(CheckFailure, match="wrong dtype"):
        check.close_to_truth(snr(ab.double()), snr, (ab,), "snr")
    bad = snr(ab).clone()
    bad[3] = float("nan")
    with pytest.raises(CheckFailure, match="NaN"):
        check.close_to_truth(bad, snr, (ab,), "snr")


def test_tolerance_follows_the_conditioning():
    """Is the room per element what float32 rounding does there: wide where 1 - alpha_bar cancels
    (t = 0), the configured tolerance where the formula is well conditioned (alpha_bar near 1/2)?"""
    ab = alpha_bar_linear().float()
    truth = snr(ab.double())
    eps = torch.finfo(torch.float32).eps
    half = int((ab - 0.5).abs().argmin())
    for index, rel in ((0, 2e-3), (half, 2e-4)):
        pushed = truth.clone()
        pushed[index] *= 1 + rel
        expect_pass = index == 0  # at t = 0, cancellation costs float32 about 1e-4 / beta_0 relative
        if expect_pass:
            check.close_to_truth(pushed.float(), snr, (ab,), "snr")
        else:
            with pytest.raises(CheckFailure):
                check.close_to_truth(pushed.float(), snr, (ab,), "snr")
    # The room at t = 0 is bounded: the factor times the effect of eps-sized input changes.
    room = TRUTH_FACTOR * (eps * float(ab[0]) / (1 - float(ab[0])) ** 2 * float(ab[0]) * 2 + eps * float(truth[0]))
    too_far = truth.clone()
    too_far[0] += 3 * room
    with pytest.raises(CheckFailure):
        check.close_to_truth(too_far.float(), snr, (ab,), "snr")


def test_truth_check_picks_an_output_and_keeps_other_arguments():
    """Does ``output`` pick one tensor of a pair, with integer and float64 arguments passed through?"""
    def pair(x, t, schedule):
        a = schedule[t].to(x.dtype).reshape(-1, 1)
        return a * x, (1 - a) * x

    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    t = torch.tensor([0, 5, 9])
    schedule = alpha_bar_linear(10)
    got = (1 - schedule[t].reshape(-1, 1)).float() * x
    check.close_to_truth(got, pair, (x, t, schedule), "second", output=lambda r: r[1])
    with pytest.raises(CheckFailure):
        check.close_to_truth(got, pair, (x, t, schedule), "first", output=lambda r: r[0])


class UnknownSchedule(ValueError):
    pass


def test_raises_accepts_a_subclass():
    """Does raises('ValueError') accept a student's subclass of ValueError, in the in-process twin too,
    and refuse an exception outside that family, naming it?"""
    def get(name):
        if name == "sub":
            raise UnknownSchedule("no such schedule")
        if name == "key":
            raise KeyError(name)
        raise ValueError(name)

    student = InProcessStudent(types.SimpleNamespace(get=get))
    check.raises("ValueError", lambda: student.get("sub"), "get('sub')")
    check.raises("ValueError", lambda: student.get("plain"), "get('plain')")
    check.raises("UnknownSchedule", lambda: student.get("sub"), "get('sub')")
    with pytest.raises(CheckFailure, match="raised KeyError instead of ValueError"):
        check.raises("ValueError", lambda: student.get("key"), "get('key')")
    with pytest.raises(CheckFailure, match="raised ValueError instead of UnknownSchedule"):
        check.raises("UnknownSchedule", lambda: student.get("plain"), "get('plain')")


def test_exception_without_mro_falls_back_to_its_class():
    """Does a StudentException built without class names (an older worker) still compare by its class?"""
    e = StudentException("ValueError", "boom")
    assert e.exc_mro == ("ValueError",)

    def raise_it():
        raise e

    check.raises("ValueError", raise_it, "call")
    with pytest.raises(CheckFailure):
        check.raises("LookupError", raise_it, "call")
