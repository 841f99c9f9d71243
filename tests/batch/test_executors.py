"""Executors on their own: the local pool's timeout, the Slurm script, and missing Slurm tools."""

import pytest

from autograder.batch.errors import ExecutorError
from autograder.batch.executors import LocalExecutor, SlurmExecutor, SlurmOptions
from autograder.batch.executors.local import exit_reason
from autograder.batch.executors.slurm import job_script
from autograder.batch.task import GradeTask


def task(tmp_path, sid="amy") -> GradeTask:
    return GradeTask(student_id=sid, submission=str(tmp_path / f"{sid}.zip"), out_dir=str(tmp_path / "s" / sid),
                     log=str(tmp_path / "logs" / f"{sid}.log"), content_hash="c", course_hash="k",
                     project="p1_forward", root=str(tmp_path), device="cpu", isolation="process")


def test_local_timeout_stops_the_task(tmp_path):
    """Is a task that outlives the timeout stopped and reported, without waiting for it?"""
    (tmp_path / "slow-python").write_text("#!/bin/bash\nexec sleep 60\n")
    (tmp_path / "slow-python").chmod(0o755)
    ex = LocalExecutor(workers=1, task_timeout=0.5, python=str(tmp_path / "slow-python"))
    finished = list(ex.run([task(tmp_path)], workdir=tmp_path / "work"))
    assert len(finished) == 1 and not finished[0].ok
    assert "longer than 0.5 s" in finished[0].reason and finished[0].seconds < 10


def test_exit_reasons(tmp_path):
    """Do failures say whether the process died of a signal or exited, with the log's last line?"""
    log = tmp_path / "x.log"
    log.write_text("grading amy\nTraceback ...\nRuntimeError: out of cheese\n")
    assert exit_reason(-9, log) == "the grading process was killed by SIGKILL: RuntimeError: out of cheese"
    assert exit_reason(3, tmp_path / "none.log") == "the grading process failed with exit status 3"


def test_slurm_script(tmp_path):
    """Does the job script carry the sbatch options and map array tasks to chunks of the manifest?"""
    tasks = [task(tmp_path, "amy"), task(tmp_path, "ben"), task(tmp_path, "cy")]
    text = job_script(tasks=tasks, manifest=tmp_path / "m.json", status_dir=tmp_path / "st",
                      options=SlurmOptions(partition="gpu", time_limit="01:00:00", mem="8G", chunk_size=2,
                                           cpus_per_task=4),
                      log_pattern=tmp_path / "array-%A_%a.log")
    for line in ("#SBATCH --partition=gpu", "#SBATCH --time=01:00:00", "#SBATCH --mem=8G",
                 "#SBATCH --cpus-per-task=4", f"#SBATCH --output={tmp_path}/array-%A_%a.log", "CHUNK=2",
                 "export OMP_NUM_THREADS=4", "first=$(( SLURM_ARRAY_TASK_ID * CHUNK ))"):
        assert line in text
    assert text.count(".log\n") >= 3 and "-m autograder.batch.worker_main" in text


def test_missing_sbatch_is_a_clear_error(tmp_path, monkeypatch):
    """Without the Slurm commands, does the slurm executor say what is missing and what to do?"""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExecutorError, match=r"sbatch, squeue, scancel cannot be found.*--executor local"):
        list(SlurmExecutor().run([task(tmp_path)], workdir=tmp_path / "work"))


def test_sbatch_refusal_is_reported(tmp_path, monkeypatch):
    """When sbatch refuses the job, is its message passed on?"""
    for tool, body in (("sbatch", "echo 'sbatch: error: invalid partition specified: nope' >&2; exit 1"),
                       ("squeue", "exit 0"), ("scancel", "exit 0")):
        (tmp_path / tool).write_text(f"#!/bin/bash\n{body}\n")
        (tmp_path / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    ex = SlurmExecutor(options=SlurmOptions(partition="nope"))
    with pytest.raises(ExecutorError, match="sbatch refused the job.*invalid partition"):
        list(ex.run([task(tmp_path)], workdir=tmp_path / "work"))
