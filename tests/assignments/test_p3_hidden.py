"""Are the P3 hidden tests fair and strong: full marks for correct code, failures for every mistake?

The hidden tests run in this process through ``run_in_process`` (the grader's own
runner and fixtures, with the student's package behind ``InProcessStudent``, the
same codec round trip as the sandbox). The quick tests (all but those tagged
``quality``) must pass on the reference and on an independently written package,
fail on every mutant of the reference and on the stubs, and each must catch a
mutant. The quality tests (FID on the shipped U-Net) are slow: they run in full on
the reference once, and on a few mutants chosen to make sampling cheap.

P3's packages import P1 and P2 by their plain names, as in the sandbox. Every run
happens inside ``reference_imports()``, which puts ``solutions/`` on ``sys.path``
and afterwards takes it off again, with the plain names out of ``sys.modules``:
other tests in the session import toy packages under the same names.
"""

import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from autograder.config import load
from autograder.grading.inprocess import run_in_process
from autograder.grading.runner import collect, without_tags

from .test_p1_hidden import apply_mutant, import_file, import_package, stub_out

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
REFERENCE = SOLUTIONS / "p3_sampling"
ASSIGNMENT = ROOT / "assignments" / "p3_sampling"
HIDDEN = ASSIGNMENT / "tests" / "hidden"
SUPPORT = Path(__file__).resolve().parent / "p3_sampling_support"
ALT = SUPPORT / "alt" / "p3_sampling"
EXAMPLES = ROOT / "examples" / "p3_sampling"
PLAIN_NAMES = ("p1_forward", "p2_training", "p3_sampling")

_mutants = import_file(SUPPORT / "mutants.py", "p3_sampling_support_mutants")
MUTANTS, QUALITY_KILLERS = _mutants.MUTANTS, _mutants.QUALITY_KILLERS
BY_ID = {m.id: m for m in MUTANTS}


def _ours(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in PLAIN_NAMES)


@contextmanager
def reference_imports():
    """``solutions/`` on ``sys.path`` for the duration; the plain names restored afterwards."""
    saved = {k: v for k, v in sys.modules.items() if _ours(k)}
    for name in saved:
        del sys.modules[name]
    path = sys.path[:]
    sys.path.insert(0, str(SOLUTIONS))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: one thread is faster than two competing for two cores
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        sys.path[:] = path
        for name in [k for k in sys.modules if _ours(k)]:
            del sys.modules[name]
        sys.modules.update(saved)


def copy_reference(dest: Path) -> Path:
    shutil.copytree(REFERENCE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.fixture(scope="module")
def config():
    return load(ASSIGNMENT)


@pytest.fixture(scope="module")
def hidden_tests():
    return collect(HIDDEN)


@pytest.fixture(scope="module")
def quick_tests(hidden_tests):
    return without_tags(hidden_tests, {"quality"})


@pytest.fixture(scope="module")
def grade():
    """``grade(package_dir, name, tests, artifacts=None)``: outcomes of ``tests`` for the package in ``package_dir``."""

    def run(package_dir: Path, name: str, tests, artifacts: Path | None = None):
        with reference_imports():
            module = import_package(package_dir, name)
            return run_in_process(project="p3_sampling", module=module, root=ROOT, tests=tests, artifacts=artifacts)

    return run


@pytest.fixture(scope="module")
def mutant_package(tmp_path_factory):
    """``mutant_package(mutant)``: a copy of the reference with the mutant applied (made once)."""
    made = {}

    def make(mutant) -> Path:
        if mutant.id not in made:
            package = copy_reference(tmp_path_factory.mktemp(f"mutant_{mutant.id}") / "p3_sampling")
            apply_mutant(package, mutant)
            made[mutant.id] = package
        return made[mutant.id]

    return make


@pytest.fixture(scope="module")
def mutant_outcomes(grade, mutant_package, quick_tests):
    """``mutant_outcomes(mutant)``: the quick tests' outcomes for that mutant, graded once per module."""
    cache = {}

    def outcomes(mutant):
        if mutant.id not in cache:
            cache[mutant.id] = grade(mutant_package(mutant), f"p3_sampling_mutant_{mutant.id}", quick_tests)
        return cache[mutant.id]

    return outcomes


@pytest.fixture(scope="module")
def stub_outcomes(tmp_path_factory, grade, hidden_tests):
    package = copy_reference(tmp_path_factory.mktemp("stub") / "p3_sampling")
    stub_out(package)
    return grade(package, "p3_sampling_stub", hidden_tests)


def _failures(outcomes) -> str:
    return "\n\n".join(f"{o.name}:\n{o.message}" for o in outcomes if not o.passed)


def test_reference_scores_full_marks(grade, quick_tests):
    """Does the reference pass every quick hidden test case?"""
    outcomes = grade(REFERENCE, "p3_sampling_reference_under_test", quick_tests)
    assert outcomes, "no hidden tests found"
    assert all(o.passed for o in outcomes), _failures(outcomes)


def test_alternative_implementation_scores_full_marks(grade, quick_tests):
    """Does an independently written correct package pass every quick hidden test case?"""
    outcomes = grade(ALT, "p3_sampling_alternative", quick_tests)
    assert all(o.passed for o in outcomes), _failures(outcomes)


@pytest.mark.slow
def test_full_suite_on_reference(grade, hidden_tests, tmp_path):
    """Does the reference pass every hidden test, the quality tests (FID on the shipped U-Net) included,
    and leave a grid of its samples for each quality case?"""
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    outcomes = grade(REFERENCE, "p3_sampling_reference_full", hidden_tests, artifacts)
    assert all(o.passed for o in outcomes), _failures(outcomes)
    quality = [o for o in outcomes if o.function in QUALITY_KILLERS]
    assert len(quality) == 4
    for o in quality:
        assert len(o.artifacts) == 1 and (artifacts / o.artifacts[0]).stat().st_size > 0, o


def test_mutant_ids_are_unique():
    """Is every mutant named once, and does every quality killer name a mutant?"""
    ids = [m.id for m in MUTANTS]
    assert len(ids) == len(set(ids))
    assert {k for killers in QUALITY_KILLERS.values() for k in killers} <= set(ids)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_is_caught(mutant, mutant_outcomes):
    """Does at least one quick hidden test fail on this mutant of the reference?"""
    outcomes = mutant_outcomes(mutant)
    assert any(not o.passed for o in outcomes), f"no hidden test fails on mutant {mutant.id}: {mutant.description}"


QUALITY_CASES = [(function, mutant_id) for function, ids in QUALITY_KILLERS.items() for mutant_id in ids]


@pytest.mark.parametrize("function, mutant_id", QUALITY_CASES, ids=[f"{f}-{m}" for f, m in QUALITY_CASES])
def test_quality_test_fails_on_broken_sampler(grade, mutant_package, hidden_tests, function, mutant_id):
    """Does the quality test fail on a sampler that stays at noise, or that returns training images, and say why?"""
    tests = [t for t in hidden_tests if t.function == function]
    outcomes = grade(mutant_package(BY_ID[mutant_id]), f"p3_sampling_quality_{mutant_id}", tests)
    assert outcomes and not any(o.passed for o in outcomes), [o.name for o in outcomes if o.passed]
    reason = "training images" if "training_images" in mutant_id else "FID"
    assert all(reason in o.message for o in outcomes), _failures(outcomes)


def test_stub_fails_every_test(stub_outcomes):
    """Does the student template (every solution region raising NotImplementedError) fail every case?"""
    passed = [o.name for o in stub_outcomes if o.passed]
    assert not passed, f"hidden tests that pass on the stub: {passed}"
    assert all("NotImplementedError" in o.message for o in stub_outcomes), _failures(stub_outcomes)


def test_points_match_hidden_tests(config, hidden_tests):
    """Does every hidden test function have points, and every points entry a test function?"""
    functions = {t.function for t in hidden_tests}
    assert set(config.points) - functions == set(), "points for tests that do not exist"
    assert functions - set(config.points) == set(), "hidden tests without points"
    assert all(v > 0 for v in config.points.values())
    assert config.max_score == 100


def test_quality_tests_are_tagged_and_have_thresholds(config, hidden_tests, quick_tests):
    """Are exactly the FID tests tagged quality, with a threshold for every case?"""
    quality = {t.function for t in hidden_tests} - {t.function for t in quick_tests}
    assert quality == set(QUALITY_KILLERS)
    assert {"fid_ddim_20", "fid_ddim_50", "fid_ddim_100", "fid_ddpm", "min_nearest_train_distance"} <= \
        set(config.thresholds)


def test_every_hidden_test_catches_a_mutant(hidden_tests, quick_tests, mutant_outcomes, stub_outcomes):
    """Does each quick hidden test function fail on at least one mutant (not only on the stub)?
    (The quality tests have their own killers, checked above.)"""
    killers = {t.function: set() for t in quick_tests}
    for mutant in MUTANTS:
        for o in mutant_outcomes(mutant):
            if not o.passed:
                killers[o.function].add(mutant.id)
    stub_failed = {o.function for o in stub_outcomes if not o.passed}
    assert stub_failed == {t.function for t in hidden_tests}
    unkilled = sorted(f for f, ids in killers.items() if not ids)
    assert not unkilled, f"hidden tests that no mutant fails: {unkilled}"


@pytest.mark.parametrize("example", ["perfect", "partial", "wrong_shape"])
def test_examples_score_as_documented(grade, quick_tests, example):
    """Do the example submissions get the quick-grading outcome examples.toml promises, and does the
    feedback of wrong_shape name both of its problems?"""
    import tomllib

    expect = tomllib.loads((EXAMPLES / "examples.toml").read_text())[example]["expect"]
    outcomes = grade(EXAMPLES / example / "p3_sampling", f"p3_sampling_example_{example}", quick_tests)
    passed = sum(o.passed for o in outcomes)
    got = "full" if passed == len(outcomes) else "zero" if passed == 0 else "partial"
    assert got == expect, _failures(outcomes)
    if example == "wrong_shape":
        messages = [o.message for o in outcomes if not o.passed]
        assert any("wrong shape" in m and "(4, 1, 6, 6)" in m for m in messages), messages
        assert any("NaN" in m for m in messages), messages
