"""The interface every executor offers: run tasks, yield each as it finishes.

An executor only runs processes; it does not judge results. The orchestrator
reads each student's ``done.json`` after a task finishes and records an error
row when it is missing, with the executor's ``reason``.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from autograder.batch.task import GradeTask


@dataclass(frozen=True)
class Finished:
    """One task that has ended, well or not."""

    task: GradeTask
    ok: bool            # the process exited with status 0
    reason: str = ""    # why not, for the gradebook: exit status, signal, timeout, last log line
    seconds: float = 0.0


class Executor(Protocol):
    """Runs grading tasks, each in its own process."""

    name: str

    def describe(self) -> str:
        """A few words for the progress log, e.g. ``2 local workers``."""

    def run(self, tasks: Sequence[GradeTask], *, workdir: Path) -> Iterator[Finished]:
        """Run every task; yield each one as it finishes, in completion order.

        ``workdir`` is a private folder of the batch for manifests, scripts and logs.
        Closing the iterator early stops the tasks still running.
        """


def log_tail(path: Path, lines: int = 1) -> str:
    """The last non-empty line(s) of a log, for an error's reason."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])[:300]
