"""Thresholds from seed values: the model, the bound, the floor and the rounding."""

import numpy as np
import pytest

from autograder.calibrate.statistics import LOG_NORMAL, NORMAL, fit_threshold, round_up


def test_round_up_to_significant_figures():
    """Is a threshold rounded up (never down) to 3 significant figures?"""
    assert round_up(0.012341) == 0.0124
    assert round_up(23.401) == 23.5
    assert round_up(23.4) == 23.4
    assert round_up(-1.234) == -1.23
    assert round_up(123456.0) == 124000.0


def test_positive_values_use_a_log_normal():
    """Are all-positive values (FID) modelled as log-normal and others as normal?"""
    assert fit_threshold([30.0, 31.0, 29.5], false_fail=0.01).distribution == LOG_NORMAL
    assert fit_threshold([-0.5, 0.2, 0.1], false_fail=0.01).distribution == NORMAL


def test_threshold_is_above_every_value_with_a_margin():
    """Is the threshold at least the largest value times 1 + margin, even with no spread at all?"""
    values = [30.0, 31.0, 29.5, 30.2]
    fit = fit_threshold(values, false_fail=0.01, margin=0.02)
    assert fit.threshold >= max(values) * 1.02 and fit.threshold >= fit.bound
    flat = fit_threshold([10.0, 10.0], false_fail=0.01, margin=0.02)
    assert flat.std == 0 and flat.threshold == 10.2


def test_smaller_false_fail_rate_means_a_looser_threshold():
    """Does asking for fewer false failures raise the threshold?"""
    values = [30.0, 33.0, 29.0, 31.5, 30.5]
    bounds = [fit_threshold(values, false_fail=p, margin=0).bound for p in (0.1, 0.01, 0.001)]
    assert bounds == sorted(bounds) and bounds[0] < bounds[-1]


def test_false_fail_rate_holds_for_log_normal_values():
    """Over many simulated calibrations, does a new reference run exceed the threshold at most as often as asked?"""
    rng = np.random.default_rng(0)
    p, trials, n = 0.05, 4000, 8
    exceed = 0
    for _ in range(trials):
        values = np.exp(rng.normal(3.4, 0.05, size=n))
        threshold = fit_threshold(values.tolist(), false_fail=p, margin=0.0).bound
        exceed += np.exp(rng.normal(3.4, 0.05)) > threshold
    assert exceed / trials < p + 3 * (p * (1 - p) / trials) ** 0.5
    assert exceed / trials > p / 2, "the bound should not be far more conservative than asked"


@pytest.mark.parametrize("values, false_fail, message", [
    ([1.0], 0.01, "at least 2 seeds"),
    ([1.0, float("nan")], 0.01, "not finite"),
    ([1.0, 2.0], 0.0, "false_fail"),
])
def test_bad_inputs_are_errors(values, false_fail, message):
    """Are too few values, non-finite values and impossible rates refused?"""
    with pytest.raises(ValueError, match=message):
        fit_threshold(values, false_fail=false_fail)
