"""Hostile P1 submission: a malicious pickle posing as a checkpoint.

The test that uses it adds ``p1_forward/checkpoint.pt`` and
``p1_forward/weights.pkl`` next to this file: pickles whose loading runs code
(here it makes a folder the test watches for). A grader that unpickles student
bytes would run it in the grader. Staging copies only ``.py`` files, and the
grader loads nothing the student sends but tensors in a raw format, so the
folder never appears.

The package itself tries to load its checkpoint (inside the sandbox, where the
file is not even staged) and otherwise is correct: full marks.
"""

import os
import pickle

import torch

from .forward import predict_x0_from_eps, q_posterior, q_sample, snr, v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    torch.load(os.path.join(HERE, "checkpoint.pt"), weights_only=False)
except Exception:
    pass
try:
    with open(os.path.join(HERE, "weights.pkl"), "rb") as f:
        pickle.load(f)
except Exception:
    pass

__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target"]
