"""Resumable state: content hashes and completion markers."""

from autograder.batch import state
from tests.batch.conftest import make_course


def test_folder_hash_follows_content_not_clutter(tmp_path):
    """Does a folder's hash change with its files, and ignore __pycache__ and timestamps?"""
    sub = tmp_path / "sub"
    (sub / "pkg").mkdir(parents=True)
    (sub / "pkg" / "a.py").write_text("x = 1\n")
    first = state.content_hash(sub)
    (sub / "pkg" / "__pycache__").mkdir()
    (sub / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    assert state.content_hash(sub) == first
    (sub / "pkg" / "a.py").write_text("x = 2\n")
    assert state.content_hash(sub) != first


def test_file_hash_is_of_its_bytes(tmp_path):
    """Do two files with the same bytes hash the same, whatever their names?"""
    (tmp_path / "a.zip").write_bytes(b"PK\x03\x04same")
    (tmp_path / "b.zip").write_bytes(b"PK\x03\x04same")
    assert state.content_hash(tmp_path / "a.zip") == state.content_hash(tmp_path / "b.zip")


def test_course_hash_changes_with_hidden_tests(tmp_path):
    """Does editing a hidden test invalidate earlier grades?"""
    root = make_course(tmp_path / "course")
    before = state.course_hash(root, "p1_forward")
    hidden = root / "assignments" / "p1_forward" / "tests" / "hidden" / "test_toy.py"
    hidden.write_text(hidden.read_text() + "\n# harder now\n")
    assert state.course_hash(root, "p1_forward") != before


def test_is_finished(tmp_path):
    """Is a folder finished only with a matching done.json and a results.json; errors only if not retried?"""
    folder = tmp_path / "s"
    assert not state.is_finished(folder, content="c", course="k")
    folder.mkdir()
    state.write_done(folder, state.Done("s", "c", "k", "graded", 5.0, 5.0))
    assert not state.is_finished(folder, content="c", course="k")  # no results.json yet
    (folder / "results.json").write_text("{}")
    assert state.is_finished(folder, content="c", course="k")
    assert not state.is_finished(folder, content="changed", course="k")
    assert not state.is_finished(folder, content="c", course="changed")
    state.write_done(folder, state.Done("s", "c", "k", "error", 0.0, 5.0, "killed"))
    assert state.is_finished(folder, content="c", course="k")
    assert not state.is_finished(folder, content="c", course="k", retry_errors=True)
    (folder / "done.json").write_text("{not json")
    assert not state.is_finished(folder, content="c", course="k")
