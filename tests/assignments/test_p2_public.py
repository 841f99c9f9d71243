"""Are the P2 public tests real: do they pass on the reference and fail on the stubs?

A P2 bundle holds the student's ``p2_training/``, the reference ``p1_forward/`` it
imports, and the public tests in ``tests/``.
"""

import shutil
from pathlib import Path

import pytest

from .test_p1_public import clear_solutions, run_public_tests

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "solutions" / "p2_training"
P1_REFERENCE = ROOT / "solutions" / "p1_forward"
PUBLIC_TESTS = ROOT / "assignments" / "p2_training" / "tests" / "public"


def make_bundle(root: Path, *, edit=None) -> Path:
    """A student-like bundle under ``root``: ``p2_training/`` (the reference, passed through
    ``edit`` when given), the reference ``p1_forward/`` and ``tests/`` (the public tests)."""
    root.mkdir()
    package = root / "p2_training"
    package.mkdir()
    for src in sorted(REFERENCE.glob("*.py")):
        text = src.read_text()
        (package / src.name).write_text(edit(src.name, text) if edit else text)
    shutil.copytree(P1_REFERENCE, root / "p1_forward", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PUBLIC_TESTS, root / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """Exit code and counts of the public tests run against the reference (run once)."""
    return run_public_tests(make_bundle(tmp_path_factory.mktemp("p2") / "reference"))


def test_public_tests_pass_on_reference(reference_run):
    """Do all the P2 public tests pass against the reference solution?"""
    code, counts = reference_run
    assert code == 0, counts
    assert set(counts) == {"passed"}, counts
    assert counts["passed"] >= 15


def test_public_tests_all_fail_on_stubs(tmp_path, reference_run):
    """Does every P2 public test fail (not error, not pass) on the NotImplementedError stubs?"""
    code, counts = run_public_tests(make_bundle(tmp_path / "stubs", edit=lambda _, text: clear_solutions(text)))
    assert code == 1, counts
    assert set(counts) == {"failed"}, counts
    assert counts["failed"] == reference_run[1]["passed"]


# Plausible mistakes a student could make; each must make at least one public test fail.
MUTANTS = {
    "sines before cosines": (
        "embedding.py",
        "torch.cat([torch.cos(args), torch.sin(args)], dim=1)",
        "torch.cat([torch.sin(args), torch.cos(args)], dim=1)",
    ),
    "U-Net ignores t": (
        "unet.py",
        "t_emb = self.time_embed(emb)  # (B, time_dim)",
        "t_emb = self.time_embed(emb) * 0  # (B, time_dim)",
    ),
    "EMA decay the wrong way round": (
        "ema.py",
        "ema_p.mul_(decay).add_(p.detach(), alpha=1 - decay)",
        "ema_p.mul_(1 - decay).add_(p.detach(), alpha=decay)",
    ),
    "timesteps drawn before the images": (
        "train.py",
        "    index = torch.randint(0, len(data), (batch_size,), generator=generator)\n"
        "    x0 = data[index]\n"
        "    t = torch.randint(0, T, (batch_size,), generator=generator)\n",
        "    t = torch.randint(0, T, (batch_size,), generator=generator)\n"
        "    index = torch.randint(0, len(data), (batch_size,), generator=generator)\n"
        "    x0 = data[index]\n",
    ),
    "resume without the random generators": ("train.py", "            _set_rng_states(ckpt.rng, generator, device)\n", ""),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_public_tests_catch_plausible_mistakes(tmp_path, mutant):
    """Does at least one P2 public test fail on a plausibly wrong implementation?"""
    filename, old, new = MUTANTS[mutant]

    def edit(name, text):
        if name != filename:
            return text
        assert text.count(old) == 1, f"mutant {mutant!r} no longer applies to {filename}"
        return text.replace(old, new)

    code, counts = run_public_tests(make_bundle(tmp_path / "mutant", edit=edit))
    assert code == 1, counts
    assert counts.get("failed", 0) >= 1
