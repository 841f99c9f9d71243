"""Tests of ``autograder.check``: running a bundle's public tests and showing the outcome."""

import io
import shutil
from pathlib import Path

import pytest

from autograder.check import NOT_IMPLEMENTED, check
from autograder.release.pipeline import release
from tests.release.toy import FINISHED, make_releasable, release_toy

REPO = Path(__file__).resolve().parents[1]

HALF_DONE = '''
def scale(x, factor):
    """Return ``x * factor``, keeping dtype and device."""
    return x + factor


def pair(x):
    """Return ``(x + 1, x - 1)``."""
    raise NotImplementedError("complete pair in p1_forward/toy.py")
'''


def run_check(project: str, path: Path) -> tuple[int, str]:
    stream = io.StringIO()
    code = check(project=project, path=path, stream=stream)
    return code, stream.getvalue()


def row(output: str, test: str) -> str:
    return next(line for line in output.splitlines() if f"::{test}" in line)


@pytest.fixture
def toy_bundle(toy_course, tmp_path) -> Path:
    return release_toy(make_releasable(toy_course), tmp_path)


def test_rows_show_pass_fail_and_not_implemented(toy_bundle):
    """Does each test get its row (PASS, FAIL, NOT IMPLEMENTED with the stub's message) and the right summary?"""
    (toy_bundle / "p1_forward" / "toy.py").write_text(HALF_DONE)
    code, out = run_check("p1", toy_bundle)
    assert code == 1
    assert row(out, "test_sanity").split()[1] == "PASS"
    assert row(out, "test_scale_triples").split()[1] == "FAIL"
    assert "NOT IMPLEMENTED  complete pair in p1_forward/toy.py" in row(out, "test_pair_neighbours")
    assert "public tests: 1 passed, 2 failed (1 not implemented)" in out
    assert "Hidden tests" in out


def test_finished_package_passes(toy_bundle):
    """Does the bundle with every stub completed give exit 0? (The real reference is checked below.)"""
    (toy_bundle / "p1_forward" / "toy.py").write_text(FINISHED)
    code, out = run_check("p1_forward", toy_bundle)
    assert code == 0, out
    assert "public tests: 3 passed, 0 failed" in out


def test_import_error_is_one_error_row(toy_bundle):
    """Does a package that does not import give an ERROR row with the exception, and exit 1?"""
    (toy_bundle / "p1_forward" / "toy.py").write_text("def scale(x, factor:\n    pass\n")
    code, out = run_check("p1", toy_bundle)
    assert code == 1
    assert "test_public_toy (import)" in out and "SyntaxError" in out
    assert "public tests: 0 passed, 1 failed" in out


def test_missing_tests_folder_is_a_clear_error(toy_bundle):
    """Does a bundle without tests/ give a one-line error naming the folder, not a traceback?"""
    shutil.rmtree(toy_bundle / "tests")
    code, out = run_check("p1", toy_bundle)
    assert code == 2
    assert out.startswith("diffgrade check: error: no tests folder in ")
    assert str(toy_bundle / "tests") in out and "Traceback" not in out


def test_missing_package_is_a_clear_error(toy_bundle):
    """Does a bundle without its package folder say which folder is missing, and where?"""
    shutil.rmtree(toy_bundle / "p1_forward")
    code, out = run_check("p1", toy_bundle)
    assert code == 2
    assert f"no package folder p1_forward/ in {toy_bundle}" in out


def test_wrong_project_is_a_clear_error(toy_bundle):
    """Does checking P2 in a P1 bundle say which project the folder holds?"""
    code, out = run_check("p2", toy_bundle)
    assert code == 2 and "holds p1_forward" in out


def test_folder_without_bundle_is_a_clear_error(tmp_path, monkeypatch):
    """Outside a bundle and outside the course, is the error about the missing assignment.json?"""
    monkeypatch.setenv("DIFFGRADE_COURSE", str(tmp_path / "nowhere"))
    code, out = run_check("p1", tmp_path)
    assert code == 2 and "no assignment.json in" in out


@pytest.fixture(scope="module")
def real_bundle(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("real")
    release(root=REPO, out_dir=dest / "release", template_dir=dest / "template")
    return dest / "release" / "p1_forward"


@pytest.mark.slow
def test_real_stubs_are_not_implemented(real_bundle):
    """Do the P1 stubs fail every public test as NOT IMPLEMENTED, with exit 1?"""
    code, out = run_check("p1", real_bundle)
    assert code == 1
    rows = [line for line in out.splitlines() if "::test_" in line]
    assert rows and all(NOT_IMPLEMENTED in line for line in rows)
    assert f"public tests: 0 passed, {len(rows)} failed ({len(rows)} not implemented)" in out


@pytest.mark.slow
def test_real_reference_passes(real_bundle, tmp_path):
    """Does the P1 bundle with the reference package pass every public test, with exit 0?"""
    bundle = tmp_path / "bundle"
    shutil.copytree(real_bundle, bundle)
    shutil.rmtree(bundle / "p1_forward")
    shutil.copytree(REPO / "solutions" / "p1_forward", bundle / "p1_forward",
                    ignore=shutil.ignore_patterns("__pycache__"))
    code, out = run_check("p1", bundle)
    assert code == 0, out
    assert " 0 failed" in out
