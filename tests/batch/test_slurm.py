"""The Slurm executor against a real one-node cluster on localhost (see slurm_fixture.py)."""

import shutil

import pytest

from autograder.batch.executors import SlurmOptions
from tests.batch.conftest import run_batch

pytestmark = pytest.mark.slow


def test_slurm_gradebook_equals_local(slurm_cluster, toy_batch, tmp_path):
    """Does a batch graded as a Slurm job array give the same gradebook and summary, byte for byte,
    as the local executor?"""
    course, submissions, local = toy_batch
    options = SlurmOptions(poll_interval=0.5, timeout=600, time_limit="00:10:00", job_name="diffgrade-test")
    result = run_batch(course, submissions, tmp_path / "out", executor="slurm", slurm=options)
    assert result.executor == "slurm" and result.errors == 0, result.gradebook.read_text()
    assert result.gradebook.read_bytes() == local.gradebook.read_bytes()
    assert result.summary.read_bytes() == local.summary.read_bytes()
    script = (tmp_path / "out" / ".work" / "slurm" / "job.sh").read_text()
    assert "#SBATCH --time=00:10:00" in script and "worker_main" in script
    assert (tmp_path / "out" / ".work" / "slurm" / "job_id").read_text().strip().isdigit()


def test_slurm_chunks_and_resume(slurm_cluster, toy_batch, tmp_path):
    """With two submissions per array task, and one student's result removed afterwards, is only
    that student graded again on the next run?"""
    course, submissions, local = toy_batch
    options = SlurmOptions(poll_interval=0.5, timeout=600, chunk_size=2)
    out = tmp_path / "out"
    first = run_batch(course, submissions, out, executor="slurm", slurm=options)
    assert first.gradebook.read_bytes() == local.gradebook.read_bytes()
    shutil.rmtree(out / "submissions" / "bob")
    again = run_batch(course, submissions, out, executor="slurm", slurm=options)
    assert (again.graded, again.skipped) == (1, 3)
    assert again.gradebook.read_bytes() == local.gradebook.read_bytes()
