"""``ProjectRelease``: what every step of one project's release reads, and where it writes."""

from dataclasses import dataclass
from pathlib import Path

from autograder.config import AssignmentConfig


@dataclass(frozen=True)
class ProjectRelease:
    """One project being released.

    Steps read ``solutions`` and ``assignment`` under ``root`` and write into
    ``template`` (``student_template/<project>/``) and ``bundle`` (the student
    bundle ``<project>/``), both in a staging folder until the leak check passes.
    """

    root: Path
    project: str
    config: AssignmentConfig
    template: Path
    bundle: Path

    @property
    def solutions(self) -> Path:
        return self.root / "solutions" / self.project

    @property
    def assignment(self) -> Path:
        return self.root / "assignments" / self.project

    @property
    def package(self) -> Path:
        """Where the stubs go in the bundle."""
        return self.bundle / self.config.package

    def label(self, path: Path) -> str:
        """``path`` relative to the course root, for messages."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def write(self, path: Path, data: str | bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
