"""Are the P2 hidden tests fair and strong: full marks for correct code, failures for every mistake?

The hidden tests run in this process through ``run_in_process`` (the same codec
round trip as the sandbox, no sandbox). A correct package (the reference, and an
independently written one) must pass every case that is not a quality test; each
mutant of the reference and the student stub must fail at least one; and every
hidden test must catch at least one mutant. One slow test runs the whole suite,
quality test included, on the reference.
"""

import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from autograder.config import load
from autograder.grading import runner
from autograder.grading.grade import load_reference
from autograder.grading.inprocess import run_in_process

from .test_p1_hidden import apply_mutant, import_file, import_package, stub_out
from .test_p1_public import BEGIN, END

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "solutions" / "p2_training"
ASSIGNMENT = ROOT / "assignments" / "p2_training"
HIDDEN = ASSIGNMENT / "tests" / "hidden"
SUPPORT = Path(__file__).resolve().parent / "p2_training_support"
ALT = SUPPORT / "alt" / "p2_training"
QUALITY = "test_sample_quality_fid"
PLOTS = ("p2_loss_curve.png", "p2_samples.png")
REFERENCE_PACKAGES = ("p1_forward", "p2_training", "p3_sampling")

MUTANTS = import_file(SUPPORT / "mutants.py", "p2_training_support_mutants").MUTANTS


@pytest.fixture(scope="module", autouse=True)
def restore_imports():
    """``run_in_process`` imports the references by their plain names (as the grader does);
    put ``sys.path`` and those ``sys.modules`` entries back as they were afterwards."""
    path = list(sys.path)
    saved = {k: v for k, v in sys.modules.items() if k.split(".")[0] in REFERENCE_PACKAGES}
    yield
    sys.path[:] = path
    for name in [k for k in sys.modules if k.split(".")[0] in REFERENCE_PACKAGES]:
        del sys.modules[name]
    sys.modules.update(saved)


@contextmanager
def quiet_run(tmp: Path):
    """One intra-op thread (the tensors are small) and temporary files (the checkpoint
    folders the tests ask for) under ``tmp``; both restored afterwards."""
    threads, tempdir = torch.get_num_threads(), tempfile.tempdir
    tmp.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    tempfile.tempdir = str(tmp)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        tempfile.tempdir = tempdir


def copy_reference(dest: Path) -> Path:
    shutil.copytree(REFERENCE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.fixture(scope="module")
def config():
    return load(ASSIGNMENT)


@pytest.fixture(scope="module")
def all_tests():
    return runner.collect(HIDDEN)


@pytest.fixture(scope="module")
def hidden_tests(all_tests):
    """Every hidden test case but the quality test."""
    return runner.without_tags(all_tests, {"quality"})


@pytest.fixture(scope="module")
def reference():
    load_reference("p1_forward", ROOT)  # the P2 package imports P1 by its plain name, as in the sandbox
    return import_package(REFERENCE, "p2_training_reference_under_test")


@pytest.fixture(scope="module")
def grade(tmp_path_factory, reference, hidden_tests):
    """``grade(module, artifacts=None, tests=None)``: outcomes of the hidden tests (default:
    all but the quality test) with ``module`` as the student's package."""

    def run(module, artifacts: Path | None = None, tests=None):
        with quiet_run(tmp_path_factory.mktemp("scratch")):
            return run_in_process(project="p2_training", module=module, root=ROOT, artifacts=artifacts,
                                  tests=hidden_tests if tests is None else tests)

    return run


@pytest.fixture(scope="module")
def mutant_outcomes(tmp_path_factory, grade, reference):
    """``mutant_outcomes(mutant)``: outcomes for that mutant, each mutant graded once per module."""
    cache = {}

    def outcomes(mutant):
        if mutant.id not in cache:
            package = copy_reference(tmp_path_factory.mktemp(f"mutant_{mutant.id}") / "p2_training")
            apply_mutant(package, mutant)
            cache[mutant.id] = grade(import_package(package, f"p2_training_mutant_{mutant.id}"))
        return cache[mutant.id]

    return outcomes


@pytest.fixture(scope="module")
def stub_outcomes(tmp_path_factory, grade, reference):
    package = copy_reference(tmp_path_factory.mktemp("stub") / "p2_training")
    stub_out(package)
    return grade(import_package(package, "p2_training_stub"))


def _failures(outcomes) -> str:
    return "\n\n".join(f"{o.name}:\n{o.message}" for o in outcomes if not o.passed)


def test_reference_scores_full_marks(grade, reference):
    """Does the reference pass every hidden test case but the quality test?"""
    outcomes = grade(reference)
    assert outcomes, "no hidden tests found"
    assert all(o.passed for o in outcomes), _failures(outcomes)


def test_alternative_implementation_scores_full_marks(grade):
    """Does an independently written correct package pass every hidden test case but the quality test?"""
    outcomes = grade(import_package(ALT, "p2_training_alternative"))
    assert all(o.passed for o in outcomes), _failures(outcomes)


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
    assert all("NotImplementedError" in o.message for o in stub_outcomes), _failures(stub_outcomes)


def test_perfect_example_is_the_reference():
    """Is examples/p2_training/perfect the reference without its solution markers (so the demo grades today's code)?"""
    perfect = ROOT / "examples" / "p2_training" / "perfect" / "p2_training"
    assert sorted(p.name for p in perfect.glob("*.py")) == sorted(p.name for p in REFERENCE.glob("*.py"))
    for path in REFERENCE.glob("*.py"):
        unmarked = [line for line in path.read_text().splitlines() if line.strip() not in (BEGIN, END)]
        assert (perfect / path.name).read_text().splitlines() == unmarked, path.name


def test_points_match_hidden_tests(config, all_tests):
    """Does every hidden test function have points, and every points entry a test function?"""
    functions = {t.function for t in all_tests}
    assert set(config.points) - functions == set(), "points for tests that do not exist"
    assert functions - set(config.points) == set(), "hidden tests without points"
    assert all(v > 0 for v in config.points.values())
    assert config.max_score == 100


def test_quality_test_is_tagged(all_tests, hidden_tests, config):
    """Is the quality test (and only it) tagged, so that quick grading leaves it out, with thresholds for both devices?"""
    assert {t.function for t in all_tests} - {t.function for t in hidden_tests} == {QUALITY}
    assert {"fid_cpu", "fid_cuda", "train_timeout_s"} <= set(config.thresholds)
    assert config.thresholds["fid_cuda"] <= config.thresholds["fid_cpu"]


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


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.quality], ids=lambda m: m.id)
def test_quality_test_fails_fast_on_broken_models(mutant, grade, all_tests, tmp_path):
    """Does the quality test fail a U-Net that returns NaNs or the wrong shape at once, naming the problem?"""
    package = copy_reference(tmp_path / "p2_training")
    apply_mutant(package, mutant)
    quality = [t for t in all_tests if t.function == QUALITY]
    (outcome,) = grade(import_package(package, f"p2_training_quality_{mutant.id}"), tests=quality)
    assert not outcome.passed
    assert outcome.seconds < 60, "the broken model was trained instead of being refused"
    assert ("NaN" in outcome.message) or ("wrong shape" in outcome.message), outcome.message


@pytest.mark.slow
def test_reference_passes_the_quality_test(grade, reference, all_tests, tmp_path):
    """Does the reference pass the whole suite, quality test included, and are its plots written?"""
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    outcomes = grade(reference, artifacts, tests=all_tests)
    assert all(o.passed for o in outcomes), _failures(outcomes)
    (quality,) = [o for o in outcomes if o.function == QUALITY]
    assert set(PLOTS) <= set(quality.artifacts)
    assert all((artifacts / name).stat().st_size > 0 for name in PLOTS)
