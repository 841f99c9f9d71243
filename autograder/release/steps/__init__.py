"""The transforms of a release, one module each, applied in order to every project.

Each step is a function ``step(release: ProjectRelease) -> None`` that reads the
course sources and writes its own files into the staging template or bundle.
No step reads what another wrote, so their order only fixes the order of
errors; ``autograder.release.pipeline`` runs the leak check after all of them.
"""

from autograder.release.steps.clear_notebooks import clear_notebooks
from autograder.release.steps.copy_handout import copy_handout
from autograder.release.steps.copy_provided import copy_provided
from autograder.release.steps.copy_public_tests import copy_public_tests
from autograder.release.steps.write_conftest import write_conftest
from autograder.release.steps.write_metadata import write_metadata
from autograder.release.steps.write_stubs import write_stubs

__all__ = ["write_stubs", "copy_handout", "clear_notebooks", "copy_public_tests", "copy_provided",
           "write_conftest", "write_metadata"]
