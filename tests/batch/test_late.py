"""Late flags: submission times against the deadline."""

import os
from datetime import datetime, timedelta, timezone

import pytest

from autograder.batch.late import is_late, modified_at, parse_time


def test_parse_time_accepts_zones_and_naive_local_times():
    """Are 'Z', offsets and zone-less (local) times all parsed into aware datetimes?"""
    z = parse_time("2025-03-01T12:00:00Z")
    assert z == datetime(2025, 3, 1, 12, tzinfo=timezone.utc)
    assert parse_time("2025-03-01T13:00:00+01:00") == z
    naive = parse_time("2025-03-01T12:00:00")
    assert naive.tzinfo is not None and naive.replace(tzinfo=None) == datetime(2025, 3, 1, 12)


def test_parse_time_rejects_nonsense():
    """Does a bad deadline say what format is expected?"""
    with pytest.raises(ValueError, match="deadline 'friday' is not an ISO 8601"):
        parse_time("friday", what="deadline")


def test_folder_time_is_its_newest_file(tmp_path):
    """Is a folder's submission time the newest modification inside it?"""
    (tmp_path / "pkg").mkdir()
    old, new = 1_700_000_000, 1_700_000_500
    (tmp_path / "pkg" / "a.py").write_text("")
    os.utime(tmp_path / "pkg" / "a.py", (new, new))
    os.utime(tmp_path / "pkg", (old, old))
    os.utime(tmp_path, (old, old))
    assert modified_at(tmp_path) == datetime.fromtimestamp(new, tz=timezone.utc)


def test_is_late():
    """Is a submission after the deadline late, one on time not, and an unknown one neither?"""
    deadline = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)
    assert is_late(deadline + timedelta(seconds=1), deadline) is True
    assert is_late(deadline, deadline) is False
    assert is_late(deadline, None) is None and is_late(None, deadline) is None
