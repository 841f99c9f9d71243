"""A pool of worker processes that run a project's hidden tests on copies of its reference.

Each worker (``autograder.audit.worker``) imports torch and the hidden tests once
and then takes one request at a time: a mutated file of the reference (or none,
for the reference itself) and the ``seed`` fixture's value. A request that runs
past its timeout gets its worker killed (the whole process group) and replaced,
so a mutant that loops forever costs one timeout, never the audit; a worker that
dies answers ``crash``. Workers run in their own session (so a kill reaches
everything they started) with the project's memory limit. They run trusted
code, the reference and its mutants, so they get none of the sandbox's
confinement (``autograder.sandbox.isolation``).

Used by ``diffgrade audit`` (mutants, without quality tests) and ``diffgrade
calibrate`` (the reference over several seeds, quality tests only).
"""

import collections
import json
import os
import resource
import selectors
import signal
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.audit.errors import AuditError

# Which hidden tests the workers run: every one, all but the quality-tagged ones, or only those.
SELECTIONS = ("all", "no-quality", "quality")


@dataclass(frozen=True)
class Request:
    """Run the hidden tests on the reference with ``file`` replaced by ``source`` (none: unchanged)."""

    id: str
    file: str | None = None
    source: str | None = None
    seed: int = 0
    budget: str | None = None  # the quality tests' budget; None: the device's kind
    messages: bool = False  # send back the failure message of each failed test


@dataclass(frozen=True)
class Reply:
    """What became of a request: ``ran`` (with the failed test names and recorded metrics),
    ``import-error``, ``timeout`` or ``crash`` (with a message)."""

    id: str
    status: str
    failed: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)  # failure message per failed test
    message: str = ""
    seconds: float = 0.0


def _session_with_limits(memory_mb: int, gpu: bool) -> Callable[[], None]:
    """Run in the child before exec: a new session, a data-size limit (not with CUDA, which
    maps huge private regions), no core dumps."""

    def apply() -> None:
        os.setsid()
        if not gpu:
            resource.setrlimit(resource.RLIMIT_DATA, (memory_mb << 20,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


class _Worker:
    """One child process and its reading state."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, memory_mb: int, gpu: bool):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, cwd=cwd, preexec_fn=_session_with_limits(memory_mb, gpu))
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = b""
        self.request: Request | None = None
        self.ready = False
        self.deadline = 0.0
        self.started = time.monotonic()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=60)
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()

    def _read_stderr(self) -> None:
        for raw in iter(self.proc.stderr.readline, b""):
            self.stderr_tail.append(raw.decode(errors="replace").rstrip())

    def stderr_text(self) -> str:
        self._drain.join(timeout=1)
        return "\n".join(self.stderr_tail)

    def read_lines(self) -> tuple[list[dict], bool]:
        """Complete reply lines received so far, and whether stdout reached its end."""
        try:
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
        except BlockingIOError:
            return [], False
        if not chunk:
            return [], True
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()], False

    def send(self, request: Request, deadline: float) -> bool:
        self.request, self.deadline = request, deadline
        message = {"id": request.id, "file": request.file, "source": request.source, "seed": request.seed,
                   "budget": request.budget, "messages": request.messages}
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self._close_pipes()

    def close(self, wait: float = 10.0) -> None:
        """Ask the worker to finish (end of its input); kill it if it does not."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.kill()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass


def _environment(threads: int, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["TMPDIR"] = str(tmp)  # what the hidden tests write there goes with the pool
    repo = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([repo, *filter(None, [env.get("PYTHONPATH")])])
    env.update({"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
                "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"})
    return env


class WorkerPool:
    """Up to ``jobs`` workers for ``project`` of the course at ``root``; use as a context manager.

    ``select`` is one of ``SELECTIONS``. ``tests`` lists ``(name, function)`` of the
    hidden tests the workers run, once the first worker is ready.
    """

    def __init__(self, *, project: str, root: Path, jobs: int = 1, select: str = "no-quality",
                 device: str = "cpu", memory_mb: int = 6144, startup_timeout: float = 120.0):
        if select not in SELECTIONS:
            raise ValueError(f"unknown test selection {select!r}; expected one of {SELECTIONS}")
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self.startup_timeout = startup_timeout
        self.memory_mb = memory_mb
        self.gpu = device.startswith("cuda")
        threads = max(1, (os.cpu_count() or 1) // jobs)
        self._argv = [sys.executable, "-m", "autograder.audit.worker", "--project", project,
                      "--root", str(Path(root).resolve()), "--device", device, "--threads", str(threads),
                      "--select", select]
        # The workers' TMPDIR: hidden tests write checkpoints there for every mutant.
        self.tmp = Path(tempfile.mkdtemp(prefix="diffgrade-audit-"))
        self._env = _environment(threads, self.tmp)
        self._cwd = Path(__file__).resolve().parents[2]
        self._workers: list[_Worker] = []
        self.tests: list[tuple[str, str]] = []
        self.restarts = 0

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:
            worker.kill() if worker.request is not None else worker.close()
        self._workers = []
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _spawn(self) -> _Worker:
        worker = _Worker(self._argv, self._env, self._cwd, self.memory_mb, self.gpu)
        self._workers.append(worker)
        return worker

    def _retire(self, worker: _Worker, *, kill: bool) -> None:
        worker.kill() if kill else worker.close(wait=2)
        self._workers.remove(worker)

    def _startup_failed(self, worker: _Worker, why: str) -> AuditError:
        worker.kill()
        return AuditError(f"a test worker ({' '.join(self._argv[1:5])}) {why}; its last output:\n"
                          f"{worker.stderr_text() or '(none)'}")

    def run(self, requests: Iterable[Request], *, timeout: float,
            on_reply: Callable[[Reply], None] | None = None) -> dict[str, Reply]:
        """Every request's reply, by id; each request gets at most ``timeout`` seconds."""
        pending = collections.deque(requests)
        replies: dict[str, Reply] = {}
        while len(self._workers) < min(self.jobs, len(pending)):
            self._spawn()
        selector = selectors.DefaultSelector()
        try:
            while pending or any(w.request is not None for w in self._workers):
                for worker in list(self._workers):
                    if worker.ready and worker.request is None and pending:
                        request = pending.popleft()
                        if not worker.send(request, time.monotonic() + timeout):
                            self._finish(worker, Reply(request.id, "crash", message="the worker had exited"),
                                         replies, on_reply)
                            self._replace(worker, pending, kill=True)
                self._wait(selector, pending, replies, timeout, on_reply)
        finally:
            selector.close()
        return replies

    def _wait(self, selector, pending, replies, timeout, on_reply) -> None:
        """Wait for the next reply or deadline, and handle what happened."""
        active = [w for w in self._workers if not w.ready or w.request is not None]
        if not active:
            return
        for worker in active:
            selector.register(worker.proc.stdout, selectors.EVENT_READ, worker)
        now = time.monotonic()
        deadlines = [w.deadline if w.ready else w.started + self.startup_timeout for w in active]
        events = selector.select(max(0.0, min(deadlines) - now))
        for worker in active:
            selector.unregister(worker.proc.stdout)
        for key, _ in events:
            worker = key.data
            lines, ended = worker.read_lines()
            for line in lines:
                if line.get("ready"):
                    worker.ready = True
                    self.tests = self.tests or [tuple(t) for t in line["tests"]]
                elif worker.request is not None and line.get("id") == worker.request.id:
                    self._finish(worker, _reply_of(line), replies, on_reply)
            if ended:
                if not worker.ready:
                    raise self._startup_failed(worker, f"exited before it was ready (code {worker.proc.wait()})")
                if worker.request is not None:
                    code = worker.proc.wait()
                    self._finish(worker, Reply(worker.request.id, "crash",
                                               message=f"the worker died (exit code {code})\n{worker.stderr_text()}"),
                                 replies, on_reply)
                self._replace(worker, pending, kill=True)
        now = time.monotonic()
        for worker in list(self._workers):
            if not worker.ready and now > worker.started + self.startup_timeout:
                raise self._startup_failed(worker, f"was not ready after {self.startup_timeout:g} s")
            if worker.request is not None and now > worker.deadline:
                self._finish(worker, Reply(worker.request.id, "timeout", message=f"still running after {timeout:g} s",
                                           seconds=timeout), replies, on_reply)
                self._replace(worker, pending, kill=True)

    def _finish(self, worker: _Worker, reply: Reply, replies: dict, on_reply) -> None:
        worker.request = None
        replies[reply.id] = reply
        if on_reply:
            on_reply(reply)

    def _replace(self, worker: _Worker, pending, *, kill: bool) -> None:
        self._retire(worker, kill=kill)
        self.restarts += 1
        if pending:
            self._spawn()


def _reply_of(line: dict) -> Reply:
    if "import_error" in line:
        return Reply(line["id"], "import-error", message=line["import_error"], seconds=line.get("seconds", 0.0))
    return Reply(line["id"], "ran", failed=tuple(line["failed"]), metrics=dict(line.get("metrics", {})),
                 messages=dict(line.get("messages", {})), seconds=line.get("seconds", 0.0))
