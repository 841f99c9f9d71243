"""The weakest level: a plain child process with resource limits, as the grader's user.

It keeps the score honest (the score is computed in the grader from data), not the
course secret: the worker reads and writes whatever the grader can, and may signal
the grader's processes.
"""

from autograder.sandbox.levels.base import Launch, Level, worker_args


class Process(Level):
    name = "process"

    def works(self) -> bool:
        return True

    def description(self) -> str:
        return ("separate process with resource limits (bubblewrap not available: the submission runs as "
                "the grader's user and can read and write what the grader can)")

    def command(self, launch: Launch) -> tuple[list[str], str]:
        sub = str(launch.submission_dir)
        return worker_args(str(launch.runtime_dir / "worker.py"), sub, [str(p) for p in launch.provided],
                           launch), sub
