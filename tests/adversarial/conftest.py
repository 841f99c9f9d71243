"""What the adversarial suite shares: hostile submissions, a P1 course with short limits, and the checks.

Every attack is judged three ways:

1. its score is exactly that of an *honest twin*: the reference with the
   hostile functions replaced by honest ones returning the same data, graded
   here in this process (``twin_score``);
2. the grader is unharmed: a normal submission graded after it, in the same
   test, gets full marks (``Course.assert_grades_normally``);
3. nothing was written outside the grader's output: the course's files hash the
   same before and after, no report file appeared where the attacks aim, and the
   output folder holds the report and nothing else (``Course.assert_untouched``,
   ``assert_report_only``).
"""

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from autograder import config as config_mod
from autograder.grading import runner, scoring
from autograder.grading.grade import grade, load_reference
from autograder.grading.report import points
from autograder.sandbox import isolation as iso
from autograder.sandbox.client import StudentProxy, Worker
from autograder.sandbox.errors import StudentException
from autograder.sandbox.runtime import codec
from autograder.testing import Checker
from tests.conftest import REPO, isolation_works, write_package

SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
PERFECT = REPO / "examples" / "p1_forward" / "perfect"
REPORT_FILES = {"results.json", "feedback.md", "artifacts"}
ARTIFACTS = {"p1_alpha_bar_curves.png"}
# Short limits, so that a hostile function costs seconds: one call, one start of the worker.
SHORT_LIMITS = {"call_timeout_s": 3, "startup_timeout_s": 60, "total_timeout_s": 300, "memory_mb": 2048}
# Where attacks drop fake reports on the grader's machine, had they escaped the sandbox.
HOST_CANARIES = [Path("/tmp/results.json"), Path("/tmp/feedback.md"), Path("/autograder")]

requires_bwrap = pytest.mark.skipif(not iso.bwrap_works(),
                                    reason="bubblewrap is not installed or cannot create namespaces here")

# -- which level stops which attack ----------------------------------------------------------------
#
# | attack (submission or probe)                        | bwrap | landlock | process |
# |-----------------------------------------------------|-------|----------|---------|
# | forged_results: fake results.json where reports go  | yes   | yes      | no      |
# | tamper_checkout: code appended to the grader/course | yes   | yes      | no      |
# | surviving_daemon: kills its sweeper, leaves its     | yes   | yes      | no      |
# |   cgroup, setsid daemon rewrites results.json       |       |          |         |
# | read_reference: answers with the reference on disk  | yes   | yes      | no      |
# | steal_secrets: hidden tests, other students, the    | yes   | yes      | no      |
# |   grader's environment and memory via /proc         |       |          |         |
# | kill_grader: SIGKILL to every ancestor, kill(-1)    | yes   | yes      | no      |
# | escape_probes: TCP to the host, writes outside its  | yes   | yes      | no      |
# |   scratch, signals and /proc/<grader>/environ       |       |          |         |
# | daemon_probe: a plain setsid daemon left behind     | yes   | yes      | yes     |
# | patch_comparisons, lying_results: score as data     | yes   | yes      | yes     |
# | resource_hogs, fork_bomb, output_flood              | yes   | yes      | (test_fallback) |
#
# ``at_levels(kind)`` runs a test at every level this machine offers: where the table says
# the level stops the attack, the test must show it stopped; where it says "no", the test
# is skipped with that reason and never run (the attack would reach this machine's files
# and processes; the controls that it is real are in test_p1_attacks and test_fallback).
SANDBOXED = frozenset({"bwrap", "landlock"})
EVERY_LEVEL = frozenset(iso.LEVELS)
STOPPED_AT = {
    "forged_results": SANDBOXED,
    "tamper_checkout": SANDBOXED,
    "surviving_daemon": SANDBOXED,
    "read_reference": SANDBOXED,
    "steal_secrets": SANDBOXED,
    "kill_grader": SANDBOXED,
    "escape_probes": SANDBOXED,
    "daemon_probe": EVERY_LEVEL,
    "patch_comparisons": EVERY_LEVEL,
    "lying_results": EVERY_LEVEL,
    "resource_hogs": SANDBOXED,
    "fork_bomb": SANDBOXED,
    "output_flood": SANDBOXED,
}


def at_levels(kind: str):
    """Parametrize ``level`` over the levels ``STOPPED_AT[kind]`` claims stop the attack (a level
    that does not claim it is not run: the control tests show the attack working there); one
    this machine lacks is skipped, saying so."""
    params = []
    for level in iso.LEVELS:
        if level not in STOPPED_AT[kind]:
            continue
        marks = [] if isolation_works(level) else [
            pytest.mark.skip(reason=f"isolation {level!r} does not work on this machine")]
        params.append(pytest.param(level, marks=marks, id=level))
    return pytest.mark.parametrize("level", params)


def marked_files(mark: str, *roots: Path) -> list[str]:
    """Files under ``roots`` whose text holds ``mark`` (an attack's trace)."""
    found = []
    for root in roots:
        for p in Path(root).rglob("*.py"):
            try:
                if mark in p.read_text(errors="replace"):
                    found.append(str(p))
            except OSError:
                pass
    return found


def processes_with(marker: str) -> list[int]:
    """Pids of the live processes whose command line holds ``marker``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{pid}/stat") as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if marker.encode() in cmdline and not zombie:
            found.append(int(pid))
    return found


def tree_digest(*roots: Path) -> dict[str, str]:
    """SHA-256 of every file under ``roots``, bytecode caches aside (the grader writes those)."""
    out = {}
    for root in roots:
        for p in sorted(Path(root).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@contextmanager
def host_listeners():
    """A TCP server on the host's loopback and an abstract unix socket, both waiting without
    blocking: yields ``(port, name)``, and on leaving the block fails unless nobody connected."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    name = f"diffgrade-adversarial-{secrets.token_hex(8)}"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind("\0" + name)
    unix.listen()
    unix.setblocking(False)
    try:
        yield listener.getsockname()[1], name
        for server in (listener, unix):
            with pytest.raises(BlockingIOError):
                server.accept()  # nobody came
    finally:
        listener.close()
        unix.close()


def overlay(name: str, package: str, dest: Path) -> Path:
    """``submissions/<name>`` laid over the correct example of ``package``, in ``dest``.

    A hostile submission holds only the files of its attack; the rest of its package
    is the correct example's, so it never falls behind the reference.
    """
    for source in (REPO / "examples" / package / "perfect", SUBMISSIONS / name):
        shutil.copytree(source, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    assert (dest / package / "__init__.py").is_file(), dest
    return dest


def hostile(name: str, tmp_path: Path) -> Path:
    """A hostile P1 submission, in ``tmp_path/hostile-<name>``."""
    return overlay(name, "p1_forward", tmp_path / f"hostile-{name}")


class Course:
    """A copy of the real P1 project (hidden tests, reference, points) with short limits.

    The copy is what the attacks aim at; its files, the repository's P1 files and
    the hostile submissions themselves are hashed when it is made.
    """

    def __init__(self, root: Path, **limits):
        self.root = root
        shutil.copytree(REPO / "assignments" / "p1_forward", root / "assignments" / "p1_forward",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(REPO / "solutions" / "p1_forward", root / "solutions" / "p1_forward",
                        ignore=shutil.ignore_patterns("__pycache__"))
        toml = root / "assignments" / "p1_forward" / "assignment.toml"
        text = toml.read_text()
        for key, value in {**SHORT_LIMITS, **limits}.items():
            text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
            assert n == 1, key
        toml.write_text(text)
        self.config = config_mod.load(root / "assignments" / "p1_forward")
        self.watched = [root, REPO / "assignments" / "p1_forward", REPO / "solutions" / "p1_forward",
                        PERFECT, SUBMISSIONS]
        self._digest = tree_digest(*self.watched)
        self._canaries = {p: p.exists() for p in HOST_CANARIES}

    def grade(self, submission: Path, out: Path, isolation: str = "bwrap"):
        """``grade(...)`` of this course; the result, with the report checked to hold only itself."""
        result = grade(project="p1", submission=submission, out_dir=out, root=self.root, device="cpu",
                       isolation=isolation)
        assert_report_only(out, result)
        return result

    def assert_untouched(self) -> None:
        """No file of the course, of the repository's P1 or of the submissions changed or appeared."""
        after = tree_digest(*self.watched)
        changed = sorted(k for k in set(after) | set(self._digest) if after.get(k) != self._digest.get(k))
        assert not changed, f"files changed during grading: {changed[:10]}"
        for path, existed in self._canaries.items():
            assert path.exists() == existed, f"{path} appeared on the grader's machine"

    def assert_grades_normally(self, out: Path, isolation: str = "bwrap") -> None:
        """The next submission, a correct one, gets every point."""
        result = self.grade(PERFECT, out, isolation)
        assert result.score == result.max_score, [t.output for t in result.tests if not t.passed][:3]


@pytest.fixture
def p1_course(tmp_path) -> Course:
    return Course(tmp_path / "course")


@pytest.fixture(autouse=True)
def own_reference_modules():
    """Each test imports the reference it grades with, and leaves the modules and path as it found them.

    ``load_reference`` imports a project by its plain name, so a ``p1_forward`` left in
    ``sys.modules`` by another course (the toy one of other tests) would be taken for
    the reference here, and ours for theirs afterwards.
    """
    def ours():
        return {k: v for k, v in sys.modules.items() if k == "p1_forward" or k.startswith("p1_forward.")}

    saved, path = ours(), list(sys.path)
    for name in saved:
        del sys.modules[name]
    yield
    for name in ours():
        del sys.modules[name]
    sys.modules.update(saved)
    sys.path[:] = path  # load_reference put this course's solutions/ in front


def assert_report_only(out: Path, result) -> None:
    """The output folder holds the grader's report and nothing else, and the report tells the truth."""
    names = {p.name for p in out.iterdir()}
    assert names <= REPORT_FILES, names
    if (out / "artifacts").exists():
        assert {p.name for p in (out / "artifacts").iterdir()} <= ARTIFACTS
    written = json.loads((out / "results.json").read_text())
    assert written["score"] == round(result.score, 4)
    assert abs(sum(t["score"] for t in written["tests"]) - written["score"]) < 1e-6
    assert [t["name"] for t in written["tests"]] == [t.name for t in result.tests]
    feedback = (out / "feedback.md").read_text()
    assert f"**Score: {points(result.score)} / {points(result.max_score)}**" in feedback


def failed(result) -> set[str]:
    return {t.name for t in result.tests if not t.passed}


# -- the honest twin -------------------------------------------------------------------------------
class Twin:
    """An honest student in this process: the reference, with some functions replaced.

    Results cross the codec as they would from a worker, so tensors arrive plain
    and objects the codec cannot carry arrive as handles; an exception becomes a
    ``StudentException``, as any failure in the worker does.
    """

    def __init__(self, ref, overrides: dict):
        self._ref = ref
        self._overrides = overrides

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        fn = self._overrides.get(name, getattr(self._ref, name))

        def call(*args, _timeout=None, **kwargs):
            try:
                value = fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - mirror the worker: any raise is the student's
                raise StudentException(type(e).__name__, str(e)) from None
            kept = []
            return codec.decode_bytes(codec.encode(value, lambda obj: kept.append(obj) or len(kept)))

        return call


def fails(*args, **kwargs):
    """An honest function that does not work (the twin of one that hangs, crashes or cannot be sent)."""
    raise RuntimeError("fails")


def twin_score(course: Course, **overrides) -> tuple[float, set[str]]:
    """``(score, failed test names)`` of the reference with ``overrides`` in place of its functions."""
    adir = course.root / "assignments" / "p1_forward"
    ref = load_reference("p1_forward", course.root)
    fixtures = {"student": Twin(ref, overrides), "ref": ref, "check": Checker(course.config),
                "device": torch.device("cpu"), "config": course.config, "artifacts": None, "provided": None}
    outcomes = runner.run_tests(runner.collect(adir / "tests" / "hidden"), fixtures)
    rows = scoring.score(outcomes, course.config.points)  # as grading does: points tied to prerequisites
    score, _ = scoring.total(rows)
    return score, {r.name for r in rows if not r.passed}


def assert_scores_like_twin(result, course: Course, **overrides) -> None:
    """Test for test, the hostile submission scores what its honest twin scores."""
    score, twin_failed = twin_score(course, **overrides)
    assert failed(result) == twin_failed, {t.name: t.output[:300] for t in result.tests
                                           if (not t.passed) != (t.name in twin_failed)}
    assert result.score == score


# -- workers on a toy package, for attacks that need no P1 -----------------------------------------
@contextmanager
def toy_worker(folder: Path, body: str, *, level: str = "bwrap", limits: iso.Limits | None = None,
               call_timeout: float = 4, startup_timeout: float = 60):
    """A worker serving a package whose toy.py is ``body``; yields ``(proxy, worker)``."""
    sub = write_package(folder, body)
    worker = Worker(package="p1_forward", submission_dir=sub, isolation=iso.choose(level),
                    limits=limits or iso.Limits(memory_mb=2048, file_size_mb=16), call_timeout=call_timeout,
                    startup_timeout=startup_timeout, threads=2)
    try:
        worker.start()
        yield StudentProxy(worker), worker
    finally:
        worker.close()
