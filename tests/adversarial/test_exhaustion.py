"""Can student code exhaust the machine: processes, memory, RAM-backed files, disk, time?

Each attack keeps its own bound, so that a failure of the sandbox fails the test
instead of taking the machine down: forks stop at a few thousand, allocations
at a few GiB, files at a few hundred MiB, loops at the call's time limit.
"""

import concurrent.futures
import errno
import time

import pytest
import torch

from autograder.sandbox import isolation as iso
from autograder.sandbox.errors import StudentImportError
from tests.adversarial.conftest import requires_bwrap, toy_worker

pytestmark = requires_bwrap

HOGS = '''
import mmap
import os
import struct
import threading
import time


def scale(x, factor):
    return x * factor


def bomb(cap, seconds):
    """Every process forks until forking fails; returns (forks that worked, errno of the first failure).

    The count is shared memory, so children count too; all of them are gone when this returns.
    """
    shared = mmap.mmap(-1, 16)
    end = time.monotonic() + seconds
    root = os.getpid()
    while time.monotonic() < end:
        made, = struct.unpack("q", shared[:8])
        if made >= cap:
            break
        try:
            pid = os.fork()
        except OSError as e:
            shared[8:16] = struct.pack("q", e.errno)
            break
        if pid == 0:
            continue
        shared[:8] = struct.pack("q", made + 1)
    if os.getpid() != root:
        time.sleep(max(0.0, end - time.monotonic()))
        os._exit(0)
    while True:  # reap the children; grandchildren are reaped by the sandbox's init
        try:
            os.wait()
        except ChildProcessError:
            break
    time.sleep(0.5)
    return list(struct.unpack("qq", shared[:16]))


def threads(n):
    """Start ``n`` threads at once, as a busy numeric library might, then join them."""
    gate = threading.Event()
    pool = [threading.Thread(target=gate.wait) for _ in range(n)]
    for t in pool:
        t.start()
    gate.set()
    for t in pool:
        t.join()
    return n


def fill(folder, cap_mb):
    """Write 8 MiB files into ``folder`` until a write fails; returns (MiB written, errno)."""
    written, i = 0, 0
    block = b"\\0" * (1 << 20)
    while written < cap_mb:
        try:
            with open(f"{folder}/fill{i}", "wb") as f:
                for _ in range(8):
                    f.write(block)
                    written += 1
        except OSError as e:
            return [written, e.errno]
        i += 1
    return [written, 0]


def children_allocate(n, mb):
    """``n`` children each fill ``mb`` MiB; returns how each ended (0: it got its memory)."""
    pids = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            try:
                block = bytearray(mb << 20)
                block[::4096] = b"\\1" * len(block[::4096])  # touch every page
                time.sleep(2)
                os._exit(0)
            except MemoryError:
                os._exit(7)
        pids.append(pid)
    return [os.waitpid(p, 0)[1] for p in pids]


def rampage(seconds):
    """Inside the sandbox only: SIGKILL to every process it may signal, a fork bomb, then hoard memory."""
    with open("/proc/1/cmdline", "rb") as f:
        if os.getuid() != 65534 or os.path.basename(f.read().split(b"\\0")[0]) != b"bwrap":
            raise RuntimeError("refusing to run outside the sandbox")
    try:
        os.kill(-1, 9)
    except OSError:
        pass
    made, error = bomb(3000, seconds)
    blocks = []
    try:
        while True:
            blocks.append(bytearray(64 << 20))
    except MemoryError:
        pass
    return [made, error, len(blocks)]


def flood(seconds):
    """Print as much as possible; returns the first error, if any."""
    end = time.monotonic() + seconds
    line = "x" * 1023 + "\\n"
    while time.monotonic() < end:
        try:
            print(line * 1024, end="")
        except OSError as e:
            return e.errno
    return 0
'''


def test_normal_threads_stay_under_the_default_limit(tmp_path):
    """With the default process limit, can a worker start 100 threads and torch use its intra-op threads?

    (Each thread's stack counts against RLIMIT_DATA, so memory, not the process
    limit, is what bounds a thread bomb.)
    """
    with toy_worker(tmp_path / "sub", HOGS, limits=iso.Limits(memory_mb=4096)) as (student, _):
        assert student.threads(100) == 100
        x = torch.randn(512, 512, dtype=torch.float64)
        assert torch.allclose(student.scale(x, 2.0), x * 2)


def test_ram_backed_files_are_capped(tmp_path):
    """Do files written to /tmp and /dev/shm (tmpfs, in RAM) stop at Limits.tmp_mb, and / and /dev refuse writes?

    (The worker's client does not pass its limits to ``isolation.command`` yet, so
    the default size applies.)
    """
    cap = iso.Limits().tmp_mb
    with toy_worker(tmp_path / "sub", HOGS) as (student, _):
        for folder in ("/tmp", "/dev/shm"):
            written, error = student.fill(folder, 4 * cap)
            assert error == errno.ENOSPC and cap - 16 <= written <= cap, (folder, written, error)
        for folder in ("/", "/dev"):
            assert student.fill(folder, 16) == [0, errno.EROFS]


@pytest.mark.skipif("memory" not in iso._cgroup_parents(),
                    reason="no memory cgroup can be made here: RLIMIT_DATA bounds each process, not their sum")
def test_memory_of_all_processes_together_is_bounded(tmp_path):
    """Do four children, each within RLIMIT_DATA, get stopped when together they pass the sandbox's memory?"""
    limits = iso.Limits(memory_mb=1536, tmp_mb=16)  # the sandbox: 1536 + 2 * 16 + 512 MiB in all
    with toy_worker(tmp_path / "sub", HOGS, limits=limits, call_timeout=60) as (student, _):
        ends = student.children_allocate(4, 600)
        assert any(status != 0 for status in ends), ends  # at least one was stopped (OOM-killed)
        assert student.scale(torch.ones(1), 2.0).item() == 2.0  # the worker itself lives on


def test_printing_fills_only_a_capped_log(tmp_path):
    """Does printing without end stop at the log's size limit, keeping the protocol and the tail readable?"""
    limits = iso.Limits(memory_mb=2048, file_size_mb=16)
    with toy_worker(tmp_path / "sub", HOGS, limits=limits) as (student, worker):
        assert student.flood(2.0) == errno.EFBIG
        assert student.scale(torch.ones(1), 2.0).item() == 2.0
        logs = list(worker._scratch.glob("stderr-*.log"))
        assert logs and all(log.stat().st_size <= 16 << 20 for log in logs)
        assert len(worker.stderr_tail()) <= 2000


def test_a_neighbouring_sandbox_is_unaffected(tmp_path):
    """While one sandbox signals everything, forks without end and hoards memory, does the next one work normally?

    This is batch grading, where submissions run side by side: each sandbox has its
    own PID namespace, memory and process limit, and its fork bomb meets that limit
    (EAGAIN) in its first second. RLIMIT_NPROC cannot do this alone: the kernel does
    not apply it to root, which a grader in a container often is; the sandbox's own
    pids cgroup does.
    """
    calm_limits, wild_limits = iso.Limits(memory_mb=2048), iso.Limits(memory_mb=2048, nproc=48)
    with toy_worker(tmp_path / "calm", HOGS, limits=calm_limits) as (calm, _), \
            toy_worker(tmp_path / "wild", HOGS, limits=wild_limits, call_timeout=20) as (wild, _):
        calm.scale(torch.ones(1), 1.0)  # both started
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            rampage = pool.submit(wild.rampage, 3.0)
            x = torch.randn(64, 64, dtype=torch.float64)
            while not rampage.done():
                assert torch.equal(calm.scale(x, 3.0), x * 3)
                assert calm.threads(16) == 16
            made, error, _ = rampage.result()
        assert error == errno.EAGAIN and made < 48
        assert torch.equal(calm.scale(x, 2.0), x * 2)


def test_infinite_loop_at_import_costs_one_startup(tmp_path):
    """Does a package that never finishes importing fail every call after one startup timeout?"""
    with toy_worker(tmp_path / "sub", "while True:\n    pass\n", startup_timeout=5) as (student, worker):
        start = time.monotonic()
        for _ in range(3):
            with pytest.raises(StudentImportError, match="took longer than 5 s"):
                student.scale(torch.ones(1), 2.0)
        assert time.monotonic() - start < 10 and worker.starts == 1


def test_cgroups_of_finished_sandboxes_are_removed(tmp_path):
    """Are the sandbox's cgroups made per worker, and do they go away once empty (never piling up)?"""
    parents = iso._cgroup_parents()
    if not parents:
        pytest.skip("no cgroup can be made here")
    with toy_worker(tmp_path / "sub", HOGS) as (student, worker):
        student.scale(torch.ones(1), 2.0)
        pid = worker._proc.pid
        mine = [p for p in parents.values()
                if any(str(pid) in (d / "cgroup.procs").read_text() for d in p.glob("diffgrade-*"))]
        assert mine, "the worker is in no sandbox cgroup"
    made = list(iso._cgroups_made)
    assert made
    iso._remove_own_cgroups()
    deadline = time.monotonic() + 5
    while any(d.exists() for d in made) and time.monotonic() < deadline:
        time.sleep(0.2)
        iso._remove_own_cgroups()
    assert not any(d.exists() for d in made)
