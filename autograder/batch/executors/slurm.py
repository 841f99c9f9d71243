"""The Slurm executor: one job array, one array task per submission (or per chunk).

It writes a job script next to the manifest, submits it with
``sbatch --array=0-N%M --parsable``, and polls: a task is finished when its
exit-status file appears in the shared work folder; the job is over when
``squeue`` no longer lists it. Tasks that ended without a status file (time
limit, out of memory, node failure) are reported with the state ``sacct`` or
``scontrol`` gives. The output folder, the submissions and the course must be
on a file system that the compute nodes share, at the same paths.
"""

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.batch.errors import ExecutorError
from autograder.batch.executors.base import Finished, log_tail
from autograder.batch.executors.local import PACKAGE_PARENT
from autograder.batch.task import GradeTask, write_manifest


@dataclass(frozen=True)
class SlurmOptions:
    """How to submit the job array."""

    partition: str | None = None
    time_limit: str | None = None        # per array task, sbatch --time syntax, e.g. "00:30:00"
    mem: str | None = None               # per array task, sbatch --mem syntax, e.g. "8G"
    chunk_size: int = 1                  # submissions per array task, graded one after another
    extra_args: tuple[str, ...] = ()     # passed to sbatch as they are, e.g. ("--gres=gpu:1",)
    poll_interval: float = 5.0           # seconds between squeue calls
    timeout: float | None = 86400.0      # seconds to wait for the whole job; then it is cancelled
    python: str = sys.executable         # the interpreter on the compute nodes
    job_name: str = "diffgrade"
    cpus_per_task: int = 1               # also the threads each grading uses


def _run(argv: list[str], timeout: float = 60.0) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, "", f"{argv[0]} did not answer within {timeout:g} s")


def job_script(*, tasks: Sequence[GradeTask], manifest: Path, status_dir: Path, options: SlurmOptions,
               log_pattern: Path) -> str:
    """The bash script of the array: task ``k`` grades manifest entries ``k*chunk .. k*chunk+chunk-1``."""
    cpus = options.cpus_per_task
    directives = [f"--job-name={options.job_name}", f"--output={log_pattern}", f"--cpus-per-task={cpus}"]
    if options.partition:
        directives.append(f"--partition={options.partition}")
    if options.time_limit:
        directives.append(f"--time={options.time_limit}")
    if options.mem:
        directives.append(f"--mem={options.mem}")
    logs = "\n".join(f"    {shlex.quote(t.log)}" for t in tasks)
    q = shlex.quote
    return "\n".join([
        "#!/bin/bash",
        *(f"#SBATCH {d}" for d in directives),
        "# Written by diffgrade batch: grades submissions of the manifest, one process each.",
        "set -u",
        f"export PYTHONPATH={q(str(PACKAGE_PARENT))}${{PYTHONPATH:+:$PYTHONPATH}}",
        f"export OMP_NUM_THREADS={cpus} MKL_NUM_THREADS={cpus}",
        f"PY={q(options.python)}",
        f"MANIFEST={q(str(manifest))}",
        f"STATUS={q(str(status_dir))}",
        f"CHUNK={options.chunk_size}",
        "LOGS=(",
        logs,
        ")",
        "N=${#LOGS[@]}",
        "first=$(( SLURM_ARRAY_TASK_ID * CHUNK ))",
        "for (( i = first; i < first + CHUNK && i < N; i++ )); do",
        "    mkdir -p \"$(dirname \"${LOGS[$i]}\")\"",
        "    start=$(date +%s.%N)",
        "    \"$PY\" -m autograder.batch.worker_main --manifest \"$MANIFEST\" --index \"$i\" > \"${LOGS[$i]}\" 2>&1",
        "    code=$?",
        "    echo \"$code $start $(date +%s.%N)\" > \"$STATUS/$i.tmp\" && mv \"$STATUS/$i.tmp\" \"$STATUS/$i.status\"",
        "done",
        "",
    ])


@dataclass(frozen=True)
class SlurmExecutor:
    """Grade on a Slurm cluster through a job array."""

    options: SlurmOptions = SlurmOptions()
    max_parallel: int | None = None   # the %M of --array: array tasks running at once
    name: str = "slurm"

    def describe(self) -> str:
        limit = f", at most {self.max_parallel} at once" if self.max_parallel else ""
        part = f" on partition {self.options.partition}" if self.options.partition else ""
        return f"a Slurm job array{part}{limit}, {self.options.chunk_size} submission(s) per array task"

    @staticmethod
    def check_available() -> None:
        missing = [tool for tool in ("sbatch", "squeue", "scancel") if shutil.which(tool) is None]
        if missing:
            raise ExecutorError(f"the slurm executor needs the Slurm client commands, but {', '.join(missing)} "
                                "cannot be found on PATH; run from a Slurm login node, or use --executor local")

    def _submit(self, script: Path, n_arrays: int) -> str:
        throttle = f"%{self.max_parallel}" if self.max_parallel else ""
        argv = ["sbatch", f"--array=0-{n_arrays - 1}{throttle}", "--parsable", *self.options.extra_args, str(script)]
        done = _run(argv)
        if done.returncode != 0:
            raise ExecutorError(f"sbatch refused the job (exit status {done.returncode}): "
                                f"{(done.stderr or done.stdout).strip()}\ncommand: {shlex.join(argv)}")
        job = done.stdout.strip().split(";")[0]
        if not job.isdigit():
            raise ExecutorError(f"sbatch printed {done.stdout.strip()!r}, not a job id; command: {shlex.join(argv)}")
        return job

    @staticmethod
    def _active(job: str) -> bool:
        """Whether ``squeue`` still lists the job; an unreachable controller counts as active."""
        done = _run(["squeue", "-h", "-j", job, "-o", "%T"])
        if done.returncode == 0:
            return bool(done.stdout.strip())
        return "invalid job id" not in (done.stderr + done.stdout).lower()

    @staticmethod
    def array_states(job: str) -> dict[int, str]:
        """``{array index: "STATE (exit X:Y)"}`` from sacct, else scontrol; empty when neither knows."""
        states: dict[int, str] = {}
        done = _run(["sacct", "-j", job, "-n", "-P", "-X", "--format=JobID,State,ExitCode"])
        if done.returncode == 0:
            for line in done.stdout.splitlines():
                parts = line.split("|")
                if len(parts) == 3 and "_" in parts[0] and parts[0].split("_")[1].isdigit():
                    states[int(parts[0].split("_")[1])] = f"{parts[1]} (exit {parts[2]})"
        if states:
            return states
        done = _run(["scontrol", "show", "job", "-o", job])
        for line in done.stdout.splitlines() if done.returncode == 0 else []:
            fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
            if fields.get("ArrayTaskId", "").isdigit():
                state, code = fields.get("JobState", "?"), fields.get("ExitCode", "?")
                states[int(fields["ArrayTaskId"])] = f"{state} (exit {code})"
        return states

    def _lost(self, index: int, task: GradeTask, states: dict[int, str], log_pattern: Path, job: str) -> Finished:
        array = index // self.options.chunk_size
        state = states.get(array, "state unknown")
        tail = log_tail(Path(task.log)) or log_tail(Path(str(log_pattern).replace("%A", job).replace("%a", str(array))))
        reason = f"the Slurm task ended without a result ({state})" + (f": {tail}" if tail else "")
        return Finished(task, False, reason)

    def run(self, tasks: Sequence[GradeTask], *, workdir: Path) -> Iterator[Finished]:
        self.check_available()
        if not tasks:
            return
        if self.options.chunk_size < 1:
            raise ExecutorError(f"chunk size must be at least 1, got {self.options.chunk_size}")
        slurm_dir = Path(workdir) / "slurm"
        status_dir = slurm_dir / "status"
        shutil.rmtree(status_dir, ignore_errors=True)
        status_dir.mkdir(parents=True)
        manifest = Path(workdir) / "manifest.json"
        write_manifest(manifest, list(tasks))
        log_pattern = slurm_dir / "array-%A_%a.log"
        script = slurm_dir / "job.sh"
        script.write_text(job_script(tasks=tasks, manifest=manifest, status_dir=status_dir, options=self.options,
                                     log_pattern=log_pattern))
        os.chmod(script, 0o755)
        n_arrays = -(-len(tasks) // self.options.chunk_size)
        job = self._submit(script, n_arrays)
        (slurm_dir / "job_id").write_text(job + "\n")
        give_up = time.monotonic() + self.options.timeout if self.options.timeout else None
        remaining = dict(enumerate(tasks))
        gone = False
        try:
            while remaining:
                for index in sorted(remaining):
                    finished = self._collect(index, remaining[index], status_dir)
                    if finished is not None:
                        del remaining[index]
                        yield finished
                if not remaining:
                    break
                if gone:
                    states = self.array_states(job)
                    for index in sorted(remaining):
                        yield self._lost(index, remaining.pop(index), states, log_pattern, job)
                    break
                if give_up is not None and time.monotonic() > give_up:
                    _run(["scancel", job])
                    for index in sorted(remaining):
                        yield Finished(remaining.pop(index), False,
                                       f"gave up waiting for Slurm job {job} after {self.options.timeout:g} s "
                                       "and cancelled it")
                    break
                gone = not self._active(job)
                if not gone:
                    time.sleep(self.options.poll_interval)
        finally:
            if remaining:  # interrupted: do not leave the array running behind us
                _run(["scancel", job])

    @staticmethod
    def _collect(index: int, task: GradeTask, status_dir: Path) -> Finished | None:
        path = status_dir / f"{index}.status"
        if not path.is_file():
            return None
        try:
            code_text, start, end = path.read_text().split()
            code, seconds = int(code_text), max(0.0, float(end) - float(start))
        except ValueError:
            code, seconds = 1, 0.0
        if code == 0:
            return Finished(task, True, "", seconds)
        what = f"the grading process failed with exit status {code}"
        tail = log_tail(Path(task.log))
        return Finished(task, False, f"{what}: {tail}" if tail else what, seconds)
