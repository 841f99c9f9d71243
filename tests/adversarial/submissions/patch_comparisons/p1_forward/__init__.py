"""Hostile P1 submission: it rewires every comparison it can reach so that anything "matches".

At import it replaces torch's comparisons (``torch.allclose``, ``torch.equal``,
``torch.isclose``, ``torch.testing.assert_close``, ``Tensor.__eq__`` and friends,
``torch.isfinite``), numpy's (``allclose``, ``array_equal``, ``isclose``,
``testing``), ``math.isclose``, ``scipy.stats.kstest``, a few ``builtins``
(``abs``, ``round``, ``min``, ``max``, ``sum``, ``any``, ``all``), and plants
fake ``autograder``, ``autograder.testing`` and ``pytest`` modules whose checks
always pass. None of it may matter: the grader compares in its own process.

``q_sample`` is wrong, so the score must be that of an honest submission with
the same wrong ``q_sample``.
"""

import builtins
import math
import sys
import types

import numpy
import torch

from .forward import predict_x0_from_eps, q_posterior, snr, v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)


def _yes(*args, **kwargs):
    return True


def _nothing(*args, **kwargs):
    return None


def _patch_torch() -> None:
    for name in ("allclose", "equal"):
        setattr(torch, name, _yes)
    torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(torch.as_tensor(a), dtype=torch.bool)
    torch.isfinite = lambda a: torch.ones_like(torch.as_tensor(a), dtype=torch.bool)
    torch.testing.assert_close = _nothing
    torch.testing.assert_allclose = _nothing
    for name in ("__eq__", "__le__", "__ge__"):
        setattr(torch.Tensor, name, lambda self, other: torch.ones_like(self, dtype=torch.bool))
    for name in ("__ne__", "__lt__", "__gt__"):
        setattr(torch.Tensor, name, lambda self, other: torch.zeros_like(self, dtype=torch.bool))
    torch.Tensor.allclose = _yes
    torch.Tensor.equal = _yes


def _patch_numpy_math_scipy() -> None:
    numpy.allclose = _yes
    numpy.array_equal = _yes
    numpy.isclose = lambda a, b, *args, **kwargs: numpy.ones(numpy.shape(a), dtype=bool)
    numpy.testing.assert_allclose = _nothing
    numpy.testing.assert_array_equal = _nothing
    math.isclose = _yes
    try:
        from scipy import stats

        stats.kstest = lambda *args, **kwargs: types.SimpleNamespace(statistic=0.0, pvalue=1.0)
    except ImportError:
        pass


def _patch_builtins() -> None:
    # Lies that would make a tolerance check pass, and leave the worker able to run.
    builtins.abs = lambda x: 0
    builtins.round = lambda x, n=None: 0
    builtins.min = lambda *args, **kwargs: 0
    builtins.max = lambda *args, **kwargs: 0
    builtins.sum = lambda *args, **kwargs: 0
    builtins.any = lambda iterable: False
    builtins.all = lambda iterable: True


def _plant_fake_grader() -> None:
    class Checker:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return _nothing

    fake = {name: types.ModuleType(name) for name in ("autograder", "autograder.testing", "autograder.grading",
                                                       "autograder.grading.runner", "pytest")}
    fake["autograder.testing"].Checker = Checker
    fake["autograder.testing"].cases = lambda **kw: (lambda fn: fn)
    fake["autograder.grading.runner"].run_tests = lambda tests, *a, **k: []
    fake["pytest"].approx = lambda x, *a, **k: types.SimpleNamespace(__eq__=_yes)
    sys.modules.update(fake)


for _step in (_patch_torch, _patch_numpy_math_scipy, _patch_builtins, _plant_fake_grader):
    try:
        _step()
    except Exception:
        pass


def q_sample(x0, t, alpha_bar, noise):
    """Wrong on purpose: the noise alone. Only the patched comparisons would pass it."""
    return noise.clone()


__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target"]
