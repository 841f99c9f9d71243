"""What can go wrong when the grader calls a student's function.

Each error is raised in the trusted parent; it carries only strings and numbers
decoded from the worker, never an object made by student code.
"""


class StudentCodeError(Exception):
    """Base class: something about the student's code stopped a call."""


class StudentException(StudentCodeError):
    """The student's function raised; ``exc_type`` is the exception's class name and
    ``exc_mro`` the class names of its method resolution order (itself first), so that a
    student's ``class UnknownSchedule(ValueError)`` can be recognised as a ``ValueError``."""

    def __init__(self, exc_type: str, message: str, traceback: str = "", mro=()):
        super().__init__(f"{exc_type}: {message}")
        self.exc_type = exc_type
        self.message = message
        self.traceback = traceback
        self.exc_mro = tuple(mro) or (exc_type,)


class StudentImportError(StudentCodeError):
    """The student's package could not be imported at all."""

    def __init__(self, message: str, traceback: str = ""):
        super().__init__(message)
        self.traceback = traceback


class StudentTimeout(StudentCodeError):
    """A call ran past its time limit; the worker was killed."""

    def __init__(self, fn: str, seconds: float, earlier: bool = False):
        msg = f"{fn}() did not return within {seconds:g} s"
        if earlier:
            msg = f"not called: {fn}() already ran past its time limit of {seconds:g} s in an earlier test"
        super().__init__(msg)
        self.fn = fn
        self.seconds = seconds


class WorkerDied(StudentCodeError):
    """The worker process exited or was killed (crash, os._exit, memory limit, ...)."""

    def __init__(self, fn: str, returncode: int | None, detail: str = ""):
        why = f"exit code {returncode}" if returncode is None or returncode >= 0 else f"signal {-returncode}"
        super().__init__(f"the process running your code died during {fn}() ({why}){detail}")
        self.fn = fn
        self.returncode = returncode


class GpuMemoryExceeded(StudentCodeError):
    """The worker's processes held more GPU memory than the limit; the worker was killed."""

    def __init__(self, fn: str, used_mb: int, limit_mb: int):
        super().__init__(f"{fn}() held {used_mb} MiB of GPU memory, over the limit of {limit_mb} MiB; "
                         f"the process running your code was stopped")
        self.fn = fn
        self.used_mb = used_mb
        self.limit_mb = limit_mb


class ProtocolError(StudentCodeError):
    """The worker sent bytes that are not a valid reply (too large, malformed, ...)."""


class SandboxEnvironmentError(RuntimeError):
    """The worker could not start in the grader's own Python environment.

    Not a student's fault, and not one submission's: no student code has run yet, so
    grading stops here instead of scoring every submission 0.
    """
