"""Step: the bundle's ``assignment.json`` (name, title, package, required files; nothing hidden)."""

from autograder.release.bundle import ASSIGNMENT_JSON, BundleInfo
from autograder.release.context import ProjectRelease


def write_metadata(release: ProjectRelease) -> None:
    release.write(release.bundle / ASSIGNMENT_JSON, BundleInfo.from_config(release.config).to_json())
