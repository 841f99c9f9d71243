"""The worker: imports the student's package and runs the calls the grader asks for.

It is started by the grader as ``python -I worker.py --package NAME --submission DIR``
with requests on its stdin and replies on its stdout, one codec frame each.
Everything the student's code prints goes to stderr, which the grader caps.
This file imports nothing from ``autograder``: it runs from a bare folder
inside the sandbox, next to ``codec.py``.
"""

import argparse
import importlib
import importlib.util
import json
import os
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load_private(name: str):
    """Import ``HERE/name.py`` as ``_diffgrade_<name>``: a student file of the same name cannot shadow it."""
    spec = importlib.util.spec_from_file_location(f"_diffgrade_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _scrub_sys_path(submission: str, provided: list[str]) -> None:
    """Keep only the interpreter's own paths, the submission and the provided packages on ``sys.path``."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    keep = [p for p in sys.path if p and any(os.path.realpath(p).startswith(pre) for pre in prefixes)]
    sys.path[:] = [submission, *provided] + keep
    # Editable installs of the grader add import hooks pointing outside the sandbox.
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in type(f).__module__]


def _student_traceback(exc: BaseException, submission: str) -> str:
    """The traceback limited to frames in the student's files."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(submission)]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    return "".join(lines)[-8000:]


def _error_reply(exc: BaseException, submission: str) -> dict:
    return {"ok": False, "exc_type": type(exc).__name__, "message": str(exc)[:4000],
            "exc_mro": [c.__name__ for c in type(exc).__mro__][:64],  # so ValueError subclasses count
            "traceback": _student_traceback(exc, submission)}


class Handles:
    """Objects kept in the worker for the grader (models, configs), by number."""

    def __init__(self):
        self.objects: dict[int, object] = {}
        self.next_id = 1

    def register(self, obj) -> int:
        self.objects[self.next_id] = obj
        self.next_id += 1
        return self.next_id - 1

    def resolve(self, handle):
        try:
            return self.objects[handle.handle_id]
        except KeyError:
            raise LookupError(f"no object #{handle.handle_id} in the worker") from None


def _environment() -> dict:
    """The Python environment this worker runs in, for the grader to compare with its own."""
    import site

    return {"executable": sys.executable, "prefix": sys.prefix, "base_prefix": sys.base_prefix,
            "site_packages": [p for p in site.getsitepackages() if os.path.isdir(p)]}


def _cap_gpu_memory(torch, limit_mb: int) -> None:
    """Make the CUDA allocator refuse more than ``limit_mb`` (a clean OutOfMemoryError).

    Student code could lift this cap again; the grader's guard outside the sandbox
    (autograder/sandbox/gpu_memory.py) is what enforces the limit.
    """
    if not limit_mb or not torch.cuda.is_available():
        return
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(min(1.0, limit_mb * 2**20 / total), 0)


def _confine(torch, rules: dict) -> dict:
    """Apply the grader's Landlock rules to this process for good (``landlock.py``); what was applied.

    Done after torch is imported, with what it opens lazily already opened, and before
    the submission is: no student code ever runs unconfined.
    """
    torch.ones(2, 2) @ torch.ones(2, 2)  # starts the thread pools, which read the CPU topology once
    report = _load_private("landlock").restrict(rules.get("read", ()), rules.get("write", ()),
                                                rules.get("devices", ()))
    return {**report, "uid": os.getuid()}


def serve(package: str, submission: str, threads: int, provided: list[str], gpu_memory_mb: int = 0,
          landlock: dict | None = None) -> None:
    # The protocol streams are private copies; fd 0 and 1 become /dev/null and stderr
    # so that print() in student code cannot break a frame.
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    codec = _load_private("codec")
    # The first frame, before any student code runs (so a submission cannot forge it): the
    # environment, and whether torch imports in it. The grader stops on a mismatch.
    environment = _environment()
    try:
        import torch
    except BaseException as e:  # noqa: BLE001 - reported to the grader, which stops grading
        environment["error"] = f"{type(e).__name__}: {e}"
    if landlock is not None and "error" not in environment:
        torch.set_num_threads(max(1, threads))
        try:
            environment["landlock"] = _confine(torch, landlock)
        except BaseException as e:  # noqa: BLE001 - never run student code unconfined
            environment["error"] = f"Landlock could not be applied: {type(e).__name__}: {e}"
    proto_out.write(codec.encode({"ok": True, "value": {"environment": environment}}))
    proto_out.flush()
    if "error" in environment:
        return

    torch.set_num_threads(max(1, threads))
    _cap_gpu_memory(torch, gpu_memory_mb)
    _scrub_sys_path(submission, provided)
    _load_private("testmodels")
    handles = Handles()

    def read_exact(n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            chunk = proto_in.read(n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return bytes(out)

    def send(reply: dict) -> None:
        try:
            frame = codec.encode(reply, handles.register)
        except Exception as e:  # the student returned something the codec refuses
            frame = codec.encode({"ok": False, "exc_type": "UnsendableResult",
                                  "message": f"the value returned cannot be checked: {e}", "traceback": ""})
        proto_out.write(frame)
        proto_out.flush()

    module, import_error = None, None
    try:
        module = importlib.import_module(package)
    except BaseException as e:  # noqa: BLE001 - any failure to import is reported, SystemExit too
        import_error = _error_reply(e, submission)

    while True:
        # Nothing of the previous call stays referenced here while the next one runs: its
        # arguments and result would be in reach of the student's code (through the frames
        # of the stack) and would hold their memory until then.
        header = buffers = request = value = fn = target = None
        try:
            header, buffers = codec.read_frame(read_exact, 1 << 34)
        except EOFError:
            return
        try:
            request = codec.decode(header, buffers, resolve=handles.resolve)
        except LookupError as e:
            send({"ok": False, "exc_type": "StaleHandle", "message": str(e), "traceback": ""})
            continue
        op = request.get("op")
        if op == "exit":
            return
        if op == "hello":
            names = sorted(n for n in dir(module) if not n.startswith("_")) if module else []
            send({"ok": True, "value": {"python": sys.version.split()[0], "torch": torch.__version__,
                                        "import_error": import_error, "names": names}})
            continue
        if op == "release":
            for h in request.get("handles", []):
                handles.objects.pop(int(h), None)
            send({"ok": True, "value": None})
            continue
        if op not in ("call", "method", "getattr", "construct"):
            send({"ok": False, "exc_type": "ProtocolError", "message": f"unknown op {op!r}", "traceback": ""})
            continue
        if op == "call" and module is None:
            send(import_error)
            continue
        try:
            if op == "call":
                fn = getattr(module, request["fn"])
            elif op == "method":  # a method of an object kept here, e.g. model.__call__
                fn = getattr(request["target"], request["fn"])
            elif op == "getattr":  # an attribute of an object kept here
                target, name = request["target"], request["fn"]
                fn = lambda: getattr(target, name)  # noqa: E731
            else:  # an object from a provided package (reference code, test models)
                fn = getattr(importlib.import_module(request["module"]), request["fn"])
            value = fn(*request.get("args", ()), **request.get("kwargs", {}))
        except BaseException as e:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are student errors too
            send(_error_reply(e, submission))
            continue
        send({"ok": True, "value": value})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--package", required=True)
    parser.add_argument("--submission", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--provided", action="append", default=[],
                        help="a folder of provided packages (reference code of earlier projects)")
    parser.add_argument("--gpu-memory-mb", type=int, default=0, help="cap of the CUDA allocator (0: none)")
    parser.add_argument("--landlock", type=json.loads, default=None,
                        help='JSON {"read": [...], "write": [...], "devices": [...]}: confine this process')
    args = parser.parse_args()
    serve(args.package, os.path.realpath(args.submission), args.threads, args.provided, args.gpu_memory_mb,
          args.landlock)


if __name__ == "__main__":
    main()
