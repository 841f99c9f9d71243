"""``assignment.toml``: points, limits, tolerances and thresholds of one project.

Read with ``tomllib`` into frozen dataclasses; every malformed entry raises a
``ConfigError`` that names the file and the key.
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    """``assignment.toml`` is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class Tolerance:
    """``|got - expected| <= atol + rtol * |expected|`` elementwise."""

    atol: float
    rtol: float


@dataclass(frozen=True)
class Limits:
    call_timeout_s: float = 30.0
    startup_timeout_s: float = 120.0
    total_timeout_s: float = 900.0
    memory_mb: int = 6144
    gpu_memory_mb: int = 16384


@dataclass(frozen=True)
class AssignmentConfig:
    """One project's grading metadata."""

    name: str
    title: str
    package: str
    files: tuple[str, ...]
    points: dict[str, float]
    limits: Limits
    tolerances: dict[str, Tolerance]
    thresholds: dict[str, float] = field(default_factory=dict)
    hidden_visibility: str = "after_published"
    requires: tuple[str, ...] = ()  # earlier projects whose reference the student's code may import
    root: Path = Path(".")

    @property
    def max_score(self) -> float:
        return float(sum(self.points.values()))

    def tolerance(self, dtype) -> Tolerance:
        """The tolerance for results of ``dtype`` (a ``torch.dtype`` or its name)."""
        name = str(dtype).removeprefix("torch.")
        if name in self.tolerances:
            return self.tolerances[name]
        if "default" in self.tolerances:
            return self.tolerances["default"]
        raise ConfigError(f"{self.root / 'assignment.toml'}: no tolerance for dtype {name!r} "
                          f"and no [tolerances.default]")


def _need(table: dict, key: str, kind, where: str):
    if key not in table:
        raise ConfigError(f"{where}: missing key {key!r}")
    value = table[key]
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: {key!r} must be {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def load(assignment_dir: Path) -> AssignmentConfig:
    """Read ``assignment_dir/assignment.toml``."""
    path = Path(assignment_dir) / "assignment.toml"
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from None
    project = _need(data, "project", dict, str(path))
    where = f"{path} [project]"
    points = _need(data, "points", dict, str(path))
    for test, value in points.items():
        if not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{path} [points]: {test!r} must be a non-negative number, got {value!r}")
    tolerances = {}
    for dtype, tol in data.get("tolerances", {}).items():
        w = f"{path} [tolerances.{dtype}]"
        tolerances[dtype] = Tolerance(float(_need(tol, "atol", (int, float), w)),
                                      float(_need(tol, "rtol", (int, float), w)))
    limits_table = data.get("limits", {})
    known = set(Limits.__dataclass_fields__)
    unknown = set(limits_table) - known
    if unknown:
        raise ConfigError(f"{path} [limits]: unknown keys {sorted(unknown)}; known: {sorted(known)}")
    return AssignmentConfig(
        name=_need(project, "name", str, where),
        title=_need(project, "title", str, where),
        package=_need(project, "package", str, where),
        files=tuple(_need(project, "files", list, where)),
        points={k: float(v) for k, v in points.items()},
        limits=Limits(**limits_table),
        tolerances=tolerances,
        thresholds={k: float(v) for k, v in data.get("thresholds", {}).items()},
        hidden_visibility=project.get("hidden_visibility", "after_published"),
        requires=tuple(project.get("requires", ())),
        root=Path(assignment_dir),
    )
