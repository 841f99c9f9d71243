"""Where the course lives and what its projects are called.

The course root holds ``solutions/``, ``assignments/`` and ``student_template/``.
It is found from ``$DIFFGRADE_COURSE``, else from the installed package's parent
folder (an editable install of this repository).
"""

import os
from pathlib import Path

PROJECTS = ("p1_forward", "p2_training", "p3_sampling", "p4_guidance", "p5_latent")


class CourseError(ValueError):
    """An unknown project, or a course folder that is not there."""


def course_root() -> Path:
    """The folder holding ``assignments/`` and ``solutions/``."""
    env = os.environ.get("DIFFGRADE_COURSE")
    root = Path(env) if env else Path(__file__).resolve().parent.parent
    if not (root / "assignments").is_dir():
        raise CourseError(f"no course found at {root} (no assignments/ folder); "
                          "set DIFFGRADE_COURSE to the course repository")
    return root


def project_name(name: str) -> str:
    """The full project name from ``p1``, ``1``, ``p1_forward`` or ``forward``."""
    key = name.strip().lower()
    for project in PROJECTS:
        short = project.split("_")[0]
        if key in (project, short, short[1:], project.split("_", 1)[1]):
            return project
    raise CourseError(f"unknown project {name!r}; expected one of {', '.join(PROJECTS)} (or p1..p5)")


def available_projects(root: Path | None = None) -> list[str]:
    """Projects that have an assignment folder in this course."""
    root = root or course_root()
    return [p for p in PROJECTS if (root / "assignments" / p / "assignment.toml").is_file()]


def assignment_dir(project: str, root: Path | None = None) -> Path:
    root = root or course_root()
    path = root / "assignments" / project_name(project)
    if not (path / "assignment.toml").is_file():
        raise CourseError(f"project {project!r} has no assignment yet ({path / 'assignment.toml'} missing)")
    return path


def solution_dir(project: str, root: Path | None = None) -> Path:
    return (root or course_root()) / "solutions" / project_name(project)
