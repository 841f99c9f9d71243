"""Which files of a source folder a release copies."""

from pathlib import Path

from autograder.release.errors import ReleaseError

SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


def walk(folder: Path) -> list[Path]:
    """Every file under ``folder``, sorted, without caches, bytecode or hidden (dot) files."""
    found = []
    for path in Path(folder).rglob("*"):
        rel = path.relative_to(folder)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix not in SKIPPED_SUFFIXES:
            found.append(path)
    return sorted(found)


def read_source(path: Path, *, label: str) -> str:
    """The UTF-8 text of ``path``, line endings kept as they are (so a copy is byte for byte)."""
    try:
        return Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ReleaseError(f"{label}: not UTF-8 text ({e})") from None
