"""Capping the GPU memory of a sandbox from outside it.

Neither RLIMIT_DATA nor the memory cgroup counts device memory. The worker caps
its own allocator (``torch.cuda.set_per_process_memory_fraction``, set before the
student's package is imported), so an honest allocation past the limit becomes a
clean ``OutOfMemoryError``; but that is a setting student code can undo. So while
the grader waits for a reply it also asks the driver (``nvidia-smi``) what every
process of the sandbox holds, and the worker is killed when the sum passes the
limit plus the CUDA context's own share: a check the student's code cannot reach.
"""

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

# What a CUDA context and the kernels torch loads take on top of the tensors the
# allocator hands out; the driver counts it, the worker's own cap does not.
CONTEXT_ALLOWANCE_MB = 1024

Query = Callable[[], dict[int, int] | None]


def query_nvidia_smi() -> dict[int, int] | None:
    """MiB of GPU memory held per process id, as the driver reports it; ``None`` when unknown."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return parse_compute_apps(out.stdout)


def parse_compute_apps(text: str) -> dict[int, int]:
    """``"1234, 512\\n"`` lines -> ``{1234: 512}``; lines that are not two integers are skipped."""
    used: dict[int, int] = {}
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            continue  # "[N/A]" or a header
        pid, mib = int(parts[0]), int(parts[1])
        used[pid] = used.get(pid, 0) + mib
    return used


def descendants(root: int, proc: Path = Path("/proc")) -> set[int]:
    """``root`` and every process below it, from the parent ids in ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # The command name (field 2) is in parentheses and may hold spaces: split after it.
        fields = stat[stat.rfind(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


class GpuMemoryGuard:
    """Says when the processes under a worker hold more GPU memory than ``limit_mb``.

    ``query`` is asked at most once per ``interval_s``; it defaults to ``nvidia-smi``,
    and a machine without it makes the guard a no-op.
    """

    def __init__(self, limit_mb: int, query: Query = query_nvidia_smi, interval_s: float = 1.0,
                 allowance_mb: int = CONTEXT_ALLOWANCE_MB):
        self.limit_mb = limit_mb
        self.allowance_mb = allowance_mb
        self.query = query
        self.interval_s = interval_s
        self._next = 0.0

    def over_limit(self, root_pid: int) -> int | None:
        """The MiB held under ``root_pid`` when past the limit (plus the allowance), else ``None``."""
        now = time.monotonic()
        if now < self._next:
            return None
        self._next = now + self.interval_s
        used = self.query()
        if not used:
            return None
        tree = descendants(root_pid)  # one scan of /proc, not one per process the driver lists
        held = sum(mib for pid, mib in used.items() if pid in tree)
        return held if held > self.limit_mb + self.allowance_mb else None


def default_guard(limit_mb: int | None) -> GpuMemoryGuard | None:
    """The guard for a GPU worker: ``None`` when no limit is set."""
    if not limit_mb:
        return None
    return GpuMemoryGuard(limit_mb)
