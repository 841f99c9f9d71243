"""The grader's side of the worker: start it, call student functions, survive its death.

``Worker`` owns one worker process. Each ``call`` sends a request frame and waits
for the reply under a deadline; a call that times out kills the worker and every
process it started (``_kill``), and the next call starts a fresh worker, so one bad
function costs one test.
``StudentProxy`` turns ``student.q_sample(...)`` into such a call; ``RemoteObject``
is an object that stays in the worker. ``autograder.sandbox.local`` has the
in-process twins, for trusted code.
"""

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.sandbox import cgroups
from autograder.sandbox import isolation as iso
from autograder.sandbox.errors import (
    GpuMemoryExceeded,
    ProtocolError,
    SandboxEnvironmentError,
    StudentCodeError,
    StudentException,
    StudentImportError,
    StudentTimeout,
    WorkerDied,
)
from autograder.sandbox.gpu_memory import GpuMemoryGuard, default_guard
from autograder.sandbox.runtime import codec

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"
MAX_REPLY_BYTES = 1 << 31  # 2 GiB: larger replies are refused, not buffered


def grader_environment() -> dict:
    """This process's Python environment, as the worker reports its own (``worker._environment``)."""
    import site

    return {"executable": sys.executable, "prefix": sys.prefix, "base_prefix": sys.base_prefix,
            "site_packages": [p for p in site.getsitepackages() if os.path.isdir(p)]}


def _same_environment(a: dict, b: dict) -> bool:
    real = os.path.realpath
    return real(a.get("prefix", "")) == real(b.get("prefix", "")) and \
        sorted(map(real, a.get("site_packages", []))) == sorted(map(real, b.get("site_packages", [])))


def _user_site_hint() -> str:
    """Packages installed with ``pip install --user`` are invisible to the worker, which runs
    with ``python -I``: say so when that is where this process found torch."""
    import site

    try:
        import torch
        user_site = os.path.realpath(site.getusersitepackages())
    except Exception:  # noqa: BLE001 - only a hint
        return ""
    if os.path.realpath(torch.__file__).startswith(user_site + os.sep):
        return (f" (torch is installed in the user site-packages {user_site}, from pip install --user, "
                "which the sandboxed worker never loads)")
    return ""


def _describe_environment(env: dict) -> str:
    return f"{env.get('executable')} (prefix {env.get('prefix')}, site-packages {', '.join(env.get('site_packages', [])) or 'none'})"


class Worker:
    """One sandboxed worker process serving the student's package ``package``."""

    def __init__(self, *, package: str, submission_dir: Path, isolation: iso.Isolation,
                 limits: iso.Limits = iso.Limits(), call_timeout: float = 30.0,
                 startup_timeout: float = 120.0, threads: int = 1, device: str = "cpu",
                 provided: tuple[Path, ...] = (), gpu_guard: GpuMemoryGuard | None = None):
        self.package = package
        self.submission_dir = Path(submission_dir).resolve()
        self.isolation = isolation
        self.limits = limits
        self.call_timeout = call_timeout
        self.startup_timeout = startup_timeout
        self.threads = threads
        self.gpu = device.startswith("cuda")
        # Device memory escapes rlimits and cgroups: on a GPU the driver is asked while we wait.
        self.gpu_guard = gpu_guard or (default_guard(limits.gpu_memory_mb) if self.gpu else None)
        self.provided = tuple(Path(p).resolve() for p in provided)
        self._scratch = Path(tempfile.mkdtemp(prefix="diffgrade-worker-"))
        self._runtime = self._scratch / "runtime"
        shutil.copytree(RUNTIME_DIR, self._runtime, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
        os.chmod(self._scratch, 0o755)
        # The worker's HOME and TMPDIR. Under bubblewrap its /tmp is a private tmpfs;
        # at the other levels it is this folder, removed with the scratch folder, and
        # the only place where a Landlock-confined worker may write.
        self._tmp = "/tmp"
        self._uid = iso.runs_as(isolation)
        if not iso.private_tmp(isolation):
            self._tmp = str(self._scratch / "tmp")
            os.mkdir(self._tmp, 0o700)
            if self._uid is not None:
                os.chown(self._tmp, self._uid, self._uid)
        self._cgroups: list[Path] = []  # of the current worker process, emptied when it is stopped
        self._proc: subprocess.Popen | None = None
        self._log = None
        self.starts = 0
        self.hello: dict | None = None
        self.environment: dict | None = None  # the worker's first frame, see _read_environment
        self.timed_out: set[str] = set()

    # -- process lifecycle -------------------------------------------------
    def start(self) -> None:
        """Spawn the worker without waiting for it (it imports torch meanwhile)."""
        if self._proc is not None and self._proc.poll() is None:
            return
        argv, _ = iso.command(self.isolation, runtime_dir=self._runtime, submission_dir=self.submission_dir,
                              package=self.package, threads=self.threads, gpu=self.gpu,
                              provided=self.provided, limits=self.limits, tmp=self._tmp)
        for old in self._scratch.glob("stderr-*.log"):  # keep one log: a flood per restart cannot fill the disk
            old.unlink()
        self._log = open(self._scratch / f"stderr-{self.starts}.log", "wb")
        preexec = iso.preexec(self.limits, self.gpu, uid=self._uid)
        self._cgroups = preexec.cgroups
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            env=iso.environment(self.threads, self._tmp), cwd=self._scratch,
            preexec_fn=preexec, close_fds=True)
        self.starts += 1
        self.hello = None
        self.environment = None

    def _kill(self) -> None:
        """Stop the worker and every process it started; returns once none is left.

        Under bubblewrap the sandbox's PID namespace dies with its first process. At the
        other levels that first process is a subreaper (``runtime/reaper.py``): asked to
        stop, it kills the worker and every descendant (daemons that left the process
        group and session included) and exits only when none is left. Then the sandbox's
        cgroups, where it has some, are emptied too. Results are written after this.
        """
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            if iso.reaped(self.isolation):
                proc.send_signal(signal.SIGTERM)  # the reaper sweeps, then exits
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
        proc.wait()
        cgroups.kill_all(self._cgroups)
        for stream in (proc.stdin, proc.stdout):
            stream.close()
        if self._log:
            self._log.close()

    def close(self) -> None:
        """Stop the worker and remove its scratch folder."""
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._send({"op": "exit"})
                self._proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired, BrokenPipeError):
                pass
        self._kill()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def stderr_tail(self, n_bytes: int = 2000) -> str:
        """The end of what the student's code printed in the latest worker."""
        logs = sorted(self._scratch.glob("stderr-*.log"), key=lambda p: p.stat().st_mtime)
        if not logs:
            return ""
        with open(logs[-1], "rb") as f:
            f.seek(max(0, logs[-1].stat().st_size - n_bytes))
            return f.read().decode(errors="replace")

    # -- protocol ------------------------------------------------------------
    def _send(self, request: dict) -> None:
        self._proc.stdin.write(codec.encode(request))  # a stale RemoteObject was refused in _request
        self._proc.stdin.flush()

    def _wait_readable(self, sel: selectors.BaseSelector, deadline: float) -> None:
        """Block until the reply pipe has bytes; ``TimeoutError`` at the deadline, ``_OverGpuMemory``
        as soon as the guard sees the sandbox past its GPU memory limit."""
        guard = self.gpu_guard
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if sel.select(timeout=min(left, guard.interval_s) if guard else left):
                return
            if guard is not None:
                used = guard.over_limit(self._proc.pid)
                if used is not None:
                    raise _OverGpuMemory(used)

    def _receive(self, deadline: float, fn: str) -> dict:
        fd = self._proc.stdout.fileno()
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        try:
            def read_exact(n: int) -> bytes:
                out = bytearray()
                while len(out) < n:
                    self._wait_readable(sel, deadline)
                    chunk = os.read(fd, min(n - len(out), 1 << 20))
                    if not chunk:
                        raise EOFError
                    out += chunk
                return bytes(out)

            header, buffers = codec.read_frame(read_exact, MAX_REPLY_BYTES)
            device = "cuda" if self.gpu else "cpu"
            generation = self.starts
            reply = codec.decode(header, buffers, device_map=lambda d: device if d.startswith("cuda") else "cpu",
                                 resolve=lambda h: RemoteObject(self, h.handle_id, h.type_name, generation))
        finally:
            sel.close()
        if not isinstance(reply, dict) or "ok" not in reply:
            raise ProtocolError(f"malformed reply to {fn}()")
        return reply

    def _read_environment(self) -> None:
        """Read the worker's first frame and stop unless it runs in the grader's environment.

        The worker sends it before importing torch or any student code, so whatever goes
        wrong up to here is the grader's setup (a venv the sandbox cannot see, a missing
        torch), never the submission: ``SandboxEnvironmentError``, not a score of 0.
        """
        deadline = time.monotonic() + self.startup_timeout
        mine = grader_environment()
        try:
            reply = self._receive(deadline, "startup")
        except (TimeoutError, EOFError, codec.CodecError, ProtocolError) as e:
            proc = self._proc
            code = proc.poll() if proc is not None else None
            self._kill()
            why = "did not start in time" if isinstance(e, TimeoutError) else f"exited (code {code})"
            tail = self.stderr_tail(1500).strip()
            raise SandboxEnvironmentError(
                f"the grader's worker process {why} before running any student code "
                f"(isolation {self.isolation.level}, grader's Python {_describe_environment(mine)})"
                + (f"; it printed: {tail}" if tail else "")) from None
        env = reply.get("value", {}).get("environment") if isinstance(reply.get("value"), dict) else None
        if not isinstance(env, dict):
            self._kill()
            raise SandboxEnvironmentError("the grader's worker process did not report its environment")
        if "error" not in env and self.isolation.level == "landlock" and not (env.get("landlock") or {}).get("applied"):
            env = {**env, "error": "the worker did not confine itself with Landlock"}
        if "error" in env or not _same_environment(env, mine):
            self._kill()
            problem = f"; there it failed: {env['error']}" if "error" in env else ""
            raise SandboxEnvironmentError(
                f"the sandboxed worker does not run in the grader's Python environment{problem}. "
                f"Grader: {_describe_environment(mine)}. Worker (isolation {self.isolation.level}): "
                f"{_describe_environment(env)}. Grading stopped before scoring anything: reinstall diffgrade "
                f"in one environment (python -m venv, conda, ...) and run it from there{_user_site_hint()}")
        self.environment = env

    def _roundtrip(self, request: dict, timeout: float, fn: str) -> dict:
        self.start()
        if self.environment is None:
            self._read_environment()
        deadline = time.monotonic() + timeout
        try:
            self._send(request)
            return self._receive(deadline, fn)
        except TimeoutError:
            self._kill()
            raise StudentTimeout(fn, timeout) from None
        except _OverGpuMemory as over:
            self._kill()
            raise GpuMemoryExceeded(fn, over.used_mb, self.gpu_guard.limit_mb) from None
        except (EOFError, BrokenPipeError, ConnectionResetError):
            proc = self._proc
            code = proc.wait() if proc is not None else None
            self._kill()
            tail = self.stderr_tail(600).strip()
            raise WorkerDied(fn, code, f"; last output: {tail}" if tail else "") from None
        except codec.CodecError as e:
            self._kill()
            raise ProtocolError(f"{fn}() sent back an invalid reply: {e}") from None

    def handshake(self) -> dict:
        """Wait for the worker to import the package; returns versions and any import error."""
        if self.hello is None or self._proc is None:
            hello = self._roundtrip({"op": "hello"}, self.startup_timeout, "import")["value"]
            # The environment from the first frame, which the student's code could not touch.
            self.hello = {**hello, "environment": self.environment}
        return self.hello

    def handshake_or_error(self) -> dict:
        """Like ``handshake``, but a worker that hangs or dies while importing becomes an import error.

        An import that failed once is not tried again: the package is the same every time.
        """
        if self.hello is not None and self.hello.get("import_error"):
            return self.hello
        try:
            return self.handshake()
        except StudentTimeout:
            message = f"importing it took longer than {self.startup_timeout:g} s (code at module level that never ends?)"
            self.hello = {"import_error": {"exc_type": "Timeout", "message": message, "traceback": ""}}
        except StudentCodeError as e:
            self.hello = {"import_error": {"exc_type": type(e).__name__, "message": str(e), "traceback": ""}}
        return self.hello

    # ``_timeout`` (seconds) overrides the call timeout; the underscore keeps it apart
    # from the student's own keyword arguments.
    def call(self, fn: str, *args, _timeout: float | None = None, **kwargs):
        """``package.fn(*args, **kwargs)`` in the worker; raises a ``StudentCodeError`` on failure.

        A function that timed out once is not called again: later calls fail at once,
        so one infinite loop costs its tests but not the whole time budget.
        """
        return self._request({"op": "call", "fn": fn}, fn, args, kwargs, _timeout, needs_import=True)

    def method(self, target: "RemoteObject", name: str, *args, _timeout: float | None = None, **kwargs):
        """``target.name(*args, **kwargs)`` on an object kept in the worker."""
        label = f"{target.type_name}.{name}"
        return self._request({"op": "method", "fn": name, "target": target}, label, args, kwargs, _timeout)

    def attribute(self, target: "RemoteObject", name: str):
        """``target.name`` for an object kept in the worker (a handle again if it cannot travel)."""
        return self._request({"op": "getattr", "fn": name, "target": target}, f"{target.type_name}.{name}",
                             (), {}, None)

    def construct(self, module: str, name: str, *args, _timeout: float | None = None, **kwargs):
        """``module.name(*args, **kwargs)`` from a provided package; usually returns a ``RemoteObject``."""
        return self._request({"op": "construct", "module": module, "fn": name}, f"{module}.{name}",
                             args, kwargs, _timeout)

    def _request(self, request: dict, label: str, args, kwargs, timeout, needs_import: bool = False):
        if label in self.timed_out:
            raise StudentTimeout(label, self.call_timeout, earlier=True)
        hello = self.handshake_or_error()
        if needs_import and hello.get("import_error"):
            err = hello["import_error"]
            raise StudentImportError(f"your package {self.package!r} failed to import: "
                                     f"{err['exc_type']}: {err['message']}", err.get("traceback", ""))
        for value in (*args, *kwargs.values(), request.get("target")):
            if isinstance(value, RemoteObject) and value.generation != self.starts:
                raise StudentCodeError(f"{value!r} was lost when the worker restarted after an earlier failure")
        timeout = timeout or self.call_timeout
        try:
            reply = self._roundtrip({**request, "args": list(args), "kwargs": kwargs}, timeout, label)
        except StudentTimeout:
            self.timed_out.add(label)
            raise
        if reply["ok"]:
            return reply.get("value")
        mro = reply.get("exc_mro")
        raise StudentException(str(reply.get("exc_type")), str(reply.get("message")),
                               str(reply.get("traceback", "")),
                               mro=[str(n)[:200] for n in mro[:64]] if isinstance(mro, list) else ())


def check_environment(isolation: iso.Isolation, startup_timeout: float = 120.0) -> dict:
    """Start a worker on an empty package and return its environment, or raise
    ``SandboxEnvironmentError`` naming both environments. A batch calls it once before
    grading anyone, so a broken setup stops it instead of scoring a class at 0."""
    empty = Path(tempfile.mkdtemp(prefix="diffgrade-preflight-"))
    try:
        with Worker(package="diffgrade_preflight", submission_dir=empty, isolation=isolation,
                    startup_timeout=startup_timeout) as worker:
            return worker.handshake_or_error()["environment"]
    finally:
        shutil.rmtree(empty, ignore_errors=True)


class _OverGpuMemory(Exception):
    def __init__(self, used_mb: int):
        self.used_mb = used_mb


class RemoteObject(codec.Handle):
    """An object kept in the worker: ``obj(x, t)`` and ``obj.method(...)`` run there.

    Passing it as an argument of a later call sends only its number. It belongs to
    one worker process (``generation``); after a restart it is stale and refused.
    """

    __slots__ = ("_worker", "generation")

    def __init__(self, worker: "Worker", handle_id: int, type_name: str, generation: int):
        super().__init__(handle_id, type_name)
        self._worker = worker
        self.generation = generation

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def method(*args, **kwargs):
            return self._worker.method(self, name, *args, **kwargs)

        return method

    def __call__(self, *args, **kwargs):
        return self._worker.method(self, "__call__", *args, **kwargs)

    def attr(self, name: str):
        """The attribute ``name`` of the object, fetched from the worker."""
        return self._worker.attribute(self, name)


class StudentProxy:
    """``proxy.name(*args)`` calls ``name`` from the student's package in the worker."""

    def __init__(self, worker: Worker):
        self._worker = worker

    def _construct(self, module: str, name: str, *args, **kwargs):
        return self._worker.construct(module, name, *args, **kwargs)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args, **kwargs):
            return self._worker.call(name, *args, **kwargs)

        call.__name__ = name
        return call
