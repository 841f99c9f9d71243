"""Tests of ``autograder.release.stubs``: what a stubbed file and a stubbed cell look like."""

import pytest

from autograder.release.errors import ReleaseError
from autograder.release.markers import Location
from autograder.release.stubs import stub_cell, stub_python

WHERE = Location("solutions/p1_forward/ops.py")

SOURCE = '''"""Module docstring."""

import torch

# BEGIN SOLUTION
TABLE = {"a": 1}
# END SOLUTION


def double(x: torch.Tensor) -> torch.Tensor:
    """Twice ``x``."""
    # BEGIN SOLUTION
    return x + x
    # END SOLUTION


class Scaler:
    def scale(self, x):
        """``factor * x``."""
        # BEGIN SOLUTION
        return self.factor * x
        # END SOLUTION

    def outer(self):
        def inner():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
        return inner
'''


def stubbed() -> str:
    return stub_python(SOURCE, location=WHERE, module="p1_forward/ops.py")


def test_stub_names_the_function_and_file():
    """Does each raise say which function (or method) to complete, and in which file?"""
    out = stubbed()
    assert '    raise NotImplementedError("complete double in p1_forward/ops.py")\n' in out
    assert '        raise NotImplementedError("complete Scaler.scale in p1_forward/ops.py")\n' in out
    assert '            raise NotImplementedError("complete Scaler.outer.inner in p1_forward/ops.py")\n' in out


def test_module_level_region_names_the_file():
    """Does a region outside any function name only the file?"""
    assert stubbed().splitlines()[4] == 'raise NotImplementedError("complete p1_forward/ops.py")'


def test_signature_and_docstring_are_kept():
    """Are signatures, docstrings and code outside regions kept, and the solution gone?"""
    out = stubbed()
    assert 'def double(x: torch.Tensor) -> torch.Tensor:\n    """Twice ``x``."""\n    raise' in out
    assert "import torch" in out and "return x + x" not in out and "SOLUTION" not in out
    compile(out, "ops.py", "exec")


def test_stub_that_does_not_compile_is_refused():
    """Is a region that cuts a statement in half refused, naming the file?"""
    text = "def f(x):\n    return (x +\n    # BEGIN SOLUTION\n    1)\n    # END SOLUTION\n"
    with pytest.raises(ReleaseError, match="solutions/p1_forward/ops.py: once stubbed, the file does not compile"):
        stub_python(text, location=WHERE, module="p1_forward/ops.py")


def test_cell_stub_is_a_bare_raise():
    """Does a notebook cell get a bare ``raise NotImplementedError()`` at the region's indentation?"""
    cell = "def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\nf()"
    assert stub_cell(cell, location=Location("nb.ipynb", cell=2)) == "def f():\n    raise NotImplementedError()\nf()"
