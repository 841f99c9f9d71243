"""Can student code inside bubblewrap reach anything outside it?

Each test runs a small hostile package in a worker (no P1 needed) and looks,
from the grader's side, for an effect outside the sandbox: the grader's
processes, memory, environment and open files; the network; files of the
course; processes left behind; the grader's end of the protocol. The call may
fail; the grader and the next call must not.
"""

import os
import secrets
import struct
import textwrap
import time

import pytest
import torch

from autograder.sandbox.client import MAX_REPLY_BYTES
from autograder.sandbox.errors import ProtocolError, StudentCodeError, StudentException
from autograder.sandbox.runtime import codec
from tests.adversarial.conftest import host_listeners, requires_bwrap, toy_worker

pytestmark = requires_bwrap

PROBES = '''
import os
import socket
import time


def scale(x, factor):
    return x * factor


def look(name):
    """What the parent and the other visible processes give away: environments, command lines, memory."""
    ppid = os.getppid()
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    found = []
    for pid in pids:
        for part in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as f:
                    found.append(f.read().decode(errors="replace"))
            except OSError:
                pass
    budget = 256 << 20
    try:
        with open(f"/proc/{ppid}/maps") as maps, open(f"/proc/{ppid}/mem", "rb", buffering=0) as mem:
            for line in maps:
                span, perms = line.split()[:2]
                start, end = (int(x, 16) for x in span.split("-"))
                if perms.startswith("r") and budget > 0:
                    try:
                        mem.seek(start)
                        data = mem.read(min(end - start, budget))
                    except (OSError, ValueError, OverflowError):
                        continue
                    budget -= len(data)
                    at = data.find(name.encode())
                    if at >= 0:
                        found.append(data[at:at + 200].decode(errors="replace"))
    except OSError as e:
        found.append(f"mem: {e}")
    return {"ppid": ppid, "pids": pids, "found": "\\n".join(found)}


def interfaces():
    return [name for _, name in socket.if_nameindex()]


def attempt(what, fn):
    start = time.monotonic()
    try:
        fn()
        outcome = "connected"
    except OSError as e:
        outcome = f"{type(e).__name__}: {e}"
    return [what, outcome, time.monotonic() - start]


def reach(port, abstract_name):
    """Try the host's loopback, its abstract unix sockets, DNS and an outside address."""
    results = [attempt("loopback", lambda: socket.create_connection(("127.0.0.1", port), timeout=2))]
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    results.append(attempt("abstract unix", lambda: unix.connect("\\0" + abstract_name)))
    if interfaces() == ["lo"]:  # only then can no packet leave, whatever happens below
        results.append(attempt("dns", lambda: socket.getaddrinfo("example.com", 80)))
        results.append(attempt("outside", lambda: socket.create_connection(("192.0.2.1", 80), timeout=2)))
    return results


class Sneaky(Exception):
    def __str__(self):
        return "looks harmless"


def raise_sneaky():
    raise Sneaky()


def try_writes(paths):
    """Which of ``paths`` can be created or overwritten?"""
    ok = []
    for path in paths:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("diffgrade-adversarial-write")
            ok.append(path)
        except OSError:
            pass
    return ok


def exists(path):
    return os.path.exists(path)


def crash():
    os._exit(1)
'''


SECRET = secrets.token_hex(16)


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    """One worker for the probes that leave it alive (a start costs seconds).

    It is started with a secret in the grader's environment (so in its memory too).
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIFFGRADE_ADVERSARIAL_SECRET", SECRET)
        with toy_worker(tmp_path_factory.mktemp("probes"), PROBES, call_timeout=5) as (student, worker):
            yield student, worker


def test_parent_processes_memory_and_environment_are_out_of_reach(probes):
    """Do /proc/<ppid>/environ, /proc/<ppid>/mem and the other processes show the grader's secrets? (No.)"""
    student, _ = probes
    seen = student.look("DIFFGRADE_ADVERSARIAL_SECRET")
    assert SECRET not in seen["found"]
    assert seen["pids"] == [1, 2] and seen["ppid"] == 1  # its own PID namespace: bubblewrap's init and itself


def test_network_is_unreachable_and_fails_fast(probes):
    """Do sockets to the host's loopback, its abstract unix sockets, DNS and the outside all fail at once?"""
    student, _ = probes
    with host_listeners() as (port, name):
        assert student.interfaces() == ["lo"]  # a network namespace of its own, loopback only
        results = student.reach(port, name)
        assert [r[0] for r in results] == ["loopback", "abstract unix", "dns", "outside"]
        for what, outcome, seconds in results:
            assert outcome != "connected", what
            assert seconds < 1.5, (what, outcome, seconds)


def test_student_exception_cannot_smuggle_objects(probes):
    """Does an exception raised by student code reach the grader as strings only?"""
    student, _ = probes
    with pytest.raises(StudentException) as info:
        student.raise_sneaky()
    assert info.value.exc_type == "Sneaky" and info.value.message == "looks harmless"
    assert all(isinstance(v, str) for v in (info.value.exc_type, info.value.message, info.value.traceback))


def test_file_writes_stay_in_a_private_tmp(probes, tmp_path):
    """Can the worker write outside its private /tmp: the grader's files, its own code, the system? (No.)"""
    student, worker = probes
    victim = tmp_path / "course" / "solutions" / "secret.py"
    victim.parent.mkdir(parents=True)
    victim.write_text("SAFE = True\n")
    own_code = worker.submission_dir / "p1_forward" / "toy.py"
    targets = [str(victim), str(tmp_path / "out" / "results.json"), "/submission/p1_forward/toy.py",
               "/grader/worker.py", "/grader/codec.py", "/results.json", "/autograder/results/results.json",
               "/dev/results.json", "/usr/lib/results.json", "/etc/passwd", "/proc/1/root/results.json",
               "/tmp/results.json", "/dev/shm/results.json"]
    written = student.try_writes(targets)
    # Only into its private /tmp and /dev/shm: the grader's tmp_path is under /tmp, so its
    # paths can be made there too, in the sandbox's own tmpfs, never on the grader's disk.
    assert written and all(p.startswith(("/tmp/", "/dev/shm/")) for p in written), written
    assert "/tmp/results.json" in written
    assert victim.read_text() == "SAFE = True\n" and not (tmp_path / "out").exists()
    assert own_code.read_text() == textwrap.dedent(PROBES)
    starts = worker.starts
    with pytest.raises(StudentCodeError):
        student.crash()
    assert not student.exists("/tmp/results.json")  # the next worker has a fresh /tmp
    assert worker.starts == starts + 1


PARENT_FDS = '''
import os


def scale(x, factor):
    return x * factor


def write_parent_fds():
    """Write into every file the parent holds open: the grader's pipes, its files."""
    ppid = os.getppid()
    done = []
    for fd in os.listdir(f"/proc/{ppid}/fd"):
        path = f"/proc/{ppid}/fd/{fd}"
        try:
            target = os.readlink(path)
            with open(path, "wb", buffering=0) as f:
                f.write(b"\\0" * 64 + b"diffgrade-adversarial-fd")
            done.append(target)
        except OSError:
            pass
    return done
'''


def test_writing_to_the_parents_files_hits_only_its_own_pipes(tmp_path, capfd):
    """Can writing to /proc/<ppid>/fd/* reach the grader's files or output? (Only the worker's own pipes.)"""
    with toy_worker(tmp_path / "sub", PARENT_FDS) as (student, worker):
        with pytest.raises(StudentCodeError):  # its own reply pipe now holds garbage
            student.write_parent_fds()
        for _ in range(2):  # the garbage in its request pipe may cost one more call
            try:
                assert student.scale(torch.ones(2), 3.0).tolist() == [3.0, 3.0]
                break
            except StudentCodeError:
                continue
        else:
            pytest.fail("the worker never recovered")
        assert worker.starts >= 2
    out, err = capfd.readouterr()
    assert "diffgrade-adversarial-fd" not in out + err


DAEMON = '''
import os
import time


def daemon(marker):
    """Leave a process behind: double fork, new session, then a long sleep named ``marker``."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", [marker, "300"])
        os._exit(0)
    time.sleep(0.5)
    return "left behind"


def spin():
    while True:
        pass
'''


def _processes_named(marker: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f.read().split(b"\0")[0] == marker.encode():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def _gone_soon(marker: str, seconds: float = 3.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not _processes_named(marker):
            return True
        time.sleep(0.1)
    for pid in _processes_named(marker):  # ours: started by this test under a unique name
        os.kill(pid, 9)
    return False


def test_processes_left_behind_die_with_the_worker(tmp_path):
    """Does a daemon (double fork, setsid) die with its worker, whether it is closed or killed at a timeout?"""
    marker = f"diffgrade-adversarial-daemon-{secrets.token_hex(6)}"
    with toy_worker(tmp_path / "sub", DAEMON, call_timeout=2) as (student, _):
        assert student.daemon(marker) == "left behind"
        assert _processes_named(marker)  # it runs, outside the worker's process group
        with pytest.raises(StudentCodeError, match="did not return"):
            student.spin()  # the timeout kills the worker...
        assert _gone_soon(marker)  # ...and the daemon with it
        assert student.daemon(marker) == "left behind"
    assert _gone_soon(marker)  # closing the worker ends it too


SIGNALS = '''
import os
import signal
import time


def scale(x, factor):
    return x * factor


def sealed():
    with open("/proc/1/cmdline", "rb") as f:
        init = f.read().split(b"\\0")[0]
    return os.getuid() == 65534 and os.getpid() < 100 and os.path.basename(init) == b"bwrap"


def hit_parent():
    """SIGKILL to the parent and to every process it may signal: only safe inside the sandbox."""
    if not sealed():
        raise RuntimeError("refusing to signal outside the sandbox")
    for send in (lambda: os.kill(os.getppid(), signal.SIGKILL), lambda: os.kill(-1, signal.SIGKILL)):
        try:
            send()
        except OSError:
            pass
    time.sleep(0.2)
    return "still here"


def own_group():
    os.killpg(0, signal.SIGKILL)


def stop_self():
    os.kill(os.getpid(), signal.SIGSTOP)

'''


def test_signals_and_crashes_cost_one_call(tmp_path):
    """Do SIGKILL to the parent, kill(-1), killpg(0) and SIGSTOP to itself cost only their call?"""
    with toy_worker(tmp_path / "sub", SIGNALS, call_timeout=2) as (student, worker):
        assert student.hit_parent() == "still here"  # the parent is bubblewrap's init, immune inside
        for fn in ("own_group", "stop_self"):
            with pytest.raises(StudentCodeError):
                getattr(student, fn)()
            assert student.scale(torch.ones(1), 2.0).item() == 2.0
        assert worker.starts == 3


FORGER = '''
import fcntl
import os
import stat
import struct
import time


def scale(x, factor):
    return x * factor


def _send(raw):
    """Write ``raw`` on the worker's end of the reply pipe (the write-only pipe), then never reply."""
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                break
        except OSError:
            pass
    view = memoryview(raw)
    while view:
        view = view[os.write(fd, view):]
    time.sleep(30)


def huge_length():
    _send(struct.pack("<Q", 1 << 40) + b"{")


def garbage():
    _send(b"\\xff" * 8 + os.urandom(4096))
'''


def test_forged_replies_are_refused(tmp_path):
    """Does a reply forged on the protocol pipe (a 1 TiB length, random bytes) end at once as a refused reply?"""
    # At once: the forger then sleeps 30 s, and a grader that waited for more bytes would
    # time out at 20 s. The bound leaves room for a loaded machine (parallel test processes).
    with toy_worker(tmp_path / "sub", FORGER, call_timeout=20) as (student, worker):
        for fn in ("huge_length", "garbage"):
            start = time.monotonic()
            with pytest.raises(ProtocolError):
                getattr(student, fn)()
            assert time.monotonic() - start < 10
            assert student.scale(torch.ones(1), 2.0).item() == 2.0
        assert worker.starts == 3


def _frame(header: bytes) -> bytes:
    return struct.pack("<Q", len(header)) + header


def test_deeply_nested_reply_is_refused():
    """Is a reply whose header nests 200,000 lists refused as a malformed frame, as the client reads it?"""
    with pytest.raises(codec.CodecError):
        codec.decode_bytes(_frame(b"[" * 200000 + b"]" * 200000), MAX_REPLY_BYTES)


def test_oversized_reply_header_is_refused():
    """Is a reply whose JSON header alone is 64 MiB refused (tensor data travels outside the header)?"""
    header = b'{"buffers": 0, "value": {"dict": {"ok": true, "value": "' + b"x" * (64 << 20) + b'"}}}'
    with pytest.raises(codec.CodecError):
        codec.decode_bytes(_frame(header), MAX_REPLY_BYTES)
