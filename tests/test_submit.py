"""Tests of ``autograder.submit``: building a reproducible submission zip."""

import io
import os
import zipfile
from pathlib import Path

import pytest

from autograder.submit import SubmitError, submit
from tests.release.toy import make_releasable, release_toy

REQUIRED = ["p1_forward/__init__.py", "p1_forward/toy.py"]


@pytest.fixture
def toy_bundle(toy_course, tmp_path) -> Path:
    return release_toy(make_releasable(toy_course), tmp_path)


def quiet_submit(**kwargs) -> Path:
    return submit(**kwargs, stream=io.StringIO())


def test_zip_holds_exactly_the_required_files(toy_bundle):
    """Does the zip hold exactly the required files, with their bytes, at their relative paths?"""
    path = quiet_submit(project="p1", path=toy_bundle)
    assert path == toy_bundle / "p1_forward-submission.zip"
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == REQUIRED
        for name in REQUIRED:
            assert zf.read(name) == (toy_bundle / name).read_bytes()


def test_missing_required_file_is_refused(toy_bundle):
    """Is a missing required file refused, naming it and where it was looked for, and no zip written?"""
    (toy_bundle / "p1_forward" / "toy.py").unlink()
    with pytest.raises(SubmitError) as info:
        quiet_submit(project="p1", path=toy_bundle)
    assert f"p1_forward/toy.py (looked for {toy_bundle / 'p1_forward' / 'toy.py'})" in str(info.value)
    assert "p1_forward/__init__.py" not in str(info.value)
    assert not list(toy_bundle.glob("*.zip*"))


def test_zip_is_byte_identical_when_built_twice(toy_bundle, tmp_path):
    """Does building the zip twice, with other file times in between, give the same bytes?"""
    first = quiet_submit(project="p1", path=toy_bundle, output=tmp_path / "first.zip").read_bytes()
    for name in REQUIRED:
        os.utime(toy_bundle / name, (1_700_000_000, 1_700_000_000))
    second = quiet_submit(project="p1", path=toy_bundle, output=tmp_path / "second.zip").read_bytes()
    assert first == second


def test_output_may_be_a_folder(toy_bundle, tmp_path):
    """Does an output folder receive ``<project>-submission.zip``?"""
    assert quiet_submit(project="p1", path=toy_bundle, output=tmp_path) == tmp_path / "p1_forward-submission.zip"


def test_unfinished_stubs_are_warned_about(toy_course, toy_bundle):
    """Is a file that still raises NotImplementedError reported, naming the functions, while the zip is built?"""
    stream = io.StringIO()
    assert submit(project="p1", path=toy_bundle, stream=stream).is_file()
    assert "p1_forward/toy.py still raises NotImplementedError (scale, pair)" in stream.getvalue()
    (toy_bundle / "p1_forward" / "toy.py").write_bytes((toy_course / "solutions/p1_forward/toy.py").read_bytes())
    stream = io.StringIO()
    submit(project="p1", path=toy_bundle, stream=stream)
    assert stream.getvalue() == ""


def test_the_grader_can_stage_the_zip(toy_bundle, tmp_path):
    """Can the grader's loader stage the zip with nothing missing?"""
    from autograder.submission import stage

    staged = stage(quiet_submit(project="p1", path=toy_bundle), tmp_path / "staged",
                   package="p1_forward", required=tuple(REQUIRED))
    assert staged.missing == [] and sorted(staged.files) == sorted(REQUIRED)


def test_inside_the_course_the_toml_gives_the_files(toy_course, tmp_path, monkeypatch):
    """Without assignment.json, are the required files read from the course's assignment.toml?"""
    monkeypatch.setenv("DIFFGRADE_COURSE", str(toy_course))
    work = tmp_path / "work"
    (work / "p1_forward").mkdir(parents=True)
    (work / "p1_forward" / "__init__.py").write_text("")
    expected = r"listed in .*assignment.toml:\n  p1_forward/toy.py \(looked for .*work/p1_forward/toy.py\)"
    with pytest.raises(SubmitError, match=expected):
        quiet_submit(project="p1", path=work)
    (work / "p1_forward" / "toy.py").write_text("x = 1\n")
    with zipfile.ZipFile(quiet_submit(project="p1", path=work)) as zf:
        assert zf.namelist() == REQUIRED


def test_wrong_project_is_refused(toy_bundle):
    """Is submitting P2 from a P1 bundle refused, saying what the folder holds?"""
    with pytest.raises(SubmitError, match="holds p1_forward"):
        quiet_submit(project="p2", path=toy_bundle)
