"""Staging submissions safely from folders and zips."""

import os
import stat
import zipfile

import pytest

from autograder.submission import MAX_FILE_BYTES, SubmissionError, stage
from tests.conftest import TOY_SOLUTION, write_package

REQUIRED = ("p1_forward/__init__.py", "p1_forward/toy.py")


def make_zip(path, entries):
    """entries: name -> bytes, or name -> ("symlink", target)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            if isinstance(data, tuple):
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, data[1])
            else:
                zf.writestr(name, data)
    return path


def test_folder_is_copied_without_extras(tmp_path):
    """Are only the package's .py files staged, and are required files all found?"""
    sub = write_package(tmp_path / "sub", TOY_SOLUTION)
    (sub / "notes.txt").write_text("x")
    (sub / "p1_forward" / "data.bin").write_bytes(b"\0" * 10)
    staged = stage(sub, tmp_path / "stage", package="p1_forward", required=REQUIRED)
    assert sorted(staged.files) == sorted(REQUIRED) and staged.missing == []
    assert sorted(p.name for p in (tmp_path / "stage" / "p1_forward").iterdir()) == ["__init__.py", "toy.py"]


def test_zip_with_top_folder(tmp_path):
    """Is a zip that wraps the package in an extra folder accepted?"""
    z = make_zip(tmp_path / "s.zip", {"alice/p1_forward/__init__.py": b"", "alice/p1_forward/toy.py": b"x = 1\n"})
    staged = stage(z, tmp_path / "stage", package="p1_forward", required=REQUIRED)
    assert (tmp_path / "stage" / "p1_forward" / "toy.py").read_text() == "x = 1\n"
    assert staged.missing == []


def test_zip_slip_and_symlinks_are_refused(tmp_path):
    """Do ../ paths, absolute paths and symlinks stay out of the staging folder?"""
    z = make_zip(tmp_path / "evil.zip", {
        "p1_forward/__init__.py": b"",
        "../../escaped.py": b"x = 1",
        "/abs/escaped.py": b"x = 1",
        "p1_forward/toy.py": ("symlink", "/etc/passwd"),
    })
    staged = stage(z, tmp_path / "deep" / "stage", package="p1_forward", required=REQUIRED)
    assert not (tmp_path / "escaped.py").exists() and not list(tmp_path.rglob("escaped.py"))
    assert staged.missing == ["p1_forward/toy.py"]
    assert any("leaves the submission" in s for s in staged.skipped)
    assert any("symbolic link" in s for s in staged.skipped)


def test_folder_symlinks_are_not_followed(tmp_path):
    """Is a symlinked file in a folder submission skipped rather than copied from its target?"""
    sub = write_package(tmp_path / "sub", TOY_SOLUTION)
    secret = tmp_path / "secret.py"
    secret.write_text("SECRET = 1\n")
    os.symlink(secret, sub / "p1_forward" / "stolen.py")
    staged = stage(sub, tmp_path / "stage", package="p1_forward", required=REQUIRED)
    assert not (tmp_path / "stage" / "p1_forward" / "stolen.py").exists()
    assert any("not a regular file" in s for s in staged.skipped)


def test_oversized_member_is_skipped(tmp_path):
    """Is a huge (zip-bomb-like) source file refused?"""
    z = make_zip(tmp_path / "big.zip", {"p1_forward/__init__.py": b"",
                                        "p1_forward/toy.py": b"#" * (MAX_FILE_BYTES + 10)})
    staged = stage(z, tmp_path / "stage", package="p1_forward", required=REQUIRED)
    assert "p1_forward/toy.py" in staged.missing and any("too large" in s for s in staged.skipped)


@pytest.mark.parametrize("kind", ["missing", "not_zip", "no_package"])
def test_unusable_submissions_raise_clear_errors(tmp_path, kind):
    """Does a submission that cannot be graded say why?"""
    if kind == "missing":
        path, match = tmp_path / "nothing", "no such file"
    elif kind == "not_zip":
        path, match = tmp_path / "file.txt", "folder or a .zip"
        path.write_text("hello")
    else:
        path, match = make_zip(tmp_path / "s.zip", {"other/__init__.py": b""}), "no p1_forward/__init__.py"
    with pytest.raises(SubmissionError, match=match):
        stage(path, tmp_path / "stage", package="p1_forward", required=REQUIRED)
