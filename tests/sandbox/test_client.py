"""The worker process seen from the grader: calls, errors, limits and isolation."""

import time

import pytest
import torch

from autograder.sandbox import isolation as iso
from autograder.sandbox.client import RemoteObject, StudentProxy, Worker
from autograder.sandbox.local import InProcessStudent
from autograder.sandbox.errors import (
    StudentCodeError,
    StudentException,
    StudentImportError,
    StudentTimeout,
    WorkerDied,
)
from tests.conftest import REPO, write_package

HOSTILE = '''
import os, sys, time, socket
import torch


def scale(x, factor):
    return x * factor


def boom():
    raise KeyError("nope")


def spin():
    while True:
        pass


def die():
    os._exit(3)


def leave():
    sys.exit(0)


def chatter(n):
    for i in range(n):
        print("x" * 1000)
    return n


def hog():
    blocks = []
    while True:
        blocks.append(bytearray(100 << 20))


def big_tensor():
    return torch.empty(1 << 30, dtype=torch.uint8).fill_(1)


def read(path):
    with open(path) as f:
        return f.read()


def connect():
    socket.create_connection(("127.0.0.1", 9), timeout=2)
    return "connected"


def write(path):
    with open(path, "w") as f:
        f.write("pwned")
    return "written"


def sneaky():
    class Yes(torch.Tensor):
        def __eq__(self, other):
            return True
    return torch.zeros(3).as_subclass(Yes)


def unsendable():
    return object()


def make_temp():
    import tempfile
    folder = tempfile.mkdtemp(prefix="left-behind-")
    with open(os.path.join(folder, "weights.bin"), "wb") as f:
        f.write(b"x" * 1000)
    return folder, os.environ["HOME"]
'''

LEVELS = [pytest.param("process", id="process"),
          pytest.param("bwrap", id="bwrap", marks=pytest.mark.skipif(
              not iso.bwrap_works(), reason="bubblewrap is not installed or cannot create namespaces here"))]


@pytest.fixture(params=LEVELS)
def worker(request, tmp_path):
    sub = write_package(tmp_path / "sub", HOSTILE)
    w = Worker(package="p1_forward", submission_dir=sub, isolation=iso.choose(request.param),
               limits=iso.Limits(memory_mb=2048, file_size_mb=8), call_timeout=5, startup_timeout=60)
    w.start()
    yield w
    w.close()


def test_call_returns_plain_values(worker):
    """Does a call come back with the student's result as a plain tensor?"""
    out = StudentProxy(worker).scale(torch.arange(3.0, dtype=torch.float64), 2)
    assert out.dtype == torch.float64 and out.tolist() == [0.0, 2.0, 4.0]


def test_student_exception_is_reported_by_name(worker):
    """Does an exception in student code arrive as its class name and message, with a traceback?"""
    with pytest.raises(StudentException) as info:
        StudentProxy(worker).boom()
    assert info.value.exc_type == "KeyError" and "nope" in info.value.message
    assert "toy.py" in info.value.traceback


def test_timeout_kills_and_next_call_recovers(worker):
    """Does an infinite loop cost only its call, with a fresh worker afterwards?"""
    with pytest.raises(StudentTimeout):
        StudentProxy(worker).spin()
    assert StudentProxy(worker).scale(torch.ones(1), 3).item() == 3
    with pytest.raises(StudentTimeout, match="earlier"):
        StudentProxy(worker).spin()  # not run again: fails at once


@pytest.mark.parametrize("fn", ["die"])
def test_exit_kills_only_the_worker(worker, fn):
    """Does os._exit in student code become a failed call, not a dead grader?"""
    with pytest.raises(WorkerDied, match="exit code 3"):
        getattr(StudentProxy(worker), fn)()
    assert StudentProxy(worker).scale(torch.ones(1), 2).item() == 2


def test_sys_exit_is_a_student_exception(worker):
    """Is sys.exit() caught as an exception of the student's call?"""
    with pytest.raises(StudentException, match="SystemExit"):
        StudentProxy(worker).leave()


def test_printing_does_not_break_the_protocol(worker):
    """Can student output interleave with replies without corrupting them?"""
    assert StudentProxy(worker).chatter(200) == 200
    assert "xxxx" in worker.stderr_tail()


def test_memory_limit_fails_the_call(worker):
    """Does unbounded allocation end in a failed call rather than an exhausted machine?"""
    with pytest.raises((StudentException, WorkerDied)):
        StudentProxy(worker).hog(_timeout=30)  # filling 2 GiB can take more than 5 s on a loaded machine
    assert StudentProxy(worker).scale(torch.ones(1), 2).item() == 2


def test_tensor_subclass_arrives_plain(worker):
    """Does a tensor subclass with a lying __eq__ arrive as a plain tensor?"""
    out = StudentProxy(worker).sneaky()
    assert type(out) is torch.Tensor and not bool((out == torch.ones(3)).all())


def test_objects_stay_in_the_worker_behind_handles(worker):
    """Does a returned object come back as a handle, never as the object itself?"""
    obj = StudentProxy(worker).unsendable()
    assert isinstance(obj, RemoteObject) and obj.type_name == "object"
    from autograder.testing import Checker, CheckFailure
    with pytest.raises(CheckFailure, match="expected a torch.Tensor, got RemoteObject"):
        Checker(config=None).tensor(obj, "unsendable()")


def test_models_built_in_the_worker_are_callable_and_passable(worker):
    """Can the grader build a provided model in the worker, call it, and pass it to student code?"""
    from autograder.sandbox.runtime.testmodels import TinyEpsModel
    model = worker.construct("_diffgrade_testmodels", "TinyEpsModel", channels=1, T=10, seed=3)
    assert isinstance(model, RemoteObject) and model.type_name == "TinyEpsModel"
    x, t = torch.randn(2, 1, 4, 4, generator=torch.Generator().manual_seed(0)), torch.tensor([1, 7])
    local = TinyEpsModel(channels=1, T=10, seed=3)
    with torch.no_grad():
        assert torch.allclose(model(x, t), local(x, t))
    state = model.state_dict()
    assert set(state) == set(local.state_dict())
    assert torch.equal(StudentProxy(worker).scale(model.forward(x, t), 1.0), model(x, t))


def test_stale_handles_are_refused_after_a_restart(worker):
    """Is an object from a worker that died refused, rather than silently confused with another?"""
    model = worker.construct("_diffgrade_testmodels", "TinyEpsModel")
    with pytest.raises(WorkerDied):
        StudentProxy(worker).die()
    with pytest.raises(StudentCodeError, match="lost when the worker restarted"):
        model(torch.zeros(1, 1, 2, 2), torch.tensor([0]))


def test_import_error_is_reported(tmp_path):
    """Does a package that fails to import give StudentImportError on every call?"""
    sub = write_package(tmp_path / "sub", "import no_such_module_anywhere\n")
    with Worker(package="p1_forward", submission_dir=sub, isolation=iso.choose("process"),
                call_timeout=5) as w:
        with pytest.raises(StudentImportError, match="no_such_module_anywhere"):
            StudentProxy(w).scale(1, 2)


@pytest.mark.skipif(not iso.bwrap_works(), reason="bubblewrap is not installed or cannot create namespaces here")
class TestBwrapIsolation:
    """Inside bubblewrap, the course and the network are out of reach."""

    def test_hidden_tests_are_invisible(self, tmp_path):
        """Can the student read a hidden test or a solution by absolute path? (It must not.)"""
        sub = write_package(tmp_path / "sub", HOSTILE)
        with Worker(package="p1_forward", submission_dir=sub, isolation=iso.choose("bwrap"), call_timeout=5) as w:
            for secret in (REPO / "solutions" / "p1_forward" / "forward.py", REPO / "pyproject.toml"):
                with pytest.raises(StudentException, match="FileNotFoundError|PermissionError"):
                    StudentProxy(w).read(str(secret))

    def test_no_network_and_read_only_submission(self, tmp_path):
        """Are sockets and writes to the submission refused?"""
        sub = write_package(tmp_path / "sub", HOSTILE)
        with Worker(package="p1_forward", submission_dir=sub, isolation=iso.choose("bwrap"), call_timeout=5) as w:
            with pytest.raises(StudentException):
                StudentProxy(w).connect()
            with pytest.raises(StudentException, match="OSError|PermissionError|Read-only"):
                StudentProxy(w).write("/submission/p1_forward/toy.py")
            assert StudentProxy(w).write("/tmp/scratch.txt") == "written"
        assert (sub / "p1_forward" / "toy.py").read_text() == HOSTILE




def test_in_process_student_mirrors_the_worker(tmp_path):
    """Does the in-process adapter copy values through the codec and wrap exceptions the same way?"""
    import types
    mod = types.SimpleNamespace(scale=lambda x, f: x * f, boom=lambda: {}["k"])
    s = InProcessStudent(mod)
    x = torch.ones(2)
    out = s.scale(x, 2)
    assert out.tolist() == [2.0, 2.0] and out.data_ptr() != x.data_ptr()
    with pytest.raises(StudentException) as info:
        s.boom()
    assert info.value.exc_type == "KeyError"


def test_auto_isolation_is_reported():
    """Does choose('auto') name the level and describe it?"""
    chosen = iso.choose("auto")
    assert chosen.level in iso.LEVELS and chosen.description
    with pytest.raises(ValueError, match="unknown isolation"):
        iso.choose("docker")


def test_import_that_hangs_is_tried_once(tmp_path):
    """Does a package whose import never finishes cost one startup timeout, not one per call?

    The timeout also covers the worker's own start (importing torch, which takes
    seconds on a loaded machine), so it is 10 s, and three calls must take less than two.
    """
    sub = write_package(tmp_path / "sub", "while True:\n    pass\n")
    with Worker(package="p1_forward", submission_dir=sub, isolation=iso.choose("process"),
                call_timeout=2, startup_timeout=10) as w:
        start = time.monotonic()
        for _ in range(3):
            with pytest.raises(StudentImportError, match="took longer than 10 s"):
                StudentProxy(w).scale(1, 2)
        assert time.monotonic() - start < 20 and w.starts == 1


def test_attributes_of_remote_objects(worker):
    """Can the grader read a plain attribute of an object in the worker, and get a handle for the rest?"""
    model = worker.construct("_diffgrade_testmodels", "TinyEpsModel", channels=1, T=7)
    assert model.attr("T") == 7
    conv = model.attr("conv")
    assert isinstance(conv, RemoteObject) and conv.type_name == "Conv2d"
    assert conv.attr("weight").shape == (1, 1, 3, 3)


@pytest.mark.parametrize("level", LEVELS)
def test_temporary_files_go_with_the_worker(tmp_path, level):
    """Do files the worker writes to its temp folder (tempfile, HOME) vanish when it closes?"""
    from pathlib import Path
    sub = write_package(tmp_path / "sub", HOSTILE)
    with Worker(package="p1_forward", submission_dir=sub, isolation=iso.choose(level), call_timeout=5) as w:
        folder, home = StudentProxy(w).make_temp()
        assert folder.startswith(home)
        if level == "process":  # the folder is the grader's to see; under bwrap only the sandbox's
            assert (Path(folder) / "weights.bin").stat().st_size == 1000
            assert not folder.startswith("/tmp/left-behind-")
    assert not Path(folder).exists()
