"""A toy course to audit: the shared ``toy_course`` with a solution whose mutants cover every fate.

* ``scale`` is tested: its mutants are killed by ``test_scale``;
* ``count_up`` loops: ``i += 1 -> i -= 1`` never ends (killed by the timeout), and
  ``i = 0 -> i = 1`` gives the same result for ``n >= 1`` (equivalent);
* ``flag`` is never tested: its mutant survives.
"""

from pathlib import Path

from tests.conftest import write_package

SOLUTION = '''
import torch


def scale(x, factor):
    """Return ``x * factor``."""
    # BEGIN SOLUTION
    return x * factor
    # END SOLUTION


def count_up(n):
    """Count from 0 to ``n`` one step at a time; return ``n``."""
    # BEGIN SOLUTION
    i = 0
    while i < n:
        i += 1
    return i
    # END SOLUTION


def flag():
    """Return True (no test checks it)."""
    # BEGIN SOLUTION
    return True
    # END SOLUTION
'''

HIDDEN = '''
import torch


def test_scale(student, ref, check):
    """Does scale multiply?"""
    x = torch.arange(6.0).reshape(2, 3)
    check.close(student.scale(x, 3.0), ref.scale(x, 3.0), "scale(x, 3)")


def test_count_up(student, check):
    """Does count_up(5) return 5?"""
    check.equal(student.count_up(5), 5, "count_up(5)")
'''


def make_audit_course(root: Path) -> Path:
    """Turn the ``toy_course`` at ``root`` into the course described above; return ``root``."""
    write_package(root / "solutions", SOLUTION)
    hidden = root / "assignments" / "p1_forward" / "tests" / "hidden"
    for path in hidden.glob("test_*.py"):
        path.unlink()
    (hidden / "test_toy.py").write_text(HIDDEN)
    return root


def mutant_id(mutants, before: str, operator: str) -> str:
    """The id of the one mutant on the line reading ``before`` made by ``operator``."""
    (found,) = [m.id for m in mutants if m.before == before and m.operator == operator]
    return found


LATER_PROJECT = '''"""A later project whose reference imports the first one, as P2 and P3 import P1."""

from p1_forward import scale


def double(x):
    """Return ``2 * x``, through the first project's ``scale``."""
    # BEGIN SOLUTION
    return scale(x, 2.0)
    # END SOLUTION
'''

LATER_HIDDEN = '''
import torch


def test_double(student, ref, check):
    """Does double double?"""
    x = torch.arange(4.0)
    check.close(student.double(x), ref.double(x), "double(x)")
'''

LATER_TOML = '''
[project]
name = "p2_training"
title = "Toy later project"
package = "p2_training"
files = ["p2_training/__init__.py"]
requires = ["p1_forward"]

[tolerances.default]
atol = 1e-6
rtol = 1e-6

[points]
test_double = 1
'''


def add_later_project(root: Path) -> Path:
    """Add a project ``p2_training`` importing ``p1_forward`` to the ``toy_course`` at ``root``."""
    package = root / "solutions" / "p2_training"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(LATER_PROJECT)
    adir = root / "assignments" / "p2_training"
    (adir / "tests" / "hidden").mkdir(parents=True)
    (adir / "assignment.toml").write_text(LATER_TOML)
    (adir / "tests" / "hidden" / "test_double.py").write_text(LATER_HIDDEN)
    return root
