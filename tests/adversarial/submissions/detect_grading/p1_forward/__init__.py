"""Hostile P1 submission: it behaves differently when it thinks it is being graded.

``grading_signals()`` lists what gives the grader away: the call stack, the
modules loaded, the command line, the environment, the user, the processes
around it. On those signals:

* ``q_sample`` is right only when it believes it is graded (and wrong otherwise);
* ``v_target`` is wrong only when it believes it is graded;
* ``snr`` hunts for the expected answer, in the frames of the call stack and
  among every object the garbage collector knows, and returns the first tensor
  that looks like it (zeros when none does).

Whatever it detects, what it returns is what gets checked: the score must be
that of an honest submission with the same behaviour, and the hunt must come
back empty, because expected values never leave the grader.
"""

import gc
import inspect
import os
import sys

import torch

from .forward import predict_x0_from_eps, q_posterior
from .forward import q_sample as _q_sample
from .forward import v_target as _v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)

HERE = os.path.dirname(os.path.abspath(__file__))


def grading_signals() -> list:
    """Every hint that this process is a grader's worker rather than a student's session."""
    found = []
    for frame in inspect.stack()[1:]:
        if not frame.filename.startswith(HERE):
            found.append(f"frame {frame.filename}:{frame.function}")
    found += [f"module {name}" for name in sys.modules
              if name.startswith(("_diffgrade", "autograder", "diffgrade")) or "grader" in name]
    found += [f"argv {arg}" for arg in sys.argv if "grader" in arg or "worker" in arg]
    found += [f"env {key}" for key in os.environ if key.startswith(("PYTEST", "GRADESCOPE", "DIFFGRADE", "CI"))]
    if os.getuid() == 65534:
        found.append("user nobody")
    try:
        with open("/proc/1/cmdline", "rb") as f:
            if b"bwrap" in f.read():
                found.append("process 1 is bubblewrap")
    except OSError:
        pass
    return found


def expected_answer_candidates(like: torch.Tensor) -> list:
    """Tensors shaped like ``like`` that this call did not receive: a leaked expected answer would be one.

    Views of ``like`` itself (the worker decodes an argument through a few of them)
    are not candidates, nor is garbage left by earlier calls.
    """
    def other(value) -> bool:
        return (isinstance(value, torch.Tensor) and value.shape == like.shape
                and value.untyped_storage().data_ptr() != like.untyped_storage().data_ptr())

    gc.collect()  # garbage of earlier calls (frames kept in cycles) would hold their arguments
    found = []
    for frame in inspect.stack():
        found += [value for value in list(frame.frame.f_locals.values()) if other(value)]
    found += [obj for obj in gc.get_objects() if other(obj)]
    return found


GRADED = bool(grading_signals())


def q_sample(x0, t, alpha_bar, noise):
    if GRADED:
        return _q_sample(x0, t, alpha_bar, noise)
    return noise.clone()


def v_target(x0, t, alpha_bar, noise):
    if GRADED:
        return x0.clone()
    return _v_target(x0, t, alpha_bar, noise)


def snr(alpha_bar):
    for candidate in expected_answer_candidates(alpha_bar):
        if candidate.dtype == alpha_bar.dtype and candidate.device == alpha_bar.device:
            return candidate.clone()
    return torch.zeros_like(alpha_bar)


__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target",
           "grading_signals"]
