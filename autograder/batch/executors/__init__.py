"""Executors run grading tasks, each in its own process, behind one interface (``base.Executor``)."""

from autograder.batch.executors.base import Executor, Finished
from autograder.batch.executors.local import LocalExecutor
from autograder.batch.executors.slurm import SlurmExecutor, SlurmOptions

EXECUTORS = ("local", "slurm")

__all__ = ["EXECUTORS", "Executor", "Finished", "LocalExecutor", "SlurmExecutor", "SlurmOptions"]
