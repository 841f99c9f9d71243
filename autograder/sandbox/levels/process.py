"""The weakest level: a plain child process with resource limits, as the grader's user.

It keeps the score honest (the score is computed in the grader from data), not the
course secret: the worker reads and writes whatever the grader can, reaches the network,
and may signal the grader's processes. ``auto`` never picks it: it is used only when
asked for by name (``--isolation process``), and every report then says what it does
not protect. Like the Landlock level it starts the worker under the subreaper of
``runtime/reaper.py``, so processes left behind are killed when the worker stops
(unless the submission kills the subreaper first, which nothing stops here).
"""

from autograder.sandbox import cgroups
from autograder.sandbox.levels.base import Launch, Level, reaper_prefix, worker_args


class Process(Level):
    name = "process"
    reaper = True

    def works(self) -> bool:
        return True

    def description(self) -> str:
        sweep = "the sandbox's cgroup and " if cgroups.parents() else ""
        return ("separate process with resource limits, NOT a sandbox (neither bubblewrap nor Landlock was used): "
                "the submission runs as the grader's user and can read and write what the grader can "
                "(hidden tests, reference solutions, other reports), read the grader's environment "
                "through /proc, use the network and signal the grader's processes; only the score's "
                f"computation is out of its reach. Processes it leaves behind are killed by {sweep}a subreaper's "
                "sweep when the worker stops, unless the submission kills that subreaper first")

    def command(self, launch: Launch) -> tuple[list[str], str]:
        sub = str(launch.submission_dir)
        worker = worker_args(str(launch.runtime_dir / "worker.py"), sub, [str(p) for p in launch.provided], launch)
        return [*reaper_prefix(launch, None), *worker], sub
