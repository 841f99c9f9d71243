"""Are the P3 public tests real: do they pass on the reference and fail on the stubs?"""

import shutil
from pathlib import Path

import pytest

from .test_p1_public import clear_solutions, run_public_tests

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "solutions" / "p3_sampling"
PROVIDED = ("p1_forward", "p2_training")  # the reference packages a P3 bundle holds next to p3_sampling
PUBLIC_TESTS = ROOT / "assignments" / "p3_sampling" / "tests" / "public"


def make_bundle(root: Path, *, edit=None) -> Path:
    """A P3 bundle under ``root``: ``p3_sampling/`` (the reference, passed through ``edit``
    when given), the reference ``p1_forward/`` and ``p2_training/``, and ``tests/``."""
    root.mkdir()
    package = root / "p3_sampling"
    package.mkdir()
    for src in sorted(REFERENCE.glob("*.py")):
        text = src.read_text()
        (package / src.name).write_text(edit(src.name, text) if edit else text)
    for name in PROVIDED:
        shutil.copytree(ROOT / "solutions" / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PUBLIC_TESTS, root / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """Exit code and counts of the public tests run against the reference (run once)."""
    return run_public_tests(make_bundle(tmp_path_factory.mktemp("p3") / "reference"))


def test_public_tests_pass_on_reference(reference_run):
    """Do all the P3 public tests pass against the reference solution?"""
    code, counts = reference_run
    assert code == 0, counts
    assert set(counts) == {"passed"}, counts
    assert counts["passed"] >= 20


def test_public_tests_all_fail_on_stubs(tmp_path, reference_run):
    """Does every P3 public test fail (not error, not pass) on the NotImplementedError stubs?"""
    code, counts = run_public_tests(make_bundle(tmp_path / "stubs", edit=lambda _, text: clear_solutions(text)))
    assert code == 1, counts
    assert set(counts) == {"failed"}, counts
    assert counts["failed"] == reference_run[1]["passed"]


# Plausible mistakes a student could make; each must make at least one public test fail.
MUTANTS = {
    "DDPM noise scaled by the variance": (
        "ddpm.py",
        "sigma_t = ((1 - a_bar_prev) / (1 - a_bar) * beta_t).sqrt()",
        "sigma_t = (1 - a_bar_prev) / (1 - a_bar) * beta_t",
    ),
    "ddpm_sample draws before its start": (
        "ddpm.py",
        "x = torch.randn(shape, generator=generator).to(device)\n    for step",
        "x = torch.randn(shape, generator=generator).to(device)\n    x = torch.randn(shape, generator=generator)\n"
        "    for step",
    ),
    "DDIM last step reads alpha_bar[-1]": (
        "ddim.py",
        "a_prev = gather(alpha_bar_prev, t_prev.clamp(min=-1) + 1, x_t)",
        "a_prev = gather(alpha_bar, t_prev, x_t)",
    ),
    "DDIM sigma without its first square root": (
        "ddim.py",
        "sigma = eta * ((1 - a_prev) / (1 - a_t)).sqrt() * (1 - a_t / a_prev).sqrt()",
        "sigma = eta * ((1 - a_prev) / (1 - a_t)) * (1 - a_t / a_prev).sqrt()",
    ),
    "leading spacing off by one": (
        "ddim.py",
        "tau = (k * (T // num_steps)).flip(0)",
        "tau = (k * (T // num_steps) + 1).flip(0)",
    ),
    "unknown spacing falls back to linspace": (
        "ddim.py",
        "    if spacing not in SPACINGS:\n",
        "    if spacing not in SPACINGS and False:\n",
    ),
    "inversion through descending timesteps": (
        "ddim.py",
        "tau = ddim_timesteps(len(alpha_bar), num_steps, spacing).flip(0).tolist()  # ascending",
        "tau = ddim_timesteps(len(alpha_bar), num_steps, spacing).tolist()",
    ),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_public_tests_catch_plausible_mistakes(tmp_path, mutant):
    """Does at least one P3 public test fail on a plausibly wrong implementation?"""
    filename, old, new = MUTANTS[mutant]

    def edit(name, text):
        if name != filename:
            return text
        assert text.count(old) == 1, f"mutant {mutant!r} no longer applies to {filename}"
        return text.replace(old, new)

    code, counts = run_public_tests(make_bundle(tmp_path / "mutant", edit=edit))
    assert code == 1, counts
    assert counts.get("failed", 0) >= 1
