"""A later project's bundle: earlier references and assets."""

import shutil

import pytest

from autograder.release.errors import ReleaseError
from autograder.release.pipeline import release
from tests.release.toy import make_releasable

LATER_SOLUTION = '''from p1_forward import scale


def quadruple(x):
    """Return ``4 * x`` using P1's scale."""
    # BEGIN SOLUTION
    return scale(x, 4.0)
    # END SOLUTION
'''


@pytest.fixture
def two_projects(toy_course):
    """The toy course plus a p2_training that requires p1_forward and ships an asset."""
    root = make_releasable(toy_course)
    sol = root / "solutions" / "p2_training"
    sol.mkdir(parents=True)
    (sol / "__init__.py").write_text("from .later import quadruple\n")
    (sol / "later.py").write_text(LATER_SOLUTION)
    adir = root / "assignments" / "p2_training"
    shutil.copytree(root / "assignments" / "p1_forward", adir)
    for nb in adir.glob("*.ipynb"):
        nb.unlink()
    toml = (adir / "assignment.toml").read_text()
    toml = toml.replace('name = "p1_forward"', 'name = "p2_training"').replace(
        'package = "p1_forward"', 'package = "p2_training"\nrequires = ["p1_forward"]').replace(
        'files = ["p1_forward/__init__.py", "p1_forward/toy.py"]', 'files = ["p2_training/later.py"]')
    (adir / "assignment.toml").write_text(toml)
    (adir / "tests" / "hidden" / "test_toy.py").rename(adir / "tests" / "hidden" / "test_later.py")
    (adir / "assets").mkdir()
    (adir / "assets" / "weights.bin").write_bytes(b"\x00\x01binary")
    return root


def test_earlier_reference_and_assets_are_in_the_bundle(two_projects, tmp_path):
    """Does the P2 bundle carry P1's reference without markers, and P2's assets?"""
    release(root=two_projects, out_dir=tmp_path / "out", template_dir=tmp_path / "tpl")
    bundle = tmp_path / "out" / "p2_training"
    provided = (bundle / "p1_forward" / "toy.py").read_text()
    assert "return x * factor" in provided and "SOLUTION" not in provided
    assert (bundle / "assets" / "weights.bin").read_bytes() == b"\x00\x01binary"
    assert "scale(x, 4.0)" not in (bundle / "p2_training" / "later.py").read_text()
    # P1's own bundle still gets stubs, never its reference.
    assert "return x * factor" not in (tmp_path / "out" / "p1_forward" / "p1_forward" / "toy.py").read_text()


def test_a_later_solution_still_cannot_leak(two_projects, tmp_path):
    """Is a P2 solution line in P2's bundle still a leak, though P1's reference is allowed?"""
    public = two_projects / "assignments" / "p2_training" / "tests" / "public"
    (public / "test_extra.py").write_text("def test_x():\n    return scale(x, 4.0)\n")
    with pytest.raises(ReleaseError, match="scale\\(x, 4.0\\)"):
        release(root=two_projects, out_dir=tmp_path / "out", template_dir=tmp_path / "tpl")
