"""Hostile P1 submission: it prints gigabytes.

At import it prints 16 MiB; every call of ``snr`` then writes as much as it can
for a quarter of a second through every way out it has: ``print`` to stdout and stderr,
``os.write`` on file descriptors 1 and 2, ``/dev/stdout`` and
``/proc/self/fd/2``. Write errors (the file-size limit) are ignored and ``snr``
still returns the right answer.

The output must neither break the grader's protocol nor fill the grader's
memory or disk: the log of a worker is capped and only its last lines reach
the report. The score is full.
"""

import os
import sys
import time

from .forward import predict_x0_from_eps, q_posterior, q_sample, v_target
from .forward import snr as _snr
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)

LINE = "flood " * 170 + "\n"  # about 1 KiB
BLOCK = (LINE * 1024).encode()  # about 1 MiB


def _flood(seconds: float, cap_bytes: int) -> int:
    written, end = 0, time.monotonic() + seconds
    sinks = [lambda: print(LINE * 1024, end=""), lambda: print(LINE * 1024, end="", file=sys.stderr),
             lambda: os.write(1, BLOCK), lambda: os.write(2, BLOCK)]
    for path in ("/dev/stdout", "/proc/self/fd/2"):
        try:
            f = open(path, "wb", buffering=0)
            sinks.append(lambda f=f: f.write(BLOCK))
        except OSError:
            pass
    while time.monotonic() < end and written < cap_bytes:
        for sink in sinks:
            try:
                sink()
            except OSError:
                pass
            written += len(BLOCK)
    return written


for _ in range(16):
    print(LINE * 1024, end="")


def snr(alpha_bar):
    _flood(0.25, 8 << 30)
    return _snr(alpha_bar)


__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target"]
