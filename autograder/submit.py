"""``diffgrade submit``: package the required files of a bundle into a reproducible zip.

The required files come from the bundle's ``assignment.json`` (or, inside the
course repository, from the project's ``assignment.toml``). The zip holds
exactly those files, at their relative paths, with a fixed timestamp and
permissions, so the same files always give the same bytes.
"""

import os
import re
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import TextIO

from autograder.course import project_name
from autograder.release.bundle import BundleError, find_bundle_info

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can store
_STUB = re.compile(r"raise\s+NotImplementedError\b(?:\(\s*[\"']complete\s+([\w.]+))?")


class SubmitError(ValueError):
    """The submission cannot be built: a required file is missing, or no project info is found."""


def unfinished(path: Path, files: list[str] | tuple[str, ...]) -> dict[str, list[str]]:
    """For each file that still raises ``NotImplementedError``, what does: a function name or ``line N``."""
    found = {}
    for rel in files:
        target = Path(path) / rel
        if target.suffix != ".py" or not target.is_file():
            continue
        text = target.read_text(encoding="utf-8", errors="replace")
        hits = [match.group(1) or f"line {text.count(chr(10), 0, match.start()) + 1}"
                for match in _STUB.finditer(text)]
        if hits:
            found[rel] = hits
    return found


def _checked(path: Path, files: tuple[str, ...], source: Path) -> list[tuple[str, Path]]:
    present, missing = [], []
    for rel in files:
        parts = PurePosixPath(rel)
        if parts.is_absolute() or ".." in parts.parts:
            raise SubmitError(f"{source}: required file {rel!r} is not a path inside the submission")
        target = path.joinpath(*parts.parts)
        if target.is_file():
            present.append((parts.as_posix(), target))
        else:
            missing.append(f"{rel} (looked for {target})")
    if missing:
        raise SubmitError(f"missing required file(s), listed in {source}:\n  " + "\n  ".join(missing))
    return present


def write_zip(zip_path: Path, members: list[tuple[str, Path]]) -> None:
    """Write ``members`` (archive name, file) into ``zip_path`` reproducibly, replacing it atomically."""
    partial = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(partial, "w") as zf:
        for name, source in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever the platform
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            zf.writestr(info, source.read_bytes())
    os.replace(partial, zip_path)


def submit(*, project: str, path: Path, output: Path | None = None, stream: TextIO | None = None) -> Path:
    """Build ``<project>-submission.zip`` from the bundle at ``path`` and return its path.

    ``output`` is the zip's path, or a folder to put it in (default: ``path``).
    Raises ``SubmitError`` naming every missing required file and where it was
    looked for. A required file that still raises ``NotImplementedError`` is
    reported as a warning on ``stream`` (default: standard error); the zip is
    still built.
    """
    project = project_name(project)
    path = Path(path).resolve()
    if not path.is_dir():
        raise SubmitError(f"{path}: no such folder; run this in the folder of your {project} release")
    try:
        info, source = find_bundle_info(project=project, path=path)
    except BundleError as e:
        raise SubmitError(str(e)) from None
    members = _checked(path, info.files, source)
    zip_path = Path(output) if output is not None else path
    if zip_path.is_dir():
        zip_path = zip_path / f"{project}-submission.zip"
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    write_zip(zip_path, members)
    stream = stream or sys.stderr
    for rel, names in unfinished(path, info.files).items():
        print(f"warning: {rel} still raises NotImplementedError ({', '.join(names)}); "
              f"the tests of what is unfinished will score 0", file=stream)
    return zip_path.resolve()
