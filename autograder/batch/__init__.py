"""Batch grading for TAs: a folder of submissions in, a gradebook out.

``batch`` grades every submission (locally in parallel, or as a Slurm job
array), resumably; ``regrade`` grades one student again. See ``batch.py``.
"""

from autograder.batch.batch import BatchResult, batch, regrade
from autograder.batch.errors import BatchError, ExecutorError, RosterError

__all__ = ["BatchError", "BatchResult", "ExecutorError", "RosterError", "batch", "regrade"]
