"""Resource limits of one worker, and the per-process ones set in the child before exec.

RLIMIT_NPROC counts every process and thread of the worker's real user, not of the
sandbox, and the kernel does not enforce it at all for root. So it is set at spawn
time to that user's current count plus ``Limits.nproc`` (right for other users), and
the sandbox's pids cgroup (``cgroups.py``) bounds it whoever runs it.
"""

import os
import resource
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker process."""

    memory_mb: int = 6144
    file_size_mb: int = 64
    nproc: int = 512   # processes and threads of the sandbox, on top of those the user already has
    tmp_mb: int = 512  # each writable tmpfs of the bwrap sandbox (/tmp, /dev/shm): they live in RAM
    gpu_memory_mb: int = 16384  # on a GPU: the worker's allocator cap, and the guard's (gpu_memory.py)


def tasks_of(uid: int) -> int:
    """Processes and threads whose real user is ``uid``, as RLIMIT_NPROC counts them."""
    n = 0
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return 0
    for pid in pids:
        real_uid, threads = None, 1
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        real_uid = int(line.split()[1])
                    elif line.startswith("Threads:"):
                        threads = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if real_uid == uid:
            n += threads
    return n


def apply(limits: Limits, gpu: bool, nproc: int) -> None:
    """Set the worker's rlimits (in the child, before exec)."""
    mb = 1 << 20
    # RLIMIT_DATA caps heap and anonymous mappings but not shared libraries, so
    # importing torch fits; CUDA maps huge private regions, so GPU runs skip it.
    if not gpu:
        resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_mb * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc,) * 2)
    except (ValueError, OSError):
        pass  # some containers forbid changing it; the pids cgroup still confines
