"""Grade a folder of submissions, resumably, in parallel: the pipeline behind ``diffgrade batch``.

1. find the students: entry names or a roster (``roster.discover``), late flags;
2. skip those whose folder already holds a valid grade of the same content (``state``);
3. grade the rest through an executor, each submission in its own process;
4. record an error row for any grading process that failed, and go on;
5. write ``gradebook.csv``, ``summary.md`` and ``summary.json`` from the per-student folders.

Layout of ``out_dir``::

    batch.json                 who is in the batch (read by regrade)
    gradebook.csv              one row per student
    summary.md, summary.json
    submissions/<student_id>/  results.json, feedback.md, artifacts/, done.json
    logs/<student_id>.log      what the grading process printed
    .work/                     manifest and Slurm scripts

``regrade`` grades one student of a batch again and rewrites the gradebook.
"""

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from autograder import config as config_mod
from autograder import course
from autograder.batch import late, state
from autograder.batch import roster as roster_mod
from autograder.batch.errors import BatchError
from autograder.batch.executors import EXECUTORS, Executor, Finished, LocalExecutor, SlurmExecutor, SlurmOptions
from autograder.batch.gradebook import Column, Record, columns_for, missing_record, read_record, write_gradebook
from autograder.batch.progress import Progress
from autograder.batch.resources import plan
from autograder.batch.summary import summarize, write_summary
from autograder.batch.task import GradeTask
from autograder.grading.report import write_atomic

META = "batch.json"


@dataclass(frozen=True)
class BatchResult:
    """What a batch run did and where its outputs are."""

    out_dir: Path
    gradebook: Path
    summary: Path
    records: tuple[Record, ...]
    graded: int                 # graded in this run
    skipped: int                # already graded by an earlier run, kept
    errors: int                 # rows whose grading failed (this run or earlier)
    missing: tuple[str, ...]    # enrolled students without a submission
    unmatched: tuple[str, ...]  # entries no roster row claims (not graded)
    seconds: float
    executor: str


@dataclass(frozen=True)
class Student:
    """One row to be: a student, the submission's path (None when missing) and the late flag."""

    student_id: str
    path: str | None
    late: bool | None


@dataclass(frozen=True)
class _Course:
    root: Path
    project: str
    cfg: config_mod.AssignmentConfig
    columns: tuple[Column, ...]
    course_hash: str


def _load_course(project: str, root: Path | None) -> _Course:
    root = Path(root).resolve() if root else course.course_root()
    project = course.project_name(project)
    adir = course.assignment_dir(project, root)
    cfg = config_mod.load(adir)
    return _Course(root, project, cfg, tuple(columns_for(adir, cfg)), state.course_hash(root, project))


@contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir/.lock`` so two batches never write the same folder; the kernel frees it on death."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(f"{out_dir} is in use by another batch or regrade; wait for it, "
                             "or choose another output folder") from None
        yield


def _students(found: roster_mod.Discovery, deadline) -> list[Student]:
    out = []
    for e in found.entries:
        if e.path is None:
            out.append(Student(e.student_id, None, None))
            continue
        when = e.submitted_at or late.modified_at(e.path)
        out.append(Student(e.student_id, str(Path(e.path).resolve()), late.is_late(when, deadline)))
    return out


def _folder(out_dir: Path, student_id: str) -> Path:
    return out_dir / "submissions" / student_id


def _task(out_dir: Path, c: _Course, s: Student, *, device: str, isolation: str, threads: int) -> GradeTask:
    return GradeTask(student_id=s.student_id, submission=s.path, out_dir=str(_folder(out_dir, s.student_id)),
                     log=str(out_dir / "logs" / f"{s.student_id}.log"), content_hash=state.content_hash(Path(s.path)),
                     course_hash=c.course_hash, project=c.project, root=str(c.root), device=device,
                     isolation=isolation, threads=threads)


def _task_timeout(cfg: config_mod.AssignmentConfig, given: float | None) -> float:
    """A grading that outlives the project's own limits by two minutes is stuck in the grader itself."""
    return given or cfg.limits.total_timeout_s + cfg.limits.startup_timeout_s + 120.0


def _executor(executor: str | Executor, *, workers: int | None, device: str, slurm: SlurmOptions | None,
              task_timeout: float | None, cfg: config_mod.AssignmentConfig) -> tuple[Executor, str, int]:
    """The executor, the device each task asks for, and the threads each grading gets."""
    if not isinstance(executor, str):
        p = plan(workers=workers, device=device)
        return executor, p.device, p.threads
    if executor == "local":
        p = plan(workers=workers, device=device)
        ex = LocalExecutor(workers=p.workers, gpus=p.gpus, task_timeout=_task_timeout(cfg, task_timeout))
        return ex, p.device, p.threads
    if executor == "slurm":
        SlurmExecutor.check_available()
        options = slurm or SlurmOptions()
        return SlurmExecutor(options=options, max_parallel=workers), device, options.cpus_per_task
    raise ValueError(f"unknown executor {executor!r}; expected one of {', '.join(EXECUTORS)}")


def _check_local(device: str, isolation: str) -> None:
    """Fail early, in the parent, on a device or isolation this machine cannot give."""
    from autograder.grading.grade import resolve_device
    from autograder.sandbox import isolation as iso

    from autograder.sandbox.client import check_environment
    from autograder.sandbox.errors import SandboxEnvironmentError

    resolve_device(device)
    try:
        check_environment(iso.choose(isolation))  # one worker, before anyone is graded
    except (RuntimeError, SandboxEnvironmentError) as e:
        raise BatchError(str(e)) from None


def _grade(ex: Executor, tasks: list[GradeTask], c: _Course, prog: Progress, work: Path) -> None:
    """Run ``tasks``; record an error row for each one that did not leave a valid grade."""
    for t in tasks:
        state.clear_done(Path(t.out_dir))
    with closing(ex.run(tasks, workdir=work)) as finished:  # closing stops the tasks on Ctrl-C
        _record(finished, c, prog)


def _record(finished: Iterator[Finished], c: _Course, prog: Progress) -> None:
    for fin in finished:
        t = fin.task
        folder = Path(t.out_dir)
        done = state.read_done(folder) if fin.ok else None
        if done is not None and state.is_finished(folder, content=t.content_hash, course=t.course_hash):
            prog.finished(t.student_id, ok=True, score=done.score, max_score=done.max_score, seconds=fin.seconds)
            continue
        reason = fin.reason or "the grading process ended without writing its results"
        state.write_error(folder, done=state.Done(t.student_id, t.content_hash, t.course_hash, "error", 0.0,
                                                  c.cfg.max_score, reason),
                          project=c.project, title=c.cfg.title, submission=Path(t.submission).name,
                          columns=list(c.columns))
        prog.finished(t.student_id, ok=False, reason=reason, seconds=fin.seconds)


def _records(out_dir: Path, c: _Course, students: list[Student]) -> list[Record]:
    return [missing_record(s.student_id, c.cfg.max_score) if s.path is None else
            read_record(_folder(out_dir, s.student_id), student_id=s.student_id, late=s.late,
                        max_score=c.cfg.max_score)
            for s in students]


def _write_outputs(out_dir: Path, c: _Course, records: list[Record], unmatched: tuple[str, ...]) -> tuple[Path, Path]:
    gradebook = write_gradebook(out_dir / "gradebook.csv", records, list(c.columns))
    md, _ = write_summary(out_dir, summarize(records, list(c.columns), project=c.project, title=c.cfg.title,
                                             unmatched=unmatched))
    return gradebook, md


def _write_meta(out_dir: Path, c: _Course, *, submissions_dir: Path, roster: Path | None, deadline: str | None,
                students: list[Student], unmatched: tuple[str, ...]) -> None:
    meta = {"project": c.project, "root": str(c.root), "submissions_dir": str(submissions_dir),
            "roster": str(roster) if roster else None, "deadline": deadline,
            "students": [{"student_id": s.student_id, "file": s.path, "late": s.late} for s in students],
            "unmatched": list(unmatched)}
    write_atomic(out_dir / META, json.dumps(meta, indent=2, sort_keys=True) + "\n")


def _read_meta(out_dir: Path) -> tuple[dict, list[Student]]:
    try:
        meta = json.loads((out_dir / META).read_text())
    except FileNotFoundError:
        raise BatchError(f"{out_dir} holds no batch ({META} is missing); run `diffgrade batch` first") from None
    except ValueError as e:
        raise BatchError(f"{out_dir / META}: unreadable ({e})") from None
    return meta, [Student(s["student_id"], s["file"], s["late"]) for s in meta["students"]]


def batch(*, project: str, submissions_dir: Path, out_dir: Path, workers: int | None = None,
          executor: str | Executor = "local", roster: Path | None = None, device: str = "auto",
          isolation: str = "auto", root: Path | None = None, progress: bool = True, deadline: str | None = None,
          slurm: SlurmOptions | None = None, retry_errors: bool = False, task_timeout: float | None = None,
          stream=None) -> BatchResult:
    """Grade every submission in ``submissions_dir`` into ``out_dir``; resume where a previous run stopped.

    ``workers`` defaults to one per CPU core (one per GPU with CUDA); ``executor`` is ``local``,
    ``slurm`` (options in ``slurm``) or an ``Executor``. ``deadline`` is an ISO datetime: entries
    modified (or, with a roster, ``submitted_at``) after it are flagged late. Rows whose grading
    failed are kept on resume unless ``retry_errors``.
    """
    start = time.monotonic()
    c = _load_course(project, root)
    deadline_at = late.parse_time(deadline, what="deadline") if deadline else None
    submissions_dir = Path(submissions_dir).resolve()
    roster = Path(roster).resolve() if roster else None
    found = roster_mod.discover(submissions_dir, roster)
    if executor == "local":
        _check_local(device, isolation)
    ex, task_device, threads = _executor(executor, workers=workers, device=device, slurm=slurm,
                                         task_timeout=task_timeout, cfg=c.cfg)
    out_dir = Path(out_dir).resolve()
    with _locked(out_dir):
        students = _students(found, deadline_at)
        _write_meta(out_dir, c, submissions_dir=submissions_dir, roster=roster, deadline=deadline,
                    students=students, unmatched=found.unmatched)
        present = [s for s in students if s.path is not None]
        tasks = [_task(out_dir, c, s, device=task_device, isolation=isolation, threads=threads) for s in present]
        todo = [t for t in tasks if not state.is_finished(Path(t.out_dir), content=t.content_hash,
                                                          course=t.course_hash, retry_errors=retry_errors)]
        prog = Progress(total=len(present), already=len(present) - len(todo), enabled=progress, stream=stream)
        missing = tuple(s.student_id for s in students if s.path is None)
        prog.say(f"batch {c.cfg.title}: {len(present)} submissions, {len(present) - len(todo)} already graded, "
                 f"{len(todo)} to grade with {ex.describe()}, {threads} thread(s) each"
                 + (f"; {len(missing)} enrolled without a submission" if missing else "")
                 + (f"; not in the roster (not graded): {', '.join(found.unmatched)}" if found.unmatched else ""))
        if todo:
            _grade(ex, todo, c, prog, out_dir / ".work")
        records = _records(out_dir, c, students)
        gradebook, summary_md = _write_outputs(out_dir, c, records, found.unmatched)
    result = BatchResult(out_dir=out_dir, gradebook=gradebook, summary=summary_md, records=tuple(records),
                         graded=len(todo), skipped=len(present) - len(todo),
                         errors=sum(r.status == "error" for r in records), missing=missing,
                         unmatched=found.unmatched, seconds=time.monotonic() - start, executor=ex.name)
    prog.say(f"done in {result.seconds:.1f} s: {result.graded} graded now, {result.skipped} kept, "
             f"{result.errors} failed; gradebook: {gradebook}; summary: {summary_md}")
    return result


def regrade(*, project: str, student_id: str, out_dir: Path, device: str = "auto", isolation: str = "auto",
            root: Path | None = None, task_timeout: float | None = None, progress: bool = True,
            stream=None) -> Record:
    """Grade one student of the batch in ``out_dir`` again, in place (on this machine, in a child
    process), and rewrite the gradebook and summary. The submission is the file the batch found."""
    out_dir = Path(out_dir).resolve()
    meta, students = _read_meta(out_dir)
    c = _load_course(project, root)
    if meta["project"] != c.project:
        raise BatchError(f"{out_dir} is a batch of {meta['project']}, not {c.project}")
    student = next((s for s in students if s.student_id == student_id), None)
    if student is None:
        known = ", ".join(s.student_id for s in students[:20])
        raise BatchError(f"no student {student_id!r} in the batch in {out_dir} (students: {known}"
                         f"{', ...' if len(students) > 20 else ''})")
    if student.path is None or not os.path.exists(student.path):
        raise BatchError(f"{student_id} has no submission on disk ({student.path or 'none in the roster'}); "
                         "run `diffgrade batch` again to pick up new files")
    _check_local(device, isolation)
    p = plan(workers=1, device=device)
    ex = LocalExecutor(workers=1, gpus=p.gpus[:1], task_timeout=_task_timeout(c.cfg, task_timeout))
    with _locked(out_dir):
        task = _task(out_dir, c, student, device=p.device, isolation=isolation, threads=p.threads)
        prog = Progress(total=1, enabled=progress, stream=stream)
        _grade(ex, [task], c, prog, out_dir / ".work")
        records = _records(out_dir, c, students)
        _write_outputs(out_dir, c, records, tuple(meta.get("unmatched", ())))
    return next(r for r in records if r.student_id == student_id)
