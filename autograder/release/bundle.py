"""What a student bundle is, and ``assignment.json``: what the student commands read.

A bundle ``<project>/`` holds ``README.md`` (the handout), the notebooks,
``<package>/`` (the stubs to complete), ``tests/`` (the public tests),
``conftest.py`` and ``assignment.json``. The JSON file carries only what
``diffgrade check`` and ``diffgrade submit`` need: project name, title, package
and the files a submission must contain. Nothing about hidden tests.
"""

import json
from dataclasses import dataclass
from pathlib import Path

ASSIGNMENT_JSON = "assignment.json"
TESTS = "tests"


class BundleError(ValueError):
    """``assignment.json`` is missing, unreadable or for another project."""


@dataclass(frozen=True)
class BundleInfo:
    project: str
    title: str
    package: str
    files: tuple[str, ...]

    @classmethod
    def from_config(cls, config) -> "BundleInfo":
        """From an ``autograder.config.AssignmentConfig``."""
        return cls(config.name, config.title, config.package, tuple(config.files))

    def to_json(self) -> str:
        data = {"project": self.project, "title": self.title, "package": self.package, "files": list(self.files)}
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> "BundleInfo":
        """Read an ``assignment.json`` file."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BundleError(f"{path}: not readable ({e})") from None
        if not isinstance(data, dict):
            raise BundleError(f"{path}: expected a JSON object")
        for key in ("project", "title", "package"):
            if not isinstance(data.get(key), str):
                raise BundleError(f"{path}: {key!r} must be a string")
        files = data.get("files")
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise BundleError(f"{path}: 'files' must be a list of strings")
        return cls(data["project"], data["title"], data["package"], tuple(files))


def find_bundle_info(*, project: str, path: Path) -> tuple[BundleInfo, Path]:
    """The info of ``project`` and the file it was read from.

    First ``path/assignment.json`` (a student bundle); else, inside the course
    repository, ``assignments/<project>/assignment.toml``. Raises ``BundleError``
    when neither exists or when ``assignment.json`` is for another project.
    """
    from autograder import config, course

    project = course.project_name(project)
    bundle_file = Path(path) / ASSIGNMENT_JSON
    if bundle_file.is_file():
        info = BundleInfo.read(bundle_file)
        if info.project != project:
            raise BundleError(f"{path} holds {info.project} (see {bundle_file}), not {project}; "
                              f"run the command for {info.project} or in the folder of {project}")
        return info, bundle_file
    try:
        adir = course.assignment_dir(project)
    except course.CourseError as e:
        raise BundleError(f"no {ASSIGNMENT_JSON} in {path}, and no course repository to fall back on ({e}); "
                          f"run this inside the folder of your {project} release") from None
    return BundleInfo.from_config(config.load(adir)), adir / "assignment.toml"
