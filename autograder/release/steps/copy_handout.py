"""Step: the handout ``assignments/<project>/README.md`` becomes the bundle's ``README.md``."""

from autograder.release.context import ProjectRelease
from autograder.release.errors import ReleaseError


def copy_handout(release: ProjectRelease) -> None:
    handout = release.assignment / "README.md"
    if not handout.is_file():
        raise ReleaseError(f"{release.label(handout)}: missing; every project needs a handout README.md")
    release.write(release.bundle / "README.md", handout.read_bytes())
