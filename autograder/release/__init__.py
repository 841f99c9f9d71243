"""The student release: stubs from the reference solutions, bundles, and a leak check.

``autograder.release.pipeline.release`` is the entry point; the steps it runs
live in ``autograder.release.steps``, one module each.
"""

from autograder.release.errors import ReleaseError
from autograder.release.leaks import find_leaks
from autograder.release.pipeline import ReleaseReport, release

__all__ = ["ReleaseError", "ReleaseReport", "find_leaks", "release"]
