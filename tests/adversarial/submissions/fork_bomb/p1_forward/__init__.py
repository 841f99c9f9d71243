"""Hostile P1 submission: ``snr`` is a fork bomb.

Every process forks as fast as it can, children included, until forking fails;
then each waits. The sandbox's process limit must stop the growth and the call's
time limit must end it, together with every process it made. The other
functions are correct.

The bomb keeps its own bounds so that a broken sandbox cannot take the machine
down with it: at most ``CAP`` processes in all (counted in shared memory) and
none lives longer than ``LIFETIME_S`` seconds.
"""

import mmap
import os
import struct
import time

from .forward import predict_x0_from_eps, q_posterior, q_sample, v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)

CAP = 3000
LIFETIME_S = 20.0


def _bomb() -> None:
    counter = mmap.mmap(-1, 8)  # shared with every child: the number of forks so far
    end = time.monotonic() + LIFETIME_S
    while time.monotonic() < end:
        (made,) = struct.unpack("q", counter[:8])
        if made >= CAP:
            break
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            end = min(end, time.monotonic() + LIFETIME_S)
        else:
            counter[:8] = struct.pack("q", made + 1)
    while time.monotonic() < end:  # hold the process slots until the end of the bomb's life
        time.sleep(0.05)
    os._exit(0)


def snr(alpha_bar):
    pid = os.fork()
    if pid == 0:
        try:
            _bomb()
        finally:
            os._exit(0)
    while True:  # the caller waits for the bomb: only the time limit ends this call
        time.sleep(0.1)


__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target"]
