"""Hostile P1 submission: at import it signals its parent and everything it may signal.

Inside the sandbox it sends SIGSTOP then SIGKILL to its parent process, SIGTERM
to its parent's process group, and SIGKILL to every process it may signal
(``kill(-1, ...)``). Then it imports like a correct submission. The grader is
not in its PID namespace, so none of it may reach the grader; the worker itself
survives (``kill(-1)`` spares the sender) and the score is full.

Outside a sealed sandbox these signals could reach the machine's other
processes, so it sends nothing there and refuses to import instead: that scores
zero and the test notices.
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


def _sealed() -> bool:
    """In bubblewrap's PID namespace as its unprivileged user (process 1 is bwrap)."""
    try:
        with open("/proc/1/cmdline", "rb") as f:
            init = f.read().split(b"\0")[0]
    except OSError:
        return False
    return os.getuid() == 65534 and os.getpid() < 100 and os.path.basename(init) == b"bwrap"


if not _sealed():
    raise ImportError("not inside the bubblewrap sandbox: this attack refuses to run")

_parent = os.getppid()
for _send in (lambda: os.kill(_parent, signal.SIGSTOP), lambda: os.kill(_parent, signal.SIGKILL),
              lambda: os.killpg(os.getpgid(_parent), signal.SIGTERM), lambda: os.kill(-1, signal.SIGKILL)):
    try:
        _send()
    except OSError:
        pass

__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target"]
