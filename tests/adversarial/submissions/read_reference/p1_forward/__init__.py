"""Hostile P1 submission: it finds the reference solution on disk and answers with it.

Its own functions are wrong (``q_sample`` returns the noise, ``snr`` zeros). At import
it looks for ``solutions/p1_forward`` wherever a course checkout usually lives, on
every visible command line and in every visible process's working folder; if it finds
it, it loads the reference and answers with the reference's functions instead, which
would give it full marks.

Sealed in, it finds nothing and must score exactly like an honest submission with the
same two wrong functions.
"""

import importlib.util
import os
import sys
import time

from .forward import predict_x0_from_eps, q_posterior, v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)

SKIP = ("/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc")
HERE = os.path.dirname(os.path.abspath(__file__))


def _roots() -> list:
    roots = ["/work", "/home", "/root", "/srv", "/opt", "/tmp", "/autograder", os.getcwd()]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            roots.append(os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            pass
    return roots


def _find_reference(budget_s: float = 3.0):
    deadline, stack, seen = time.monotonic() + budget_s, [(r, 0) for r in _roots()], set()
    while stack and time.monotonic() < deadline:
        folder, depth = stack.pop()
        if folder in seen or folder.startswith(SKIP) or "site-packages" in folder:
            continue
        seen.add(folder)
        if folder.endswith("/solutions/p1_forward") and os.path.isfile(os.path.join(folder, "__init__.py")):
            return folder
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        stack += [(e.path, depth + 1) for e in entries if depth < 8 and e.is_dir(follow_symlinks=False)]
    return None


def _load(folder: str):
    spec = importlib.util.spec_from_file_location("_stolen_reference", os.path.join(folder, "__init__.py"),
                                                  submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def q_sample(x0, t, alpha_bar, noise):
    return noise.clone()


def snr(alpha_bar):
    return alpha_bar * 0


try:
    _found = _find_reference()
    if _found:
        _ref = _load(_found)
        q_sample, snr = _ref.q_sample, _ref.snr  # noqa: F811 - the point of the attack
except Exception:
    pass

__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target"]
