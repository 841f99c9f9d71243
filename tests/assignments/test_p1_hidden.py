"""Are the P1 hidden tests fair and strong: full marks for correct code, failures for every mistake?

The hidden tests run in this process through the grader's own runner, with the
student's package behind ``InProcessStudent`` (the same codec round trip as the
sandbox). A correct package (the reference, and an independently written one)
must pass every case; each mutant of the reference and the student stub must
fail at least one; and every hidden test must catch at least one mutant.
"""

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest
import torch

from autograder.config import load
from autograder.grading.runner import collect, run_tests
from autograder.sandbox.local import InProcessStudent
from autograder.testing import Checker

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "solutions" / "p1_forward"
ASSIGNMENT = ROOT / "assignments" / "p1_forward"
HIDDEN = ASSIGNMENT / "tests" / "hidden"
SUPPORT = Path(__file__).resolve().parent / "p1_forward_support"
ALT = SUPPORT / "alt" / "p1_forward"
ALT32 = SUPPORT / "alt32" / "p1_forward"
PLOT = "p1_alpha_bar_curves.png"


def import_file(path: Path, name: str):
    """Import one file as module ``name`` without registering it in ``sys.modules``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def import_package(folder: Path, name: str):
    """Import the package in ``folder`` as ``name``, then drop it (and its submodules)
    from ``sys.modules``: its functions keep their globals, other tests see no trace."""
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # needed while it runs its relative imports
    bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = bytecode
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
    return module


MUTANTS = import_file(SUPPORT / "mutants.py", "p1_forward_support_mutants").MUTANTS
SOLUTION_REGION = re.compile(r"^([ \t]*)# BEGIN SOLUTION\n.*?^[ \t]*# END SOLUTION\n", re.M | re.S)


def copy_reference(dest: Path) -> Path:
    shutil.copytree(REFERENCE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def apply_mutant(package: Path, mutant) -> None:
    path = package / mutant.file
    text = path.read_text()
    count = text.count(mutant.old)
    assert count == 1, f"mutant {mutant.id}: its old text occurs {count} times in {mutant.file}, expected once"
    path.write_text(text.replace(mutant.old, mutant.new))


def stub_out(package: Path) -> None:
    """Replace every solution region by ``raise NotImplementedError()``, as the student template does."""
    for path in package.glob("*.py"):
        text = path.read_text()
        path.write_text(SOLUTION_REGION.sub(r"\1raise NotImplementedError()\n", text))


@pytest.fixture(scope="module")
def config():
    return load(ASSIGNMENT)


@pytest.fixture(scope="module")
def hidden_tests():
    return collect(HIDDEN)


@pytest.fixture(scope="module")
def reference():
    return import_package(REFERENCE, "p1_forward_reference_under_test")


@pytest.fixture(scope="module")
def grade(reference, config, hidden_tests):
    """``grade(module, artifacts=None)``: the hidden tests' outcomes for a student package."""

    def run(module, artifacts: Path | None = None):
        fixtures = {
            "student": InProcessStudent(module),
            "ref": reference,
            "check": Checker(config),
            "device": torch.device("cpu"),
            "config": config,
            "artifacts": artifacts,
        }
        # The tensors are small: one thread is faster than several competing for two cores.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return run_tests(hidden_tests, fixtures)
        finally:
            torch.set_num_threads(threads)

    return run


@pytest.fixture(scope="module")
def mutant_outcomes(tmp_path_factory, grade):
    """``mutant_outcomes(mutant)``: outcomes for that mutant, each mutant graded once per module."""
    cache = {}

    def outcomes(mutant):
        if mutant.id not in cache:
            package = copy_reference(tmp_path_factory.mktemp(f"mutant_{mutant.id}") / "p1_forward")
            apply_mutant(package, mutant)
            cache[mutant.id] = grade(import_package(package, f"p1_forward_mutant_{mutant.id}"))
        return cache[mutant.id]

    return outcomes


@pytest.fixture(scope="module")
def stub_outcomes(tmp_path_factory, grade):
    package = copy_reference(tmp_path_factory.mktemp("stub") / "p1_forward")
    stub_out(package)
    return grade(import_package(package, "p1_forward_stub"))


def _failures(outcomes) -> str:
    return "\n\n".join(f"{o.name}:\n{o.message}" for o in outcomes if not o.passed)


def test_reference_scores_full_marks(grade, reference, tmp_path):
    """Does the reference pass every hidden test case, and is the alpha_bar plot written?"""
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    outcomes = grade(reference, artifacts)
    assert outcomes, "no hidden tests found"
    assert all(o.passed for o in outcomes), _failures(outcomes)
    assert (artifacts / PLOT).stat().st_size > 0
    assert any(PLOT in o.artifacts for o in outcomes)


def test_alternative_implementation_scores_full_marks(grade, tmp_path):
    """Does an independently written correct package pass every hidden test case?"""
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    outcomes = grade(import_package(ALT, "p1_forward_alternative"), artifacts)
    assert all(o.passed for o in outcomes), _failures(outcomes)
    assert (artifacts / PLOT).is_file()


def test_float32_formulas_score_full_marks(grade, reference, config):
    """Does a package computing in float32 with other correct formulas (snr as 1 / (1 / alpha_bar - 1),
    alpha_bar as exp(cumsum(log(1 - betas))), ...) pass every case, although its float32 snr is further
    from the reference's float32 rounding than the float32 tolerance?"""
    alt32 = import_package(ALT32, "p1_forward_float32_alternative")
    outcomes = grade(alt32)
    assert all(o.passed for o in outcomes), _failures(outcomes)
    ab = reference.alpha_bar(reference.get_schedule("linear", 1000)).float()
    tol = config.tolerance(torch.float32)
    assert not torch.allclose(alt32.snr(ab), reference.snr(ab), rtol=tol.rtol, atol=tol.atol)


def test_mutant_ids_are_unique():
    """Is every mutant named once?"""
    ids = [m.id for m in MUTANTS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_is_caught(mutant, mutant_outcomes):
    """Does at least one hidden test fail on this mutant of the reference?"""
    outcomes = mutant_outcomes(mutant)
    assert any(not o.passed for o in outcomes), f"no hidden test fails on mutant {mutant.id}: {mutant.description}"


def test_stub_fails_every_test(stub_outcomes):
    """Does the student template (every solution region raising NotImplementedError) fail every case?"""
    passed = [o.name for o in stub_outcomes if o.passed]
    assert not passed, f"hidden tests that pass on the stub: {passed}"
    assert all("NotImplementedError" in o.message for o in stub_outcomes)


def test_points_match_hidden_tests(config, hidden_tests):
    """Does every hidden test function have points, and every points entry a test function?"""
    functions = {t.function for t in hidden_tests}
    assert set(config.points) - functions == set(), "points for tests that do not exist"
    assert functions - set(config.points) == set(), "hidden tests without points"
    assert all(v > 0 for v in config.points.values())
    assert config.max_score == 100


def test_every_hidden_test_catches_a_mutant(hidden_tests, mutant_outcomes, stub_outcomes):
    """Does each hidden test function fail on at least one mutant (not only on the stub)?"""
    killers = {t.function: set() for t in hidden_tests}
    for mutant in MUTANTS:
        for o in mutant_outcomes(mutant):
            if not o.passed:
                killers[o.function].add(mutant.id)
    stub_failed = {o.function for o in stub_outcomes if not o.passed}
    assert stub_failed == set(killers)
    unkilled = sorted(f for f, ids in killers.items() if not ids)
    assert not unkilled, f"hidden tests that no mutant fails: {unkilled}"
