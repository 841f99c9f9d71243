"""Step: ``assignments/<project>/tests/public/*.py`` into the bundle's ``tests/``.

Only the public folder is read; ``tests/hidden/`` never reaches a student.
"""

from autograder.release.bundle import TESTS
from autograder.release.context import ProjectRelease


def copy_public_tests(release: ProjectRelease) -> None:
    for path in sorted((release.assignment / "tests" / "public").glob("*.py")):
        release.write(release.bundle / TESTS / path.name, path.read_bytes())
