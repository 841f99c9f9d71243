"""One grading task: what to grade, where to, with which resources, and how.

The orchestrator writes the tasks of a batch to a JSON manifest; an executor
starts one process per task (``worker_main``), which calls ``run_task``: it
grades the submission into the student's folder and writes ``done.json`` last.
If the process crashes or is killed, no ``done.json`` appears and the
orchestrator records an error row for that student alone.
"""

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.batch import state
from autograder.grading.report import write_atomic

# Set by the local executor to its own pid: the task asks to die with it (see worker_main).
PARENT_PID_VARIABLE = "DIFFGRADE_BATCH_PARENT_PID"


@dataclass(frozen=True)
class GradeTask:
    """Everything one grading process needs; paths are absolute strings (JSON-friendly)."""

    student_id: str
    submission: str
    out_dir: str          # the student's folder, out_dir/submissions/<student_id>
    log: str              # where the process's stdout and stderr go
    content_hash: str
    course_hash: str
    project: str
    root: str
    device: str = "auto"
    isolation: str = "auto"
    threads: int = 1


def write_manifest(path: Path, tasks: list[GradeTask]) -> None:
    write_atomic(Path(path), json.dumps({"version": 1, "tasks": [asdict(t) for t in tasks]}, indent=1) + "\n")


def read_manifest(path: Path) -> list[GradeTask]:
    data = json.loads(Path(path).read_text())
    return [GradeTask(**t) for t in data["tasks"]]


def first_note(notes: list[str], submission: str) -> str:
    """The first problem the grader noted (not what the code printed), on one line, with the
    submission's path shortened to its name."""
    problems = [n for n in notes if n and not n.startswith("Your code printed")]
    if not problems:
        return ""
    return problems[0].splitlines()[0].replace(submission, Path(submission).name)


def run_task(task: GradeTask) -> state.Done:
    """Grade ``task`` into its folder (cleared first) and write its ``done.json``."""
    import torch

    from autograder.grading.grade import grade

    torch.set_num_threads(max(1, task.threads))
    folder = Path(task.out_dir)
    shutil.rmtree(folder, ignore_errors=True)
    result = grade(project=task.project, submission=Path(task.submission), out_dir=folder,
                   device=task.device, isolation=task.isolation, threads=task.threads, root=Path(task.root))
    done = state.Done(student_id=task.student_id, content_hash=task.content_hash, course_hash=task.course_hash,
                      status="graded", score=result.score, max_score=result.max_score,
                      reason=first_note(result.notes, task.submission))
    state.write_done(folder, done)
    return done
