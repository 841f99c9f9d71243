"""How many workers, how many threads each, and which GPU each one gets.

Without a GPU the default is one worker per CPU core. With CUDA GPUs it is one
worker per GPU, each pinned to its own through ``CUDA_VISIBLE_DEVICES``. Every
grading gets ``cores // workers`` threads (at least one), so workers do not
fight over cores.
"""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    workers: int
    threads: int
    gpus: tuple[str, ...]   # CUDA_VISIBLE_DEVICES values, one per worker slot (round robin); empty on CPU
    device: str             # the device each task asks for


def cpu_count() -> int:
    """The cores this process may run on (respects taskset and container limits)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1


def visible_gpus() -> tuple[str, ...]:
    """The CUDA devices this process may use, as ``CUDA_VISIBLE_DEVICES`` values."""
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    listed = [d.strip() for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    if listed:
        return tuple(listed[:count])
    return tuple(str(i) for i in range(count))


def plan(*, workers: int | None, device: str, cores: int | None = None,
         gpus: tuple[str, ...] | None = None) -> Plan:
    """The worker plan for ``device`` (``auto``, ``cpu``, ``cuda`` or ``cuda:N``)."""
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    cores = cores or cpu_count()
    if device == "cpu" or device.startswith("cuda:"):
        # cpu: nothing to pin; cuda:N names one device, so pinning would renumber it.
        pinned: tuple[str, ...] = ()
    else:
        pinned = visible_gpus() if gpus is None else gpus
    n = workers or (len(pinned) if pinned else cores)
    task_device = "cuda" if pinned else device
    return Plan(workers=n, threads=max(1, cores // n), gpus=pinned, device=task_device)
