"""Which public tests nbgrader and otter are given, and in what order."""

import pytest

from autograder import config
from autograder.interop.errors import InteropError
from autograder.interop.public_tests import public_modules
from tests.conftest import REPO

ADIR = REPO / "assignments" / "p1_forward"


def test_modules_follow_the_order_of_the_package_files():
    """Does test_schedules.py come before test_forward.py, as schedules.py precedes forward.py in files?"""
    modules = public_modules(ADIR, config.load(ADIR))
    assert [m.name for m in modules] == ["test_schedules.py", "test_forward.py"]
    assert [m.topic for m in modules] == ["schedules", "forward"]
    first = modules[0].tests[0]
    assert (first.name, first.node) == ("test_schedule_shape_and_dtype",
                                        "test_schedules.py::test_schedule_shape_and_dtype")
    assert first.doc == "Is every schedule a float64 tensor of shape (T,)?"


def toy(tmp_path, files: dict[str, str]):
    adir = tmp_path / "assignments" / "p1_forward"
    (adir / "tests" / "public").mkdir(parents=True)
    for name, text in files.items():
        (adir / "tests" / "public" / name).write_text(text)
    return adir


def test_unmatched_modules_come_last_and_empty_ones_are_skipped(tmp_path):
    """Is a module testing no listed file sorted after the others, and one without tests left out?"""
    adir = toy(tmp_path, {"test_api.py": "def test_a():\n    pass\n", "test_empty.py": "X = 1\n",
                          "test_forward.py": "def test_b():\n    pass\n\n\ndef helper():\n    pass\n"})
    cfg = config.load(ADIR)
    modules = public_modules(adir, cfg)
    assert [m.name for m in modules] == ["test_forward.py", "test_api.py"]
    assert [t.name for t in modules[0].tests] == ["test_b"]


def test_a_module_that_does_not_parse_names_file_and_line(tmp_path):
    """Does a syntax error in a public test raise InteropError naming the file and the line?"""
    adir = toy(tmp_path, {"test_forward.py": "def test_b(:\n"})
    with pytest.raises(InteropError, match=r"test_forward.py:1"):
        public_modules(adir, config.load(ADIR))
