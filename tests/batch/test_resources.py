"""How many workers, threads and which GPUs."""

import pytest

from autograder.batch.resources import plan


def test_cpu_default_is_one_worker_per_core():
    """Without GPUs, is there one worker per core with one thread each?"""
    p = plan(workers=None, device="cpu", cores=2)
    assert (p.workers, p.threads, p.gpus, p.device) == (2, 1, (), "cpu")


def test_fewer_workers_get_more_threads():
    """Does each grading get cores // workers threads?"""
    assert plan(workers=1, device="cpu", cores=8).threads == 8
    assert plan(workers=3, device="cpu", cores=8).threads == 2
    assert plan(workers=16, device="cpu", cores=8).threads == 1


def test_gpus_give_one_pinned_worker_each():
    """With two GPUs, are there two workers, each pinned, asking for 'cuda'?"""
    p = plan(workers=None, device="auto", cores=16, gpus=("0", "1"))
    assert (p.workers, p.threads, p.gpus, p.device) == (2, 8, ("0", "1"), "cuda")


def test_cpu_device_ignores_gpus():
    """Does --device cpu leave the GPUs alone?"""
    p = plan(workers=None, device="cpu", cores=4, gpus=("0",))
    assert (p.workers, p.gpus, p.device) == (4, (), "cpu")


def test_bad_worker_count():
    """Is a worker count below one refused?"""
    with pytest.raises(ValueError, match="at least 1"):
        plan(workers=0, device="cpu", cores=2)
