"""Late submissions: a submission time compared with the deadline.

The submission time is the roster's ``submitted_at`` when it has one, else the
modification time of the entry (for a folder, of the newest file inside it).
Times without a zone are local times; all comparisons are between aware datetimes.
"""

import os
from datetime import datetime, timezone
from pathlib import Path


def parse_time(text: str, *, what: str = "time") -> datetime:
    """An aware datetime from ISO 8601 (``2025-03-01T23:59``, ``...Z``, ``...+01:00``)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{what} {text!r} is not an ISO 8601 date and time "
                         f"(e.g. 2025-03-01T23:59:00 or 2025-03-01T23:59:00+01:00)") from None
    return value if value.tzinfo else value.astimezone()


def modified_at(path: Path) -> datetime:
    """When ``path`` was last changed: a file's mtime, or the newest mtime inside a folder."""
    path = Path(path)
    newest = path.lstat().st_mtime
    if path.is_dir():
        for dirpath, dirnames, filenames in os.walk(path):
            for name in dirnames + filenames:
                newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
    return datetime.fromtimestamp(newest, tz=timezone.utc)


def is_late(submitted_at: datetime | None, deadline: datetime | None) -> bool | None:
    """Whether the submission came after the deadline; ``None`` when either is unknown."""
    if submitted_at is None or deadline is None:
        return None
    return submitted_at > deadline
