"""Importing copies of a package from memory under private names."""

import sys

import pytest

from autograder.audit.loader import imported_package
from tests.conftest import TOY_SOLUTION, write_package


def test_copy_uses_overrides_and_real_paths(tmp_path):
    """Does the copy run the replaced text, keep real file paths, and leave no trace afterwards?"""
    package = write_package(tmp_path, TOY_SOLUTION) / "p1_forward"
    mutated = TOY_SOLUTION.replace("return x * factor", "return x * factor + 100")
    finders = list(sys.meta_path)
    with imported_package(package, "toy_copy_a", {"toy.py": mutated}) as a, \
            imported_package(package, "toy_copy_b") as b:
        assert a.scale(1, 2) == 102 and b.scale(1, 2) == 2
        assert a.toy.__file__ == str((package / "toy.py").resolve())
        assert "toy_copy_a.toy" in sys.modules
    assert not any(k.startswith(("toy_copy_a", "toy_copy_b")) for k in sys.modules)
    assert sys.meta_path == finders
    assert not (package / "__pycache__").exists(), "nothing is written next to the package"


def test_import_error_leaves_no_trace(tmp_path):
    """When the copy fails to import, are its modules and finder removed again?"""
    package = write_package(tmp_path, TOY_SOLUTION) / "p1_forward"
    finders = list(sys.meta_path)
    with pytest.raises(ZeroDivisionError):
        with imported_package(package, "toy_copy_broken", {"toy.py": "1 / 0\n"}):
            pass
    assert not any(k.startswith("toy_copy_broken") for k in sys.modules)
    assert sys.meta_path == finders


def test_unknown_override_is_an_error(tmp_path):
    """Is an override for a file the package does not have refused?"""
    package = write_package(tmp_path, TOY_SOLUTION) / "p1_forward"
    with pytest.raises(ValueError, match="nope.py"):
        with imported_package(package, "toy_copy_unknown", {"nope.py": ""}):
            pass
