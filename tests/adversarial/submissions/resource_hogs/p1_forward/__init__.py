"""Hostile P1 submission: three functions that never give their resources back.

* ``snr`` spins forever in Python, ignoring SIGTERM, SIGINT and SIGALRM, next to
  a background thread that spins too;
* ``q_posterior`` grows a Python list of 64 MiB blocks without end;
* ``predict_x0_from_eps`` allocates 1 GiB torch tensors without end.

The others are correct. Each hog must cost only its own tests (a time limit or
a memory limit ends it) and never the grader, the machine or later submissions.
"""

import signal
import threading

import torch

from .forward import q_sample, v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)


def _spin():
    while True:
        pass


def snr(alpha_bar):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
        signal.signal(sig, signal.SIG_IGN)
    threading.Thread(target=_spin, daemon=True).start()
    _spin()


def q_posterior(x0, x_t, t, betas):
    blocks = []
    while True:
        blocks.append(bytearray(64 << 20))


def predict_x0_from_eps(x_t, t, alpha_bar, eps):
    hoard = []
    while True:
        hoard.append(torch.empty(1 << 28, dtype=torch.float32))  # 1 GiB each


__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target"]
