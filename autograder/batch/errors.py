"""Errors of batch grading that stop a batch before it starts.

Problems with one submission never raise: they become a row of the gradebook.
These are problems with the batch itself: a malformed roster, an output folder
in use, an executor that cannot run here.
"""


class BatchError(Exception):
    """The batch cannot run as asked; the message says what to change."""


class RosterError(BatchError, ValueError):
    """The roster CSV or the submissions folder is malformed (names the file and row)."""


class ExecutorError(BatchError):
    """An executor cannot run here (e.g. ``sbatch`` is missing) or its scheduler refused the job."""
