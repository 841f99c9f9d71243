"""Who submitted what: student ids from entry names or from a roster CSV.

A submissions folder holds one entry per student, a zip or a folder. Without a
roster, the student id is the entry name less its archive extension and a
learning-management-system suffix (``alice_submission.zip``, ``bob-p1-submission.zip``).
With a roster, the CSV says who is enrolled::

    student_id,name,file,submitted_at
    alice,Alice A.,alice_submission.zip,2025-03-01T22:10:00
    bob,Bob B.,,

``student_id`` is required; ``file`` names the entry (without it, entries are
matched by the id derived from their names); ``name`` and ``submitted_at`` are
optional. Enrolled students without an entry are *missing*; entries that match
no enrolled student are *unmatched* and reported, not graded.
"""

import csv
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from autograder.batch import late
from autograder.batch.errors import RosterError

# Archive extensions stripped from file names; folders keep their whole name.
_EXTENSIONS = (".tar.gz", ".tgz", ".zip", ".tar", ".7z", ".rar", ".gz")
# e.g. "_submission", "-submission", "-p1-submission", "_p1_forward_submission", " (submission)"
_LMS_SUFFIX = re.compile(r"[\s._-]*(?:p\d+(?:[_-][a-z]+)?[\s_-]*)?\(?(?:submission|submit)\)?$", re.IGNORECASE)
_VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
_IGNORED = ("__MACOSX", "Thumbs.db", "desktop.ini")
COLUMNS = ("student_id", "file", "name", "submitted_at")


@dataclass(frozen=True)
class Entry:
    """One enrolled student and their submission (``path`` is ``None`` when missing)."""

    student_id: str
    path: Path | None
    name: str = ""
    submitted_at: datetime | None = None  # from the roster; else the entry's mtime is used


@dataclass(frozen=True)
class Discovery:
    """What a submissions folder (and roster) holds."""

    entries: tuple[Entry, ...]    # sorted by student id; those with ``path=None`` are missing
    unmatched: tuple[str, ...]    # entry names that no roster row claims


def student_id_from_name(name: str) -> str:
    """``alice_submission.zip`` -> ``alice``; characters unsafe in a folder name become ``_``."""
    stem = name
    for ext in _EXTENSIONS:
        if stem.lower().endswith(ext) and len(stem) > len(ext):
            stem = stem[: -len(ext)]
            break
    stripped = _LMS_SUFFIX.sub("", stem)
    stem = stripped or stem
    safe = re.sub(r"[^A-Za-z0-9._@+-]+", "_", stem).strip("._-")
    return safe or "_"


def list_entries(submissions_dir: Path) -> list[Path]:
    """The entries of ``submissions_dir``, by name; hidden files and OS clutter are skipped."""
    submissions_dir = Path(submissions_dir)
    if not submissions_dir.is_dir():
        raise RosterError(f"{submissions_dir}: not a folder of submissions")
    return sorted((p for p in submissions_dir.iterdir()
                   if not p.name.startswith(".") and p.name not in _IGNORED), key=lambda p: p.name)


def _check_unique(ids: dict[str, list[str]]) -> None:
    clashes = {i: names for i, names in ids.items() if len(names) > 1}
    if clashes:
        listed = "; ".join(f"{i}: {', '.join(names)}" for i, names in sorted(clashes.items()))
        raise RosterError(f"several entries give the same student id ({listed}); "
                          "rename them or use a roster with a file column")


def _from_names(paths: list[Path]) -> Discovery:
    ids: dict[str, list[str]] = {}
    for p in paths:
        ids.setdefault(student_id_from_name(p.name), []).append(p.name)
    _check_unique(ids)
    entries = [Entry(student_id_from_name(p.name), p) for p in paths]
    return Discovery(tuple(sorted(entries, key=lambda e: e.student_id)), ())


@dataclass(frozen=True)
class RosterRow:
    """One enrolled student, as the roster CSV says."""

    student_id: str
    file: str
    name: str
    submitted_at: datetime | None
    line: int


def read_roster(path: Path) -> tuple[list[RosterRow], bool]:
    """The rows of a roster CSV and whether it has a ``file`` column; errors name the row."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"{path}: roster not found") from None
    except UnicodeDecodeError as e:
        raise RosterError(f"{path}: not a UTF-8 text file ({e})") from None
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    if "student_id" not in header:
        raise RosterError(f"{path}, row 1: the header must have a student_id column "
                          f"(found: {', '.join(header) or 'nothing'}; known: {', '.join(COLUMNS)})")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown or len(set(header)) != len(header):
        raise RosterError(f"{path}, row 1: unknown or repeated columns {unknown or header}; "
                          f"known: {', '.join(COLUMNS)}")
    rows, seen_ids, seen_files = [], {}, {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        where = f"{path}, row {line}"
        if len(values) != len(header):
            raise RosterError(f"{where}: {len(values)} fields, but the header has {len(header)} "
                              f"({', '.join(header)})")
        row = {h: v.strip() for h, v in zip(header, values)}
        sid = row["student_id"]
        if not _VALID_ID.match(sid):
            raise RosterError(f"{where}: student_id {sid!r} must be letters, digits and . _ @ + - "
                              "(it names a folder)")
        if sid in seen_ids:
            raise RosterError(f"{where}: student_id {sid!r} already appears in row {seen_ids[sid]}")
        seen_ids[sid] = line
        file = row.get("file", "")
        if file and ("/" in file or "\\" in file or file.startswith(".")):
            raise RosterError(f"{where}: file {file!r} must be the name of an entry of the submissions folder")
        if file and file in seen_files:
            raise RosterError(f"{where}: file {file!r} already belongs to row {seen_files[file]}")
        if file:
            seen_files[file] = line
        when = None
        if row.get("submitted_at"):
            try:
                when = late.parse_time(row["submitted_at"], what="submitted_at")
            except ValueError as e:
                raise RosterError(f"{where}: {e}") from None
        rows.append(RosterRow(sid, file, row.get("name", ""), when, line))
    if not rows:
        raise RosterError(f"{path}: the roster has a header but no students")
    return rows, "file" in header


def _from_roster(paths: list[Path], roster: Path) -> Discovery:
    rows, has_file = read_roster(roster)
    by_name = {p.name: p for p in paths}
    claimed: set[str] = set()
    entries = []
    if has_file:
        for row in rows:
            path = by_name.get(row.file) if row.file else None
            if path is None and row.file:
                path = next((p for p in paths if student_id_from_name(p.name) == student_id_from_name(row.file)
                             and p.name not in claimed), None)
            if path is not None:
                claimed.add(path.name)
            entries.append(Entry(row.student_id, path, row.name, row.submitted_at))
    else:
        ids: dict[str, list[str]] = {}
        for p in paths:
            ids.setdefault(student_id_from_name(p.name), []).append(p.name)
        _check_unique({i: n for i, n in ids.items() if i in {r.student_id for r in rows}})
        for row in rows:
            names = ids.get(row.student_id, [])
            path = by_name[names[0]] if names else None
            claimed.update(names)
            entries.append(Entry(row.student_id, path, row.name, row.submitted_at))
    unmatched = tuple(p.name for p in paths if p.name not in claimed)
    return Discovery(tuple(sorted(entries, key=lambda e: e.student_id)), unmatched)


def discover(submissions_dir: Path, roster: Path | None = None) -> Discovery:
    """The students to grade: from the entry names, or from ``roster`` when given."""
    paths = list_entries(submissions_dir)
    return _from_roster(paths, Path(roster)) if roster else _from_names(paths)
