"""The level for machines without bubblewrap: the worker confines itself with Landlock.

Landlock needs no privilege and no namespace, so it works on Slurm nodes and shared
machines where unprivileged user namespaces are off. The worker applies the rules of
``rules()`` to itself after importing torch and before importing the submission
(``runtime/landlock.py`` says exactly what they allow, and why). Where the grader is
root the worker also runs as ``nobody`` (``runtime/reaper.py``), so it cannot signal the
grader or read its ``/proc/<pid>/environ`` whatever the kernel's Landlock ABI. The
worker is started under a small subreaper process that kills every process the
worker left behind before the grader may write a result.
"""

import json
import os
import subprocess
from functools import lru_cache
from pathlib import Path

from autograder.sandbox import cgroups, environment
from autograder.sandbox.levels.base import Launch, Level, reaper_prefix, worker_args

RUNTIME_SOURCE = Path(__file__).resolve().parent.parent / "runtime"
SCOPED_ABI, NET_ABI = 6, 4


@lru_cache(maxsize=1)
def landlock_abi() -> int:
    """The Landlock ABI a child process could really apply here (0: none).

    Probed the way ``bwrap_works`` probes bubblewrap: a child creates a ruleset, restricts
    itself and must then be refused a directory listing of ``/``.
    """
    probe = [environment.python_executable(), "-I", "-S", str(RUNTIME_SOURCE / "landlock.py"), "--probe"]
    try:
        out = subprocess.run(probe, capture_output=True, text=True, timeout=30)
        return int(json.loads(out.stdout)["abi"]) if out.returncode == 0 else 0
    except (OSError, subprocess.TimeoutExpired, ValueError, KeyError, TypeError):
        return 0


def missing(abi: int) -> list[str]:
    """What this machine's Landlock cannot restrict (``runtime/landlock.py``, grader side)."""
    from autograder.sandbox.runtime import landlock

    return landlock.missing(abi)


def rules(launch: Launch) -> dict[str, list[str]]:
    """The worker's Landlock rules: what it may read, where it may write, which devices it may use."""
    read = [*environment.python_roots(), str(launch.runtime_dir), str(launch.submission_dir),
            *map(str, launch.provided), *environment.system_files(),
            "/dev/urandom", "/dev/random", "/dev/zero", "/proc",
            "/sys/devices/system/cpu", "/sys/devices/system/node"]
    devices = ["/dev/null"]
    if launch.gpu:
        devices += sorted(str(p) for p in Path("/dev").glob("nvidia*") if not p.is_dir())
        read += [str(p) for p in Path("/dev").glob("nvidia*") if p.is_dir()]
        read += ["/sys/bus/pci", "/sys/devices", "/usr/local/cuda", "/usr/local/nvidia"]
    if launch.tmp is None:
        raise ValueError("the Landlock level needs the worker's scratch folder (tmp)")
    return {"read": [p for p in read if os.path.exists(p)], "write": [launch.tmp], "devices": devices}


class Landlock(Level):
    name = "landlock"
    reaper = True

    def works(self) -> bool:
        return landlock_abi() > 0

    def unavailable(self) -> str:
        return ("the kernel offers no Landlock (Linux 5.13 or later, with 'landlock' in the lsm= boot "
                "parameter or CONFIG_LSM)")

    def runs_as(self) -> int | None:
        return environment.NOBODY if os.geteuid() == 0 else None

    def description(self) -> str:
        abi = landlock_abi()
        user = ("as the unprivileged user nobody" if self.runs_as() is not None
                else "as the grader's user")
        sweep = "the sandbox's cgroup emptied and " if cgroups.parents() else ""
        text = (f"Landlock sandbox (ABI {abi}), {user}: reads only the Python environment, system libraries, "
                f"the submission and the provided packages; writes only its own scratch folder; "
                f"no TCP; signals and abstract sockets confined to the sandbox; resource limits; "
                f"every process of the worker killed before results are written ({sweep}a subreaper's sweep, "
                f"checked until none is left). Not restricted: UDP and named unix sockets, file names "
                f"and sizes outside its rules")
        gaps = missing(abi)
        return text + (f". This kernel's Landlock lacks: {'; '.join(gaps)}" if gaps else "")

    def command(self, launch: Launch) -> tuple[list[str], str]:
        sub = str(launch.submission_dir)
        worker = worker_args(str(launch.runtime_dir / "worker.py"), sub, [str(p) for p in launch.provided], launch)
        return [*reaper_prefix(launch, self.runs_as()), *worker, "--landlock", json.dumps(rules(launch))], sub

