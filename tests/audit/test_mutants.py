"""Mutants of a reference package: restricted to solution regions, named stably, sampled reproducibly."""

from pathlib import Path

import pytest

from autograder.audit.mutants import mutants_of_source, project_mutants, sample, solution_lines
from autograder.release.errors import ReleaseError
from tests.audit.toy import SOLUTION
from tests.conftest import write_package

REPO = Path(__file__).resolve().parents[2]

REGIONS = '''def f(a, b):
    c = a + b
    # BEGIN SOLUTION
    d = c * 2
    # END SOLUTION
    return d - 1
'''


def test_solution_lines_are_inside_the_markers():
    """Are exactly the lines between BEGIN and END SOLUTION (markers excluded) solution lines?"""
    assert solution_lines(REGIONS, path="m.py") == {4}


def test_only_solution_regions_are_mutated():
    """Does no mutant touch a line outside a solution region?"""
    mutants = mutants_of_source(REGIONS, file="m.py", lines=solution_lines(REGIONS, path="m.py"))
    assert mutants and {m.line for m in mutants} == {4}
    assert all(m.before == "d = c * 2" for m in mutants)
    assert {m.after for m in mutants} >= {"d = c / 2", "d = c * 3", "d = c"}


def test_malformed_markers_are_an_error():
    """Does a misspelt marker raise a ReleaseError naming the file, instead of mutating nothing?"""
    with pytest.raises(ReleaseError, match="m.py:3"):
        solution_lines(REGIONS.replace("# BEGIN SOLUTION", "# BEGIN SOLUTON"), path="m.py")


def test_project_mutants_of_a_package(tmp_path):
    """Does project_mutants read every .py file of a package and name mutants by file, line, column, operator?"""
    package = write_package(tmp_path, SOLUTION) / "p1_forward"
    mutants = project_mutants(package)
    assert {m.file for m in mutants} == {"toy.py"}
    assert "toy.py:8:12:mul-to-div" in {m.id for m in mutants}
    assert all(m.id.startswith(f"{m.file}:{m.line}:{m.col}:{m.operator}") for m in mutants)
    assert mutants == project_mutants(package), "generation must be deterministic"


def test_p1_mutants_stay_in_regions_and_compile():
    """Are the P1 reference's mutants all inside its solution regions, unique, and compilable?"""
    package = REPO / "solutions" / "p1_forward"
    mutants = project_mutants(package)
    assert len(mutants) > 100
    assert len({m.id for m in mutants}) == len(mutants)
    for m in mutants:
        lines = solution_lines((package / m.file).read_text(), path=m.file)
        assert m.line in lines, m.id
        compile(m.source, m.file, "exec")


def test_sample_is_seeded_and_ordered():
    """Does sampling keep the original order, repeat with the same seed, and change with another?"""
    mutants = mutants_of_source("y = a + b * c - d[i]\n", file="m.py")
    one, again, other = sample(mutants, 5, seed=1), sample(mutants, 5, seed=1), sample(mutants, 5, seed=2)
    assert len(one) == 5 and one == again and one != other
    assert [mutants.index(m) for m in one] == sorted(mutants.index(m) for m in one)
    assert sample(mutants, None) == mutants and sample(mutants, 10_000) == mutants
