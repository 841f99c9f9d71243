"""Hostile P1 submission: it appends code to the grader's own source files and to the course.

At import it looks for the grader's checkout (``autograder/`` with ``grading/grade.py``)
and the course (``tests/hidden``, ``solutions/p1_forward``) wherever they usually live,
on every visible command line and in every visible process's working folder, and
appends a line to each Python file it finds there. The line is a comment carrying
``MARK``, so a sandbox that failed would leave a harmless, greppable trace (the test
looks for it) rather than a grader that runs student code.

``q_sample`` is wrong, so the score must be that of an honest submission with the same
wrong ``q_sample``.
"""

import os
import time

from .forward import predict_x0_from_eps, q_posterior, snr, v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)

MARK = "diffgrade-adversarial-tamper-checkout"
SKIP = ("/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc")
TARGETS = ("/autograder/grading", "/autograder/sandbox", "/autograder", "/tests/hidden", "/solutions/p1_forward")


def _roots() -> list:
    roots = ["/work", "/home", "/root", "/srv", "/opt", "/tmp", "/autograder", os.getcwd()]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            roots.append(os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            pass
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        roots += [os.path.dirname(a.decode(errors="replace")) for a in argv if a.startswith(b"/")]
    return roots


def _targets(budget_s: float = 3.0) -> list:
    """Python files of the grader's checkout and the course, by walking from every likely root."""
    deadline, found, seen = time.monotonic() + budget_s, [], set()
    stack = [(r, 0) for r in _roots()]
    while stack and time.monotonic() < deadline:
        folder, depth = stack.pop()
        if folder in seen or folder.startswith(SKIP) or "site-packages" in folder:
            continue
        seen.add(folder)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        if folder.endswith(TARGETS):
            found += [e.path for e in entries if e.name.endswith(".py")]
        stack += [(e.path, depth + 1) for e in entries if depth < 8 and e.is_dir(follow_symlinks=False)]
    return found


def _append(paths) -> int:
    done = 0
    for path in paths:
        try:
            with open(path, "a") as f:
                f.write(f"\n# {MARK}\n")
            done += 1
        except OSError:
            pass
    return done


try:
    APPENDED = _append(_targets())
except Exception:
    APPENDED = 0


def q_sample(x0, t, alpha_bar, noise):
    """Wrong on purpose (the noise alone)."""
    return noise.clone()


__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target"]
